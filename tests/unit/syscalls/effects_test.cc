// The effects interpreter, one size rule at a time, against the test's own
// memory: the state "after the call" is set up by hand as the kernel would
// leave it. The conformance test (tests/conformance/) checks the rules
// against the kernel itself.
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "syscalls/catalogue.hpp"
#include "syscalls/effects.hpp"
#include "tests/unit/syscalls/format_test_util.hpp"

namespace hytrace::syscalls {
namespace {

using testing::addr;
using testing::make_call;

long nr(const char* name) { return *number_of(name); }

struct Fx {
  LocalMemory mem;
  std::optional<Effects> fx;

  Fx(const char* name, std::initializer_list<uint64_t> args) : fx(at(make_call(nr(name), args))) {}
  explicit Fx(const Call& call) : fx(at(call)) {}

  std::optional<Effects> at(const Call& call) { return Effects::at_entry(call, mem); }
  std::vector<Region> reads() const { return {fx->reads().begin(), fx->reads().end()}; }
  std::vector<Region> writes(long result) { return fx->writes(result, mem); }
};

Region r(const void* p, uint64_t len) { return {addr(p), len}; }

TEST(Effects, ResultSizedBufferIsCappedByItsSize) {
  char buf[64] = {};
  Fx f("read", {3, addr(buf), sizeof buf});
  ASSERT_TRUE(f.fx);
  EXPECT_TRUE(f.reads().empty());
  EXPECT_EQ(f.writes(10), std::vector<Region>{r(buf, 10)});
  EXPECT_EQ(f.writes(0), std::vector<Region>{});
  EXPECT_EQ(f.writes(-EFAULT), std::vector<Region>{});
  EXPECT_EQ(f.writes(1000), std::vector<Region>{r(buf, 64)});  // a forged result
}

TEST(Effects, ArgumentSizedInput) {
  char buf[10] = "abc";
  Fx f("write", {1, addr(buf), 3});
  EXPECT_EQ(f.reads(), std::vector<Region>{r(buf, 3)});
  EXPECT_TRUE(f.writes(3).empty());
}

TEST(Effects, FixedStructure) {
  struct stat st {};
  Fx f("fstat", {0, addr(&st)});
  EXPECT_EQ(f.writes(0), std::vector<Region>{r(&st, sizeof st)});
  EXPECT_TRUE(f.writes(-EBADF).empty());
}

TEST(Effects, NullPointerIsNoRegion) {
  Fx f("fstat", {0, 0});
  ASSERT_TRUE(f.fx);
  EXPECT_TRUE(f.writes(0).empty());
}

TEST(Effects, StringUpToItsNul) {
  const char path[] = "/etc/passwd";
  Fx f("openat", {static_cast<uint64_t>(-100), addr(path), 0, 0});
  EXPECT_EQ(f.reads(), std::vector<Region>{r(path, sizeof path)});
}

TEST(Effects, WrittenEvenOnError) {
  struct timespec req {1, 0}, rem {};
  Fx f("nanosleep", {addr(&req), addr(&rem)});
  EXPECT_EQ(f.reads(), std::vector<Region>{r(&req, sizeof req)});
  EXPECT_EQ(f.writes(-EINTR), std::vector<Region>{r(&rem, sizeof rem)});
  struct timespec now {};
  Fx g("clock_gettime", {0, addr(&now)});
  EXPECT_TRUE(g.writes(-EINVAL).empty());
  EXPECT_EQ(g.writes(0), std::vector<Region>{r(&now, sizeof now)});
}

TEST(Effects, IovecsFilledByResultInOrder) {
  char a[4] = {}, b[8] = {}, c[16] = {};
  struct iovec iov[3] = {{a, sizeof a}, {b, sizeof b}, {c, sizeof c}};
  Fx f("readv", {3, addr(iov), 3});
  EXPECT_EQ(f.reads(), std::vector<Region>{r(iov, sizeof iov)});
  EXPECT_EQ(f.writes(10), (std::vector<Region>{r(a, 4), r(b, 6)}));
  EXPECT_EQ(f.writes(28), (std::vector<Region>{r(a, 4), r(b, 8), r(c, 16)}));
  // The kernel took the vectors at entry: a change afterwards does not count.
  iov[0].iov_len = 1000;
  EXPECT_EQ(f.writes(4), std::vector<Region>{r(a, 4)});
}

TEST(Effects, WritevReadsEveryBuffer) {
  char a[4] = {}, b[8] = {};
  struct iovec iov[2] = {{a, sizeof a}, {b, sizeof b}};
  Fx f("writev", {1, addr(iov), 2});
  EXPECT_EQ(f.reads(), (std::vector<Region>{r(iov, sizeof iov), r(a, 4), r(b, 8)}));
}

TEST(Effects, LengthBehindAnArgumentBeforeAndAfter) {
  struct sockaddr_storage name {};
  socklen_t len = 16;
  Fx f("getsockname", {3, addr(&name), addr(&len)});
  len = 28;  // the kernel: the whole address is 28 bytes, 16 of them fit
  const auto w = f.writes(0);
  EXPECT_NE(std::find(w.begin(), w.end(), r(&name, 16)), w.end());
  EXPECT_NE(std::find(w.begin(), w.end(), r(&len, sizeof len)), w.end());
  EXPECT_EQ(w.size(), 2u);
}

TEST(Effects, CountTimesElementByResult) {
  struct epoll_event ev[8] = {};
  Fx f("epoll_wait", {3, addr(ev), 8, 0});
  EXPECT_EQ(f.writes(2), std::vector<Region>{r(ev, 2 * sizeof ev[0])});
  EXPECT_EQ(f.writes(100), std::vector<Region>{r(ev, sizeof ev)});
}

TEST(Effects, CountTimesElementByArgumentBothWays) {
  struct pollfd fds[3] = {};
  Fx f("poll", {addr(fds), 3, 0});
  EXPECT_EQ(f.reads(), std::vector<Region>{r(fds, sizeof fds)});
  EXPECT_EQ(f.writes(1), std::vector<Region>{r(fds, sizeof fds)});
}

struct Message {
  struct sockaddr_storage name {};
  char a[4] = {}, b[8] = {};
  struct iovec iov[2] = {{a, sizeof a}, {b, sizeof b}};
  char control[64] = {};
  struct msghdr h {};
  Message() {
    h.msg_name = &name;
    h.msg_namelen = sizeof name;
    h.msg_iov = iov;
    h.msg_iovlen = 2;
    h.msg_control = control;
    h.msg_controllen = sizeof control;
  }
};

TEST(Effects, RecvmsgNameIovecsControlAndHeader) {
  Message m;
  Fx f("recvmsg", {3, addr(&m.h), 0});
  EXPECT_EQ(f.reads(), (std::vector<Region>{r(&m.h, sizeof m.h), r(m.iov, sizeof m.iov)}));
  m.h.msg_namelen = 8;  // what the kernel leaves
  m.h.msg_controllen = 24;
  EXPECT_EQ(f.writes(6), (std::vector<Region>{r(&m.name, 8), r(m.a, 4), r(m.b, 2), r(m.control, 24),
                                              r(&m.h.msg_namelen, 4), r(&m.h.msg_controllen, 8),
                                              r(&m.h.msg_flags, 4)}));
}

TEST(Effects, SendmsgReadsWhatTheHeaderPointsAt) {
  Message m;
  m.h.msg_namelen = 16;
  m.h.msg_controllen = 20;
  Fx f("sendmsg", {3, addr(&m.h), 0});
  EXPECT_EQ(f.reads(), (std::vector<Region>{r(&m.h, sizeof m.h), r(&m.name, 16), r(m.iov, sizeof m.iov),
                                            r(m.a, 4), r(m.b, 8), r(m.control, 20)}));
  EXPECT_TRUE(f.writes(12).empty());
}

TEST(Effects, RecvmmsgByResultThenEachLength) {
  Message one, two;
  struct mmsghdr v[2] = {};
  v[0].msg_hdr = one.h;
  v[1].msg_hdr = two.h;
  Fx f("recvmmsg", {3, addr(v), 2, 0, 0});
  v[0].msg_len = 3;
  v[0].msg_hdr.msg_namelen = 0;
  v[0].msg_hdr.msg_controllen = 0;
  const auto w = f.writes(1);  // one message received
  EXPECT_EQ(w, (std::vector<Region>{r(one.a, 3), r(&v[0].msg_hdr.msg_namelen, 4),
                                    r(&v[0].msg_hdr.msg_controllen, 8), r(&v[0].msg_hdr.msg_flags, 4),
                                    r(&v[0].msg_len, 4)}));
}

TEST(Effects, IoctlByEncodingAndByTable) {
  int value = 0;
  struct winsize ws {};
  Fx encoded("ioctl", {0, 0x80045430, addr(&value)});  // TIOCGPTN = _IOR('T', 0x30, unsigned int)
  ASSERT_TRUE(encoded.fx);
  EXPECT_EQ(encoded.writes(0), std::vector<Region>{r(&value, 4)});
  Fx both("ioctl", {0, 0xc0045430, addr(&value)});  // an _IOWR of 4 bytes
  EXPECT_EQ(both.reads(), std::vector<Region>{r(&value, 4)});
  EXPECT_EQ(both.writes(0), std::vector<Region>{r(&value, 4)});
  Fx old("ioctl", {1, TIOCGWINSZ, addr(&ws)});
  EXPECT_EQ(old.writes(0), std::vector<Region>{r(&ws, sizeof ws)});
  Fx no_memory("ioctl", {1, FIOCLEX, 0});
  ASSERT_TRUE(no_memory.fx);
  EXPECT_TRUE(no_memory.writes(0).empty());
  Fx unknown("ioctl", {1, 0x5490, addr(&value)});  // an _IO command no table names
  EXPECT_FALSE(unknown.fx);
}

TEST(Effects, FcntlByCommand) {
  struct flock lock {};
  Fx getlk("fcntl", {3, F_GETLK, addr(&lock)});
  EXPECT_EQ(getlk.reads(), std::vector<Region>{r(&lock, sizeof lock)});
  EXPECT_EQ(getlk.writes(0), std::vector<Region>{r(&lock, sizeof lock)});
  Fx getfd("fcntl", {3, F_GETFD, 0});
  ASSERT_TRUE(getfd.fx);
  EXPECT_TRUE(getfd.writes(1).empty());
  EXPECT_FALSE(Fx("fcntl", {3, 9999, 0}).fx);
}

// The commands the stub may serve (plain_commands) are exactly commands
// whose calls touch no memory, with a pointer-like third argument too.
TEST(Effects, FcntlPlainCommandsTouchNoMemory) {
  const auto plain = plain_commands(nr("fcntl"));
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(plain->arg, 1);
  for (uint32_t cmd : {F_DUPFD, F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_DUPFD_CLOEXEC}) {
    EXPECT_NE(std::find(plain->values.begin(), plain->values.end(), cmd), plain->values.end()) << cmd;
  }
  for (uint32_t cmd : {F_GETLK, F_SETLK, F_SETLKW, F_OFD_GETLK, F_GETOWN_EX}) {
    EXPECT_EQ(std::find(plain->values.begin(), plain->values.end(), cmd), plain->values.end()) << cmd;
  }
  int word = 0;
  for (uint32_t cmd : plain->values) {
    Fx call("fcntl", {3, cmd, addr(&word)});
    ASSERT_TRUE(call.fx) << cmd;
    EXPECT_TRUE(call.reads().empty()) << cmd;
    EXPECT_TRUE(call.writes(0).empty()) << cmd;
  }
  // The kernel takes the command as an unsigned int: high bits are ignored.
  EXPECT_TRUE(Fx("fcntl", {3, (1ull << 32) | F_GETFD, 0}).fx);
  EXPECT_FALSE(plain_commands(nr("openat")).has_value());
  EXPECT_FALSE(plain_commands(nr("ioctl")).has_value());
}

TEST(Effects, CloneWritesThroughItsFlags) {
  int parent_tid = 0, child_tid = 0;
  Fx fork_like("clone", {CLONE_PARENT_SETTID | SIGCHLD, 0, addr(&parent_tid), addr(&child_tid), 0});
  EXPECT_EQ(fork_like.writes(1234), std::vector<Region>{r(&parent_tid, 4)});
  Fx thread("clone", {CLONE_VM | CLONE_CHILD_SETTID, 0, 0, addr(&child_tid), 0});
  EXPECT_EQ(thread.writes(1234), std::vector<Region>{r(&child_tid, 4)});
  struct clone_args args {};
  args.flags = CLONE_PIDFD | CLONE_PARENT_SETTID;
  int pidfd = -1;
  args.pidfd = addr(&pidfd);
  args.parent_tid = addr(&parent_tid);
  Fx clone3("clone3", {addr(&args), sizeof args});
  const auto w = clone3.writes(1234);
  EXPECT_EQ(w.size(), 2u);
  EXPECT_NE(std::find(w.begin(), w.end(), r(&pidfd, 4)), w.end());
  EXPECT_NE(std::find(w.begin(), w.end(), r(&parent_tid, 4)), w.end());
  // The pidfd is stored before the later failure paths.
  EXPECT_EQ(clone3.writes(-EINVAL), std::vector<Region>{r(&pidfd, 4)});
}

TEST(Effects, HostileCountsAreClamped) {
  char buf[16] = {};
  Fx f("read", {3, addr(buf), ~uint64_t{0}});
  const std::vector<Region> clamped = {{addr(buf), kMaxRegionBytes}};
  EXPECT_EQ(f.writes(0x7fffffffffffffffL), clamped);
  struct iovec iov[1] = {{buf, sizeof buf}};
  Fx v("readv", {3, addr(iov), uint64_t{1} << 40});  // the array ends where memory does
  ASSERT_TRUE(v.fx);
  EXPECT_LE(v.reads().front().len, kMaxVectors * sizeof(struct iovec));
}

TEST(Effects, UnknownAndForeignCallsFailClosed) {
  LocalMemory mem;
  EXPECT_FALSE(Effects::at_entry(make_call(100000, {}), mem));
  Call i386 = make_call(3, {0, 0, 0});
  i386.abi = Abi::kI386;
  EXPECT_FALSE(Effects::at_entry(i386, mem));
  EXPECT_EQ(coverage_of(100000), Coverage::kUnknown);
  EXPECT_EQ(coverage_of(nr("getpid")), Coverage::kNoMemory);
  EXPECT_EQ(coverage_of(nr("read")), Coverage::kDescribed);
  EXPECT_EQ(coverage_of(nr("ioctl")), Coverage::kByCommand);
}

// Every x86-64 syscall has a row (the build refuses a table without); this
// prints the coverage the closing notes quote.
TEST(Effects, CoverageOfTheX86_64Table) {
  std::map<Coverage, int> counts;
  std::string unknown;
  for (const SyscallInfo& info : all()) {
    const Coverage c = coverage_of(info.nr);
    ++counts[c];
    if (c == Coverage::kUnknown) unknown += std::string(unknown.empty() ? "" : " ") + std::string(info.name);
  }
  std::printf("effects of %zu x86-64 syscalls: %d described, %d by command, %d touch no memory, %d unknown\n",
              all().size(), counts[Coverage::kDescribed], counts[Coverage::kByCommand],
              counts[Coverage::kNoMemory], counts[Coverage::kUnknown]);
  std::printf("unknown: %s\n", unknown.c_str());
  EXPECT_EQ(counts[Coverage::kDescribed] + counts[Coverage::kByCommand] + counts[Coverage::kNoMemory] +
                counts[Coverage::kUnknown],
            static_cast<int>(all().size()));
  EXPECT_GE(counts[Coverage::kDescribed] + counts[Coverage::kByCommand], 200);
}

}  // namespace
}  // namespace hytrace::syscalls
