// Syscalls injected into a real tracee at a syscall-exit stop: they run in
// the tracee, and the tracee goes on as if nothing happened.
#include "tracer/inject_x86_64.hpp"

#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/user.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "syscalls/catalogue.hpp"
#include "tracer/engine.hpp"

namespace hytrace::tracer {
namespace {

struct InjectAtGetpidExit : Handler {
  std::optional<long> injected;
  pid_t tracee = 0;
  void on_syscall_exit(Task& t, const SyscallFrame& frame, long) override {
    if (frame.call.nr != SYS_getpid || injected) return;
    tracee = t.tid;
    const Injection r = inject_syscall(t.tid, frame.ip - 2, SYS_getppid, {});
    injected = r.result;
  }
};

// The injected call blocks on a pipe that only a signal handler of the
// tracer's fills: the tracer's wait for the call is interrupted (EINTR), as
// by Ctrl-C, and the injection must still see the call through.
int g_pipe_write = -1;
void fill_pipe(int) {
  const char c = 'x';
  (void)!write(g_pipe_write, &c, 1);
}

struct InjectBlockingRead : InjectAtGetpidExit {
  int read_fd = -1;
  void on_syscall_exit(Task& t, const SyscallFrame& frame, long) override {
    if (frame.call.nr != SYS_getpid || injected) return;
    tracee = t.tid;
    user_regs_struct regs{};
    ASSERT_EQ(ptrace(PTRACE_GETREGS, t.tid, nullptr, &regs), 0);
    struct sigaction sa {};
    sa.sa_handler = fill_pipe;  // no SA_RESTART: the tracer's waitpid fails with EINTR
    sigaction(SIGALRM, &sa, nullptr);
    itimerval timer{{0, 0}, {0, 1000}};
    setitimer(ITIMER_REAL, &timer, nullptr);
    // Below the red zone of the tracee's stack: writable, unused.
    const uint64_t buffer = regs.rsp - 4096;
    const Injection r = inject_syscall(t.tid, frame.ip - 2, SYS_read,
                                       {static_cast<uint64_t>(read_fd), buffer, 1, 0, 0, 0});
    injected = r.result;
    signal(SIGALRM, SIG_DFL);
  }
};

std::string run_sh_printing_pid(InjectAtGetpidExit& handler) {
  char path[] = "/tmp/hytrace-inject-XXXXXX";
  const int fd = mkstemp(path);
  close(fd);
  bpf::FilterSpec spec;
  spec.traced.assign(syscalls::all().back().nr + 1, false);
  spec.traced[SYS_getpid] = true;
  Engine engine;
  engine.spawn("/bin/sh", {"sh", "-c", std::string("echo $$ > ") + path},
               bpf::build_filter(spec));
  EXPECT_EQ(engine.run(handler).code, 0);
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  unlink(path);
  return s.str();
}

TEST(Inject, AtTheTaskOwnSyscallInstruction) {
  InjectAtGetpidExit handler;
  const std::string out = run_sh_printing_pid(handler);
  ASSERT_TRUE(handler.injected.has_value());
  EXPECT_EQ(*handler.injected, getpid());  // the tracee's parent is us
  EXPECT_EQ(out, std::to_string(handler.tracee) + "\n");  // its own getpid was not disturbed
}

TEST(Inject, ATracerSignalDuringTheCallDoesNotLoseIt) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);  // inherited by the tracee, at the same numbers
  g_pipe_write = fds[1];
  InjectBlockingRead handler;
  handler.read_fd = fds[0];
  const std::string out = run_sh_printing_pid(handler);
  close(fds[0]);
  close(fds[1]);
  ASSERT_TRUE(handler.injected.has_value());
  EXPECT_EQ(*handler.injected, 1);  // the byte the handler wrote
  EXPECT_EQ(out, std::to_string(handler.tracee) + "\n");
}

}  // namespace
}  // namespace hytrace::tracer
