// `hytrace count`: what the kernel saw, counted by the eBPF oracle. PROG
// runs without ptrace, so it runs at native speed.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "syscalls/catalogue.hpp"
#include "syscalls/format.hpp"
#include "tracer/cli.hpp"
#include "tracer/launch.hpp"
#include "tracer/output.hpp"
#include "tracer/summary.hpp"

#ifdef HYTRACE_HAVE_EBPF
#include "bpf/ebpf/counter.hpp"
#endif

namespace hytrace::tracer {
namespace {

#ifdef HYTRACE_HAVE_EBPF
volatile sig_atomic_t g_count_interrupted = 0;
void on_count_interrupt(int sig) { g_count_interrupted = sig; }

// Waits for the root and, as a subreaper, for every descendant left behind.
int wait_tree(pid_t root) {
  int root_status = 0;
  for (;;) {
    int status = 0;
    const pid_t pid = waitpid(-1, &status, 0);
    if (pid == root) root_status = status;
    if (pid >= 0) continue;
    if (errno == ECHILD) return root_status;
    if (errno == EINTR && g_count_interrupted) kill(root, SIGKILL);
  }
}

nlohmann::json counts_json(const std::map<pid_t, oracle::TaskCounts>& counts) {
  nlohmann::json tasks = nlohmann::json::object();
  for (const auto& [tid, per_nr] : counts) {
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& [nr, c] : per_nr) {
      const auto* info = syscalls::lookup(nr);
      rows.push_back({{"syscall", info ? std::string(info->name) : fmt::format("syscall_{}", nr)},
                      {"nr", nr},
                      {"calls", c.calls},
                      {"errors", c.errors}});
    }
    tasks[std::to_string(tid)] = rows;
  }
  return {{"tasks", tasks}};
}

int count_program(const CountCommand& cmd) {
  const std::string path = find_program(cmd.argv[0]);
  Output out(cmd.output);
  oracle::SyscallCounter counter;
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  struct sigaction sa {};
  sa.sa_handler = on_count_interrupt;
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &sa, nullptr);

  Launch launch(path, cmd.argv, nullptr);
  counter.follow_from_exec(launch.pid());  // armed before the child execs
  launch.release();
  const int status = wait_tree(launch.pid());
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
    if (auto failure = launch.failure()) throw *failure;
  }
  const auto counts = counter.counts();
  if (cmd.json) {
    out.write(counts_json(counts).dump() + "\n");
  } else {
    Summary summary;
    for (const auto& [tid, per_nr] : counts) {
      for (const auto& [nr, c] : per_nr) summary.add_counts(nr, c.calls, c.errors);
    }
    out.write(summary.table());
  }
  out.flush();
  if (g_count_interrupted) return 128 + g_count_interrupted;
  if (WIFSIGNALED(status)) {
    fmt::print(stderr, "+++ killed by {} +++\n", syscalls::signal_name(WTERMSIG(status)));
    return 128 + WTERMSIG(status);
  }
  return WEXITSTATUS(status);
}
#endif

}  // namespace

int run_count(const CountCommand& cmd) {
#ifdef HYTRACE_HAVE_EBPF
  if (const std::string reason = oracle::SyscallCounter::unavailable_reason(); !reason.empty()) {
    fmt::print(stderr, "hytrace: {}\n", reason);
    return 1;
  }
  try {
    return count_program(cmd);
  } catch (const SpawnError& e) {
    fmt::print(stderr, "hytrace: cannot execute '{}': {}\n", cmd.argv[0], std::strerror(e.error));
    return 127;
  } catch (const std::exception& e) {
    fmt::print(stderr, "hytrace: {}\n", e.what());
    return 1;
  }
#else
  (void)cmd;
  fmt::print(stderr, "hytrace: this hytrace was built without the eBPF counter "
                     "(the build machine lacked clang, bpftool or kernel BTF)\n");
  return 1;
#endif
}

}  // namespace hytrace::tracer
