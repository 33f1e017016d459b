// Syscalls injected into a real tracee at a syscall-exit stop: they run in
// the tracee, and the tracee goes on as if nothing happened.
#include "tracer/inject_x86_64.hpp"

#include <sys/syscall.h>
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

}  // namespace
}  // namespace hytrace::tracer
