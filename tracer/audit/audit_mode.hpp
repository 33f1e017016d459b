// `hytrace audit`: logs, and under --enforce applies, what the policy
// decides for each audited syscall. The kernel enforces the policy's
// syscall rules (the policy filter, tracer/audit/policy_filter.hpp); this
// handler only sees the calls that filter or the audited set sends to the
// tracer, decides the ones the filter left to it (ERRNO and LOG rules,
// which stop so that they can be logged) by running the policy program on
// the call, and writes one log event per call.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bpf/filter.hpp"
#include "syscalls/format.hpp"
#include "tracer/audit/frozen_args.hpp"
#include "tracer/audit/policy.hpp"
#include "tracer/event.hpp"
#include "tracer/output.hpp"
#include "tracer/syscall_set.hpp"

namespace hytrace::tracer {

struct AuditOptions {
  bool enforce = false;  // without it nothing is denied: would-be denials are logged
  bool json = false;     // JSON lines (docs/guide/audit.md) instead of text
  SyscallSet audited;    // logged even when the policy allows them
  syscalls::FormatOptions format;
};

// What happened to one call, as the log names it.
enum class Outcome : uint8_t {
  kAllow,      // ran: the policy allows it
  kLog,        // ran: a LOG (or TRACE) rule asks for it to be logged
  kDeny,       // failed with the rule's errno, not run
  kTrap,       // the kernel raised SIGSYS
  kKill,       // the kernel killed the task or process
  kWouldDeny,  // observe mode: ran, an enforced policy would have failed it
  kWouldTrap,
  kWouldKill,
};
std::string_view outcome_name(Outcome outcome);  // "allow", "would-deny"...

struct AuditCounts {
  std::map<std::string, uint64_t> by_syscall;  // name -> calls logged
  std::map<Outcome, uint64_t> by_outcome;
  uint64_t events = 0;
};

// A path argument as a call passed it, and made absolute.
struct PathArgument {
  int arg = 0;                     // its index among the call's arguments
  std::optional<std::string> raw;  // the bytes before the NUL; nullopt: unreadable
  std::string absolute;            // "" when unreadable
  // `absolute` was made by joining a relative path to a directory that hytrace
  // sees by the same name: giving the kernel `absolute` instead names the same
  // file, with no cwd or dirfd that another thread could change in between.
  bool joined = false;
  bool of_fd = false;  // no path: the call is about the file of its fd argument (futimens), named by `absolute`
};

// What the hytrace rules read of a call's memory, read once: the decision is
// made on it, and under --enforce the kernel is given these very bytes.
struct CallMemory {
  std::vector<PathArgument> paths;  // one per kPath argument
  std::vector<uint32_t> accesses;   // audit::path_accesses of the call: what it does to each path
  std::vector<uint8_t> open_how;    // openat2's struct, all `size` bytes, when readable and of a size the kernel takes
  uint64_t open_how_resolve = 0;    // its RESOLVE_* flags
  std::vector<uint8_t> sockaddr;    // connect, bind: the address, when readable and of a size the kernel takes
  bool sockaddr_short = false;      // the address could not be read as long as the call says
};
CallMemory read_call_memory(pid_t tid, const syscalls::Call& call, syscalls::MemoryReader& mem);

class AuditMode final : public Handler {
 public:
  // `program`: the policy filter as compiled for the tracee (its verdicts
  // decide the stops). `engine`: for the copies of checked arguments under
  // --enforce (FrozenArguments).
  AuditMode(Engine& engine, const audit::Policy& policy, const bpf::Program& program, Output& log,
            AuditOptions options);

  void on_syscall_enter(Task& task, SyscallFrame& frame) override;
  void on_syscall_exit(Task& task, const SyscallFrame& frame, long result) override;
  void on_signal(Task& task, SignalDelivery& delivery) override;
  void on_exec(const Exec& exec) override;
  void on_task_exiting(const TaskExiting& exiting) override;
  void on_task_exit(const TaskExit& exit) override;
  void on_finish() override;

  const AuditCounts& counts() const { return counts_; }

 private:
  // The policy's decision for a call the policy filter sent to the tracer.
  struct Decision {
    audit::Action action = audit::Action::kAllow;
    std::string rule;         // "syscalls[3]", "defaultAction", "architectures", "hytrace.paths[0]"
    uint16_t rule_index = 0;  // as the filter's data names it
    // A rule of the hytrace section: its verdict, and the errno of a denial.
    std::optional<audit::Verdict> verdict;
    int error = 0;
    std::string action_text;  // the log's "action" when not an OCI action
  };
  struct Pending {
    pid_t tid = 0;
    syscalls::RenderedCall call;
    std::vector<std::string> paths;  // the path arguments, made absolute
    Decision decision;
    Outcome outcome = Outcome::kAllow;
    std::string_view stopped_by;  // "policy" or "tracer": the filter whose data the stop carried
  };
  static const Decision kNoListener;
  static const Decision kOffLimits;
  static const Decision kCannotFreeze;
  static const Decision kCannotPin;
  static const Decision kUncheckable;
  static const Decision kBypass;
  std::optional<Decision> decision_of(const SyscallFrame& frame) const;
  bool named_allow(const syscalls::Call& call) const;
  Outcome apply(const Decision& d, SyscallFrame& frame) const;
  Outcome apply_verdict(audit::Verdict verdict, int error, SyscallFrame& frame) const;
  std::optional<Decision> hytrace_decision(pid_t tid, const syscalls::Call& call, const CallMemory& read) const;
  // nullptr when done (or nothing to copy); else the decision that fails the call.
  const Decision* freeze(Task& task, const SyscallFrame& frame, const CallMemory& read);
  void check_exec(Task& task, const SyscallFrame& frame, long result);
  void note_write_open(const Task& task, const SyscallFrame& frame, const CallMemory& read);
  void check_open(Task& task, const SyscallFrame& frame, long result);
  void kill_for(Task& task, uint64_t seq, const char* rule);
  void write(const Task& task, const Pending& p, std::optional<long> result);
  void write_kernel_action(pid_t pid, pid_t tid, const std::string& syscall, Outcome outcome);

  const audit::Policy& policy_;
  const bpf::Program& program_;
  Output& log_;
  AuditOptions options_;
  bool has_hytrace_rules_;
  bool freezing_;          // --enforce with hytrace rules: checked memory is copied (FrozenArguments)
  FrozenArguments frozen_;
  // By the call's seq, while it runs: an exec's checked file (tid, dev, inode),
  // a write-open's tid (check_exec, check_open).
  struct ExecCheck {
    pid_t tid = 0;
    std::pair<dev_t, ino_t> file;
  };
  std::map<uint64_t, ExecCheck> exec_checked_;
  std::map<uint64_t, pid_t> write_opens_;
  bool launched_ = false;  // the root's execve seen: the launcher's own calls are not the program's
  std::map<uint64_t, Pending> pending_;      // by the call's seq
  std::map<pid_t, std::string> last_call_;   // at PTRACE_EVENT_EXIT: the call a kill ended
  AuditCounts counts_;
};

// Absolute forms of the call's path arguments, one per kPath argument (""
// for one that cannot be read): relative ones joined to the directory of
// their dirfd argument, or to the task's cwd (from /proc; not resolved
// through symlinks).
std::vector<std::string> absolute_paths(pid_t tid, const syscalls::Call& call,
                                        syscalls::MemoryReader& mem);
// The same, with what the program passed.
std::vector<PathArgument> path_arguments(pid_t tid, const syscalls::Call& call, syscalls::MemoryReader& mem);

}  // namespace hytrace::tracer
