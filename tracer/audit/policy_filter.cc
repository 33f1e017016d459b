// The policy's syscall rules through libseccomp: one context per
// architecture (x86-64, and i386 / x32 when the policy names them), merged
// and exported as cBPF. The decisions (actions, conflicts, repeated
// SCMP_CMP_EQ, foreign ABIs) are explained in docs/design/audit-policy.md.
#include "tracer/audit/policy_filter.hpp"

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <map>
#include <memory>
#include <string_view>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "syscalls/catalogue.hpp"

namespace hytrace::audit {
namespace {

// --- libseccomp --------------------------------------------------------------

struct ContextDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using Context = std::unique_ptr<void, ContextDeleter>;

void check(int rc, std::string_view what) {
  if (rc < 0) throw PolicyError(fmt::format("libseccomp: {} failed: {}", what, std::strerror(-rc)));
}

struct Arch {
  uint32_t token;         // SCMP_ARCH_*
  std::string_view name;  // as policies write it
  syscalls::Abi abi;
};
const Arch kX86_64{SCMP_ARCH_X86_64, "SCMP_ARCH_X86_64", syscalls::Abi::kX86_64};
const Arch kX86{SCMP_ARCH_X86, "SCMP_ARCH_X86", syscalls::Abi::kI386};
const Arch kX32{SCMP_ARCH_X32, "SCMP_ARCH_X32", syscalls::Abi::kX32};

// i386 passes 32-bit arguments, and libseccomp compares only the low 32
// bits of an argument on i386 and x32.
bool has_32_bit_args(const Arch& arch) { return arch.abi != syscalls::Abi::kX86_64; }

// libseccomp's pseudo numbers for the calls i386 multiplexes through
// socketcall(2) (-1xx) and ipc(2) (-2xx); absent syscalls are -10xxx.
bool is_multiplexed(int libseccomp_nr) { return libseccomp_nr <= -100 && libseccomp_nr > -300; }

// libseccomp exports only to a file descriptor.
bpf::Program export_program(void* ctx) {
  const int fd = memfd_create("hytrace-policy-filter", MFD_CLOEXEC);
  if (fd < 0) throw PolicyError(fmt::format("memfd_create failed: {}", std::strerror(errno)));
  const int rc = seccomp_export_bpf(ctx, fd);
  const off_t size = lseek(fd, 0, SEEK_END);
  bpf::Program program(rc == 0 && size > 0 ? size / sizeof(bpf::Instruction) : 0);
  const bool ok = rc == 0 && size > 0 && pread(fd, program.data(), size, 0) == size;
  close(fd);
  if (!ok) throw PolicyError("libseccomp: seccomp_export_bpf failed");
  return program;
}

// --- notes -------------------------------------------------------------------

// Notes in the order they first came up, each once. A note about syscalls
// carries their names between its two halves, each name once.
class Notes {
 public:
  void add(const std::string& text) { entry(text, ""); }
  void about(const std::string& before, std::string_view name, const std::string& after) {
    std::vector<std::string>& names = entry(before, after).names;
    if (std::find(names.begin(), names.end(), name) == names.end()) names.emplace_back(name);
  }
  std::vector<std::string> lines() const {
    std::vector<std::string> out;
    for (const Entry& e : entries_) out.push_back(e.before + fmt::format("{}", fmt::join(e.names, ", ")) + e.after);
    return out;
  }

 private:
  struct Entry {
    std::string before, after;
    std::vector<std::string> names;
  };
  Entry& entry(const std::string& before, const std::string& after) {
    const auto [it, added] = index_.try_emplace(before + '\0' + after, entries_.size());
    if (added) entries_.push_back({before, after, {}});
    return entries_[it->second];
  }
  std::vector<Entry> entries_;
  std::map<std::string, size_t> index_;
};

std::string label(uint16_t rule) {
  return rule == kDefaultRule ? std::string("defaultAction") : fmt::format("syscalls[{}]", rule);
}

std::string rule_text(const SyscallRule& rule) {
  return fmt::format("syscalls[{}] ({})", rule.index, action_name(rule.action));
}

// --- actions -----------------------------------------------------------------

uint32_t trace_action(uint16_t rule) { return SCMP_ACT_TRACE(kPolicyTraceFlag | rule); }

uint32_t kernel_action(Action action, uint16_t rule, FilterMode mode) {
  if (action == Action::kAllow) return SCMP_ACT_ALLOW;
  if (mode == FilterMode::kObserve) return trace_action(rule);
  switch (action) {
    case Action::kKill:
    case Action::kKillThread:
      return SCMP_ACT_KILL_THREAD;
    case Action::kKillProcess:
      return SCMP_ACT_KILL_PROCESS;
    case Action::kTrap:
      return SCMP_ACT_TRAP;
    default:  // ERRNO, LOG, TRACE, NOTIFY: the tracer logs, then fails or runs the call
      return trace_action(rule);
  }
}

// The two actions whose meaning changes under hytrace.
void note_action(Action action, uint16_t rule, FilterMode mode, Notes& notes) {
  if (mode != FilterMode::kEnforce) return;
  if (action == Action::kTrace) {
    notes.about("SCMP_ACT_TRACE in ", label(rule), ": hytrace is the tracer; such calls are logged and run");
  } else if (action == Action::kNotify) {
    notes.about("SCMP_ACT_NOTIFY in ", label(rule),
                ": no listener serves them under hytrace; such calls are logged and fail with ENOSYS");
  }
}

// What a rule does, to tell a conflict from a repeat: KILL is KILL_THREAD,
// ERRNO without errnoRet is EPERM.
std::pair<Action, int> effect_of(const SyscallRule& rule) {
  if (rule.action == Action::kKill) return {Action::kKillThread, 0};
  if (rule.action == Action::kErrno) return {Action::kErrno, rule.errno_ret.value_or(EPERM)};
  return {rule.action, 0};
}

bool same_effect(const SyscallRule& a, const SyscallRule& b) { return effect_of(a) == effect_of(b); }

// --- argument conditions -------------------------------------------------------

using Conjunction = std::vector<ArgCondition>;  // all hold; at most one per argument

constexpr size_t kMaxAlternatives = 1024;
constexpr uint64_t kMax32 = 0xffffffff;

bool holds(const ArgCondition& c, uint64_t arg) {
  switch (c.op) {
    case CompareOp::kNotEqual: return arg != c.value;
    case CompareOp::kLess: return arg < c.value;
    case CompareOp::kLessOrEqual: return arg <= c.value;
    case CompareOp::kEqual: return arg == c.value;
    case CompareOp::kGreaterOrEqual: return arg >= c.value;
    case CompareOp::kGreater: return arg > c.value;
    case CompareOp::kMaskedEqual: return (arg & c.value) == c.value_two;
  }
  return false;
}

enum class Truth : uint8_t { kNever, kAlways, kDepends };

// What a comparison means for a 32-bit argument. libseccomp would compare
// the low words and so turn "== 0x100000000" into "== 0".
Truth narrow_to_32_bits(ArgCondition& c) {
  switch (c.op) {
    case CompareOp::kEqual:
    case CompareOp::kGreaterOrEqual:
      return c.value > kMax32 ? Truth::kNever : Truth::kDepends;
    case CompareOp::kGreater:
      return c.value >= kMax32 ? Truth::kNever : Truth::kDepends;
    case CompareOp::kNotEqual:
    case CompareOp::kLess:
      return c.value > kMax32 ? Truth::kAlways : Truth::kDepends;
    case CompareOp::kLessOrEqual:
      return c.value >= kMax32 ? Truth::kAlways : Truth::kDepends;
    case CompareOp::kMaskedEqual:
      if (c.value_two > kMax32) return Truth::kNever;
      c.value &= kMax32;
      return Truth::kDepends;
  }
  return Truth::kDepends;
}

// The choices for one argument of a rule (any of them may hold). Several
// SCMP_CMP_EQ are read as runc reads them, "any of these values" (all at
// once could never hold), each kept only if the argument's other
// comparisons hold for it. Other repeats have no such reading and
// libseccomp takes one comparison per argument in a rule: an error.
Conjunction choices_for(const SyscallRule& rule, size_t arg, const Conjunction& conditions, Notes& notes) {
  std::vector<uint64_t> values;
  Conjunction others;
  for (const ArgCondition& c : conditions) {
    if (c.op != CompareOp::kEqual) {
      others.push_back(c);
    } else if (std::find(values.begin(), values.end(), c.value) == values.end()) {
      values.push_back(c.value);
    }
  }
  if (values.empty()) {
    if (others.size() > 1) {
      throw PolicyError(fmt::format(
          "syscalls[{}].args: argument {} is compared {} times; a seccomp rule compares an argument once "
          "(only repeated SCMP_CMP_EQ have a meaning: any of the values)",
          rule.index, arg, others.size()));
    }
    return others;
  }
  if (values.size() > 1) {
    notes.add(fmt::format("syscalls[{}]: {} SCMP_CMP_EQ on argument {} are read as any of the values, as runc does",
                          rule.index, values.size(), arg));
  }
  Conjunction choices;
  for (uint64_t v : values) {
    const bool fits = std::all_of(others.begin(), others.end(), [&](const ArgCondition& o) { return holds(o, v); });
    if (fits) choices.push_back({static_cast<uint8_t>(arg), v, 0, CompareOp::kEqual});
  }
  return choices;
}

// The rule's conditions as libseccomp can take them on `arch`: alternatives
// (any may hold), each comparing an argument at most once. Empty when the
// rule can never match there; one empty conjunction when it always does.
std::vector<Conjunction> alternatives_of(const SyscallRule& rule, const Arch& arch, Notes& notes) {
  std::array<Conjunction, 6> by_arg;
  for (ArgCondition c : rule.args) {
    const Truth truth = has_32_bit_args(arch) ? narrow_to_32_bits(c) : Truth::kDepends;
    if (truth != Truth::kDepends) {
      notes.add(fmt::format("syscalls[{}] on {}: argument {} is 32 bits wide, so {} {:#x} {}", rule.index,
                            arch.name, c.index, op_name(c.op), c.value,
                            truth == Truth::kNever ? "never holds; the rule is left out there"
                                                   : "always holds; that comparison is dropped there"));
      if (truth == Truth::kNever) return {};
      continue;
    }
    by_arg.at(c.index).push_back(c);
  }
  std::vector<Conjunction> result(1);
  for (size_t arg = 0; arg < by_arg.size(); ++arg) {
    if (by_arg[arg].empty()) continue;
    const Conjunction choices = choices_for(rule, arg, by_arg[arg], notes);
    if (choices.empty()) {
      notes.add(fmt::format("syscalls[{}]: its comparisons of argument {} never all hold; the rule is left out",
                            rule.index, arg));
      return {};
    }
    std::vector<Conjunction> product;
    for (const Conjunction& partial : result) {
      for (const ArgCondition& choice : choices) {
        product.push_back(partial);
        product.back().push_back(choice);
      }
    }
    if (product.size() > kMaxAlternatives) {
      throw PolicyError(fmt::format("syscalls[{}].args: more than {} combinations of repeated SCMP_CMP_EQ",
                                    rule.index, kMaxAlternatives));
    }
    result = std::move(product);
  }
  return result;
}

// False when no call meets both: one fixes an argument (SCMP_CMP_EQ) to a
// value the other refuses. Otherwise they may overlap.
bool may_overlap(const Conjunction& a, const Conjunction& b) {
  for (const ArgCondition& x : a) {
    for (const ArgCondition& y : b) {
      if (x.index != y.index) continue;
      if (x.op == CompareOp::kEqual && !holds(y, x.value)) return false;
      if (y.op == CompareOp::kEqual && !holds(x, y.value)) return false;
    }
  }
  return true;
}

scmp_compare op_of(CompareOp op) {
  switch (op) {
    case CompareOp::kNotEqual: return SCMP_CMP_NE;
    case CompareOp::kLess: return SCMP_CMP_LT;
    case CompareOp::kLessOrEqual: return SCMP_CMP_LE;
    case CompareOp::kEqual: return SCMP_CMP_EQ;
    case CompareOp::kGreaterOrEqual: return SCMP_CMP_GE;
    case CompareOp::kGreater: return SCMP_CMP_GT;
    case CompareOp::kMaskedEqual: return SCMP_CMP_MASKED_EQ;
  }
  return SCMP_CMP_EQ;
}

// --- one architecture ------------------------------------------------------------

// A rule given to a syscall, kept to decide the rules that come after it.
struct Claim {
  const SyscallRule* rule;
  Conjunction conditions;  // empty: every call of the syscall
};

// One libseccomp context for one architecture. Rules are added in file
// order; for each syscall the first rule that covers a call decides it, as
// runc and crun do (libseccomp itself keeps the first of two rules without
// conditions and refuses some overlapping ones).
class ArchFilter {
 public:
  ArchFilter(const Arch& arch, uint32_t default_action, uint32_t bad_arch, FilterMode mode, Notes& notes)
      : arch_(arch), default_action_(default_action), mode_(mode), notes_(notes), ctx_(seccomp_init(default_action)) {
    if (!ctx_) throw PolicyError("libseccomp: seccomp_init failed");
    check(seccomp_attr_set(ctx_.get(), SCMP_FLTATR_ACT_BADARCH, bad_arch), "seccomp_attr_set(ACT_BADARCH)");
    // hytrace sets no_new_privs itself, and only when it must.
    check(seccomp_attr_set(ctx_.get(), SCMP_FLTATR_CTL_NNP, 0), "seccomp_attr_set(CTL_NNP)");
    if (seccomp_arch_native() != arch.token) {
      check(seccomp_arch_remove(ctx_.get(), SCMP_ARCH_NATIVE), "seccomp_arch_remove");
      check(seccomp_arch_add(ctx_.get(), arch.token), "seccomp_arch_add");
    }
  }

  void add(const SyscallRule& rule) {
    const auto id = static_cast<uint16_t>(rule.index);
    note_action(rule.action, id, mode_, notes_);
    const uint32_t action = kernel_action(rule.action, id, mode_);
    const std::vector<Conjunction> alternatives = alternatives_of(rule, arch_, notes_);
    if (alternatives.empty()) return;
    if (arch_.abi == syscalls::Abi::kX86_64) {
      // The checked-in catalogue's numbers, exactly: libseccomp's own table
      // may be older than the kernel.
      for (long nr : rule.numbers) add_syscall(rule, action, static_cast<int>(nr), name_of(nr), alternatives);
      return;
    }
    for (const std::string& name : rule.names) {
      if (const std::optional<int> nr = foreign_number(rule, name)) add_syscall(rule, action, *nr, name, alternatives);
    }
  }

  Context take() { return std::move(ctx_); }

 private:
  std::string name_of(long nr) const { return std::string(syscalls::name_of(arch_.abi, nr)); }

  // libseccomp names a foreign architecture's syscall by its native (or
  // pseudo) number and translates it by name, which also adds the
  // socketcall(2) and ipc(2) forms on i386. nullopt: not a syscall there.
  std::optional<int> foreign_number(const SyscallRule& rule, const std::string& name) {
    const int on_arch = seccomp_syscall_resolve_name_arch(arch_.token, name.c_str());
    if (on_arch == __NR_SCMP_ERROR) {
      if (syscalls::number_of(arch_.abi, name)) {
        const scmp_version* v = seccomp_version();
        notes_.about(fmt::format("libseccomp {}.{}.{} does not know the {} syscalls ", v->major, v->minor, v->micro,
                                 arch_.name),
                     name, "; only the default action applies to them there");
      }
      return std::nullopt;
    }
    if (on_arch < 0 && !is_multiplexed(on_arch)) return std::nullopt;
    if (is_multiplexed(on_arch) && !rule.args.empty()) {
      // Their arguments are in memory there; libseccomp compares the call
      // number in place of the first one and the rest with socketcall's
      // and ipc's own registers, which the program chooses.
      notes_.about(fmt::format("on {}, libseccomp matches the socketcall(2) and ipc(2) forms of ", arch_.name), name,
                   " by the call number; their other argument conditions test registers the program chooses");
    }
    const int native = seccomp_syscall_resolve_name(name.c_str());
    if (native == __NR_SCMP_ERROR) return std::nullopt;
    return native;
  }

  void add_syscall(const SyscallRule& rule, uint32_t action, int nr, const std::string& name,
                   const std::vector<Conjunction>& alternatives) {
    std::vector<Claim>& claims = claims_[nr];
    const auto whole = std::find_if(claims.begin(), claims.end(), [](const Claim& c) { return c.conditions.empty(); });
    if (whole != claims.end()) {
      if (!same_effect(rule, *whole->rule)) {
        notes_.about(fmt::format("{} is shadowed by {} for ", rule_text(rule), rule_text(*whole->rule)), name,
                     ": the first rule for a syscall wins, as in runc and crun");
      }
      return;
    }
    if (alternatives.size() == 1 && alternatives[0].empty()) {
      add_whole(rule, action, nr, name, claims);
      return;
    }
    for (const Conjunction& conditions : alternatives) {
      const SyscallRule* differing = nullptr;  // an earlier rule that does something else
      const SyscallRule* overlap = nullptr;    // ... and may match the same calls
      for (const Claim& c : claims) {
        if (same_effect(rule, *c.rule)) continue;
        if (!differing) differing = c.rule;
        if (!overlap && may_overlap(c.conditions, conditions)) overlap = c.rule;
      }
      claims.push_back({&rule, conditions});
      if (action == default_action_) continue;  // libseccomp refuses it; the default does the same
      const int rc = add_to_libseccomp(action, nr, conditions);
      if (rc == -EEXIST) {
        // libseccomp cannot hold both where their conditions meet: the
        // earlier one stays. (Between rules that do the same, no loss.)
        if (differing) {
          notes_.about(fmt::format("{} is left out for ", rule_text(rule)), name,
                       fmt::format(" on {}: libseccomp cannot combine its conditions with those of the earlier {}",
                                   arch_.name, rule_text(overlap ? *overlap : *differing)));
        }
        continue;
      }
      check_rule(rc, rule);
      if (overlap) {
        notes_.about(fmt::format("{} and {} both match some calls of ", rule_text(*overlap), rule_text(rule)),
                     name, "; there libseccomp's order of the arguments decides, not the order of the file");
      }
    }
  }

  // A rule without conditions. libseccomp lets it replace the syscall's
  // earlier rules with conditions, as runc and crun get it too.
  void add_whole(const SyscallRule& rule, uint32_t action, int nr, const std::string& name,
                 std::vector<Claim>& claims) {
    if (action != default_action_) {
      check_rule(add_to_libseccomp(action, nr, {}), rule);
      for (const Claim& earlier : claims) {
        if (same_effect(rule, *earlier.rule)) continue;
        notes_.about(fmt::format("{} replaces the argument rule {} for ", rule_text(rule), rule_text(*earlier.rule)),
                     name, ": libseccomp lets a rule without conditions cover the whole syscall");
      }
    }
    claims.push_back({&rule, {}});
  }

  int add_to_libseccomp(uint32_t action, int nr, const Conjunction& conditions) {
    std::vector<scmp_arg_cmp> cmps;
    for (const ArgCondition& c : conditions) cmps.push_back({c.index, op_of(c.op), c.value, c.value_two});
    const auto count = static_cast<unsigned>(cmps.size());
    if (arch_.abi == syscalls::Abi::kX86_64) return seccomp_rule_add_exact_array(ctx_.get(), action, nr, count, cmps.data());
    return seccomp_rule_add_array(ctx_.get(), action, nr, count, cmps.data());
  }

  void check_rule(int rc, const SyscallRule& rule) const {
    if (rc < 0) {
      throw PolicyError(fmt::format("syscalls[{}]: libseccomp refused the rule on {}: {}", rule.index, arch_.name,
                                    std::strerror(-rc)));
    }
  }

  const Arch& arch_;
  uint32_t default_action_;
  FilterMode mode_;
  Notes& notes_;
  Context ctx_;
  std::map<int, std::vector<Claim>> claims_;  // by the number given to libseccomp
};

// x86-64 always; i386 and x32 only when the policy names them, so that
// their calls otherwise get the bad-architecture action.
std::vector<const Arch*> arches_of(const Policy& policy) {
  std::vector<const Arch*> arches{&kX86_64};
  for (const std::string& name : effective_architectures(policy)) {
    for (const Arch* arch : {&kX86, &kX32}) {
      if (name == arch->name && std::find(arches.begin(), arches.end(), arch) == arches.end()) arches.push_back(arch);
    }
  }
  return arches;
}

std::optional<int> errno_of(Action action, std::optional<uint16_t> errno_ret) {
  switch (action) {
    case Action::kAllow:
    case Action::kLog:
    case Action::kTrace:
      return std::nullopt;
    case Action::kErrno:
      return errno_ret.value_or(EPERM);
    case Action::kNotify:
      return ENOSYS;
    default:  // the kernel kills or traps these in enforce mode; never run one that stops
      return EPERM;
  }
}

}  // namespace

// The prologue that allows `own`: per call, a block that falls through to
// SECCOMP_RET_ALLOW when every test holds and jumps to the next block on the
// first that does not.
bpf::Program own_calls_prologue(const std::vector<OwnCall>& own) {
  constexpr uint32_t kArgs = offsetof(seccomp_data, args);
  bpf::Program out;
  for (const OwnCall& call : own) {
    struct Test {
      uint32_t offset, mask, value;
    };
    std::vector<Test> tests{{offsetof(seccomp_data, arch), ~0u, AUDIT_ARCH_X86_64},
                            {offsetof(seccomp_data, nr), ~0u, static_cast<uint32_t>(call.nr)}};
    for (uint32_t i = 0; i < 6; ++i) {
      for (uint32_t half = 0; half < 2; ++half) {
        const uint32_t mask = static_cast<uint32_t>(call.mask[i] >> (32 * half));
        const uint32_t value = static_cast<uint32_t>(call.value[i] >> (32 * half));
        if (mask != 0) tests.push_back({kArgs + 8 * i + 4 * half, mask, value & mask});
      }
    }
    size_t left = 1;  // the RET ALLOW
    for (const Test& t : tests) left += t.mask == ~0u ? 2 : 3;
    for (const Test& t : tests) {
      out.push_back({BPF_LD | BPF_W | BPF_ABS, 0, 0, t.offset});
      --left;
      if (t.mask != ~0u) {
        out.push_back({BPF_ALU | BPF_AND | BPF_K, 0, 0, t.mask});
        --left;
      }
      --left;  // the jump itself: `left` is what follows it in the block
      out.push_back({BPF_JMP | BPF_JEQ | BPF_K, 0, static_cast<uint8_t>(left), t.value});
    }
    out.push_back({BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW});
  }
  return out;
}

CompiledFilter compile_filter(const Policy& policy, FilterMode mode, const std::vector<OwnCall>& own) {
  Notes notes;
  note_action(policy.default_action, kDefaultRule, mode, notes);
  const uint32_t default_action = kernel_action(policy.default_action, kDefaultRule, mode);
  const uint32_t bad_arch =
      mode == FilterMode::kEnforce ? SCMP_ACT_KILL_PROCESS : trace_action(kForeignAbiRule);
  Context merged;
  for (const Arch* arch : arches_of(policy)) {
    ArchFilter filter(*arch, default_action, bad_arch, mode, notes);
    for (const SyscallRule& rule : policy.syscalls) filter.add(rule);
    Context ctx = filter.take();
    if (!merged) {
      merged = std::move(ctx);
      continue;
    }
    check(seccomp_merge(merged.get(), ctx.get()), "seccomp_merge");
    ctx.release();  // seccomp_merge freed it
  }
  for (const std::string& flag : policy.flags) {
    notes.about("flags ", flag, " not applied: hytrace installs the filter with its own flags");
  }
  CompiledFilter out{own_calls_prologue(own), notes.lines()};
  const bpf::Program body = export_program(merged.get());
  out.program.insert(out.program.end(), body.begin(), body.end());
  if (out.program.size() > BPF_MAXINSNS) {
    throw PolicyError(fmt::format("the compiled filter has {} instructions; the kernel takes at most {}",
                                  out.program.size(), BPF_MAXINSNS));
  }
  return out;
}

std::optional<uint16_t> policy_rule_of(uint16_t seccomp_data) {
  if (!(seccomp_data & kPolicyTraceFlag)) return std::nullopt;
  return static_cast<uint16_t>(seccomp_data & ~kPolicyTraceFlag);
}

std::optional<int> enforced_errno(const Policy& policy, uint16_t rule) {
  if (rule == kDefaultRule) return errno_of(policy.default_action, policy.default_errno_ret);
  // load() keeps the rules in file order, so sorted by index.
  const auto it = std::lower_bound(policy.syscalls.begin(), policy.syscalls.end(), rule,
                                   [](const SyscallRule& r, uint16_t index) { return r.index < index; });
  if (it == policy.syscalls.end() || it->index != rule) return EPERM;
  return errno_of(it->action, it->errno_ret);
}

}  // namespace hytrace::audit
