// Formatter: strings, flags, results. Every test compares whole lines.
#include <cerrno>
#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "format_test_util.hpp"

namespace hytrace::syscalls {
namespace {

using testing::addr;
using testing::hex;
using testing::kBadAddress;

class Format : public ::testing::Test {
 protected:
  testing::Renderer r;
};

constexpr uint64_t kAtFdcwd = static_cast<uint64_t>(-100);

TEST_F(Format, OpenatPathAndFlags) {
  EXPECT_EQ(r.line(__NR_openat, {kAtFdcwd, addr("/etc/passwd"), 02000000 /* O_CLOEXEC */}, 3),
            "openat(AT_FDCWD, \"/etc/passwd\", O_RDONLY|O_CLOEXEC) = 3");
  EXPECT_EQ(r.line(__NR_openat, {kAtFdcwd, addr("."), 0200000 | 04000 | 02000000}, 3),
            "openat(AT_FDCWD, \".\", O_RDONLY|O_NONBLOCK|O_CLOEXEC|O_DIRECTORY) = 3");
}

TEST_F(Format, OpenatModeOnlyWithCreate) {
  EXPECT_EQ(r.line(__NR_openat, {kAtFdcwd, addr("/tmp/x"), 01 | 0100 | 01000, 0644}, 4),
            "openat(AT_FDCWD, \"/tmp/x\", O_WRONLY|O_CREAT|O_TRUNC, 0644) = 4");
  EXPECT_EQ(r.line(__NR_openat, {77, addr("x"), 02 | 0100 | 0200 | 04010000 | 0400000 | 010000000 | 020200000, 0}, -EBADF),
            "openat(77, \"x\", O_RDWR|O_CREAT|O_EXCL|O_SYNC|O_NOFOLLOW|O_PATH|O_TMPFILE, 000)"
            " = -1 EBADF (Bad file descriptor)");
  EXPECT_EQ(r.line(__NR_open, {addr("/etc/hostname"), 0, 0777}, 3),
            "open(\"/etc/hostname\", O_RDONLY) = 3");
}

TEST_F(Format, OpenFlagOrderIsStraces) {
  // strace 6.1: openat(AT_FDCWD, "/nx", O_RDONLY|O_CLOEXEC|O_PATH|O_DIRECTORY|FASYNC)
  EXPECT_EQ(r.line(__NR_openat, {kAtFdcwd, addr("/nx"), 020000 | 02000000 | 0200000 | 010000000}, -ENOENT),
            "openat(AT_FDCWD, \"/nx\", O_RDONLY|O_CLOEXEC|O_PATH|O_DIRECTORY|FASYNC)"
            " = -1 ENOENT (No such file or directory)");
  EXPECT_EQ(r.line(__NR_openat, {kAtFdcwd, addr("/nx"), 010000}, -ENOENT),
            "openat(AT_FDCWD, \"/nx\", O_RDONLY|O_DSYNC) = -1 ENOENT (No such file or directory)");
}

TEST_F(Format, ShapesThatDependOnArguments) {
  EXPECT_EQ(r.line(__NR_mremap, {0, 0, 0, 1 /* MREMAP_MAYMOVE */, 0}, -EINVAL),
            "mremap(NULL, 0, 0, MREMAP_MAYMOVE) = -1 EINVAL (Invalid argument)");
  EXPECT_EQ(r.line(__NR_mremap, {0x1000, 4096, 8192, 3, 0x5000}, 0x5000),
            "mremap(0x1000, 4096, 8192, MREMAP_MAYMOVE|MREMAP_FIXED, 0x5000) = 0x5000");
  EXPECT_EQ(r.line(__NR_preadv2, {99, 0, 0, 0, 0, 8 /* RWF_NOWAIT */}, -EBADF),
            "preadv2(99, NULL, 0, 0, RWF_NOWAIT) = -1 EBADF (Bad file descriptor)");
  EXPECT_EQ(r.line(__NR_sched_getscheduler, {0}, 0), "sched_getscheduler(0) = 0 (SCHED_OTHER)");
  EXPECT_EQ(r.line(__NR_ptrace, {2 /* PTRACE_PEEKDATA */, 1, 0, 0}, -ESRCH),
            "ptrace(PTRACE_PEEKDATA, 1, NULL, NULL) = -1 ESRCH (No such process)");
  EXPECT_EQ(r.line(__NR_restart_syscall, {}, 0), "restart_syscall(<... resuming interrupted call ...>) = 0");
}

TEST_F(Format, UnknownFlagBitsInHex) {
  EXPECT_EQ(r.line(__NR_openat, {kAtFdcwd, addr("/tmp/y"), 0x40000000}, -ENOENT),
            "openat(AT_FDCWD, \"/tmp/y\", O_RDONLY|0x40000000) = -1 ENOENT (No such file or directory)");
  EXPECT_EQ(r.line(__NR_openat, {kAtFdcwd, addr(""), 3}, -ENOENT),
            "openat(AT_FDCWD, \"\", O_ACCMODE) = -1 ENOENT (No such file or directory)");
}

TEST_F(Format, NullAndUnreadablePointers) {
  EXPECT_EQ(r.line(__NR_openat, {kAtFdcwd, 0, 0}, -EFAULT),
            "openat(AT_FDCWD, NULL, O_RDONLY) = -1 EFAULT (Bad address)");
  EXPECT_EQ(r.line(__NR_openat, {kAtFdcwd, kBadAddress, 0}, -EFAULT),
            "openat(AT_FDCWD, 0x1, O_RDONLY) = -1 EFAULT (Bad address)");
  EXPECT_EQ(r.line(__NR_write, {1, kBadAddress, 10}, 10), "write(1, 0x1, 10) = 10");
}

TEST_F(Format, QuotedStringEscapes) {
  // strace: write(1, "hello\tworld\n\"q\"\\ \1\29z\377\0/", 24) = 24
  const char bytes[] = "hello\tworld\n\"q\"\\ \001\0029z\377\0/";
  ASSERT_EQ(sizeof bytes - 1, 24u);
  EXPECT_EQ(r.line(__NR_write, {1, addr(bytes), 24}, 24),
            R"(write(1, "hello\tworld\n\"q\"\\ \1\29z\377\0/", 24) = 24)");
  // A digit after an octal escape forces all three digits.
  const char digits[] = "\0011\033x\r\f\v";
  EXPECT_EQ(r.line(__NR_write, {2, addr(digits), 7}, 7), R"(write(2, "\0011\33x\r\f\v", 7) = 7)");
}

TEST_F(Format, StringsCutAtLimit) {
  std::string big(100, 'a');
  EXPECT_EQ(r.line(__NR_write, {1, addr(big.data()), 100}, 100),
            "write(1, \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"..., 100) = 100");
  r.opts.string_limit = 5;
  EXPECT_EQ(r.line(__NR_write, {1, addr("hello world"), 11}, 11), "write(1, \"hello\"..., 11) = 11");
  EXPECT_EQ(r.line(__NR_write, {1, addr("hello"), 5}, 5), "write(1, \"hello\", 5) = 5");
  // Paths are not cut at -s, as in strace.
  EXPECT_EQ(r.line(__NR_chdir, {addr("/a/long/path")}, 0), "chdir(\"/a/long/path\") = 0");
  // C strings: "..." only when the string goes on past the limit.
  EXPECT_EQ(r.line(__NR_sethostname, {addr("abcdef"), 6}, 0), "sethostname(\"abcde\"..., 6) = 0");
  EXPECT_EQ(r.line(__NR_mq_unlink, {addr("abcde")}, 0), "mq_unlink(\"abcde\") = 0");
  EXPECT_EQ(r.line(__NR_mq_unlink, {addr("abcdef")}, 0), "mq_unlink(\"abcde\"...) = 0");
}

TEST_F(Format, ReadBufferShownAtExitOnly) {
  char buf[832] = {};
  std::memset(buf, 'x', sizeof buf);
  RenderedCall rc = r.entry(__NR_read, {3, addr(buf), sizeof buf});
  EXPECT_EQ(entry_text(rc), "read(3, ");
  EXPECT_EQ(rc.first_exit_arg, 1u);
  std::memcpy(buf, "root:x:0:0:root:/root:/bin/bash\nmore", 36);
  r.exit(rc, __NR_read, {3, addr(buf), sizeof buf}, 832);
  EXPECT_EQ(exit_text(rc), "\"root:x:0:0:root:/root:/bin/bash\\n\"..., 832) = 832");
  EXPECT_EQ(line_text(rc), "read(3, \"root:x:0:0:root:/root:/bin/bash\\n\"..., 832) = 832");
  EXPECT_EQ(r.line(__NR_read, {3, addr(buf), sizeof buf}, 0), "read(3, \"\", 832) = 0");
}

TEST_F(Format, FailedOutArgumentIsAnAddress) {
  char buf[16] = {};
  EXPECT_EQ(r.line(__NR_read, {3, addr(buf), 16}, -EBADF),
            "read(3, " + hex(buf) + ", 16) = -1 EBADF (Bad file descriptor)");
  EXPECT_EQ(r.line(__NR_read, {0, addr(buf), 16}, -512),
            "read(0, " + hex(buf) + ", 16) = ? ERESTARTSYS (To be restarted if SA_RESTART is set)");
}

TEST_F(Format, ErrorResults) {
  struct Case {
    long result;
    const char* text;
  };
  for (Case c : {Case{-ENOENT, "-1 ENOENT (No such file or directory)"},
                 Case{-EAGAIN, "-1 EAGAIN (Resource temporarily unavailable)"},
                 Case{-EHWPOISON, "-1 EHWPOISON (Memory page has hardware error)"},
                 Case{-512, "? ERESTARTSYS (To be restarted if SA_RESTART is set)"},
                 Case{-513, "? ERESTARTNOINTR (To be restarted)"},
                 Case{-514, "? ERESTARTNOHAND (To be restarted if no handler)"},
                 Case{-515, "-1 ENOIOCTLCMD (Unknown error 515)"},
                 Case{-516, "? ERESTART_RESTARTBLOCK (Interrupted by signal)"},
                 Case{-300, "-1 E300 (Unknown error 300)"}}) {
    EXPECT_EQ(r.line(__NR_close, {3}, c.result), std::string("close(3) = ") + c.text);
  }
  RenderedCall rc = r.entry(__NR_close, {3});
  r.exit(rc, __NR_close, {3}, -ENOENT);
  EXPECT_TRUE(rc.is_error);
  EXPECT_EQ(rc.error_name, "ENOENT");
  EXPECT_EQ(rc.raw_result, -ENOENT);
  r.exit(rc, __NR_close, {3}, 0);
  EXPECT_FALSE(rc.is_error);
  EXPECT_EQ(rc.error_name, "");
  EXPECT_EQ(rc.result, "0");
}

TEST_F(Format, NoReturn) {
  EXPECT_EQ(r.line(__NR_exit_group, {0}, 0), "exit_group(0) = ?");
  EXPECT_EQ(r.line(__NR_exit, {3}, 0), "exit(3) = ?");
}

TEST_F(Format, MmapFlagsAndHexResult) {
  EXPECT_EQ(r.line(__NR_mmap, {0, 8192, 3, 0x22, static_cast<uint64_t>(-1), 0}, 0x7fee5276e000),
            "mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7fee5276e000");
  EXPECT_EQ(r.line(__NR_mmap, {0x10000, 4096, 5, 0x2000011, 5, 0x3000}, -EBADF),
            "mmap(0x10000, 4096, PROT_READ|PROT_EXEC, MAP_SHARED|MAP_FIXED|0x2000000, 5, 0x3000)"
            " = -1 EBADF (Bad file descriptor)");
  EXPECT_EQ(r.line(__NR_mmap, {0, 0, 0, 0, static_cast<uint64_t>(-1), 0}, -EBADF),
            "mmap(NULL, 0, PROT_NONE, MAP_FILE, -1, 0) = -1 EBADF (Bad file descriptor)");
  EXPECT_EQ(r.line(__NR_brk, {0}, 0x56180f172000), "brk(NULL) = 0x56180f172000");
  EXPECT_EQ(r.line(__NR_mprotect, {0x7fee52750000, 16384, 1}, 0),
            "mprotect(0x7fee52750000, 16384, PROT_READ) = 0");
  EXPECT_EQ(r.line(__NR_madvise, {0x7f0000000000, 4096, 4}, 0),
            "madvise(0x7f0000000000, 4096, MADV_DONTNEED) = 0");
}

TEST_F(Format, ModeInOctal) {
  EXPECT_EQ(r.line(__NR_mkdir, {addr("/tmp/d"), 0755}, 0), "mkdir(\"/tmp/d\", 0755) = 0");
  EXPECT_EQ(r.line(__NR_chmod, {addr("/x"), 04755}, 0), "chmod(\"/x\", 04755) = 0");
  EXPECT_EQ(r.line(__NR_umask, {022}, 077), "umask(022) = 077");
  EXPECT_EQ(r.line(__NR_mknod, {addr("/dev/x"), 020600, 0x103}, 0),
            "mknod(\"/dev/x\", S_IFCHR|0600, 0x103) = 0");
}

TEST_F(Format, ExecveReadsArgvAtEntry) {
  char prog[] = "/bin/true";
  char a[] = "a";
  char b[] = "b";
  char env0[] = "A=1";
  char* argv[] = {prog, a, b, nullptr};
  char* envp[] = {env0, nullptr};
  std::initializer_list<uint64_t> args = {addr(prog), addr(argv), addr(envp)};
  RenderedCall rc = r.entry(__NR_execve, args);
  std::strcpy(prog, "/bin/xxxx");  // gone after execve: entry already has it
  argv[1] = nullptr;
  r.exit(rc, __NR_execve, args, 0);
  EXPECT_EQ(entry_text(rc), "execve(\"/bin/true\", [\"/bin/true\", \"a\", \"b\"], " + hex(envp) + " /* 1 var */");
  EXPECT_EQ(exit_text(rc), ") = 0");
}

TEST_F(Format, ExecveArrayLimitAndEnvCount) {
  const char* argv[] = {"ls", "-l", "/etc", "/tmp", nullptr};
  const char* envp[] = {"A=1", "B=2", "C=3", nullptr};
  r.opts.array_limit = 2;
  EXPECT_EQ(r.line(__NR_execve, {addr("/bin/ls"), addr(argv), addr(envp)}, -ENOENT),
            "execve(\"/bin/ls\", [\"ls\", \"-l\", ...], " + hex(envp) +
                " /* 3 vars */) = -1 ENOENT (No such file or directory)");
  r.opts.array_limit = 32;
  r.opts.string_limit = 2;
  EXPECT_EQ(r.line(__NR_execve, {addr("/bin/ls"), addr(argv), 0}, 0),
            "execve(\"/bin/ls\", [\"ls\", \"-l\", \"/e\"..., \"/t\"...], NULL) = 0");
  EXPECT_EQ(r.line(__NR_execve, {addr("/bin/ls"), kBadAddress, kBadAddress}, -EFAULT),
            "execve(\"/bin/ls\", 0x1, 0x1) = -1 EFAULT (Bad address)");
}

TEST_F(Format, UndecodedSyscallIsRawHex) {
  EXPECT_EQ(r.line(__NR_tuxcall, {1, 2, 3, 4, 5, 6}, -ENOSYS),
            "tuxcall(0x1, 0x2, 0x3, 0x4, 0x5, 0x6) = -1 ENOSYS (Function not implemented)");
  EXPECT_EQ(r.line(__NR_tuxcall, {0, 0xffffffffffffff80, 0, 0, 0, 0}, 0),
            "tuxcall(0, 0xffffffffffffff80, 0, 0, 0, 0) = 0");
}

TEST_F(Format, UnknownNumber) {
  EXPECT_EQ(r.line(600, {1, 2}, -ENOSYS),
            "syscall_0x258(0x1, 0x2, 0, 0, 0, 0) = -1 ENOSYS (Function not implemented)");
  EXPECT_EQ(r.line(337, {}, -ENOSYS),
            "syscall_0x151(0, 0, 0, 0, 0, 0) = -1 ENOSYS (Function not implemented)");
  RenderedCall rc = r.entry(0x1c2 + 1000, {});
  EXPECT_EQ(rc.name, "syscall_0x5aa");
}

TEST_F(Format, SignalsAndSigsets) {
  struct Case {
    uint64_t sig;
    const char* shown;
  };
  for (Case c : {Case{9, "SIGKILL"}, Case{0, "0"}, Case{32, "SIGRTMIN"}, Case{33, "SIGRT_1"},
                 Case{64, "SIGRT_32"}, Case{65, "65"}}) {
    EXPECT_EQ(r.line(__NR_kill, {999999, c.sig}, -ESRCH),
              std::string("kill(999999, ") + c.shown + ") = -1 ESRCH (No such process)");
  }
  uint64_t set = (1u << (2 - 1)) | (1u << (15 - 1)) | (uint64_t{1} << (37 - 1));  // INT TERM 37
  EXPECT_EQ(r.line(__NR_rt_sigprocmask, {0, addr(&set), 0, 8}, 0),
            "rt_sigprocmask(SIG_BLOCK, [INT TERM RT_5], NULL, 8) = 0");
  uint64_t old = set;
  RenderedCall rc = r.entry(__NR_rt_sigprocmask, {2, 0, addr(&old), 8});
  EXPECT_EQ(entry_text(rc), "rt_sigprocmask(SIG_SETMASK, NULL, ");
  r.exit(rc, __NR_rt_sigprocmask, {2, 0, addr(&old), 8}, 0);
  EXPECT_EQ(exit_text(rc), "[INT TERM RT_5], 8) = 0");
  uint64_t full = ~uint64_t{0};
  uint64_t almost = ~((uint64_t{1} << 31) | (uint64_t{1} << 32));
  uint64_t none = 0;
  EXPECT_EQ(r.line(__NR_rt_sigprocmask, {0, addr(&full), 0, 8}, 0), "rt_sigprocmask(SIG_BLOCK, ~[], NULL, 8) = 0");
  EXPECT_EQ(r.line(__NR_rt_sigprocmask, {0, addr(&almost), 0, 8}, 0),
            "rt_sigprocmask(SIG_BLOCK, ~[RTMIN RT_1], NULL, 8) = 0");
  EXPECT_EQ(r.line(__NR_rt_sigprocmask, {7, addr(&none), 0, 8}, -EINVAL),
            "rt_sigprocmask(0x7 /* SIG_??? */, [], NULL, 8) = -1 EINVAL (Invalid argument)");
}

TEST_F(Format, IntsAreCIntsAndOffsetsAre64Bit) {
  // A C int in a register: its upper half is not part of the value.
  EXPECT_EQ(r.line(__NR_listen, {3, 0xffffffff}, 0), "listen(3, -1) = 0");
  EXPECT_EQ(r.line(__NR_close, {0x100000005}, -EBADF), "close(5) = -1 EBADF (Bad file descriptor)");
  char buf[4] = {'a', 'b', 'c', 'd'};
  EXPECT_EQ(r.line(__NR_pread64, {3, addr(buf), 4, 0x100000000}, 4),
            "pread64(3, \"abcd\", 4, 4294967296) = 4");
  EXPECT_EQ(r.line(__NR_lseek, {3, static_cast<uint64_t>(-2), 1}, -EINVAL),
            "lseek(3, -2, SEEK_CUR) = -1 EINVAL (Invalid argument)");
}

TEST_F(Format, LongPathsAcrossPages) {
  std::string path(5000, 'p');
  std::string expected = "chdir(\"" + path.substr(0, 4096) + "\"...) = -1 ENAMETOOLONG (File name too long)";
  EXPECT_EQ(r.line(__NR_chdir, {addr(path.c_str())}, -ENAMETOOLONG), expected);
  std::string ok(3000, 'q');
  EXPECT_EQ(r.line(__NR_chdir, {addr(ok.c_str())}, 0), "chdir(\"" + ok + "\") = 0");
}

TEST_F(Format, EnumsAndFlags) {
  EXPECT_EQ(r.line(__NR_lseek, {3, 0, 0}, 0), "lseek(3, 0, SEEK_SET) = 0");
  EXPECT_EQ(r.line(__NR_lseek, {0, 4294967295, 77}, -EINVAL),
            "lseek(0, 4294967295, 0x4d /* SEEK_??? */) = -1 EINVAL (Invalid argument)");
  EXPECT_EQ(r.line(__NR_access, {addr("/etc"), 6}, 0), "access(\"/etc\", R_OK|W_OK) = 0");
  EXPECT_EQ(r.line(__NR_access, {addr("/"), 0}, 0), "access(\"/\", F_OK) = 0");
  EXPECT_EQ(r.line(__NR_faccessat2, {kAtFdcwd, addr("/etc"), 1, 0x200}, 0),
            "faccessat2(AT_FDCWD, \"/etc\", X_OK, AT_EACCESS) = 0");
  EXPECT_EQ(r.line(__NR_unlinkat, {3, addr("d"), 0x200}, 0), "unlinkat(3, \"d\", AT_REMOVEDIR) = 0");
  EXPECT_EQ(r.line(__NR_arch_prctl, {0x1002, 0x7f16fb7c0740}, 0), "arch_prctl(ARCH_SET_FS, 0x7f16fb7c0740) = 0");
  EXPECT_EQ(r.line(__NR_set_tid_address, {0x7f16fb7c0a10}, 2774), "set_tid_address(0x7f16fb7c0a10) = 2774");
  EXPECT_EQ(r.line(__NR_rseq, {0x7fee5257f060, 0x20, 0, 0x53053053}, 0),
            "rseq(0x7fee5257f060, 0x20, 0, 0x53053053) = 0");
  EXPECT_EQ(r.line(__NR_ioctl, {1, 0x5413, 0x7ffd750c56b0}, -ENOTTY),
            "ioctl(1, TIOCGWINSZ, 0x7ffd750c56b0) = -1 ENOTTY (Inappropriate ioctl for device)");
  EXPECT_EQ(r.line(__NR_dup3, {0, 11, 02000000}, 11), "dup3(0, 11, O_CLOEXEC) = 11");
  EXPECT_EQ(r.line(__NR_epoll_create1, {02000000}, 16), "epoll_create1(EPOLL_CLOEXEC) = 16");
  EXPECT_EQ(r.line(__NR_eventfd2, {0, 02000000 | 04000}, 17), "eventfd2(0, EFD_CLOEXEC|EFD_NONBLOCK) = 17");
  EXPECT_EQ(r.line(__NR_sendto, {3, addr("abc"), 3, 0x40, 0, 0}, 3), "sendto(3, \"abc\", 3, MSG_DONTWAIT, NULL, 0) = 3");
  EXPECT_EQ(r.line(__NR_chown, {addr("/x"), static_cast<uint32_t>(-1), 0}, 0), "chown(\"/x\", -1, 0) = 0");
  EXPECT_EQ(r.line(__NR_clock_gettime, {1, 0}, -EFAULT),
            "clock_gettime(CLOCK_MONOTONIC, NULL) = -1 EFAULT (Bad address)");
  EXPECT_EQ(r.line(__NR_wait4, {static_cast<uint64_t>(-1), 0, 1 | 0x40000000, 0}, -ECHILD),
            "wait4(-1, NULL, WNOHANG|__WALL, NULL) = -1 ECHILD (No child processes)");
}

TEST_F(Format, Sockets) {
  EXPECT_EQ(r.line(__NR_socket, {2, 1 | 02000000, 0}, 13),
            "socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP) = 13");
  EXPECT_EQ(r.line(__NR_socket, {1, 2, 0}, 14), "socket(AF_UNIX, SOCK_DGRAM, 0) = 14");
  EXPECT_EQ(r.line(__NR_socket, {10, 1, 6}, 15), "socket(AF_INET6, SOCK_STREAM, IPPROTO_TCP) = 15");
  EXPECT_EQ(r.line(__NR_socket, {99, 77, 3}, -EINVAL),
            "socket(0x63 /* AF_??? */, 0x4d /* SOCK_??? */, 3) = -1 EINVAL (Invalid argument)");
  int one = 1;
  EXPECT_EQ(r.line(__NR_setsockopt, {13, 1, 2, addr(&one), 4}, 0),
            "setsockopt(13, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0");
  EXPECT_EQ(r.line(__NR_shutdown, {13, 2}, -ENOTCONN),
            "shutdown(13, SHUT_RDWR) = -1 ENOTCONN (Transport endpoint is not connected)");
}

TEST_F(Format, TextSplitsAtFirstExitArgument) {
  int status = 3 << 8;
  std::initializer_list<uint64_t> args = {2773, addr(&status), 0, 0};
  RenderedCall rc = r.entry(__NR_wait4, args);
  EXPECT_EQ(entry_text(rc), "wait4(2773, ");
  r.exit(rc, __NR_wait4, args, 2773);
  EXPECT_EQ(exit_text(rc), "[{WIFEXITED(s) && WEXITSTATUS(s) == 3}], 0, NULL) = 2773");
  // No exit argument: the entry text holds every argument.
  RenderedCall close_rc = r.entry(__NR_close, {3});
  EXPECT_EQ(close_rc.first_exit_arg, 1u);
  EXPECT_EQ(entry_text(close_rc), "close(3");
  RenderedCall pid_rc = r.entry(__NR_getpid, {});
  r.exit(pid_rc, __NR_getpid, {}, 42);
  EXPECT_EQ(entry_text(pid_rc), "getpid(");
  EXPECT_EQ(exit_text(pid_rc), ") = 42");
}

TEST_F(Format, ExitWithoutEntry) {
  // A tracer that attached mid-call renders from the exit alone.
  RenderedCall rc;
  render_exit(rc, testing::make_call(__NR_close, {5}), 0, r.mem, r.opts);
  EXPECT_EQ(line_text(rc), "close(5) = 0");
}

TEST_F(Format, X32AndI386) {
  Call x32 = testing::make_call(__NR_close | 0x40000000, {4});
  x32.abi = Abi::kX32;
  RenderedCall rc = render_entry(x32, r.mem, r.opts);
  render_exit(rc, x32, 0, r.mem, r.opts);
  EXPECT_EQ(line_text(rc), "close(4) = 0");
  Call i386 = testing::make_call(6, {4});
  i386.abi = Abi::kI386;
  rc = render_entry(i386, r.mem, r.opts);
  render_exit(rc, i386, 0, r.mem, r.opts);
  EXPECT_EQ(line_text(rc), "close(0x4, 0, 0, 0, 0, 0) = 0");  // i386's close is 6
  i386.nr = 100000;
  rc = render_entry(i386, r.mem, r.opts);
  EXPECT_EQ(rc.name, "syscall_0x186a0");
}

TEST(Quote, Public) {
  EXPECT_EQ(quote("ab\"c", 4, 32, false), R"("ab\"c")");
  EXPECT_EQ(quote("abcdef", 6, 3, false), R"("abc"...)");
  EXPECT_EQ(quote("abc", 3, 3, true), R"("abc"...)");
  EXPECT_EQ(quote("\x7f\x80", 2, 32, false), R"("\177\200")");
  EXPECT_EQ(quote("", 0, 32, false), R"("")");
}

TEST(Names, SignalsAndErrnos) {
  EXPECT_EQ(signal_name(2), "SIGINT");
  EXPECT_EQ(signal_name(17), "SIGCHLD");
  EXPECT_EQ(signal_name(32), "SIGRTMIN");
  EXPECT_EQ(signal_name(34), "SIGRT_2");
  EXPECT_EQ(signal_name(123), "SIG123");
  EXPECT_EQ(signal_name(0), "SIG0");
  EXPECT_EQ(errno_name(ENOENT), "ENOENT");
  EXPECT_EQ(errno_name(1), "EPERM");
  EXPECT_EQ(errno_name(133), "EHWPOISON");
  EXPECT_EQ(errno_name(512), "ERESTARTSYS");
  EXPECT_EQ(errno_name(515), "ENOIOCTLCMD");
  EXPECT_EQ(errno_name(516), "ERESTART_RESTARTBLOCK");
  EXPECT_EQ(errno_name(123), "ENOMEDIUM");
  EXPECT_EQ(errno_name(200), "E200");
  EXPECT_EQ(errno_name(0), "E0");
  for (int e = 1; e <= 133; ++e) {
    if (e == 41 || e == 58) continue;  // unused numbers
    EXPECT_NE(errno_name(e), "E" + std::to_string(e)) << e;
  }
}

TEST(LocalMemory, BadAddressesReadNothing) {
  LocalMemory mem;
  char buf[8] = {};
  EXPECT_EQ(mem.read(kBadAddress, buf, sizeof buf), 0u);
  EXPECT_EQ(mem.read(0, buf, sizeof buf), 0u);
  const char src[] = "1234567";
  EXPECT_EQ(mem.read(addr(src), buf, sizeof buf), 8u);
  EXPECT_STREQ(buf, "1234567");
}

}  // namespace
}  // namespace hytrace::syscalls
