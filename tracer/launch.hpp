// Starting the program to observe: a child forked and held until the
// observer (ptrace engine, eBPF counter) is ready, then exec'd.
#pragma once

#include <sys/types.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "bpf/filter.hpp"

namespace hytrace::tracer {

// A program that could not be started; `error` is an errno value.
struct SpawnError : std::runtime_error {
  enum class Stage { kFind, kFilter, kExec };
  SpawnError(Stage s, int e, const std::string& what) : std::runtime_error(what), stage(s), error(e) {}
  Stage stage;
  int error;
};

// The one line a command prints for it: "cannot execute 'PROG': ...".
std::string spawn_error_text(const SpawnError& e, const std::string& program);

// Looks NAME up in $PATH like execvp. Throws SpawnError(kFind).
std::string find_program(const std::string& name);

// What the child sets on itself before it installs the filter and execs;
// each setting survives the exec.
struct ChildSetup {
  bool disable_aslr = false;  // personality(ADDR_NO_RANDOMIZE)
  bool trap_tsc = false;      // prctl(PR_SET_TSC, PR_TSC_SIGSEGV): rdtsc faults
  // The program's environment ("NAME=value"); nullopt: hytrace's own.
  std::optional<std::vector<std::string>> env;
  std::string cwd;  // "" : hytrace's own
  // A second filter (audit's policy), installed after the tracing filter so
  // that among equal actions its SECCOMP_RET_DATA is the one the tracer sees.
  const bpf::Program* policy_filter = nullptr;
  // A Landlock ruleset (audit's path rules) the child restricts itself
  // with, before the filters; -1: none.
  int landlock_ruleset_fd = -1;
};

class Launch {
 public:
  // Forks a child that waits for release(), then installs `filter` (unless
  // null) and execs `path`. Throws std::system_error.
  Launch(const std::string& path, const std::vector<std::string>& argv,
         const bpf::Program* filter, ChildSetup setup = {});
  ~Launch();
  Launch(const Launch&) = delete;
  Launch& operator=(const Launch&) = delete;

  pid_t pid() const { return pid_; }
  // Lets the child go on to install the filter and exec.
  void release();
  // Once the child has exited before exec: why it failed, if it said.
  std::optional<SpawnError> failure();

 private:
  pid_t pid_ = -1;
  int go_fd_ = -1;
  int failure_fd_ = -1;
};

}  // namespace hytrace::tracer
