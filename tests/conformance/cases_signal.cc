// Conformance cases: signals the test process sends itself. SIGUSR2 is
// blocked, has a handler that does nothing, and is drained before each
// case, so no case depends on another.
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "tests/conformance/cases_util.hpp"

namespace hytrace::conformance {
namespace {

constexpr uint64_t kUsr2 = uint64_t{1} << (SIGUSR2 - 1);  // in a kernel sigset

void on_usr2(int) {}

// SIGUSR2 blocked, handled by on_usr2, and not pending.
void quiet_usr2() {
  static const bool installed = [] {
    struct sigaction sa {};
    sa.sa_handler = on_usr2;
    return ::sigaction(SIGUSR2, &sa, nullptr) == 0;
  }();
  (void)installed;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR2);
  ::sigprocmask(SIG_BLOCK, &set, nullptr);
  const struct timespec zero = {0, 0};
  while (::sigtimedwait(&set, nullptr, &zero) > 0) {
  }
}

void pending_usr2() {
  quiet_usr2();
  ::raise(SIGUSR2);
}

uint64_t put_sigset(Arena& a, size_t at, uint64_t bits) {
  *a.at<uint64_t>(at) = bits;
  return a.addr(at);
}

// A siginfo for SIGUSR2 as sigqueue makes it, at arena offset 256.
uint64_t put_siginfo(Arena& a, int sig = SIGUSR2) {
  auto* info = a.at<siginfo_t>(256);
  std::memset(info, 0, sizeof *info);
  info->si_signo = sig;
  info->si_code = SI_QUEUE;
  info->si_pid = ::getpid();
  info->si_uid = ::getuid();
  info->si_value.sival_int = 42;
  return a.addr(256);
}

int own_pidfd(Env& e) { return e.keep(static_cast<int>(::syscall(SYS_pidfd_open, ::getpid(), 0))); }

Register cases({
    {"rt_sigtimedwait", Expect::kSuccess, true,
     [](Arena& a, Env&) {
       pending_usr2();
       *a.at<struct timespec>(512) = {0, 0};
       return call("rt_sigtimedwait", {put_sigset(a, 0, kUsr2), a.addr(1024), a.addr(512), 8});
     }},
    {"rt_sigtimedwait/eagain", Expect::kError, false,
     [](Arena& a, Env&) {
       quiet_usr2();
       *a.at<struct timespec>(512) = {0, 0};
       return call("rt_sigtimedwait", {put_sigset(a, 0, kUsr2), a.addr(1024), a.addr(512), 8});
     }},
    // Waits with SIGUSR2 unblocked while it is pending: the handler runs at
    // once and the call fails with EINTR, its only way to return.
    {"rt_sigsuspend/eintr", Expect::kError, false,
     [](Arena& a, Env&) {
       pending_usr2();
       return call("rt_sigsuspend", {put_sigset(a, 0, ~kUsr2), 8});
     }},
    {"rt_sigsuspend/einval", Expect::kError, false,
     [](Arena& a, Env&) { return call("rt_sigsuspend", {put_sigset(a, 0, ~kUsr2), 4}); }},
    // Queued while blocked; the next case drains it.
    {"rt_sigqueueinfo", Expect::kSuccess, false,
     [](Arena& a, Env&) {
       quiet_usr2();
       return call("rt_sigqueueinfo", {u(::getpid()), u(SIGUSR2), put_siginfo(a)});
     }},
    {"rt_sigqueueinfo/einval", Expect::kError, false,
     [](Arena& a, Env&) { return call("rt_sigqueueinfo", {u(::getpid()), 999, put_siginfo(a)}); }},
    {"rt_tgsigqueueinfo", Expect::kSuccess, false,
     [](Arena& a, Env&) {
       quiet_usr2();
       return call("rt_tgsigqueueinfo", {u(::getpid()), u(::gettid()), u(SIGUSR2), put_siginfo(a)});
     }},
    {"rt_tgsigqueueinfo/einval", Expect::kError, false,
     [](Arena& a, Env&) { return call("rt_tgsigqueueinfo", {u(::getpid()), u(::gettid()), 999, put_siginfo(a)}); }},
    {"pidfd_send_signal", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       quiet_usr2();
       return call("pidfd_send_signal", {u(own_pidfd(e)), u(SIGUSR2), put_siginfo(a), 0});
     }},
    {"pidfd_send_signal/einval", Expect::kError, false,
     [](Arena& a, Env& e) {
       quiet_usr2();
       return call("pidfd_send_signal", {u(own_pidfd(e)), u(SIGUSR2), put_siginfo(a, SIGUSR1), 0});
     }},
    {"tgkill", Expect::kSuccess, false, [](Arena&, Env&) { return call("tgkill", {u(::getpid()), u(::gettid()), 0}); }},
    {"tgkill/einval", Expect::kError, false,
     [](Arena&, Env&) { return call("tgkill", {u(::getpid()), u(::gettid()), 999}); }},
    {"signalfd", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       const uint64_t mask = put_sigset(a, 0, kUsr2);
       next_fd(e);
       return call("signalfd", {u(-1), mask, 8});
     }},
    {"signalfd/einval", Expect::kError, false,
     [](Arena& a, Env&) { return call("signalfd", {u(-1), put_sigset(a, 0, kUsr2), 4}); }},
    {"signalfd4", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       const uint64_t mask = put_sigset(a, 0, kUsr2);
       next_fd(e);
       return call("signalfd4", {u(-1), mask, 8, u(SFD_CLOEXEC)});
     }},
    {"signalfd4/einval", Expect::kError, false,
     [](Arena& a, Env&) { return call("signalfd4", {u(-1), put_sigset(a, 0, kUsr2), 8, 0x40000000}); }},
    // Sets SIGUSR2's action to what it is (read into the arena first).
    {"rt_sigaction/set", Expect::kSuccess, true,
     [](Arena& a, Env&) {
       quiet_usr2();
       make(call("rt_sigaction", {u(SIGUSR2), 0, a.addr(0), 8}));
       return call("rt_sigaction", {u(SIGUSR2), a.addr(0), a.addr(64), 8});
     }},
    {"rt_sigaction/einval", Expect::kError, false,
     [](Arena& a, Env&) {
       std::memset(a.at(0), 0, 32);  // SIG_DFL: SIGKILL's action cannot be set at all
       return call("rt_sigaction", {u(SIGKILL), a.addr(0), a.addr(64), 8});
     }},
    {"rt_sigprocmask/set", Expect::kSuccess, false,
     [](Arena& a, Env&) {
       quiet_usr2();
       return call("rt_sigprocmask", {u(SIG_BLOCK), put_sigset(a, 0, kUsr2), a.addr(64), 8});
     }},
    // A sigsetsize below 8: that many bytes stored.
    {"rt_sigpending/half", Expect::kSuccess, true,
     [](Arena& a, Env&) { return call("rt_sigpending", {a.addr(0), 4}); }},
    {"rt_sigpending/einval", Expect::kError, false,
     [](Arena& a, Env&) { return call("rt_sigpending", {a.addr(0), 16}); }},
});

}  // namespace
}  // namespace hytrace::conformance
