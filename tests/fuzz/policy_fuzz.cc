// libFuzzer target for the audit policy loader (tracer/audit/policy.*): the
// input is a whole policy file. The loader must never read outside the
// bytes (ASan: they are a heap copy of exactly their size), never hit
// undefined behaviour (UBSan), always end, throw nothing but PolicyError,
// and keep what it returns within the documented limits: one printable
// line per error, every rule within its bounds, load() a subset of parse().
//
// Seeds: tests/fuzz/corpus/policy/, small profiles; tests/fuzz/policy.dict
// holds the format's words. tests/fuzz/run.sh policy runs it.
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "tracer/audit/policy.hpp"

namespace {

using namespace hytrace::audit;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

void check_message(std::string_view message) {
  check(!message.empty());
  check(message.size() < 1024);
  for (char c : message) check(c >= 0x20 && c < 0x7f);
}

void check_rule(const SyscallRule& rule) {
  check(rule.names.size() <= kMaxNamesPerRule);
  check(rule.numbers.size() <= rule.names.size());
  check(rule.args.size() <= kMaxArgsPerRule);
  for (const ArgCondition& arg : rule.args) {
    check(arg.index <= 5);
    check(arg.value_two == 0 || arg.op == CompareOp::kMaskedEqual);
    check(op_from_name(op_name(arg.op)) == arg.op);
  }
  check(action_from_name(action_name(rule.action)) == rule.action);
  if (rule.errno_ret) check(rule.action == Action::kErrno || rule.action == Action::kTrace);
  if (rule.errno_ret && rule.action == Action::kErrno) check(*rule.errno_ret <= 4095);
}

void check_section(const HytraceSection& section) {
  check(section.paths.size() <= kMaxPathRules);
  check(section.network.size() <= kMaxNetworkRules);
  for (const PathRule& rule : section.paths) {
    check(rule.access != 0);
    check(!rule.pattern.empty() && rule.pattern[0] == '/' && rule.pattern.size() <= kMaxPathBytes);
  }
  for (const NetworkRule& rule : section.network) {
    check(rule.port_low <= rule.port_high);
    if (rule.address) check(rule.address->length <= (rule.address->family == 2 ? 32 : 128));
  }
}

void check_policy(const Policy& policy) {
  check(policy.syscalls.size() <= kMaxSyscallRules);
  for (const SyscallRule& rule : policy.syscalls) check_rule(rule);
  check_section(policy.hytrace);
  for (size_t i = 1; i < policy.unresolved_names.size(); ++i) {
    check(policy.unresolved_names[i - 1] < policy.unresolved_names[i]);
  }
  check(!effective_architectures(policy).empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const Policy all = parse(text);
    check_policy(all);
    const Conditions conditions{.caps = {"CAP_SYS_ADMIN"}, .arch = "amd64", .kernel = {6, 1}};
    const Policy applied = load(text, conditions);
    check(applied.syscalls.size() <= all.syscalls.size());
    for (const SyscallRule& rule : applied.syscalls) {
      check(rule.index < all.syscalls.size() && applies(all.syscalls[rule.index], conditions));
    }
  } catch (const PolicyError& error) {
    check_message(error.what());
  }
  return 0;
}
