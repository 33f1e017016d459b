// Conformance cases: time, identity, limits, signals, processes, sockets.
#include <asm/prctl.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "tests/conformance/cases_util.hpp"

namespace hytrace::conformance {
namespace {

using syscalls::Call;

// A child that exits at once with code 3; the caller waits for it.
uint64_t exited_child() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(3);
  return u(pid);
}

// A message header in the arena: name at 1024, buffers at 2048 and 2304,
// control at 3072; the header itself and the iovec array at `at`.
uint64_t put_msghdr(Arena& a, size_t at, size_t controllen) {
  auto* iov = a.at<struct iovec>(at + sizeof(struct msghdr));
  iov[0] = {a.at(2048), 2};
  iov[1] = {a.at(2304), 64};
  auto* h = a.at<struct msghdr>(at);
  std::memset(h, 0, sizeof *h);
  h->msg_name = a.at(1024);
  h->msg_namelen = 128;
  h->msg_iov = iov;
  h->msg_iovlen = 2;
  h->msg_control = controllen ? a.at(3072) : nullptr;
  h->msg_controllen = controllen;
  return a.addr(at);
}

Register cases({
    {"clock_gettime", Expect::kSuccess, true, [](Arena& a, Env&) { return call("clock_gettime", {0, a.addr(0)}); }},
    {"clock_gettime/einval", Expect::kError, false,
     [](Arena& a, Env&) { return call("clock_gettime", {999, a.addr(0)}); }},
    {"clock_getres", Expect::kSuccess, false, [](Arena& a, Env&) { return call("clock_getres", {1, a.addr(0)}); }},
    {"gettimeofday", Expect::kSuccess, true,
     [](Arena& a, Env&) { return call("gettimeofday", {a.addr(0), a.addr(64)}); }},
    {"time", Expect::kSuccess, true, [](Arena& a, Env&) { return call("time", {a.addr(0)}); }},
    {"nanosleep/einval", Expect::kError, false,
     [](Arena& a, Env&) {
       *a.at<struct timespec>(0) = {0, 2000000000};
       return call("nanosleep", {a.addr(0), a.addr(64)});
     }},
    {"nanosleep", Expect::kSuccess, false,
     [](Arena& a, Env&) {
       *a.at<struct timespec>(0) = {0, 1};
       return call("nanosleep", {a.addr(0), a.addr(64)});
     }},
    {"uname", Expect::kSuccess, true, [](Arena& a, Env&) { return call("uname", {a.addr(0)}); }},
    {"sysinfo", Expect::kSuccess, false, [](Arena& a, Env&) { return call("sysinfo", {a.addr(0)}); }},
    {"times", Expect::kSuccess, false, [](Arena& a, Env&) { return call("times", {a.addr(0)}); }},
    {"getrusage", Expect::kSuccess, false,
     [](Arena& a, Env&) { return call("getrusage", {u(RUSAGE_SELF), a.addr(0)}); }},
    {"getrusage/einval", Expect::kError, false, [](Arena& a, Env&) { return call("getrusage", {99, a.addr(0)}); }},
    {"getrlimit", Expect::kSuccess, true,
     [](Arena& a, Env&) { return call("getrlimit", {u(RLIMIT_NOFILE), a.addr(0)}); }},
    {"prlimit64", Expect::kSuccess, true,
     [](Arena& a, Env&) { return call("prlimit64", {0, u(RLIMIT_NOFILE), 0, a.addr(0)}); }},
    {"getresuid", Expect::kSuccess, false,
     [](Arena& a, Env&) { return call("getresuid", {a.addr(0), a.addr(64), a.addr(128)}); }},
    {"getresgid", Expect::kSuccess, false,
     [](Arena& a, Env&) { return call("getresgid", {a.addr(0), a.addr(64), a.addr(128)}); }},
    {"getgroups", Expect::kSuccess, false, [](Arena& a, Env&) { return call("getgroups", {64, a.addr(0)}); }},
    {"getcpu", Expect::kSuccess, false, [](Arena& a, Env&) { return call("getcpu", {a.addr(0), a.addr(64), 0}); }},
    {"sched_getaffinity", Expect::kSuccess, true,
     [](Arena& a, Env&) { return call("sched_getaffinity", {0, 128, a.addr(0)}); }},
    {"sched_getparam", Expect::kSuccess, false,
     [](Arena& a, Env&) { return call("sched_getparam", {0, a.addr(0)}); }},
    {"getrandom", Expect::kSuccess, true, [](Arena& a, Env&) { return call("getrandom", {a.addr(0), 48, 0}); }},
    {"getrandom/einval", Expect::kError, false,
     [](Arena& a, Env&) { return call("getrandom", {a.addr(0), 48, ~0ull}); }},
    {"get_robust_list", Expect::kSuccess, true,
     [](Arena& a, Env&) { return call("get_robust_list", {0, a.addr(0), a.addr(64)}); }},
    {"rt_sigprocmask", Expect::kSuccess, false,
     [](Arena& a, Env&) { return call("rt_sigprocmask", {u(SIG_BLOCK), 0, a.addr(0), 8}); }},
    {"rt_sigprocmask/einval", Expect::kError, false,
     [](Arena& a, Env&) { return call("rt_sigprocmask", {u(SIG_BLOCK), 0, a.addr(0), 4}); }},
    {"rt_sigaction", Expect::kSuccess, false,
     [](Arena& a, Env&) { return call("rt_sigaction", {u(SIGUSR2), 0, a.addr(0), 8}); }},
    {"rt_sigpending", Expect::kSuccess, false, [](Arena& a, Env&) { return call("rt_sigpending", {a.addr(0), 8}); }},
    {"sigaltstack", Expect::kSuccess, false, [](Arena& a, Env&) { return call("sigaltstack", {0, a.addr(0)}); }},
    {"getitimer", Expect::kSuccess, false,
     [](Arena& a, Env&) { return call("getitimer", {u(ITIMER_REAL), a.addr(0)}); }},
    {"prctl/get_name", Expect::kSuccess, false,
     [](Arena& a, Env&) { return call("prctl", {u(PR_GET_NAME), a.addr(0), 0, 0, 0}); }},
    {"prctl/get_pdeathsig", Expect::kSuccess, true,
     [](Arena& a, Env&) { return call("prctl", {u(PR_GET_PDEATHSIG), a.addr(0), 0, 0, 0}); }},
    {"arch_prctl/get_fs", Expect::kSuccess, true,
     [](Arena& a, Env&) { return call("arch_prctl", {ARCH_GET_FS, a.addr(0)}); }},
    {"capget", Expect::kSuccess, false,
     [](Arena& a, Env&) {
       auto* h = a.at<struct __user_cap_header_struct>(0);
       h->version = _LINUX_CAPABILITY_VERSION_3;
       h->pid = 0;
       return call("capget", {a.addr(0), a.addr(64)});
     }},
    {"wait4", Expect::kSuccess, false,
     [](Arena& a, Env&) { return call("wait4", {exited_child(), a.addr(0), 0, a.addr(64)}); }},
    {"wait4/echild", Expect::kError, false,
     [](Arena& a, Env&) { return call("wait4", {u(1), a.addr(0), u(WNOHANG), a.addr(64)}); }},
    {"waitid", Expect::kSuccess, false,
     [](Arena& a, Env&) { return call("waitid", {u(P_PID), exited_child(), a.addr(0), u(WEXITED), a.addr(256)}); }},
    // No such child: ECHILD, and the kernel still stores the siginfo's fields.
    {"waitid/echild", Expect::kError, false,
     [](Arena& a, Env&) { return call("waitid", {u(P_PID), 1, a.addr(0), u(WEXITED | WNOHANG), a.addr(256)}); }},
    {"socketpair", Expect::kSuccess, true,
     [](Arena& a, Env& e) {
       next_fds(e, 2);
       return call("socketpair", {u(AF_UNIX), u(SOCK_STREAM | SOCK_CLOEXEC), 0, a.addr(0)});
     }},
    {"getsockname", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       *a.at<socklen_t>(0) = 128;
       return call("getsockname", {u(e.socket_pair(SOCK_STREAM).first), a.addr(1024), a.addr(0)});
     }},
    {"getpeername", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       *a.at<socklen_t>(0) = 128;
       return call("getpeername", {u(e.socket_pair(SOCK_STREAM).first), a.addr(1024), a.addr(0)});
     }},
    {"getsockopt", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       *a.at<socklen_t>(0) = 64;
       return call("getsockopt",
                   {u(e.socket_pair(SOCK_STREAM).first), u(SOL_SOCKET), u(SO_TYPE), a.addr(1024), a.addr(0)});
     }},
    {"getsockopt/enoprotoopt", Expect::kError, false,
     [](Arena& a, Env& e) {
       *a.at<socklen_t>(0) = 64;
       return call("getsockopt", {u(e.socket_pair(SOCK_STREAM).first), u(SOL_SOCKET), 9999, a.addr(1024), a.addr(0)});
     }},
    {"recvfrom", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       auto [x, y] = e.socket_pair(SOCK_DGRAM);
       (void)!::send(y, "datagram", 8, 0);
       *a.at<socklen_t>(0) = 128;
       return call("recvfrom", {u(x), a.addr(512), 64, 0, a.addr(1024), a.addr(0)});
     }},
    {"recvfrom/eagain", Expect::kError, false,
     [](Arena& a, Env& e) {
       *a.at<socklen_t>(0) = 128;
       return call("recvfrom", {u(e.socket_pair(SOCK_DGRAM).first), a.addr(512), 64, u(MSG_DONTWAIT), a.addr(1024),
                                a.addr(0)});
     }},
    {"recvmsg", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       auto [x, y] = e.socket_pair(SOCK_DGRAM);
       (void)!::send(y, "a message", 9, 0);
       return call("recvmsg", {u(x), put_msghdr(a, 0, 0), 0});
     }},
    {"recvmsg/with_a_descriptor", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       auto [x, y] = e.socket_pair(SOCK_DGRAM);
       char control[CMSG_SPACE(sizeof(int))] = {};
       struct iovec iov = {const_cast<char*>("fd"), 2};
       struct msghdr m {};
       m.msg_iov = &iov;
       m.msg_iovlen = 1;
       m.msg_control = control;
       m.msg_controllen = sizeof control;
       struct cmsghdr* c = CMSG_FIRSTHDR(&m);
       c->cmsg_level = SOL_SOCKET;
       c->cmsg_type = SCM_RIGHTS;
       c->cmsg_len = CMSG_LEN(sizeof(int));
       std::memcpy(CMSG_DATA(c), &y, sizeof y);
       (void)!::sendmsg(y, &m, 0);
       next_fd(e);  // the descriptor received
       return call("recvmsg", {u(x), put_msghdr(a, 0, 64), u(MSG_CMSG_CLOEXEC)});
     }},
    {"recvmsg/eagain", Expect::kError, false,
     [](Arena& a, Env& e) {
       return call("recvmsg", {u(e.socket_pair(SOCK_DGRAM).first), put_msghdr(a, 0, 0), u(MSG_DONTWAIT)});
     }},
    {"recvmmsg", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       const int x = two_datagrams(a, e);
       return call("recvmmsg", {u(x), a.addr(0), 2, u(MSG_DONTWAIT), 0});
     }},
    {"poll", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       auto [r, w] = e.pipe_pair();
       (void)!::write(w, "x", 1);
       auto* fds = a.at<struct pollfd>(0);
       fds[0] = {r, POLLIN, 0};
       fds[1] = {w, POLLOUT, 0};
       return call("poll", {a.addr(0), 2, 0});
     }},
    {"epoll_wait", Expect::kSuccess, true,
     [](Arena& a, Env& e) {
       auto [r, w] = e.pipe_pair();
       (void)!::write(w, "x", 1);
       const int ep = e.keep(::epoll_create1(EPOLL_CLOEXEC));
       struct epoll_event ev = {EPOLLIN, {.u64 = 0x1122334455667788}};
       ::epoll_ctl(ep, EPOLL_CTL_ADD, r, &ev);
       return call("epoll_wait", {u(ep), a.addr(0), 8, 0});
     }},
    {"epoll_wait/ebadf", Expect::kError, false,
     [](Arena& a, Env&) { return call("epoll_wait", {~0ull, a.addr(0), 8, 0}); }},
    // Error paths of the calls above. (getcpu, getresuid, getresgid,
    // gettimeofday, time, times, uname, sysinfo and pipe fail only with
    // EFAULT, which a pointer outside the arena would check nothing by.)
    {"clock_getres/einval", Expect::kError, false, [](Arena& a, Env&) { return call("clock_getres", {999, a.addr(0)}); }},
    {"getrlimit/einval", Expect::kError, false, [](Arena& a, Env&) { return call("getrlimit", {999, a.addr(0)}); }},
    {"sched_getaffinity/einval", Expect::kError, false,
     [](Arena& a, Env&) { return call("sched_getaffinity", {0, 1, a.addr(0)}); }},
    {"sched_getparam/einval", Expect::kError, false,
     [](Arena& a, Env&) { return call("sched_getparam", {u(-1), a.addr(0)}); }},
    {"get_robust_list/esrch", Expect::kError, false,
     [](Arena& a, Env&) { return call("get_robust_list", {0x7ffffff0, a.addr(0), a.addr(64)}); }},
    // A new stack with flags the kernel refuses: nothing is set, nothing stored.
    {"sigaltstack/einval", Expect::kError, false,
     [](Arena& a, Env&) {
       *a.at<stack_t>(256) = {a.at(Arena::kPage), 0x1234, 2 * Arena::kPage};
       return call("sigaltstack", {a.addr(256), a.addr(0)});
     }},
    {"getitimer/einval", Expect::kError, false, [](Arena& a, Env&) { return call("getitimer", {99, a.addr(0)}); }},
    {"socketpair/eopnotsupp", Expect::kError, false,
     [](Arena& a, Env&) { return call("socketpair", {u(AF_INET), u(SOCK_STREAM), 0, a.addr(0)}); }},
    {"getsockname/enotsock", Expect::kError, false,
     [](Arena& a, Env& e) {
       *a.at<socklen_t>(0) = 128;
       return call("getsockname", {u(e.pipe_pair().first), a.addr(1024), a.addr(0)});
     }},
    {"getpeername/enotconn", Expect::kError, false,
     [](Arena& a, Env& e) {
       *a.at<socklen_t>(0) = 128;
       const int s = e.keep(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
       return call("getpeername", {u(s), a.addr(1024), a.addr(0)});
     }},
    {"recvmmsg/eagain", Expect::kError, false,
     [](Arena& a, Env& e) {
       auto* v = a.at<struct mmsghdr>(0);
       std::memset(v, 0, sizeof *v);
       return call("recvmmsg", {u(e.socket_pair(SOCK_DGRAM).first), a.addr(0), 1, u(MSG_DONTWAIT), 0});
     }},
    // More descriptors than RLIMIT_NOFILE: refused before any is read.
    {"poll/einval", Expect::kError, false, [](Arena& a, Env&) { return call("poll", {a.addr(0), 0x7fffffff, 0}); }},
});

}  // namespace
}  // namespace hytrace::conformance
