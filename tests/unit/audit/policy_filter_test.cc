// The policy filter: compiled programs run, by bpf::evaluate over
// struct seccomp_data (most cases, as tables) and installed in forked
// children without a tracer (a few: ERRNO via TRACE, KILL_PROCESS, TRAP,
// foreign ABIs, observe mode).
#include "tracer/audit/policy_filter.hpp"

#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <linux/netlink.h>

#include "bpf/filter.hpp"

namespace hytrace::audit {
namespace {

constexpr int kX32Bit = 0x40000000;
constexpr int kSysSeccomp = 1;  // si_code of a seccomp SIGSYS (SYS_SECCOMP, not in glibc's headers)

// --- running a program on one call ------------------------------------------

struct Call {
  int nr = 0;
  std::array<uint64_t, 6> args{};
  uint32_t arch = AUDIT_ARCH_X86_64;
};

Call i386(int nr, std::array<uint64_t, 6> args = {}) { return {nr, args, AUDIT_ARCH_I386}; }
Call x32(int nr) { return {nr | kX32Bit, {}, AUDIT_ARCH_X86_64}; }

// The program's return value for `call` (bpf::evaluate, checked against
// the kernel in tests/unit/bpf); a failure (and 0xdeadbeef) on a program
// the kernel would refuse.
uint32_t run(const bpf::Program& program, const Call& call) {
  bpf::SeccompInput in;
  in.nr = call.nr;
  in.arch = call.arch;
  std::copy(call.args.begin(), call.args.end(), in.args);
  const auto result = bpf::evaluate(program, in);
  if (!result) ADD_FAILURE() << "the program would not load\n" << bpf::dump(program);
  return result.value_or(0xdeadbeef);
}

uint32_t traced(uint16_t rule) { return SECCOMP_RET_TRACE | kPolicyTraceFlag | rule; }
constexpr uint32_t kAllow = SECCOMP_RET_ALLOW;
constexpr uint32_t kKillProcess = SECCOMP_RET_KILL_PROCESS;

Policy policy_of(const std::string& json) { return load(json, {.caps = {}, .arch = "amd64", .kernel = {6, 18}}); }

// A policy with `default_action` and `rules` (the inside of "syscalls").
std::string profile(const std::string& default_action, const std::string& rules, const std::string& more = "") {
  return R"({"defaultAction": ")" + default_action + R"(", )" + more + R"("syscalls": [)" + rules + "]}";
}

struct Case {
  Call call;
  uint32_t expected;
};

void expect_cases(const bpf::Program& program, const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    EXPECT_EQ(run(program, c.call), c.expected)
        << "nr " << c.call.nr << " arch " << std::hex << c.call.arch << " args " << c.call.args[0] << ", "
        << c.call.args[1] << ", " << c.call.args[2];
  }
}

bool has_note(const CompiledFilter& filter, std::string_view part) {
  return std::any_of(filter.notes.begin(), filter.notes.end(),
                     [&](const std::string& note) { return note.find(part) != std::string::npos; });
}

std::string all_notes(const CompiledFilter& filter) {
  std::string out;
  for (const std::string& note : filter.notes) out += note + "\n";
  return out;
}

// One rule per action, all on harmless syscalls.
const std::string kEveryAction = profile("SCMP_ACT_ALLOW", R"(
  {"names": ["getpid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
  {"names": ["gettid"], "action": "SCMP_ACT_LOG"},
  {"names": ["getuid"], "action": "SCMP_ACT_KILL"},
  {"names": ["getgid"], "action": "SCMP_ACT_KILL_THREAD"},
  {"names": ["getppid"], "action": "SCMP_ACT_KILL_PROCESS"},
  {"names": ["getpgrp"], "action": "SCMP_ACT_TRAP"},
  {"names": ["getsid"], "action": "SCMP_ACT_TRACE", "errnoRet": 7},
  {"names": ["getpgid"], "action": "SCMP_ACT_NOTIFY"},
  {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"})");

TEST(PolicyFilter, EnforceModeMapsEachAction) {
  const Policy policy = policy_of(kEveryAction);
  const CompiledFilter filter = compile_filter(policy, FilterMode::kEnforce);
  expect_cases(filter.program, {
                                   {{SYS_getpid}, traced(0)},
                                   {{SYS_gettid}, traced(1)},
                                   {{SYS_getuid}, SECCOMP_RET_KILL_THREAD},
                                   {{SYS_getgid}, SECCOMP_RET_KILL_THREAD},
                                   {{SYS_getppid}, kKillProcess},
                                   {{SYS_getpgrp}, SECCOMP_RET_TRAP},
                                   {{SYS_getsid}, traced(6)},
                                   {{SYS_getpgid}, traced(7)},
                                   {{SYS_read}, kAllow},
                                   {{SYS_close}, kAllow},
                               });
  EXPECT_EQ(enforced_errno(policy, 0), 13);
  EXPECT_EQ(enforced_errno(policy, 1), std::nullopt);  // LOG: logged, then runs
  EXPECT_EQ(enforced_errno(policy, 6), std::nullopt);  // TRACE: hytrace is the tracer
  EXPECT_EQ(enforced_errno(policy, 7), ENOSYS);        // NOTIFY: no listener
  EXPECT_EQ(enforced_errno(policy, kDefaultRule), std::nullopt);
  EXPECT_EQ(enforced_errno(policy, 999), EPERM);  // not a rule of the policy: fail closed
  EXPECT_TRUE(has_note(filter, "SCMP_ACT_TRACE in syscalls[6]: hytrace is the tracer")) << all_notes(filter);
  EXPECT_TRUE(has_note(filter, "SCMP_ACT_NOTIFY in syscalls[7]: no listener")) << all_notes(filter);
}

TEST(PolicyFilter, ObserveModeTracesEverythingNotAllowed) {
  const CompiledFilter filter = compile_filter(policy_of(kEveryAction), FilterMode::kObserve);
  expect_cases(filter.program, {
                                   {{SYS_getpid}, traced(0)},
                                   {{SYS_gettid}, traced(1)},
                                   {{SYS_getuid}, traced(2)},
                                   {{SYS_getgid}, traced(3)},
                                   {{SYS_getppid}, traced(4)},
                                   {{SYS_getpgrp}, traced(5)},
                                   {{SYS_getsid}, traced(6)},
                                   {{SYS_getpgid}, traced(7)},
                                   {{SYS_read}, kAllow},
                                   {i386(20), traced(kForeignAbiRule)},
                                   {x32(SYS_getpid), traced(kForeignAbiRule)},
                               });
  EXPECT_TRUE(filter.notes.empty()) << all_notes(filter);
}

TEST(PolicyFilter, DefaultActions) {
  struct Row {
    std::string action;
    uint32_t enforce;
  };
  const std::vector<Row> rows = {
      {"SCMP_ACT_ALLOW", kAllow},
      {"SCMP_ACT_ERRNO", traced(kDefaultRule)},
      {"SCMP_ACT_LOG", traced(kDefaultRule)},
      {"SCMP_ACT_TRACE", traced(kDefaultRule)},
      {"SCMP_ACT_NOTIFY", traced(kDefaultRule)},
      {"SCMP_ACT_KILL", SECCOMP_RET_KILL_THREAD},
      {"SCMP_ACT_KILL_THREAD", SECCOMP_RET_KILL_THREAD},
      {"SCMP_ACT_KILL_PROCESS", kKillProcess},
      {"SCMP_ACT_TRAP", SECCOMP_RET_TRAP},
  };
  const std::string rules = R"({"names": ["exit_group"], "action": "SCMP_ACT_ALLOW"})";
  for (const Row& row : rows) {
    SCOPED_TRACE(row.action);
    const Policy policy = policy_of(profile(row.action, rules));
    const bpf::Program enforce = compile_filter(policy, FilterMode::kEnforce).program;
    const bpf::Program observe = compile_filter(policy, FilterMode::kObserve).program;
    EXPECT_EQ(run(enforce, {SYS_getpid}), row.enforce);
    EXPECT_EQ(run(observe, {SYS_getpid}), row.action == "SCMP_ACT_ALLOW" ? kAllow : traced(kDefaultRule));
    EXPECT_EQ(run(enforce, {SYS_exit_group}), kAllow);
  }
  EXPECT_EQ(enforced_errno(policy_of(profile("SCMP_ACT_ERRNO", rules)), kDefaultRule), EPERM);
  EXPECT_EQ(enforced_errno(policy_of(profile("SCMP_ACT_ERRNO", rules, R"("defaultErrnoRet": 38, )")), kDefaultRule),
            ENOSYS);
}

TEST(PolicyFilter, RulesLikeTheDefaultAreSkipped) {
  // libseccomp refuses a rule whose action is the default one.
  const CompiledFilter filter = compile_filter(policy_of(profile("SCMP_ACT_KILL_PROCESS", R"(
    {"names": ["read"], "action": "SCMP_ACT_KILL_PROCESS"},
    {"names": ["write"], "action": "SCMP_ACT_ALLOW"},
    {"names": ["close"], "action": "SCMP_ACT_KILL_PROCESS", "args": [{"index": 0, "value": 3, "op": "SCMP_CMP_EQ"}]})")),
                                               FilterMode::kEnforce);
  expect_cases(filter.program, {{{SYS_read}, kKillProcess}, {{SYS_write}, kAllow}, {{SYS_close, {3}}, kKillProcess}});
  EXPECT_TRUE(filter.notes.empty()) << all_notes(filter);
}

TEST(PolicyFilter, ArgumentComparisons) {
  // Values on both sides of the 32-bit boundary: libseccomp compares the
  // two words apart.
  const CompiledFilter filter = compile_filter(policy_of(profile("SCMP_ACT_ERRNO", R"(
    {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
    {"names": ["clone"], "action": "SCMP_ACT_ALLOW",
     "args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]},
    {"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 2, "value": 4294967296, "op": "SCMP_CMP_LT"}]},
    {"names": ["write"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 2, "value": 4294967296, "op": "SCMP_CMP_LE"}]},
    {"names": ["pread64"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 3, "value": 4294967295, "op": "SCMP_CMP_GT"}]},
    {"names": ["pwrite64"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 3, "value": 4294967296, "op": "SCMP_CMP_GE"}]},
    {"names": ["close"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 4294967298, "op": "SCMP_CMP_NE"}]},
    {"names": ["socket"], "action": "SCMP_ACT_KILL_PROCESS",
     "args": [{"index": 0, "value": 16, "op": "SCMP_CMP_EQ"}, {"index": 2, "value": 9, "op": "SCMP_CMP_EQ"}]})")),
                                               FilterMode::kEnforce);
  const uint32_t denied = traced(kDefaultRule);
  constexpr uint64_t k4G = uint64_t{1} << 32;
  expect_cases(filter.program, {
                                   {{SYS_personality, {8}}, kAllow},
                                   {{SYS_personality, {0}}, denied},
                                   {{SYS_personality, {k4G | 8}}, denied},
                                   {{SYS_clone, {SIGCHLD}}, kAllow},
                                   {{SYS_clone, {CLONE_NEWNS | SIGCHLD}}, denied},
                                   {{SYS_clone, {CLONE_NEWUSER}}, denied},
                                   {{SYS_clone, {k4G | SIGCHLD}}, kAllow},
                                   {{SYS_read, {0, 0, k4G - 1}}, kAllow},
                                   {{SYS_read, {0, 0, k4G}}, denied},
                                   {{SYS_write, {0, 0, k4G}}, kAllow},
                                   {{SYS_write, {0, 0, k4G + 1}}, denied},
                                   {{SYS_pread64, {0, 0, 0, k4G - 1}}, denied},
                                   {{SYS_pread64, {0, 0, 0, k4G}}, kAllow},
                                   {{SYS_pwrite64, {0, 0, 0, k4G - 1}}, denied},
                                   {{SYS_pwrite64, {0, 0, 0, k4G}}, kAllow},
                                   {{SYS_close, {2}}, kAllow},
                                   {{SYS_close, {k4G + 2}}, denied},
                                   {{SYS_socket, {AF_NETLINK, SOCK_RAW, NETLINK_AUDIT}}, kKillProcess},
                                   {{SYS_socket, {AF_NETLINK, SOCK_RAW, 0}}, denied},
                                   {{SYS_socket, {AF_INET, SOCK_RAW, NETLINK_AUDIT}}, denied},
                               });
  EXPECT_TRUE(filter.notes.empty()) << all_notes(filter);
}

TEST(PolicyFilter, RepeatedEqualIsAnyOfTheValues) {
  const CompiledFilter filter = compile_filter(policy_of(profile("SCMP_ACT_ERRNO", R"(
    {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
     "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}, {"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
    {"names": ["dup2"], "action": "SCMP_ACT_ALLOW",
     "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}, {"index": 0, "value": 2, "op": "SCMP_CMP_EQ"},
              {"index": 1, "value": 3, "op": "SCMP_CMP_EQ"}]},
    {"names": ["kill"], "action": "SCMP_ACT_ALLOW",
     "args": [{"index": 1, "value": 1, "op": "SCMP_CMP_EQ"}, {"index": 1, "value": 9, "op": "SCMP_CMP_EQ"},
              {"index": 1, "value": 5, "op": "SCMP_CMP_GE"}]})")),
                                               FilterMode::kEnforce);
  const uint32_t denied = traced(kDefaultRule);
  expect_cases(filter.program, {
                                   {{SYS_personality, {0}}, kAllow},
                                   {{SYS_personality, {8}}, kAllow},
                                   {{SYS_personality, {1}}, denied},
                                   // The other argument's condition stays with each value.
                                   {{SYS_dup2, {1, 3}}, kAllow},
                                   {{SYS_dup2, {2, 3}}, kAllow},
                                   {{SYS_dup2, {1, 4}}, denied},
                                   {{SYS_dup2, {3, 3}}, denied},
                                   // The values the argument's other comparison refuses drop out.
                                   {{SYS_kill, {0, 9}}, kAllow},
                                   {{SYS_kill, {0, 1}}, denied},
                               });
  EXPECT_TRUE(has_note(filter, "syscalls[0]: 2 SCMP_CMP_EQ on argument 0 are read as any of the values, as runc does"))
      << all_notes(filter);
}

TEST(PolicyFilter, OtherRepeatedComparisonsAreRefused) {
  const Policy policy = policy_of(profile("SCMP_ACT_ERRNO", R"(
    {"names": ["read"], "action": "SCMP_ACT_ALLOW",
     "args": [{"index": 2, "value": 1, "op": "SCMP_CMP_GE"}, {"index": 2, "value": 5, "op": "SCMP_CMP_LE"}]})"));
  try {
    compile_filter(policy, FilterMode::kEnforce);
    ADD_FAILURE() << "compiled";
  } catch (const PolicyError& e) {
    EXPECT_STREQ(e.what(),
                 "syscalls[0].args: argument 2 is compared 2 times; a seccomp rule compares an argument once "
                 "(only repeated SCMP_CMP_EQ have a meaning: any of the values)");
  }
}

TEST(PolicyFilter, TooManyCombinationsAreRefused) {
  // 11 values on each of three arguments: 1331 alternatives.
  std::string args;
  for (int arg = 0; arg < 3; ++arg) {
    for (int value = 0; value < 11; ++value) {
      if (!args.empty()) args += ", ";
      args += R"({"index": )" + std::to_string(arg) + R"(, "value": )" + std::to_string(value) + R"(, "op": "SCMP_CMP_EQ"})";
    }
  }
  const Policy policy =
      policy_of(profile("SCMP_ACT_ERRNO", R"({"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [)" + args + "]}"));
  try {
    compile_filter(policy, FilterMode::kEnforce);
    ADD_FAILURE() << "compiled";
  } catch (const PolicyError& e) {
    EXPECT_STREQ(e.what(), "syscalls[0].args: more than 1024 combinations of repeated SCMP_CMP_EQ");
  }
}

TEST(PolicyFilter, FlagsAreNotApplied) {
  const CompiledFilter filter = compile_filter(
      policy_of(profile("SCMP_ACT_ALLOW", "", R"("flags": ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_TSYNC"], )")),
      FilterMode::kEnforce);
  EXPECT_EQ(filter.notes, std::vector<std::string>{"flags SECCOMP_FILTER_FLAG_LOG, SECCOMP_FILTER_FLAG_TSYNC not applied: "
                                                   "hytrace installs the filter with its own flags"});
  EXPECT_EQ(run(filter.program, {SYS_read}), kAllow);
}

TEST(PolicyFilter, TheFirstRuleForASyscallWins) {
  const CompiledFilter filter = compile_filter(policy_of(profile("SCMP_ACT_ERRNO", R"(
    {"names": ["setns", "read"], "action": "SCMP_ACT_ALLOW"},
    {"names": ["setns"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
    {"names": ["read"], "action": "SCMP_ACT_KILL_PROCESS", "args": [{"index": 0, "value": 3, "op": "SCMP_CMP_EQ"}]},
    {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}]},
    {"names": ["personality"], "action": "SCMP_ACT_KILL_PROCESS",
     "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}]},
    {"names": ["write"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]},
    {"names": ["write"], "action": "SCMP_ACT_ALLOW"},
    {"names": ["dup"], "action": "SCMP_ACT_ERRNO"},
    {"names": ["dup"], "action": "SCMP_ACT_ERRNO"})")),
                                               FilterMode::kEnforce);
  expect_cases(filter.program, {
                                   {{SYS_setns}, kAllow},
                                   {{SYS_read, {3}}, kAllow},
                                   {{SYS_personality, {0}}, kAllow},
                                   {{SYS_personality, {1}}, traced(kDefaultRule)},
                                   {{SYS_write, {1}}, kAllow},
                                   {{SYS_write, {2}}, kAllow},
                                   {{SYS_dup}, traced(7)},
                               });
  EXPECT_TRUE(has_note(filter,
                       "syscalls[1] (SCMP_ACT_ERRNO) is shadowed by syscalls[0] (SCMP_ACT_ALLOW) for setns: the first "
                       "rule for a syscall wins, as in runc and crun"))
      << all_notes(filter);
  EXPECT_TRUE(has_note(filter, "syscalls[2] (SCMP_ACT_KILL_PROCESS) is shadowed by syscalls[0] (SCMP_ACT_ALLOW) for read"))
      << all_notes(filter);
  EXPECT_TRUE(has_note(filter, "syscalls[4] (SCMP_ACT_KILL_PROCESS) is left out for personality on SCMP_ARCH_X86_64: "
                               "libseccomp cannot combine its conditions with those of the earlier syscalls[3] "
                               "(SCMP_ACT_ALLOW)"))
      << all_notes(filter);
  // Same action, same errno: a repeat, not a conflict.
  EXPECT_EQ(filter.notes.size(), 3u) << all_notes(filter);
}

TEST(PolicyFilter, AWholeSyscallRuleReplacesEarlierArgumentRules) {
  // libseccomp (and so runc and crun) let the rule without conditions cover
  // the syscall whole; a note says so.
  const CompiledFilter filter = compile_filter(policy_of(profile("SCMP_ACT_ERRNO", R"(
    {"names": ["personality"], "action": "SCMP_ACT_KILL_PROCESS",
     "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]},
    {"names": ["personality"], "action": "SCMP_ACT_ALLOW"})")),
                                               FilterMode::kEnforce);
  expect_cases(filter.program, {{{SYS_personality, {1}}, kAllow}, {{SYS_personality, {2}}, kAllow}});
  EXPECT_TRUE(has_note(filter,
                       "syscalls[1] (SCMP_ACT_ALLOW) replaces the argument rule syscalls[0] (SCMP_ACT_KILL_PROCESS) "
                       "for personality: libseccomp lets a rule without conditions cover the whole syscall"))
      << all_notes(filter);
}

TEST(PolicyFilter, OverlappingArgumentRulesGetANoteDisjointOnesDoNot) {
  const CompiledFilter filter = compile_filter(policy_of(profile("SCMP_ACT_ERRNO", R"(
    {"names": ["socket"], "action": "SCMP_ACT_ERRNO", "errnoRet": 22,
     "args": [{"index": 0, "value": 16, "op": "SCMP_CMP_EQ"}, {"index": 2, "value": 9, "op": "SCMP_CMP_EQ"}]},
    {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 2, "value": 9, "op": "SCMP_CMP_NE"}]},
    {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 16, "op": "SCMP_CMP_NE"}]},
    {"names": ["write"], "action": "SCMP_ACT_KILL_PROCESS", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]},
    {"names": ["write"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 1, "value": 2, "op": "SCMP_CMP_EQ"}]})")),
                                               FilterMode::kEnforce);
  expect_cases(filter.program, {
                                   {{SYS_socket, {AF_NETLINK, SOCK_RAW, NETLINK_AUDIT}}, traced(0)},
                                   {{SYS_socket, {AF_NETLINK, SOCK_RAW, 0}}, kAllow},
                                   {{SYS_socket, {AF_INET, SOCK_RAW, NETLINK_AUDIT}}, kAllow},
                                   {{SYS_write, {1, 0}}, kKillProcess},
                                   {{SYS_write, {0, 2}}, kAllow},
                               });
  ASSERT_EQ(filter.notes.size(), 1u) << all_notes(filter);
  EXPECT_EQ(filter.notes[0],
            "syscalls[3] (SCMP_ACT_KILL_PROCESS) and syscalls[4] (SCMP_ACT_ALLOW) both match some calls of write; "
            "there libseccomp's order of the arguments decides, not the order of the file");
}

TEST(PolicyFilter, ForeignAbisAreKilledUnlessNamed) {
  const Policy policy = policy_of(profile("SCMP_ACT_ALLOW", R"({"names": ["getpid"], "action": "SCMP_ACT_ERRNO"})"));
  const bpf::Program program = compile_filter(policy, FilterMode::kEnforce).program;
  expect_cases(program, {
                            {{SYS_getpid}, traced(0)},
                            {{SYS_getppid}, kAllow},
                            {i386(20), kKillProcess},  // i386 getpid
                            {i386(3), kKillProcess},   // i386 read
                            {x32(SYS_read), kKillProcess},
                            {x32(512), kKillProcess},  // x32's own rt_sigaction
                            {{SYS_read, {}, AUDIT_ARCH_AARCH64}, kKillProcess},
                        });
}

TEST(PolicyFilter, NamedI386RulesAreResolvedByName) {
  const Policy policy = policy_of(profile("SCMP_ACT_ALLOW", R"(
    {"names": ["getpid", "_llseek", "getrlimit"], "action": "SCMP_ACT_ERRNO"},
    {"names": ["socket"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 16, "op": "SCMP_CMP_EQ"}]},
    {"names": ["personality"], "action": "SCMP_ACT_KILL_PROCESS",
     "args": [{"index": 0, "value": 4294967296, "op": "SCMP_CMP_EQ"}]})",
                                              R"("architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"], )"));
  const CompiledFilter filter = compile_filter(policy, FilterMode::kEnforce);
  expect_cases(filter.program, {
                                   {{SYS_getpid}, traced(0)},
                                   {{SYS_lseek}, kAllow},
                                   {i386(20), traced(0)},   // getpid
                                   {i386(140), traced(0)},  // _llseek, no x86-64 syscall
                                   {i386(76), traced(0)},   // getrlimit
                                   {i386(64), kAllow},      // getppid
                                   {i386(39), kAllow},      // i386's mkdir, x86-64's getpid
                                   {i386(359, {16}), traced(1)},  // socket
                                   {i386(359, {2}), kAllow},
                                   {i386(102, {1}), traced(1)},  // socketcall(SYS_SOCKET, ...)
                                   {i386(102, {3}), kAllow},     // socketcall(SYS_CONNECT, ...)
                                   {i386(136, {0}), kAllow},     // personality: 32-bit argument
                                   {{SYS_personality, {uint64_t{1} << 32}}, kKillProcess},
                                   {x32(SYS_getpid), kKillProcess},
                               });
  EXPECT_TRUE(has_note(filter, "on SCMP_ARCH_X86, libseccomp matches the socketcall(2) and ipc(2) forms of socket by "
                               "the call number; their other argument conditions test registers the program chooses"))
      << all_notes(filter);
  EXPECT_TRUE(has_note(filter, "syscalls[2] on SCMP_ARCH_X86: argument 0 is 32 bits wide, so SCMP_CMP_EQ 0x100000000 "
                               "never holds; the rule is left out there"))
      << all_notes(filter);
}

TEST(PolicyFilter, NamedX32RulesAreResolvedByName) {
  const Policy policy = policy_of(profile("SCMP_ACT_ALLOW", R"({"names": ["getpid"], "action": "SCMP_ACT_ERRNO"})",
                                          R"("architectures": ["SCMP_ARCH_X32"], )"));
  expect_cases(compile_filter(policy, FilterMode::kEnforce).program, {
                                                                        {{SYS_getpid}, traced(0)},
                                                                        {x32(SYS_getpid), traced(0)},
                                                                        {x32(SYS_read), kAllow},
                                                                        {i386(20), kKillProcess},
                                                                    });
  // Observe mode: the foreign ABI stops with its own rule value.
  expect_cases(compile_filter(policy, FilterMode::kObserve).program, {
                                                                        {x32(SYS_getpid), traced(0)},
                                                                        {i386(20), traced(kForeignAbiRule)},
                                                                    });
}

// hytrace's own calls (the argument copies' pages) pass whatever the
// policy says, and only exactly those: a masked argument takes any value in
// its free bits, every other argument must be equal in all 64 bits.
TEST(PolicyFilter, OwnCallsPassBeforeThePolicy) {
  OwnCall own{SYS_mmap, {}, {}};
  own.mask.fill(~uint64_t{0});
  own.mask[0] = ~uint64_t{0xf00000};
  own.value = {0x580040000000, 0xc0000, 1, 0x100022, ~uint64_t{0}, 0};
  const Policy policy = policy_of(profile("SCMP_ACT_ERRNO", R"({"names": ["read"], "action": "SCMP_ACT_ALLOW"})"));
  const CompiledFilter filter = compile_filter(policy, FilterMode::kEnforce, {own});
  const Call exact{SYS_mmap, own.value};
  Call other_region = exact;
  other_region.args[0] += 0x300000;
  Call writable = exact;
  writable.args[2] = 3;
  Call high_bits = exact;
  high_bits.args[3] |= uint64_t{1} << 40;
  Call elsewhere = exact;
  elsewhere.args[0] = 0x580040001000;
  Call foreign = exact;
  foreign.arch = AUDIT_ARCH_I386;
  expect_cases(filter.program, {{exact, kAllow},
                                {other_region, kAllow},
                                {writable, traced(kDefaultRule)},
                                {high_bits, traced(kDefaultRule)},
                                {elsewhere, traced(kDefaultRule)},
                                {foreign, kKillProcess},
                                {{SYS_read}, kAllow},
                                {{SYS_getpid}, traced(kDefaultRule)}});
}

TEST(PolicyFilter, PolicyRuleOfTheStopData) {
  EXPECT_EQ(policy_rule_of(0), std::nullopt);  // hytrace's own tracing filter
  EXPECT_EQ(policy_rule_of(1), std::nullopt);
  EXPECT_EQ(policy_rule_of(0x8000), 0);
  EXPECT_EQ(policy_rule_of(0x8000 | 39), 39);
  EXPECT_EQ(policy_rule_of(0xffff), kDefaultRule);
  EXPECT_EQ(policy_rule_of(0xfffe), kForeignAbiRule);
}

// --- Podman's default profile ------------------------------------------------------

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(PolicyFilter, PodmanDefaultProfile) {
  const std::string text = read_text(HYTRACE_PODMAN_PROFILE);
  if (text.empty()) GTEST_SKIP() << "Podman's profile is not at " HYTRACE_PODMAN_PROFILE;
  const Policy policy = policy_of(text);
  const CompiledFilter filter = compile_filter(policy, FilterMode::kEnforce);
  EXPECT_LE(filter.program.size(), size_t{BPF_MAXINSNS});
  expect_cases(filter.program, {
                                   {{SYS_read}, kAllow},
                                   {{SYS_write}, kAllow},
                                   {{SYS_kexec_load}, traced(0)},
                                   {{SYS_setns}, kAllow},  // in the big allow list before its ERRNO rule
                                   {{SYS_personality, {0}}, kAllow},
                                   {{SYS_personality, {0xffffffff}}, kAllow},
                                   {{SYS_personality, {1}}, traced(kDefaultRule)},
                                   {{SYS_socket, {AF_NETLINK, SOCK_RAW, NETLINK_AUDIT}}, traced(31)},
                                   {{SYS_socket, {AF_INET, SOCK_STREAM, 0}}, kAllow},
                                   {{SYS_bpf}, traced(36)},
                                   {{462}, traced(kDefaultRule)},  // mseal: in no rule
                                   // archMap gives x86-64 the sub-architectures i386 and x32.
                                   {i386(20), kAllow},        // getpid
                                   {i386(283), traced(0)},    // kexec_load
                                   {i386(359, {AF_NETLINK, SOCK_RAW, NETLINK_AUDIT}), traced(31)},  // socket
                                   {i386(102, {1}), kAllow},  // socketcall is in the allow list
                                   {x32(SYS_read), kAllow},
                                   {x32(528), traced(0)},                // x32 kexec_load
                                   {{SYS_read, {}, AUDIT_ARCH_AARCH64}, kKillProcess},
                               });
  EXPECT_EQ(enforced_errno(policy, 0), EPERM);
  EXPECT_EQ(enforced_errno(policy, 31), EINVAL);
  EXPECT_EQ(enforced_errno(policy, kDefaultRule), ENOSYS);
  EXPECT_TRUE(has_note(filter,
                       "syscalls[16] (SCMP_ACT_ERRNO) is shadowed by syscalls[1] (SCMP_ACT_ALLOW) for setns: the first "
                       "rule for a syscall wins, as in runc and crun"))
      << all_notes(filter);

  const bpf::Program observe = compile_filter(policy, FilterMode::kObserve).program;
  expect_cases(observe, {{{SYS_read}, kAllow},
                         {{SYS_kexec_load}, traced(0)},
                         {i386(283), traced(0)},
                         {{SYS_read, {}, AUDIT_ARCH_AARCH64}, traced(kForeignAbiRule)}});
}

// --- installed in a child, without a tracer ----------------------------------------------

// The wait status of a child that installs `program` and exits with what
// `body` returns. The child makes no syscall the test did not choose.
int run_installed(const bpf::Program& program, int (*body)()) {
  const pid_t pid = fork();
  if (pid == 0) {
    const rlimit no_core{0, 0};
    setrlimit(RLIMIT_CORE, &no_core);  // SIGSYS would dump core
    // exit_group directly: a sanitizer's _exit interceptor makes calls of
    // its own (LeakSanitizer's ptrace), which the filter would refuse.
    if (bpf::install(program, true) != 0) syscall(SYS_exit_group, 100);
    syscall(SYS_exit_group, body());
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

int exit_code(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }
int kill_signal(int status) { return WIFSIGNALED(status) ? WTERMSIG(status) : 0; }

// -1/ENOSYS gives 38.
int errno_of_getpid() { return syscall(SYS_getpid) == -1 ? errno : 0; }
int errno_of_x32_getpid() { return syscall(SYS_getpid | kX32Bit) == -1 ? errno : 0; }
int result_of_i386_getpid() {
  long result;
  asm volatile("int $0x80" : "=a"(result) : "a"(20L) : "memory");
  return result < 0 && result > -4096 ? static_cast<int>(-result) : 0;
}

TEST(PolicyFilterInstalled, ErrnoRuleStopsForTheTracerSoWithoutOneFailsWithEnosys) {
  const Policy policy = policy_of(profile("SCMP_ACT_ALLOW", R"({"names": ["getpid"], "action": "SCMP_ACT_ERRNO",
                                                              "errnoRet": 13})"));
  EXPECT_EQ(exit_code(run_installed(compile_filter(policy, FilterMode::kEnforce).program, errno_of_getpid)), ENOSYS);
}

TEST(PolicyFilterInstalled, KillProcessAndTrap) {
  const Policy policy = policy_of(profile("SCMP_ACT_ALLOW", R"(
    {"names": ["getpid"], "action": "SCMP_ACT_KILL_PROCESS"},
    {"names": ["getppid"], "action": "SCMP_ACT_TRAP"})"));
  const bpf::Program program = compile_filter(policy, FilterMode::kEnforce).program;
  EXPECT_EQ(kill_signal(run_installed(program, errno_of_getpid)), SIGSYS);
  const auto trapped = []() {
    struct sigaction action {};
    action.sa_flags = SA_SIGINFO;
    action.sa_sigaction = [](int, siginfo_t* info, void*) {
      syscall(SYS_exit_group, info->si_code == kSysSeccomp && info->si_syscall == SYS_getppid ? 42 : 1);
    };
    sigaction(SIGSYS, &action, nullptr);
    syscall(SYS_getppid);
    return 0;
  };
  // sigaction runs before the filter sees getppid; the handler exits.
  EXPECT_EQ(exit_code(run_installed(program, trapped)), 42);
}

TEST(PolicyFilterInstalled, ForeignAbisAreKilledInEnforceMode) {
  const Policy policy = policy_of(profile("SCMP_ACT_ALLOW", R"({"names": ["getpid"], "action": "SCMP_ACT_LOG"})"));
  const bpf::Program program = compile_filter(policy, FilterMode::kEnforce).program;
  EXPECT_EQ(kill_signal(run_installed(program, errno_of_x32_getpid)), SIGSYS);
  const int status = run_installed(program, result_of_i386_getpid);
  if (kill_signal(status) == SIGSEGV) GTEST_SKIP() << "this kernel has no i386 emulation (int 0x80 faults)";
  EXPECT_EQ(kill_signal(status), SIGSYS);
}

TEST(PolicyFilterInstalled, ObserveModeNeverKills) {
  // Everything but leaving is "killed" by this policy; observed, the calls
  // stop for the tracer, and without one fail with ENOSYS.
  const Policy policy = policy_of(profile("SCMP_ACT_KILL_PROCESS", R"(
    {"names": ["exit_group", "exit"], "action": "SCMP_ACT_ALLOW"},
    {"names": ["getpid"], "action": "SCMP_ACT_KILL_PROCESS"})"));
  const bpf::Program program = compile_filter(policy, FilterMode::kObserve).program;
  EXPECT_EQ(exit_code(run_installed(program, errno_of_getpid)), ENOSYS);
  EXPECT_EQ(exit_code(run_installed(program, errno_of_x32_getpid)), ENOSYS);
  const int status = run_installed(program, result_of_i386_getpid);
  if (kill_signal(status) == SIGSEGV) GTEST_SKIP() << "this kernel has no i386 emulation (int 0x80 faults)";
  EXPECT_EQ(exit_code(status), ENOSYS);
}

}  // namespace
}  // namespace hytrace::audit
