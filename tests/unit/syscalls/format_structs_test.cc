// Formatter: structures and syscalls with their own shape. Whole lines.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/utsname.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "format_test_util.hpp"

namespace hytrace::syscalls {
namespace {

using testing::addr;
using testing::hex;

class FormatStructs : public ::testing::Test {
 protected:
  testing::Renderer r;
};

constexpr uint64_t kAtFdcwd = static_cast<uint64_t>(-100);

TEST_F(FormatStructs, StatAtExit) {
  struct stat st {};
  st.st_mode = S_IFREG | 0644;
  st.st_size = 1234;
  std::initializer_list<uint64_t> args = {kAtFdcwd, addr("/etc/hostname"), addr(&st), 0};
  RenderedCall rc = r.entry(__NR_newfstatat, args);
  EXPECT_EQ(entry_text(rc), "newfstatat(AT_FDCWD, \"/etc/hostname\", ");
  r.exit(rc, __NR_newfstatat, args, 0);
  EXPECT_EQ(exit_text(rc), "{st_mode=S_IFREG|0644, st_size=1234, ...}, 0) = 0");

  st.st_mode = S_IFCHR | 0666;
  st.st_rdev = makedev(1, 3);
  EXPECT_EQ(r.line(__NR_newfstatat, {1, addr(""), addr(&st), 0x1000}, 0),
            "newfstatat(1, \"\", {st_mode=S_IFCHR|0666, st_rdev=makedev(0x1, 0x3), ...}, AT_EMPTY_PATH) = 0");
  st.st_mode = S_IFDIR | S_ISVTX | 0777;
  st.st_size = 4096;
  EXPECT_EQ(r.line(__NR_stat, {addr("/tmp"), addr(&st)}, 0),
            "stat(\"/tmp\", {st_mode=S_IFDIR|S_ISVTX|0777, st_size=4096, ...}) = 0");
  EXPECT_EQ(r.line(__NR_newfstatat, {kAtFdcwd, addr("/nonexist"), addr(&st), 0x100}, -ENOENT),
            "newfstatat(AT_FDCWD, \"/nonexist\", " + hex(&st) +
                ", AT_SYMLINK_NOFOLLOW) = -1 ENOENT (No such file or directory)");
}

TEST_F(FormatStructs, Statx) {
  struct statx stx {};
  stx.stx_mask = STATX_BASIC_STATS | STATX_MNT_ID;
  stx.stx_mode = S_IFDIR | 0755;
  stx.stx_size = 4096;
  EXPECT_EQ(r.line(__NR_statx, {kAtFdcwd, addr("/"), 0x100, STATX_BASIC_STATS, addr(&stx)}, 0),
            "statx(AT_FDCWD, \"/\", AT_STATX_SYNC_AS_STAT|AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS,"
            " {stx_mask=STATX_BASIC_STATS|STATX_MNT_ID, stx_attributes=0, stx_mode=S_IFDIR|0755,"
            " stx_size=4096, ...}) = 0");
  stx.stx_attributes = STATX_ATTR_MOUNT_ROOT;
  EXPECT_EQ(r.line(__NR_statx, {3, addr(""), 0x1000 | 0x2000, STATX_ALL, addr(&stx)}, 0),
            "statx(3, \"\", AT_STATX_FORCE_SYNC|AT_EMPTY_PATH, STATX_ALL,"
            " {stx_mask=STATX_BASIC_STATS|STATX_MNT_ID, stx_attributes=STATX_ATTR_MOUNT_ROOT,"
            " stx_mode=S_IFDIR|0755, stx_size=4096, ...}) = 0");
}

TEST_F(FormatStructs, Timespecs) {
  timespec req{1, 0};
  timespec rem{0, 872674044};
  std::initializer_list<uint64_t> args = {0, 0, addr(&req), addr(&rem)};
  // A completed sleep leaves the remainder alone: strace shows its address.
  EXPECT_EQ(r.line(__NR_clock_nanosleep, args, 0),
            "clock_nanosleep(CLOCK_REALTIME, 0, {tv_sec=1, tv_nsec=0}, " + hex(&rem) + ") = 0");
  // Interrupted: the kernel wrote the remaining time; strace shows it.
  EXPECT_EQ(r.line(__NR_clock_nanosleep, args, -516),
            "clock_nanosleep(CLOCK_REALTIME, 0, {tv_sec=1, tv_nsec=0}, {tv_sec=0, tv_nsec=872674044})"
            " = ? ERESTART_RESTARTBLOCK (Interrupted by signal)");
  EXPECT_EQ(r.line(__NR_nanosleep, {addr(&req), 0}, 0), "nanosleep({tv_sec=1, tv_nsec=0}, NULL) = 0");
  timeval tv{1795787143, 878589};
  EXPECT_EQ(r.line(__NR_gettimeofday, {addr(&tv), 0}, 0),
            "gettimeofday({tv_sec=1795787143, tv_usec=878589}, NULL) = 0");
}

TEST_F(FormatStructs, Sigaction) {
  struct KernelSigaction {
    uint64_t handler, flags, restorer, mask;
  };
  KernelSigaction act{0x560e6f8c2519, 0x04000000 | 0x10000000, 0x7f4c7fca5050, 1u << (10 - 1)};
  KernelSigaction old{0, 0, 0, 0};
  EXPECT_EQ(r.line(__NR_rt_sigaction, {10, addr(&act), addr(&old), 8}, 0),
            "rt_sigaction(SIGUSR1, {sa_handler=0x560e6f8c2519, sa_mask=[USR1], sa_flags=SA_RESTORER|SA_RESTART,"
            " sa_restorer=0x7f4c7fca5050}, {sa_handler=SIG_DFL, sa_mask=[], sa_flags=0}, 8) = 0");
  KernelSigaction ign{1, 0, 0, 0};
  EXPECT_EQ(r.line(__NR_rt_sigaction, {13, addr(&ign), 0, 8}, 0),
            "rt_sigaction(SIGPIPE, {sa_handler=SIG_IGN, sa_mask=[], sa_flags=0}, NULL, 8) = 0");
}

TEST_F(FormatStructs, Rlimit) {
  rlimit old{8192 * 1024, RLIM_INFINITY};
  EXPECT_EQ(r.line(__NR_prlimit64, {0, RLIMIT_STACK, 0, addr(&old)}, 0),
            "prlimit64(0, RLIMIT_STACK, NULL, {rlim_cur=8192*1024, rlim_max=RLIM64_INFINITY}) = 0");
  rlimit lim{20000, 20000};
  EXPECT_EQ(r.line(__NR_getrlimit, {RLIMIT_NOFILE, addr(&lim)}, 0),
            "getrlimit(RLIMIT_NOFILE, {rlim_cur=20000, rlim_max=20000}) = 0");
}

TEST_F(FormatStructs, SocketAddresses) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(80);
  sin.sin_addr.s_addr = inet_addr("127.0.0.1");
  EXPECT_EQ(r.line(__NR_connect, {13, addr(&sin), sizeof sin}, -ECONNREFUSED),
            "connect(13, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr(\"127.0.0.1\")}, 16)"
            " = -1 ECONNREFUSED (Connection refused)");
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  std::strcpy(sun.sun_path, "/run/x");
  EXPECT_EQ(r.line(__NR_connect, {14, addr(&sun), sizeof sun}, 0),
            "connect(14, {sa_family=AF_UNIX, sun_path=\"/run/x\"}, 110) = 0");
  sockaddr_un abstract{};
  abstract.sun_family = AF_UNIX;
  std::memcpy(abstract.sun_path, "\0name", 5);
  EXPECT_EQ(r.line(__NR_bind, {14, addr(&abstract), offsetof(sockaddr_un, sun_path) + 5}, 0),
            "bind(14, {sa_family=AF_UNIX, sun_path=@\"name\"}, 7) = 0");
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  sin6.sin6_port = htons(443);
  inet_pton(AF_INET6, "::1", &sin6.sin6_addr);
  EXPECT_EQ(r.line(__NR_connect, {15, addr(&sin6), sizeof sin6}, 0),
            "connect(15, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0),"
            " inet_pton(AF_INET6, \"::1\", &sin6_addr), sin6_scope_id=0}, 28) = 0");
}

TEST_F(FormatStructs, SocklenInOut) {
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  socklen_t len = 128;
  std::initializer_list<uint64_t> args = {3, addr(&sun), addr(&len)};
  RenderedCall rc = r.entry(__NR_getsockname, args);
  EXPECT_EQ(entry_text(rc), "getsockname(3, ");
  len = 2;
  r.exit(rc, __NR_getsockname, args, 0);
  EXPECT_EQ(exit_text(rc), "{sa_family=AF_UNIX}, [128 => 2]) = 0");

  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(37303);
  sin.sin_addr.s_addr = inet_addr("127.0.0.1");
  len = sizeof sin;
  EXPECT_EQ(r.line(__NR_getsockname, {6, addr(&sin), addr(&len)}, 0),
            "getsockname(6, {sa_family=AF_INET, sin_port=htons(37303), sin_addr=inet_addr(\"127.0.0.1\")}, [16]) = 0");
  EXPECT_EQ(r.line(__NR_accept4, {3, addr(&sin), addr(&len), 02000000}, -EAGAIN),
            "accept4(3, " + hex(&sin) + ", [16], SOCK_CLOEXEC) = -1 EAGAIN (Resource temporarily unavailable)");
}

TEST_F(FormatStructs, Clone) {
  EXPECT_EQ(r.line(__NR_clone, {0x01200000 | 17, 0, 0, 0x7f4c7fc66a10, 0}, 2773),
            "clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD,"
            " child_tidptr=0x7f4c7fc66a10) = 2773");
  EXPECT_EQ(r.line(__NR_clone, {0x3d0f00, 0x7f00001000, 0x2000, 0x3000, 0x4000}, 2857),
            "clone(child_stack=0x7f00001000, flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD"
            "|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, parent_tid=0x2000,"
            " tls=0x4000, child_tidptr=0x3000) = 2857");
}

TEST_F(FormatStructs, WaitStatus) {
  int status = 9;  // killed by SIGKILL
  EXPECT_EQ(r.line(__NR_wait4, {static_cast<uint64_t>(-1), addr(&status), 0, 0}, 100),
            "wait4(-1, [{WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL}], 0, NULL) = 100");
  status = (19 << 8) | 0x7f;  // stopped by SIGSTOP
  EXPECT_EQ(r.line(__NR_wait4, {100, addr(&status), 2, 0}, 100),
            "wait4(100, [{WIFSTOPPED(s) && WSTOPSIG(s) == SIGSTOP}], WSTOPPED, NULL) = 100");
}

TEST_F(FormatStructs, Futex) {
  int word = 0;
  EXPECT_EQ(r.line(__NR_futex, {addr(&word), 1 | 128, 1, 0, 0, 0}, 0),
            "futex(" + hex(&word) + ", FUTEX_WAKE_PRIVATE, 1) = 0");
  EXPECT_EQ(r.line(__NR_futex, {addr(&word), 9 | 256, 2, 0, 0, 0xffffffff}, -EAGAIN),
            "futex(" + hex(&word) + ", FUTEX_WAIT_BITSET|FUTEX_CLOCK_REALTIME, 2, NULL, FUTEX_BITSET_MATCH_ANY)"
            " = -1 EAGAIN (Resource temporarily unavailable)");
  timespec ts{0, 500};
  EXPECT_EQ(r.line(__NR_futex, {addr(&word), 0 | 128, 0, addr(&ts), 0, 0}, -ETIMEDOUT),
            "futex(" + hex(&word) + ", FUTEX_WAIT_PRIVATE, 0, {tv_sec=0, tv_nsec=500})"
            " = -1 ETIMEDOUT (Connection timed out)");
}

TEST_F(FormatStructs, Fcntl) {
  EXPECT_EQ(r.line(__NR_fcntl, {0, 3 /* F_GETFL */, 0x7f8163ef5831}, 0x8000),
            "fcntl(0, F_GETFL) = 0x8000 (flags O_RDONLY|O_LARGEFILE)");
  EXPECT_EQ(r.line(__NR_fcntl, {0, 2 /* F_SETFD */, 1}, 0), "fcntl(0, F_SETFD, FD_CLOEXEC) = 0");
  EXPECT_EQ(r.line(__NR_fcntl, {0, 1030 /* F_DUPFD_CLOEXEC */, 3}, 12), "fcntl(0, F_DUPFD_CLOEXEC, 3) = 12");
  EXPECT_EQ(r.line(__NR_fcntl, {0, 4 /* F_SETFL */, 02000 | 04000}, 0),
            "fcntl(0, F_SETFL, O_RDONLY|O_APPEND|O_NONBLOCK) = 0");
  EXPECT_EQ(r.line(__NR_fcntl, {0, 999, 0x7f8163ef5831}, -EINVAL),
            "fcntl(0, 0x3e7 /* F_??? */, 0x7f8163ef5831) = -1 EINVAL (Invalid argument)");
}

TEST_F(FormatStructs, PipesAndRandomBytes) {
  int fds[2] = {5, 6};
  EXPECT_EQ(r.line(__NR_pipe2, {addr(fds), 0}, 0), "pipe2([5, 6], 0) = 0");
  EXPECT_EQ(r.line(__NR_pipe2, {addr(fds), 04000 | 02000000}, 0), "pipe2([5, 6], O_NONBLOCK|O_CLOEXEC) = 0");
  const unsigned char random[] = {0xce, 0xd2, 0xda, 0x7a, 0x37, 0xc6, 0x6f, 0xfb};
  EXPECT_EQ(r.line(__NR_getrandom, {addr(random), 8, 1}, 8),
            R"(getrandom("\xce\xd2\xda\x7a\x37\xc6\x6f\xfb", 8, GRND_NONBLOCK) = 8)");
}

TEST_F(FormatStructs, Iovecs) {
  char ab[] = "ab";
  char cd[] = "cd";
  iovec out[2] = {{ab, 2}, {cd, 2}};
  EXPECT_EQ(r.line(__NR_writev, {1, addr(out), 2}, 4),
            "writev(1, [{iov_base=\"ab\", iov_len=2}, {iov_base=\"cd\", iov_len=2}], 2) = 4");
  char he[2] = {'h', 'e'};
  char rest[10] = {'l', 'l', 'o'};
  iovec in[2] = {{he, 2}, {rest, 10}};
  EXPECT_EQ(r.line(__NR_readv, {7, addr(in), 2}, 5),
            "readv(7, [{iov_base=\"he\", iov_len=2}, {iov_base=\"llo\", iov_len=10}], 2) = 5");
}

TEST_F(FormatStructs, Dirents) {
  unsigned char buf[48] = {};
  uint16_t reclen = 24;
  std::memcpy(buf + 16, &reclen, 2);
  std::memcpy(buf + 24 + 16, &reclen, 2);
  EXPECT_EQ(r.line(__NR_getdents64, {3, addr(buf), 32768}, 48),
            "getdents64(3, " + hex(buf) + " /* 2 entries */, 32768) = 48");
  EXPECT_EQ(r.line(__NR_getdents64, {3, addr(buf), 32768}, 0),
            "getdents64(3, " + hex(buf) + " /* 0 entries */, 32768) = 0");
}

TEST_F(FormatStructs, PollAndEpoll) {
  pollfd pfd{0, POLLIN, 0};
  std::initializer_list<uint64_t> args = {addr(&pfd), 1, 0};
  RenderedCall rc = r.entry(__NR_poll, args);
  pfd.revents = POLLIN;
  r.exit(rc, __NR_poll, args, 1);
  EXPECT_EQ(line_text(rc), "poll([{fd=0, events=POLLIN}], 1, 0) = 1 ([{fd=0, revents=POLLIN}])");
  EXPECT_EQ(r.line(__NR_poll, args, 0), "poll([{fd=0, events=POLLIN}], 1, 0) = 0 (Timeout)");

  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = 3;
  EXPECT_EQ(r.line(__NR_epoll_ctl, {5, 1, 3, addr(&ev)}, 0),
            "epoll_ctl(5, EPOLL_CTL_ADD, 3, {events=EPOLLIN, data={u32=3, u64=3}}) = 0");
  EXPECT_EQ(r.line(__NR_epoll_wait, {5, addr(&ev), 1023, 1000}, 1),
            "epoll_wait(5, [{events=EPOLLIN, data={u32=3, u64=3}}], 1023, 1000) = 1");
}

TEST_F(FormatStructs, Ioctls) {
  EXPECT_EQ(r.line(__NR_ioctl, {3, 0x5451 /* FIOCLEX */, 0}, 0), "ioctl(3, FIOCLEX) = 0");
  int one = 1;
  EXPECT_EQ(r.line(__NR_ioctl, {4, 0x5421 /* FIONBIO */, addr(&one)}, 0), "ioctl(4, FIONBIO, [1]) = 0");
  winsize ws{50, 200, 0, 0};
  EXPECT_EQ(r.line(__NR_ioctl, {1, 0x5413 /* TIOCGWINSZ */, addr(&ws)}, 0),
            "ioctl(1, TIOCGWINSZ, {ws_row=50, ws_col=200, ws_xpixel=0, ws_ypixel=0}) = 0");
  EXPECT_EQ(r.line(__NR_ioctl, {3, 0xc0184800, 0x7ffd750c56b0}, -ENOTTY),
            "ioctl(3, 0xc0184800, 0x7ffd750c56b0) = -1 ENOTTY (Inappropriate ioctl for device)");
}

TEST_F(FormatStructs, GroupsAndSysinfo) {
  uint32_t groups[3] = {0, 27, 100};
  EXPECT_EQ(r.line(__NR_getgroups, {3, addr(groups)}, 3), "getgroups(3, [0, 27, 100]) = 3");
  EXPECT_EQ(r.line(__NR_getgroups, {0, addr(groups)}, 0), "getgroups(0, []) = 0");
  EXPECT_EQ(r.line(__NR_setgroups, {2, addr(groups)}, 0), "setgroups(2, [0, 27]) = 0");
}

TEST_F(FormatStructs, UnameAndPrctl) {
  utsname u{};
  std::strcpy(u.sysname, "Linux");
  std::strcpy(u.nodename, "vm");
  EXPECT_EQ(r.line(__NR_uname, {addr(&u)}, 0), "uname({sysname=\"Linux\", nodename=\"vm\", ...}) = 0");
  EXPECT_EQ(r.line(__NR_prctl, {15 /* PR_SET_NAME */, addr("abc"), 0, 0, 0}, 0), "prctl(PR_SET_NAME, \"abc\") = 0");
  EXPECT_EQ(r.line(__NR_prctl, {3 /* PR_GET_DUMPABLE */, 0, 0, 0, 0}, 1), "prctl(PR_GET_DUMPABLE) = 1");
  EXPECT_EQ(r.line(__NR_prctl, {38 /* PR_SET_NO_NEW_PRIVS */, 1, 0, 0, 0}, 0),
            "prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) = 0");
}

TEST_F(FormatStructs, CStringsWrittenAtExit) {
  char cwd[256] = "/tmp/ref";
  EXPECT_EQ(r.line(__NR_getcwd, {addr(cwd), sizeof cwd}, 9), "getcwd(\"/tmp/ref\", 256) = 9");
  char link[5] = {'/', 't', 'm', 'p', '/'};
  EXPECT_EQ(r.line(__NR_readlink, {addr("/proc/self/exe"), addr(link), 5}, 5),
            "readlink(\"/proc/self/exe\", \"/tmp/\", 5) = 5");
}

}  // namespace
}  // namespace hytrace::syscalls
