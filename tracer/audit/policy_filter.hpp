// The syscall rules of an audit policy compiled into a seccomp-bpf program
// (with libseccomp, which stays inside policy_filter.cc). hytrace installs
// it in the tracee after its own tracing filter. With stacked filters the
// kernel takes the action of highest precedence, and among equal actions
// the data of the filter installed last, so the data of this program's
// SECCOMP_RET_TRACE reaches the tracer. What each action becomes, and how
// conflicting rules are decided: docs/design/audit-policy.md, "Compiling
// the syscall rules".
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bpf/filter.hpp"
#include "tracer/audit/policy.hpp"

namespace hytrace::audit {

enum class FilterMode : uint8_t {
  // The kernel kills and traps; ERRNO, LOG, TRACE and NOTIFY stop in the
  // tracer, which fails the call or lets it run (enforced_errno below). A
  // call that stops cannot run without the tracer: with no tracer the
  // kernel fails it with ENOSYS, and the tracer sets PTRACE_O_EXITKILL.
  kEnforce,
  // Nothing is refused or killed by the kernel: every call the policy does
  // not allow stops in the tracer, which logs it and lets it run.
  kObserve,
};

// The SECCOMP_RET_DATA of the program's TRACE actions: kPolicyTraceFlag |
// the rule, which is the SyscallRule::index of the rule that matched,
// kDefaultRule for the default action, or kForeignAbiRule for an i386 or
// x32 call the policy has no architecture for (only in observe mode;
// enforce mode kills those). Data without the flag is not this program's.
inline constexpr uint16_t kPolicyTraceFlag = 0x8000;
inline constexpr uint16_t kDefaultRule = 0x7fff;
inline constexpr uint16_t kForeignAbiRule = 0x7ffe;
static_assert(kMaxSyscallRules < kForeignAbiRule, "rule indexes must fit below the special values");

struct CompiledFilter {
  bpf::Program program;
  // One line each, for warnings at load: what was changed, decided or left
  // out ("syscalls[16] (SCMP_ACT_ERRNO) is shadowed by syscalls[1] ...").
  std::vector<std::string> notes;
};

// A call hytrace makes in the tracee itself (mapping the pages of its
// argument copies, tracer/audit/frozen_args.hpp), which the policy filter
// lets through whatever the policy says: an x86-64 call of number `nr` whose
// every argument has (args[i] & mask[i]) == value[i]. Only those exact calls:
// the program making one itself gains nothing.
struct OwnCall {
  int nr = 0;
  std::array<uint64_t, 6> mask{};
  std::array<uint64_t, 6> value{};
};

// Builds the program; nothing is installed. Throws PolicyError when a rule
// cannot be said in seccomp-bpf (one argument compared twice in one rule,
// but by SCMP_CMP_EQ), its repeated SCMP_CMP_EQ make more than 1024
// combinations, or the program is longer than the kernel takes (4096).
// `own` come first, before the policy's rules.
CompiledFilter compile_filter(const Policy& policy, FilterMode mode, const std::vector<OwnCall>& own = {});

// The rule of a seccomp stop's data (PTRACE_GETEVENTMSG): a SyscallRule
// index, kDefaultRule or kForeignAbiRule; nullopt when the stop is not the
// policy filter's (no kPolicyTraceFlag).
std::optional<uint16_t> policy_rule_of(uint16_t seccomp_data);

// What the tracer does at a stop of `rule` in enforce mode: fail the call
// with this errno (0: skip it and return 0, as SCMP_ACT_ERRNO(0) does), or
// nullopt to let it run (LOG, TRACE). A rule the policy does not hold
// fails with EPERM (fail closed).
std::optional<int> enforced_errno(const Policy& policy, uint16_t rule);

}  // namespace hytrace::audit
