// The engine driven directly by a handler, as the modes drive it.
#include "tracer/engine.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "syscalls/catalogue.hpp"

namespace hytrace::tracer {
namespace {

bpf::Program filter_tracing(std::initializer_list<long> numbers) {
  bpf::FilterSpec spec;
  spec.traced.assign(syscalls::all().back().nr + 1, false);
  for (long nr : numbers) spec.traced[nr] = true;
  return bpf::build_filter(spec);
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Counter : Handler {
  std::map<long, int> entries, exits;
  int starts = 0, execs = 0, exits_seen = 0;
  void on_syscall_enter(Task&, SyscallFrame& f) override { ++entries[f.call.nr]; }
  void on_syscall_exit(Task&, const SyscallFrame& f, long) override { ++exits[f.call.nr]; }
  void on_task_start(Task&, Task&, uint64_t) override { ++starts; }
  void on_exec(Task&, pid_t) override { ++execs; }
  void on_task_exit(Task&, const ExitStatus&) override { ++exits_seen; }
};

TEST(Engine, OnlyTracedSyscallsStop) {
  Engine engine;
  Counter counter;
  engine.spawn("/bin/sh", {"sh", "-c", "exit 3"}, filter_tracing({SYS_exit_group}));
  const ExitStatus status = engine.run(counter);
  EXPECT_FALSE(status.signaled);
  EXPECT_EQ(status.code, 3);
  EXPECT_EQ(counter.entries[SYS_exit_group], 1);
  EXPECT_EQ(counter.entries.size(), 1u);  // nothing else stopped
  EXPECT_EQ(counter.execs, 1);
  EXPECT_EQ(counter.exits_seen, 1);
}

TEST(Engine, FollowsForkedChildren) {
  Engine engine;
  Counter counter;
  engine.spawn("/bin/sh", {"sh", "-c", "/bin/true; /bin/true; exit 0"},
               filter_tracing({SYS_execve, SYS_wait4}));
  engine.run(counter);
  EXPECT_EQ(counter.starts, 2);
  EXPECT_EQ(counter.execs, 3);
  EXPECT_EQ(counter.exits_seen, 3);
  EXPECT_EQ(counter.entries[SYS_execve], counter.exits[SYS_execve]);
}

// Replay's mechanism: a syscall skipped at entry returns the handler's result.
struct FakePid : Handler {
  void on_syscall_enter(Task&, SyscallFrame& frame) override {
    if (frame.call.nr == SYS_getpid) {
      frame.skip = true;
      frame.result = 4242;
    }
  }
};

TEST(Engine, SkippedSyscallReturnsTheHandlersResult) {
  char path[] = "/tmp/hytrace-engine-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  Engine engine;
  FakePid handler;
  engine.spawn("/bin/sh", {"sh", "-c", std::string("echo $$ > ") + path},
               filter_tracing({SYS_getpid}));
  EXPECT_EQ(engine.run(handler).code, 0);
  EXPECT_EQ(slurp(path), "4242\n");
  unlink(path);
}

TEST(Engine, ExecFailureIsReported) {
  Engine engine;
  Counter counter;
  engine.spawn("/etc/passwd", {"passwd"}, filter_tracing({}));
  try {
    engine.run(counter);
    FAIL() << "no SpawnError";
  } catch (const SpawnError& e) {
    EXPECT_EQ(e.stage, SpawnError::Stage::kExec);
    EXPECT_EQ(e.error, EACCES);
  }
}

TEST(Engine, FindProgramSearchesPath) {
  EXPECT_EQ(find_program("/bin/sh"), "/bin/sh");
  EXPECT_NE(find_program("sh").find("/sh"), std::string::npos);
  EXPECT_THROW(find_program("no-such-program-hytrace"), SpawnError);
}

}  // namespace
}  // namespace hytrace::tracer
