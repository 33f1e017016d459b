// The engine driven directly by a handler, as the modes drive it.
#include "tracer/engine.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <vector>

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
  void on_task_start(const TaskStart&) override { ++starts; }
  void on_exec(const Exec&) override { ++execs; }
  void on_task_exit(const TaskExit&) override { ++exits_seen; }
};

// Every place in the engine's clock, as the handler saw them.
struct Clock : Handler {
  std::vector<uint64_t> seqs;
  int exits_before_entries = 0;
  void on_syscall_enter(Task&, SyscallFrame& f) override { seqs.push_back(f.seq); }
  void on_syscall_exit(Task&, const SyscallFrame& f, long) override {
    seqs.push_back(f.exit_seq);
    exits_before_entries += f.exit_seq <= f.seq;
  }
  void on_signal(Task&, SignalDelivery& d) override { seqs.push_back(d.seq); }
  void on_task_start(const TaskStart& e) override { seqs.push_back(e.seq); }
  void on_exec(const Exec& e) override { seqs.push_back(e.seq); }
  void on_task_exit(const TaskExit& e) override { seqs.push_back(e.seq); }
};

// One clock for every event: no two events share a place, and each
// syscall's exit comes after its entry.
TEST(Engine, EveryEventHasItsOwnPlaceInOneClock) {
  Engine engine;
  Clock clock;
  engine.spawn("/bin/sh", {"sh", "-c", "/bin/true & wait; kill -USR1 $$ 2>/dev/null; exit 0"},
               filter_tracing({SYS_clone, SYS_wait4, SYS_kill, SYS_execve, SYS_exit_group}));
  engine.run(clock);
  ASSERT_GT(clock.seqs.size(), 8u);
  EXPECT_EQ(std::set<uint64_t>(clock.seqs.begin(), clock.seqs.end()).size(), clock.seqs.size());
  EXPECT_EQ(std::count(clock.seqs.begin(), clock.seqs.end(), 0u), 0);
  EXPECT_EQ(clock.exits_before_entries, 0);
}

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
