// The eBPF oracle against the kernel's own truth, and hytrace trace against
// the oracle: every syscall the kernel saw in a traced task is printed, once,
// under the right task. A mismatch is a lost or an invented event.
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <map>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "bpf/ebpf/counter.hpp"
#include "syscalls/catalogue.hpp"
#include "tracer/engine.hpp"
#include "tracer/launch.hpp"
#include "tracer/audit/audit_mode.hpp"
#include "tracer/audit/policy_filter.hpp"
#include "tracer/trace_mode.hpp"
#include "tracer/transparency.hpp"

namespace hytrace {
namespace {

using PerTask = std::map<pid_t, std::map<long, uint64_t>>;

#define SKIP_WITHOUT_ORACLE()                                                             \
  if (const std::string why = oracle::SyscallCounter::unavailable_reason(); !why.empty()) \
  GTEST_SKIP() << why

std::string prog(const std::string& name) { return std::string(HYTRACE_PROG_DIR) + "/" + name; }

PerTask calls_of(const std::map<pid_t, oracle::TaskCounts>& counts) {
  PerTask out;
  for (const auto& [tid, per_nr] : counts) {
    for (const auto& [nr, c] : per_nr) out[tid][nr] = c.calls;
  }
  return out;
}

// What `hytrace trace --json` printed, counted per task and syscall number.
PerTask calls_printed(const std::string& path) {
  PerTask out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    const auto event = nlohmann::json::parse(line);
    if (event.contains("nr")) ++out[event["tid"].get<pid_t>()][event["nr"].get<long>()];
  }
  return out;
}

// What `hytrace audit --json` logged (not its summary line), counted per
// task and syscall number.
PerTask calls_logged(const std::string& path) {
  PerTask out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    const auto event = nlohmann::json::parse(line);
    if (!event.contains("syscall")) continue;
    const auto nr = syscalls::number_of(event["syscall"].get<std::string>());
    ++out[event["tid"].get<pid_t>()][nr.value_or(-1)];
  }
  return out;
}

std::string describe(const PerTask& m) {
  std::string s;
  for (const auto& [tid, per_nr] : m) {
    s += "task " + std::to_string(tid) + ":";
    for (const auto& [nr, n] : per_nr) {
      const auto* info = syscalls::lookup(nr);
      s += " " + (info ? std::string(info->name) : std::to_string(nr)) + "=" + std::to_string(n);
    }
    s += "\n";
  }
  return s;
}

TEST(Oracle, CountsAKnownProgramExactly) {
  SKIP_WITHOUT_ORACLE();
  oracle::SyscallCounter counter;
  tracer::Launch launch(HYTRACE_COUNTED_PROG, {"counted_prog"}, nullptr);
  counter.follow_from_exec(launch.pid());
  launch.release();
  int status = 0;
  waitpid(launch.pid(), &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

  const auto counts = counter.counts();
  ASSERT_EQ(counts.size(), 1u);
  const oracle::TaskCounts& task = counts.begin()->second;
  EXPECT_EQ(counts.begin()->first, launch.pid());
  std::map<long, std::pair<uint64_t, uint64_t>> got;
  for (const auto& [nr, c] : task) got[nr] = {c.calls, c.errors};
  const std::map<long, std::pair<uint64_t, uint64_t>> want = {
      {SYS_execve, {1, 0}}, {SYS_getppid, {100, 0}}, {SYS_close, {5, 5}},
      {SYS_write, {1, 0}},  {SYS_exit_group, {1, 0}},
  };
  EXPECT_EQ(got, want);
}

// Runs `program` `runs` times through `run_under`, which writes JSON lines
// to the file it is given with the oracle armed on the same child; what
// `counted` finds in that file must be what the kernel saw.
void expect_matches_kernel(const std::string& program, int runs,
                           const std::function<void(const std::string&, oracle::SyscallCounter&)>& run_under,
                           PerTask (*counted)(const std::string&)) {
  for (int run = 0; run < runs; ++run) {
    char path[] = "/tmp/hytrace-oracle-XXXXXX";
    const int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    close(fd);
    oracle::SyscallCounter counter;
    run_under(path, counter);
    const PerTask kernel = calls_of(counter.counts());
    const PerTask shown = counted(path);
    unlink(path);
    if (testing::Test::HasFatalFailure()) return;
    ASSERT_EQ(shown, kernel) << program << ", run " << run << "\nshown:\n"
                             << describe(shown) << "kernel:\n"
                             << describe(kernel);
  }
}

// The trace engine, every syscall traced.
void expect_trace_matches_kernel(const std::string& program, int runs) {
  expect_matches_kernel(
      program, runs,
      [&](const std::string& path, oracle::SyscallCounter& counter) {
        tracer::Output out(path);
        tracer::TraceOptions options;
        options.json = true;
        tracer::TraceMode mode(out, options, 1);
        tracer::Engine engine;
        engine.spawn(program, {program}, bpf::build_filter({options.set.bits()}),
                     [&](pid_t pid) { counter.follow_from_exec(pid); });
        ASSERT_FALSE(engine.run(mode).signaled) << program;
      },
      calls_printed);
}

// `audit` auditing every syscall under an enforced policy that allows
// everything: the log holds each call the kernel saw, once.
void expect_audit_log_matches_kernel(const std::string& program, int runs) {
  const audit::Policy policy = audit::load(R"({"defaultAction": "SCMP_ACT_ALLOW"})", {});
  const audit::CompiledFilter compiled = audit::compile_filter(policy, audit::FilterMode::kEnforce);
  expect_matches_kernel(
      program, runs,
      [&](const std::string& path, oracle::SyscallCounter& counter) {
        tracer::Output out(path);
        tracer::AuditOptions options;
        options.enforce = true;
        options.json = true;
        options.audited = tracer::SyscallSet::parse("all");
        tracer::Engine engine;
        tracer::AuditMode mode(engine, policy, compiled.program, out, options);
        bpf::FilterSpec spec{options.audited.bits(), std::nullopt, {}};
        tracer::require_transparency_stops(spec);
        tracer::ChildSetup setup;
        setup.policy_filter = &compiled.program;
        engine.spawn(program, {program}, bpf::build_filter(spec), [&](pid_t pid) { counter.follow_from_exec(pid); },
                     setup);
        ASSERT_FALSE(engine.run(mode).signaled) << program;
      },
      calls_logged);
}

class TraceMatchesKernel : public testing::TestWithParam<const char*> {};

TEST_P(TraceMatchesKernel, EverySyscallPrintedOnceUnderItsTask) {
  SKIP_WITHOUT_ORACLE();
  expect_trace_matches_kernel(prog(GetParam()), 10);
}

TEST_P(TraceMatchesKernel, EverySyscallAuditedOnceUnderItsTask) {
  SKIP_WITHOUT_ORACLE();
  expect_audit_log_matches_kernel(prog(GetParam()), 3);
}

INSTANTIATE_TEST_SUITE_P(Progs, TraceMatchesKernel,
                         testing::Values("prog_threads", "prog_fork_exec", "prog_vfork",
                                         "prog_signal_storm", "prog_clone_vm",
                                         "prog_main_exits_first", "prog_signals"));

}  // namespace
}  // namespace hytrace
