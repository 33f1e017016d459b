// The policy loader: Podman's default profile as shipped, includes and
// excludes, every action and operator, the hytrace section, and every
// error with its exact one-line message.
#include "tracer/audit/policy.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "syscalls/catalogue.hpp"

namespace hytrace::audit {
namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

const std::string& podman_profile() {
  static const std::string text = read_text(HYTRACE_PODMAN_PROFILE);
  return text;
}

// Podman's profile lives beside the repository, not in it: without it the
// tests that read it skip, saying so.
#define SKIP_WITHOUT_PODMAN()                                                                \
  if (podman_profile().empty()) GTEST_SKIP() << "Podman's profile is not at " HYTRACE_PODMAN_PROFILE

// The PolicyError's message, "" when the policy is valid.
std::string error_of(std::string_view text) {
  try {
    parse(text);
    return "";
  } catch (const PolicyError& e) {
    return e.what();
  }
}

// A profile holding `rules` (the inside of "syscalls": [...]).
std::string with_rules(const std::string& rules) {
  return R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [)" + rules + "]}";
}

std::string with_hytrace(const std::string& section) {
  return R"({"defaultAction": "SCMP_ACT_ALLOW", "hytrace": )" + section + "}";
}

Conditions amd64(std::set<std::string, std::less<>> caps = {}) {
  return {.caps = std::move(caps), .arch = "amd64", .kernel = {6, 18}};
}

std::vector<size_t> indexes_of(const Policy& policy) {
  std::vector<size_t> indexes;
  for (const SyscallRule& rule : policy.syscalls) indexes.push_back(rule.index);
  return indexes;
}

bool has_rule_for(const Policy& policy, std::string_view name, Action action) {
  return std::any_of(policy.syscalls.begin(), policy.syscalls.end(), [&](const SyscallRule& r) {
    return r.action == action && std::find(r.names.begin(), r.names.end(), name) != r.names.end();
  });
}

// --- Podman's default profile ------------------------------------------------

TEST(PodmanProfile, LoadsAsShipped) {
  SKIP_WITHOUT_PODMAN();
  const Policy policy = parse(podman_profile());
  EXPECT_EQ(policy.syscalls.size(), 40u);
  EXPECT_EQ(policy.default_action, Action::kErrno);
  EXPECT_EQ(policy.default_errno_ret, 38);  // ENOSYS
  EXPECT_EQ(policy.default_errno_name, "ENOSYS");
  EXPECT_TRUE(policy.architectures.empty());
  ASSERT_EQ(policy.arch_map.size(), 7u);
  EXPECT_EQ(policy.arch_map[0].architecture, "SCMP_ARCH_X86_64");
  EXPECT_EQ(effective_architectures(policy),
            (std::vector<std::string>{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}));
  EXPECT_TRUE(policy.ignored_keys.empty());
  EXPECT_FALSE(policy.hytrace.present);

  const SyscallRule& denied = policy.syscalls[0];
  EXPECT_EQ(denied.action, Action::kErrno);
  EXPECT_EQ(denied.errno_ret, 1);
  EXPECT_EQ(denied.errno_name, "EPERM");
  const SyscallRule& allowed = policy.syscalls[1];
  EXPECT_EQ(allowed.action, Action::kAllow);
  EXPECT_EQ(allowed.names.size(), 370u);
  EXPECT_FALSE(allowed.errno_ret);
  EXPECT_TRUE(allowed.args.empty() && allowed.includes.empty() && allowed.excludes.empty());
  const long read_nr = *syscalls::number_of(syscalls::Abi::kX86_64, "read");
  EXPECT_NE(std::find(allowed.numbers.begin(), allowed.numbers.end(), read_nr), allowed.numbers.end());
  EXPECT_LT(allowed.numbers.size(), allowed.names.size());  // i386's _llseek and the like
}

TEST(PodmanProfile, PersonalityHasArgumentRules) {
  SKIP_WITHOUT_PODMAN();
  const Policy policy = parse(podman_profile());
  std::vector<uint64_t> values;
  for (const SyscallRule& rule : policy.syscalls) {
    if (rule.names != std::vector<std::string>{"personality"}) continue;
    EXPECT_EQ(rule.action, Action::kAllow);
    ASSERT_EQ(rule.args.size(), 1u);
    EXPECT_EQ(rule.args[0].index, 0);
    EXPECT_EQ(rule.args[0].op, CompareOp::kEqual);
    EXPECT_EQ(rule.args[0].value_two, 0u);
    values.push_back(rule.args[0].value);
  }
  EXPECT_EQ(values, (std::vector<uint64_t>{0, 8, 131072, 131080, 4294967295}));
  ASSERT_EQ(policy.syscalls[31].args.size(), 2u);  // socket(AF_NETLINK, ..., NETLINK_AUDIT)
  EXPECT_EQ(policy.syscalls[31].args[1], (ArgCondition{2, 9, 0, CompareOp::kEqual}));
  EXPECT_EQ(policy.syscalls[31].errno_ret, 22);
}

TEST(PodmanProfile, UnknownNamesAreWarningsNotErrors) {
  SKIP_WITHOUT_PODMAN();
  const Policy policy = parse(podman_profile());
  const auto& names = policy.unresolved_names;
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_EQ(std::adjacent_find(names.begin(), names.end()), names.end());
  for (const char* foreign : {"_llseek", "riscv_flush_icache", "s390_runtime_instr", "chown32"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), foreign), names.end()) << foreign;
  }
  EXPECT_EQ(std::find(names.begin(), names.end(), "read"), names.end());
  // Rules that do not apply here bring no warning.
  const Policy loaded = load(podman_profile(), amd64());
  EXPECT_EQ(std::find(loaded.unresolved_names.begin(), loaded.unresolved_names.end(),
                      "riscv_flush_icache"),
            loaded.unresolved_names.end());
}

TEST(PodmanProfile, CapabilitiesDecideWhichRulesApply) {
  SKIP_WITHOUT_PODMAN();
  const Policy none = load(podman_profile(), amd64());
  EXPECT_EQ(indexes_of(none), (std::vector<size_t>{0, 1, 2, 3, 4, 5, 6, 9, 10, 14, 16, 18, 20, 22,
                                                   24, 26, 28, 30, 31, 32, 33, 34, 36, 38}));
  EXPECT_FALSE(has_rule_for(none, "bpf", Action::kAllow));
  EXPECT_TRUE(has_rule_for(none, "bpf", Action::kErrno));
  // setns is in the big allow list and in the ERRNO rule for those
  // without CAP_SYS_ADMIN: both apply, as the profile says.
  EXPECT_TRUE(has_rule_for(none, "setns", Action::kAllow));
  EXPECT_TRUE(has_rule_for(none, "setns", Action::kErrno));

  const Policy admin = load(podman_profile(), amd64({"CAP_SYS_ADMIN"}));
  EXPECT_EQ(indexes_of(admin), (std::vector<size_t>{0, 1, 2, 3, 4, 5, 6, 9, 10, 14, 15, 18, 20, 22,
                                                    24, 26, 28, 30, 31, 32, 33, 34}));
  EXPECT_TRUE(has_rule_for(admin, "bpf", Action::kAllow));
  EXPECT_FALSE(has_rule_for(admin, "bpf", Action::kErrno));
  EXPECT_TRUE(has_rule_for(admin, "setns", Action::kAllow));
  EXPECT_FALSE(has_rule_for(admin, "setns", Action::kErrno));

  const Policy bpf = load(podman_profile(), amd64({"CAP_BPF"}));
  EXPECT_EQ(bpf.syscalls.size(), 23u);
  EXPECT_TRUE(has_rule_for(bpf, "bpf", Action::kAllow));
  EXPECT_TRUE(has_rule_for(bpf, "perf_event_open", Action::kErrno));  // needs CAP_PERFMON
}

TEST(PodmanProfile, ArchDecidesWhichRulesApply) {
  SKIP_WITHOUT_PODMAN();
  Conditions arm = amd64();
  arm.arch = "arm64";
  const Policy policy = load(podman_profile(), arm);
  const std::vector<size_t> indexes = indexes_of(policy);
  EXPECT_NE(std::find(indexes.begin(), indexes.end(), 8u), indexes.end());   // arm, arm64
  EXPECT_EQ(std::find(indexes.begin(), indexes.end(), 9u), indexes.end());   // amd64, x32
  EXPECT_EQ(std::find(indexes.begin(), indexes.end(), 10u), indexes.end());  // amd64, x32, x86
  EXPECT_FALSE(has_rule_for(load(podman_profile(), amd64()), "breakpoint", Action::kAllow));
}

// --- the model -----------------------------------------------------------------

TEST(PolicyModel, EveryActionAndOperator) {
  for (const char* name : {"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
                           "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP", "SCMP_ACT_LOG", "SCMP_ACT_TRACE",
                           "SCMP_ACT_NOTIFY"}) {
    const Policy policy = parse(with_rules(R"({"names": ["read"], "action": ")" + std::string(name) + R"("})"));
    ASSERT_EQ(policy.syscalls.size(), 1u) << name;
    EXPECT_EQ(action_name(policy.syscalls[0].action), name);
    EXPECT_EQ(action_name(parse(R"({"defaultAction": ")" + std::string(name) + R"("})").default_action),
              name);
  }
  for (const char* name : {"SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE",
                           "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"}) {
    const Policy policy = parse(with_rules(R"({"names": ["read"], "action": "SCMP_ACT_ALLOW",
        "args": [{"index": 5, "value": 18446744073709551615, "op": ")" + std::string(name) + R"("}]})"));
    ASSERT_EQ(policy.syscalls[0].args.size(), 1u) << name;
    EXPECT_EQ(op_name(policy.syscalls[0].args[0].op), name);
    EXPECT_EQ(policy.syscalls[0].args[0].index, 5);
    EXPECT_EQ(policy.syscalls[0].args[0].value, UINT64_MAX);
  }
  EXPECT_FALSE(action_from_name("SCMP_ACT_allow"));
  EXPECT_FALSE(op_from_name("EQ"));
}

TEST(PolicyModel, MaskedEqualKeepsBothValues) {
  const Policy policy = parse(with_rules(R"({"names": ["clone"], "action": "SCMP_ACT_ALLOW",
      "args": [{"index": 0, "value": 2114060288, "valueTwo": 16, "op": "SCMP_CMP_MASKED_EQ"}]})"));
  EXPECT_EQ(policy.syscalls[0].args[0], (ArgCondition{0, 2114060288, 16, CompareOp::kMaskedEqual}));
}

TEST(PolicyModel, OldSingleNameAndNullFields) {
  const Policy policy = parse(with_rules(R"({"name": "openat", "action": "SCMP_ACT_LOG",
      "args": null, "includes": null, "comment": null},
      {"names": [], "action": "SCMP_ACT_ALLOW"})"));
  ASSERT_EQ(policy.syscalls.size(), 2u);
  EXPECT_EQ(policy.syscalls[0].names, std::vector<std::string>{"openat"});
  EXPECT_EQ(policy.syscalls[0].numbers,
            std::vector<long>{*syscalls::number_of(syscalls::Abi::kX86_64, "openat")});
  EXPECT_TRUE(policy.syscalls[1].names.empty());
}

TEST(PolicyModel, ErrnoRetAndTraceData) {
  const Policy policy = parse(R"({"defaultAction": "SCMP_ACT_TRACE", "defaultErrnoRet": 65535,
      "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "errnoRet": 0},
                   {"names": ["write"], "action": "SCMP_ACT_ERRNO", "errnoRet": 4095}]})");
  EXPECT_EQ(policy.default_errno_ret, 65535);
  EXPECT_EQ(policy.syscalls[0].errno_ret, 0);
  EXPECT_EQ(policy.syscalls[1].errno_ret, 4095);
}

TEST(PolicyModel, TopLevelExtrasAndIgnoredKeys) {
  const Policy policy = parse(R"({"defaultAction": "SCMP_ACT_ALLOW",
      "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X32"],
      "flags": ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
      "listenerPath": "/run/seccomp.sock", "listenerMetadata": "abc",
      "zz-vendor": {"anything": [1, 2]}, "comment": "x"})");
  EXPECT_EQ(policy.architectures, (std::vector<std::string>{"SCMP_ARCH_X86_64", "SCMP_ARCH_X32"}));
  EXPECT_EQ(effective_architectures(policy), policy.architectures);
  EXPECT_EQ(policy.flags.size(), 2u);
  EXPECT_EQ(policy.listener_path, "/run/seccomp.sock");
  EXPECT_EQ(policy.listener_metadata, "abc");
  EXPECT_EQ(policy.ignored_keys, (std::vector<std::string>{"comment", "zz-vendor"}));
  EXPECT_EQ(effective_architectures(parse(R"({"defaultAction": "SCMP_ACT_ALLOW"})")),
            std::vector<std::string>{"SCMP_ARCH_X86_64"});
}

TEST(PolicyModel, IncludesAndExcludesByKernelVersion) {
  const std::string text = with_rules(R"(
      {"names": ["a"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "5.8"}},
      {"names": ["b"], "action": "SCMP_ACT_ALLOW", "excludes": {"minKernel": "5.8"}},
      {"names": ["c"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_A", "CAP_B"]}},
      {"names": ["d"], "action": "SCMP_ACT_ALLOW", "excludes": {"caps": ["CAP_A", "CAP_B"]}},
      {"names": ["e"], "action": "SCMP_ACT_ALLOW", "excludes": {"arches": ["amd64"]}})");
  Conditions old = amd64();
  old.kernel = {5, 7};
  EXPECT_EQ(indexes_of(load(text, old)), (std::vector<size_t>{1, 3}));
  Conditions exact = amd64({"CAP_A"});
  exact.kernel = {5, 8};
  EXPECT_EQ(indexes_of(load(text, exact)), (std::vector<size_t>{0}));
  Conditions newer = amd64({"CAP_A", "CAP_B"});
  newer.kernel = {6, 0};
  newer.arch = "x32";
  EXPECT_EQ(indexes_of(load(text, newer)), (std::vector<size_t>{0, 2, 4}));
}

TEST(PolicyModel, KernelVersionOfRelease) {
  EXPECT_EQ(kernel_version_of_release("6.18.0-1-amd64"), (KernelVersion{6, 18}));
  EXPECT_EQ(kernel_version_of_release("3.12-rc5"), (KernelVersion{3, 12}));
  EXPECT_EQ(kernel_version_of_release("5.4"), (KernelVersion{5, 4}));
  EXPECT_FALSE(kernel_version_of_release("6"));
  EXPECT_FALSE(kernel_version_of_release("linux-6.1"));
  EXPECT_FALSE(kernel_version_of_release("6.x"));
  EXPECT_GE(running_kernel(), (KernelVersion{3, 0}));
}

// --- errors ----------------------------------------------------------------------

struct ErrorCase {
  std::string text;
  std::string message;
};

void expect_errors(const std::vector<ErrorCase>& cases) {
  for (const ErrorCase& c : cases) EXPECT_EQ(error_of(c.text), c.message) << c.text;
}

TEST(PolicyErrors, BadJson) {
  expect_errors({
      {"", "line 1, column 1: syntax error while parsing value - unexpected end of input; expected "
           "'[', '{', or a literal"},
      {"{\n  \"defaultAction\": \"SCMP_ACT_ALLOW\",\n}",
       "line 3, column 1: syntax error while parsing object key - unexpected '}'; expected string "
       "literal"},
      {R"({"defaultAction": "SCMP_ACT_ALLOW"} x)",
       "line 1, column 37: syntax error while parsing value - invalid literal; last read: "
       "'\"SCMP_ACT_ALLOW\"} x'; expected end of input"},
      {"{\"a\": \"\x01\"}",
       "line 1, column 8: syntax error while parsing value - invalid string: control character "
       "U+0001 (SOH) must be escaped to \\u0001; last read: '\"<U+0001>'"},
      {"{\"a\": \"\xff\"}",
       "line 1, column 8: syntax error while parsing value - invalid string: ill-formed UTF-8 byte; "
       "last read: '\"\\xff'"},
      {"[1e999]", "line 1, column 6: number overflow parsing '1e999'"},
  });
}

TEST(PolicyErrors, WrongTypes) {
  expect_errors({
      {"[]", "expected a JSON object at the top level"},
      {R"({"defaultAction": 1})", "defaultAction: expected a string"},
      {R"({})", "defaultAction: missing"},
      {R"({"defaultAction": null})", "defaultAction: missing"},
      {R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": -1})",
       "defaultErrnoRet: expected an unsigned integer"},
      {R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1.5})",
       "defaultErrnoRet: expected an unsigned integer"},
      {R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": {}})", "syscalls: expected an array"},
      {with_rules("1"), "syscalls[0]: expected an object"},
      {with_rules(R"({"names": "read", "action": "SCMP_ACT_ALLOW"})"), "syscalls[0].names: expected an array"},
      {with_rules(R"({"names": ["read"], "action": "SCMP_ACT_ALLOW"}, {"names": ["a", "b"], "action": "SCMP_ACT_ALLOW"},
                     {"names": ["read", 7], "action": "SCMP_ACT_ALLOW"})"),
       "syscalls[2].names[1]: expected a string"},
      {with_rules(R"({"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": "0", "value": 1, "op": "SCMP_CMP_EQ"}]})"),
       "syscalls[0].args[0].index: expected an unsigned integer"},
      {with_rules(R"({"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": -5, "op": "SCMP_CMP_EQ"}]})"),
       "syscalls[0].args[0].value: expected an unsigned integer"},
      {with_rules(R"({"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 18446744073709551616, "op": "SCMP_CMP_EQ"}]})"),
       "syscalls[0].args[0].value: expected an unsigned integer"},
      {with_rules(R"({"names": ["read"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": "CAP_X"}})"),
       "syscalls[0].includes.caps: expected an array"},
      {with_rules(R"({"names": ["read"], "action": "SCMP_ACT_ALLOW", "excludes": []})"),
       "syscalls[0].excludes: expected an object"},
      {R"({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": 3})", "listenerPath: expected a string"},
      {R"({"defaultAction": "SCMP_ACT_ALLOW", "archMap": [{"subArchitectures": []}]})",
       "archMap[0].architecture: missing"},
  });
}

TEST(PolicyErrors, BadValues) {
  const std::string allow_read = R"("names": ["read"], "action": "SCMP_ACT_ALLOW")";
  expect_errors({
      {R"({"defaultAction": "SCMP_ACT_DENY"})", "defaultAction: unknown action \"SCMP_ACT_DENY\""},
      {with_rules(R"({"names": ["read"], "action": "allow"})"), "syscalls[0].action: unknown action \"allow\""},
      {with_rules(R"({"names": ["read"]})"), "syscalls[0].action: missing"},
      {with_rules(R"({"action": "SCMP_ACT_ALLOW"})"), "syscalls[0].names: missing"},
      {with_rules("{" + allow_read + R"(, "name": "write"})"),
       "syscalls[0].name: give \"names\" or \"name\", not both"},
      {with_rules(R"({"names": ["read", "write", "read"], "action": "SCMP_ACT_ALLOW"})"),
       "syscalls[0].names[2]: \"read\" is already in this rule"},
      {with_rules(R"({"names": ["read", ""], "action": "SCMP_ACT_ALLOW"})"),
       "syscalls[0].names[1]: not a syscall name \"\""},
      {with_rules(R"({"names": ["re ad"], "action": "SCMP_ACT_ALLOW"})"),
       "syscalls[0].names[0]: not a syscall name \"re ad\""},
      {with_rules(R"({"names": ["read\nwrite"], "action": "SCMP_ACT_ALLOW"})"),
       "syscalls[0].names[0]: not a syscall name \"read\\x0awrite\""},
      {with_rules("{" + allow_read + R"(, "args": [{}, {}, {}, {"index": 0, "value": 1, "op": "EQUALS"}]})"),
       "syscalls[0].args[0].index: missing"},
      {with_rules("{" + allow_read + R"(, "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"},
           {"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}, {"index": 0, "value": 1, "op": "SCMP_CMP_EQ"},
           {"index": 0, "value": 1, "op": "EQUALS"}]})"),
       "syscalls[0].args[3].op: unknown operator \"EQUALS\""},
      {with_rules("{" + allow_read + R"(, "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]})"),
       "syscalls[0].args[0].index: expected an argument index from 0 to 5"},
      {with_rules("{" + allow_read + R"(, "args": [{"index": 0, "op": "SCMP_CMP_EQ"}]})"),
       "syscalls[0].args[0].value: missing"},
      {with_rules("{" + allow_read + R"(, "args": [{"index": 0, "value": 1, "valueTwo": 2, "op": "SCMP_CMP_EQ"}]})"),
       "syscalls[0].args[0].valueTwo: only SCMP_CMP_MASKED_EQ uses valueTwo"},
      {with_rules(R"({"names": ["read"], "action": "SCMP_ACT_ERRNO", "errnoRet": 4096})"),
       "syscalls[0].errnoRet: expected an errno from 0 to 4095"},
      {with_rules(R"({"names": ["read"], "action": "SCMP_ACT_TRACE", "errnoRet": 65536})"),
       "syscalls[0].errnoRet: expected a value from 0 to 65535"},
      {with_rules("{" + allow_read + R"(, "errnoRet": 1})"),
       "syscalls[0].errnoRet: SCMP_ACT_ALLOW takes no errno"},
      {R"({"defaultAction": "SCMP_ACT_KILL", "defaultErrnoRet": 1})",
       "defaultErrnoRet: SCMP_ACT_KILL takes no errno"},
      {with_rules("{" + allow_read + R"(, "includes": {"caps": ["sys_admin"]}})"),
       "syscalls[0].includes.caps[0]: not a capability name \"sys_admin\""},
      {with_rules("{" + allow_read + R"(, "excludes": {"arches": ["amd 64"]}})"),
       "syscalls[0].excludes.arches[0]: not an arch name \"amd 64\""},
      {with_rules("{" + allow_read + R"(, "includes": {"minKernel": "4"}})"),
       "syscalls[0].includes.minKernel: expected a kernel version \"major.minor\", not \"4\""},
      {with_rules("{" + allow_read + R"(, "includes": {"minKernel": "4.8.1"}})"),
       "syscalls[0].includes.minKernel: expected a kernel version \"major.minor\", not \"4.8.1\""},
      {R"({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "x86_64"]})",
       "architectures[1]: unknown architecture \"x86_64\""},
      {R"({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
           "archMap": [{"architecture": "SCMP_ARCH_X86_64"}]})",
       "archMap: give \"architectures\" or \"archMap\", not both"},
      {R"({"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_TSYNC", "FLAG_X"]})",
       "flags[1]: unknown flag \"FLAG_X\""},
  });
}

TEST(PolicyErrors, UnknownKeysInsideRules) {
  expect_errors({
      {with_rules(R"({"names": ["read"], "acton": "SCMP_ACT_ALLOW"})"), "syscalls[0]: unknown key \"acton\""},
      {with_rules(R"({"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ", "value2": 0}]})"),
       "syscalls[0].args[0]: unknown key \"value2\""},
      {with_rules(R"({"names": ["read"], "action": "SCMP_ACT_ALLOW", "includes": {"cap": ["CAP_X"]}})"),
       "syscalls[0].includes: unknown key \"cap\""},
      {R"({"defaultAction": "SCMP_ACT_ALLOW", "archMap": [{"architecture": "SCMP_ARCH_X86_64", "sub": []}]})",
       "archMap[0]: unknown key \"sub\""},
  });
}

TEST(PolicyErrors, DuplicateKeysAndOddKeysInPaths) {
  expect_errors({
      {R"({"defaultAction": "SCMP_ACT_ALLOW", "defaultAction": "SCMP_ACT_KILL"})",
       "defaultAction: duplicate key"},
      {with_rules(R"({"names": ["read"], "action": "SCMP_ACT_ALLOW", "action": "SCMP_ACT_ALLOW"})"),
       "syscalls[0].action: duplicate key"},
      {R"({"defaultAction": "SCMP_ACT_ALLOW", "x": [[{"a b\n": 1, "a b\n": 2}]]})",
       "x[0][0][\"a b\\x0a\"]: duplicate key"},
      {with_rules(R"({"names": ["read"], "action": "SCMP_ACT_ALLOW", "a\"b": 1})"),
       "syscalls[0]: unknown key \"a\\\"b\""},
  });
}

TEST(PolicyErrors, Limits) {
  std::string deep = R"({"defaultAction": "SCMP_ACT_ALLOW", "x": )";
  for (int i = 0; i < 31; ++i) deep += "[";
  EXPECT_EQ(error_of(deep + "0" + std::string(31, ']') + "}"), "");  // 32 levels
  EXPECT_EQ(error_of(deep + "[0" + std::string(32, ']') + "}"),
            "x" + [] {
              std::string path;
              for (int i = 0; i < 31; ++i) path += "[0]";
              return path;
            }() + ": nested deeper than 32 levels");

  EXPECT_EQ(error_of(std::string(kMaxPolicyBytes + 1, ' ')), "larger than 4 MiB");

  std::string values = R"({"defaultAction": "SCMP_ACT_ALLOW", "x": [0)";
  for (size_t i = 0; i < kMaxJsonValues; ++i) values += ",0";
  EXPECT_EQ(error_of(values + "]}"), "more than 262144 JSON values");

  std::string rules;
  for (size_t i = 0; i <= kMaxSyscallRules; ++i) rules += std::string(i ? "," : "") + R"({"names":[]})";
  EXPECT_EQ(error_of(with_rules(rules)), "syscalls: more than 10000 rules");

  std::string names = R"({"action": "SCMP_ACT_ALLOW", "names": ["n0")";
  for (size_t i = 1; i <= kMaxNamesPerRule; ++i) names += ",\"n" + std::to_string(i) + "\"";
  EXPECT_EQ(error_of(with_rules(names + "]}")), "syscalls[0].names: more than 1024 names");

  EXPECT_EQ(error_of(with_rules(R"({"action": "SCMP_ACT_ALLOW", "names": [")" +
                                std::string(kMaxNameBytes + 1, 'a') + R"("]})")),
            "syscalls[0].names[0]: not a syscall name \"" + std::string(64, 'a') + "...\"");
}

TEST(PolicyErrors, LongPathsLoseTheirMiddle) {
  std::string text = R"({"defaultAction": "SCMP_ACT_ALLOW", "x": )";
  const std::string key(60, 'k');
  for (int i = 0; i < 8; ++i) text += "{\"" + key + "\": ";
  text += "{\"a\": 1, \"a\": 2}" + std::string(8, '}') + "}";
  const std::string message = error_of(text);
  EXPECT_EQ(message, "x." + key + "." + key.substr(0, 17) + "..." + key.substr(0, 36) + "." + key +
                         "." + key + ".a: duplicate key");
  EXPECT_LT(message.size(), 300u);
}

TEST(PolicyErrors, NeverACrashOnAnyPrefixOfPodman) {
  SKIP_WITHOUT_PODMAN();
  // Every cut of a real profile is bad JSON with a line and a column.
  const std::string& text = podman_profile();
  for (size_t size = 0; size < text.size(); size += 97) {
    const std::string message = error_of(std::string_view(text).substr(0, size));
    EXPECT_EQ(message.rfind("line ", 0), 0u) << size << ": " << message;
  }
}

TEST(PolicyErrors, MessagesArePrintableAscii) {
  const std::string message =
      error_of(with_rules(R"({"names": ["read"], "action": "SCMP_ACT_\u00e9\u0007\u2028"})"));
  EXPECT_EQ(message, "syscalls[0].action: unknown action \"SCMP_ACT_\\xc3\\xa9\\x07\\xe2\\x80\\xa8\"");
}

// --- the hytrace section ----------------------------------------------------------

TEST(HytraceSection, PathAndNetworkRules) {
  const Policy policy = parse(with_hytrace(R"({
      "paths": [
        {"action": "deny", "access": ["write", "unlink", "rename"], "prefix": "/etc/"},
        {"action": "log", "access": ["read"], "glob": "/home/*/.ssh/**", "comment": "keys"},
        {"action": "allow", "access": ["exec", "create", "truncate"], "prefix": "/"}
      ],
      "network": [
        {"action": "deny", "op": "connect", "ports": [1, 442], "address": "10.0.0.0/8"},
        {"action": "allow", "op": "bind", "port": 8080},
        {"action": "log", "op": "connect", "address": "fd00::1"}
      ]})"));
  const HytraceSection& section = policy.hytrace;
  ASSERT_TRUE(section.present);
  ASSERT_EQ(section.paths.size(), 3u);
  EXPECT_EQ(section.paths[0].action, Verdict::kDeny);
  EXPECT_EQ(section.paths[0].access, kAccessWrite | kAccessUnlink | kAccessRename);
  EXPECT_FALSE(section.paths[0].is_glob);
  EXPECT_EQ(section.paths[0].pattern, "/etc");
  EXPECT_EQ(section.paths[1].action, Verdict::kLog);
  EXPECT_TRUE(section.paths[1].is_glob);
  EXPECT_EQ(section.paths[1].pattern, "/home/*/.ssh/**");
  EXPECT_EQ(section.paths[1].comment, "keys");
  EXPECT_EQ(section.paths[2].pattern, "/");
  EXPECT_EQ(section.paths[2].index, 2u);
  EXPECT_EQ(section.paths[2].access, kAccessExec | kAccessCreate | kAccessTruncate);

  ASSERT_EQ(section.network.size(), 3u);
  const NetworkRule& deny = section.network[0];
  EXPECT_EQ(deny.op, NetOp::kConnect);
  EXPECT_EQ(deny.port_low, 1);
  EXPECT_EQ(deny.port_high, 442);
  ASSERT_TRUE(deny.address);
  EXPECT_EQ(deny.address->family, AF_INET);
  EXPECT_EQ(deny.address->length, 8);
  EXPECT_EQ(deny.address->bytes[0], 10);
  const NetworkRule& bind = section.network[1];
  EXPECT_EQ(bind.op, NetOp::kBind);
  EXPECT_EQ(bind.port_low, 8080);
  EXPECT_EQ(bind.port_high, 8080);
  EXPECT_FALSE(bind.address);
  const NetworkRule& log = section.network[2];
  EXPECT_EQ(log.port_low, 0);
  EXPECT_EQ(log.port_high, 65535);
  EXPECT_EQ(log.address->family, AF_INET6);
  EXPECT_EQ(log.address->length, 128);
  EXPECT_EQ(log.address->bytes[0], 0xfd);
  EXPECT_EQ(log.address->bytes[15], 1);
  EXPECT_EQ(verdict_name(Verdict::kLog), "log");
}

TEST(HytraceSection, EmptySectionAndNulls) {
  const Policy policy = parse(with_hytrace(R"({"paths": null})"));
  EXPECT_TRUE(policy.hytrace.present);
  EXPECT_TRUE(policy.hytrace.paths.empty() && policy.hytrace.network.empty());
}

TEST(HytraceSection, Errors) {
  const auto path_rule = [](const std::string& rule) { return with_hytrace(R"({"paths": [)" + rule + "]}"); };
  const auto net_rule = [](const std::string& rule) { return with_hytrace(R"({"network": [)" + rule + "]}"); };
  expect_errors({
      {with_hytrace("[]"), "hytrace: expected an object"},
      {with_hytrace(R"({"files": []})"), "hytrace: unknown key \"files\""},
      {with_hytrace(R"({"paths": {}})"), "hytrace.paths: expected an array"},
      {path_rule(R"({"action": "block", "access": ["read"], "prefix": "/"})"),
       "hytrace.paths[0].action: unknown action \"block\" (allow, deny or log)"},
      {path_rule(R"({"access": ["read"], "prefix": "/"})"), "hytrace.paths[0].action: missing"},
      {path_rule(R"({"action": "deny", "prefix": "/"})"), "hytrace.paths[0].access: missing"},
      {path_rule(R"({"action": "deny", "access": [], "prefix": "/"})"),
       "hytrace.paths[0].access: expected at least one access"},
      {path_rule(R"({"action": "deny", "access": ["read", "open"], "prefix": "/"})"),
       "hytrace.paths[0].access[1]: unknown access \"open\" (read, write, exec, create, unlink, "
       "rename or truncate)"},
      {path_rule(R"({"action": "deny", "access": ["read", "read"], "prefix": "/"})"),
       "hytrace.paths[0].access[1]: \"read\" is already listed"},
      {path_rule(R"({"action": "deny", "access": ["read"]})"),
       "hytrace.paths[0]: expected \"prefix\" or \"glob\""},
      {path_rule(R"({"action": "deny", "access": ["read"], "prefix": "/a", "glob": "/b"})"),
       "hytrace.paths[0].glob: give \"prefix\" or \"glob\", not both"},
      {path_rule(R"({"action": "deny", "access": ["read"], "prefix": "etc"})"),
       "hytrace.paths[0].prefix: expected an absolute path"},
      {path_rule(R"({"action": "deny", "access": ["read"], "prefix": ""})"),
       "hytrace.paths[0].prefix: expected an absolute path"},
      {path_rule(R"({"action": "deny", "access": ["read"], "prefix": "/etc//x"})"),
       "hytrace.paths[0].prefix: empty path component in \"/etc//x\""},
      {path_rule(R"({"action": "deny", "access": ["read"], "prefix": "/etc/../root"})"),
       "hytrace.paths[0].prefix: \".\" or \"..\" in \"/etc/../root\": rules match resolved paths"},
      {path_rule(R"({"action": "deny", "access": ["read"], "prefix": "/home/*/"})"),
       "hytrace.paths[0].prefix: wildcard in a prefix \"/home/*\": use \"glob\""},
      {path_rule(R"({"action": "deny", "access": ["read"], "glob": "/home/**x"})"),
       "hytrace.paths[0].glob: \"**\" must be a whole path component in \"/home/**x\""},
      {path_rule(R"({"action": "deny", "access": ["read"], "glob": "/home/"})"),
       "hytrace.paths[0].glob: empty path component in \"/home/\""},
      {path_rule(R"({"action": "deny", "access": ["read"], "glob": "/a\u0000b"})"),
       "hytrace.paths[0].glob: holds a NUL byte"},
      {path_rule(R"({"action": "deny", "access": ["read"], "glob": "/)" + std::string(4095, 'a') + "\"}"),
       "hytrace.paths[0].glob: longer than 4095 bytes"},
      {path_rule(R"({"action": "deny", "access": ["read"], "prefix": "/", "mode": 1})"),
       "hytrace.paths[0]: unknown key \"mode\""},
      {net_rule(R"({"action": "deny", "op": "accept"})"),
       "hytrace.network[0].op: unknown operation \"accept\" (connect or bind)"},
      {net_rule(R"({"action": "deny"})"), "hytrace.network[0].op: missing"},
      {net_rule(R"({"action": "deny", "op": "bind", "port": 65536})"),
       "hytrace.network[0].port: expected a port from 0 to 65535"},
      {net_rule(R"({"action": "deny", "op": "bind", "port": "80"})"),
       "hytrace.network[0].port: expected a port from 0 to 65535"},
      {net_rule(R"({"action": "deny", "op": "bind", "port": 80, "ports": [1, 2]})"),
       "hytrace.network[0].ports: give \"port\" or \"ports\", not both"},
      {net_rule(R"({"action": "deny", "op": "bind", "ports": [1]})"),
       "hytrace.network[0].ports: expected [low, high]"},
      {net_rule(R"({"action": "deny", "op": "bind", "ports": [1, 2, 3]})"),
       "hytrace.network[0].ports: more than 2 ports"},
      {net_rule(R"({"action": "deny", "op": "bind", "ports": [443, 80]})"),
       "hytrace.network[0].ports: low port above high port"},
      {net_rule(R"({"action": "deny", "op": "bind", "ports": [80, -1]})"),
       "hytrace.network[0].ports[1]: expected a port from 0 to 65535"},
      {net_rule(R"({"action": "deny", "op": "connect", "address": "10.0.0.256"})"),
       "hytrace.network[0].address: expected an IPv4 or IPv6 address with an optional /length, not "
       "\"10.0.0.256\""},
      {net_rule(R"({"action": "deny", "op": "connect", "address": "example.com"})"),
       "hytrace.network[0].address: expected an IPv4 or IPv6 address with an optional /length, not "
       "\"example.com\""},
      {net_rule(R"({"action": "deny", "op": "connect", "address": "10.0.0.0/33"})"),
       "hytrace.network[0].address: expected a prefix length from 0 to 32 in \"10.0.0.0/33\""},
      {net_rule(R"({"action": "deny", "op": "connect", "address": "10.0.0.0/"})"),
       "hytrace.network[0].address: expected a prefix length from 0 to 32 in \"10.0.0.0/\""},
      {net_rule(R"({"action": "deny", "op": "connect", "address": "::/+1"})"),
       "hytrace.network[0].address: expected a prefix length from 0 to 128 in \"::/+1\""},
      {net_rule(R"({"action": "deny", "op": "connect", "address": "10.1.0.0/8"})"),
       "hytrace.network[0].address: host bits set past /8 in \"10.1.0.0/8\""},
      {net_rule(R"({"action": "deny", "op": "connect", "host": "x"})"),
       "hytrace.network[0]: unknown key \"host\""},
  });
}

TEST(FuzzSeeds, AreValidPolicies) {
  size_t seeds = 0;
  for (const auto& entry : std::filesystem::directory_iterator(HYTRACE_POLICY_SEEDS)) {
    EXPECT_EQ(error_of(read_text(entry.path().string())), "") << entry.path();
    ++seeds;
  }
  EXPECT_GE(seeds, 4u);
}

// --- the file ---------------------------------------------------------------------

class PolicyFile : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "hytrace-policy-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string file(const std::string& name) const { return (dir_ / name).string(); }

  static std::string read_error(const std::string& path) {
    try {
      read_policy_file(path);
      return "";
    } catch (const PolicyError& e) {
      return e.what();
    }
  }

  std::filesystem::path dir_;
};

TEST_F(PolicyFile, ReadsARegularFile) {
  std::ofstream(file("p.json")) << podman_profile();
  EXPECT_EQ(read_policy_file(file("p.json")), podman_profile());
  std::ofstream(file("empty.json")).flush();
  EXPECT_EQ(read_policy_file(file("empty.json")), "");
}

TEST_F(PolicyFile, Errors) {
  EXPECT_EQ(read_error(file("none.json")), "No such file or directory");
  EXPECT_EQ(read_error(dir_.string()), "Is a directory");
  ASSERT_EQ(mkfifo(file("fifo").c_str(), 0600), 0);
  EXPECT_EQ(read_error(file("fifo")), "not a regular file");  // without waiting for a writer
  std::ofstream(file("big.json")) << std::string(kMaxPolicyBytes + 1, ' ');
  EXPECT_EQ(read_error(file("big.json")), "larger than 4 MiB");
  std::ofstream(file("limit.json")) << std::string(kMaxPolicyBytes, ' ');
  EXPECT_EQ(read_policy_file(file("limit.json")).size(), kMaxPolicyBytes);
}

}  // namespace
}  // namespace hytrace::audit
