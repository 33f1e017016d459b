// The OCI part of the policy: defaultAction, architectures, syscalls[] and
// their includes/excludes; the file reader; load(). The hytrace section is
// in policy_hytrace.cc, the bounded JSON reading in policy_json.cc.
#include "tracer/audit/policy.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <unordered_set>
#include <utility>

#include "syscalls/catalogue.hpp"
#include "tracer/audit/policy_detail.hpp"

namespace hytrace::audit {
namespace {

using detail::Node;
using detail::in_quotes;

constexpr std::pair<std::string_view, Action> kActions[] = {
    {"SCMP_ACT_ALLOW", Action::kAllow},
    {"SCMP_ACT_ERRNO", Action::kErrno},
    {"SCMP_ACT_KILL", Action::kKill},
    {"SCMP_ACT_KILL_PROCESS", Action::kKillProcess},
    {"SCMP_ACT_KILL_THREAD", Action::kKillThread},
    {"SCMP_ACT_TRAP", Action::kTrap},
    {"SCMP_ACT_LOG", Action::kLog},
    {"SCMP_ACT_TRACE", Action::kTrace},
    {"SCMP_ACT_NOTIFY", Action::kNotify},
};

constexpr std::pair<std::string_view, CompareOp> kOps[] = {
    {"SCMP_CMP_NE", CompareOp::kNotEqual},
    {"SCMP_CMP_LT", CompareOp::kLess},
    {"SCMP_CMP_LE", CompareOp::kLessOrEqual},
    {"SCMP_CMP_EQ", CompareOp::kEqual},
    {"SCMP_CMP_GE", CompareOp::kGreaterOrEqual},
    {"SCMP_CMP_GT", CompareOp::kGreater},
    {"SCMP_CMP_MASKED_EQ", CompareOp::kMaskedEqual},
};

// libseccomp's architecture tokens, as the OCI runtime spec lists them.
constexpr std::string_view kArchitectures[] = {
    "SCMP_ARCH_X86",      "SCMP_ARCH_X86_64",    "SCMP_ARCH_X32",      "SCMP_ARCH_ARM",
    "SCMP_ARCH_AARCH64",  "SCMP_ARCH_MIPS",      "SCMP_ARCH_MIPS64",   "SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL",   "SCMP_ARCH_MIPSEL64",  "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",    "SCMP_ARCH_PPC64LE",   "SCMP_ARCH_S390",     "SCMP_ARCH_S390X",
    "SCMP_ARCH_PARISC",   "SCMP_ARCH_PARISC64",  "SCMP_ARCH_RISCV64",  "SCMP_ARCH_LOONGARCH64",
    "SCMP_ARCH_M68K",     "SCMP_ARCH_SH",        "SCMP_ARCH_SHEB",
};
constexpr std::string_view kNativeArchitecture = "SCMP_ARCH_X86_64";

// The OCI runtime spec's seccomp flags.
constexpr std::string_view kFlags[] = {
    "SECCOMP_FILTER_FLAG_TSYNC",
    "SECCOMP_FILTER_FLAG_LOG",
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
};

constexpr std::string_view kTopLevelKeys[] = {
    "defaultAction", "defaultErrnoRet", "defaultErrno", "architectures", "archMap", "syscalls",
    "flags",         "listenerPath",    "listenerMetadata", "hytrace",
};

constexpr uint64_t kMaxErrno = 4095;     // the kernel caps SECCOMP_RET_ERRNO's data there
constexpr uint64_t kMaxTraceData = 0xffff;  // SECCOMP_RET_DATA

template <typename Table, typename Value>
std::string_view name_in(const Table& table, Value value) {
  for (const auto& [name, v] : table) {
    if (v == value) return name;
  }
  return "?";
}

template <typename Table>
auto value_in(const Table& table, std::string_view name)
    -> std::optional<decltype(std::begin(table)->second)> {
  for (const auto& [n, value] : table) {
    if (n == name) return value;
  }
  return std::nullopt;
}

template <typename List>
bool listed(const List& list, std::string_view word) {
  return std::find(std::begin(list), std::end(list), word) != std::end(list);
}

bool is_word(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

bool is_capability(std::string_view s) {
  return s.size() > 4 && s.substr(0, 4) == "CAP_" && is_word(s) &&
         std::none_of(s.begin(), s.end(), [](char c) { return c >= 'a' && c <= 'z'; });
}

// "6.18" exactly: what Docker's minKernel holds.
std::optional<KernelVersion> parse_major_minor(std::string_view text) {
  KernelVersion version;
  const char* end = text.data() + text.size();
  auto [dot, error] = std::from_chars(text.data(), end, version.major);
  if (error != std::errc() || dot == text.data() || dot == end || *dot != '.') return std::nullopt;
  auto [last, error2] = std::from_chars(dot + 1, end, version.minor);
  if (error2 != std::errc() || last == dot + 1 || last != end) return std::nullopt;
  return version;
}

Action parse_action(const Node& node) {
  const std::string name = node.string();
  const std::optional<Action> action = action_from_name(name);
  if (!action) node.fail("unknown action " + in_quotes(name));
  return *action;
}

// errnoRet or defaultErrnoRet: only the actions that return a value take
// one (the OCI runtime spec says a runtime must refuse it elsewhere).
std::optional<uint16_t> parse_errno_ret(const std::optional<Node>& node, Action action) {
  if (!node) return std::nullopt;
  const uint64_t value = node->unsigned_number();
  if (action == Action::kErrno) {
    if (value > kMaxErrno) node->fail("expected an errno from 0 to 4095");
  } else if (action == Action::kTrace) {
    if (value > kMaxTraceData) node->fail("expected a value from 0 to 65535");
  } else {
    node->fail(std::string(action_name(action)) + " takes no errno");
  }
  return static_cast<uint16_t>(value);
}

std::string parse_errno_name(const std::optional<Node>& node) {
  if (!node) return {};
  std::string name = node->string();
  if (!is_word(name) || name.size() > kMaxNameBytes) node->fail("not an errno name " + in_quotes(name));
  return name;
}

std::string parse_architecture(const Node& node) {
  std::string name = node.string();
  if (!listed(kArchitectures, name)) node.fail("unknown architecture " + in_quotes(name));
  return name;
}

std::vector<std::string> parse_architectures(const Node& node) {
  std::vector<std::string> names;
  for (const Node& item : node.items(kMaxListItems, "architectures")) {
    names.push_back(parse_architecture(item));
  }
  return names;
}

ArchMapEntry parse_arch_map_entry(const Node& node) {
  node.expect_keys({"architecture", "subArchitectures"});
  ArchMapEntry entry;
  entry.architecture = parse_architecture(node.required("architecture"));
  if (auto subs = node.field("subArchitectures")) entry.sub_architectures = parse_architectures(*subs);
  return entry;
}

std::vector<std::string> parse_flags(const Node& node) {
  std::vector<std::string> flags;
  for (const Node& item : node.items(kMaxListItems, "flags")) {
    std::string flag = item.string();
    if (!listed(kFlags, flag)) item.fail("unknown flag " + in_quotes(flag));
    flags.push_back(std::move(flag));
  }
  return flags;
}

ArgCondition parse_arg(const Node& node) {
  node.expect_keys({"index", "value", "valueTwo", "op"});
  ArgCondition arg;
  const Node index = node.required("index");
  const uint64_t i = index.unsigned_number();
  if (i > 5) index.fail("expected an argument index from 0 to 5");
  arg.index = static_cast<uint8_t>(i);
  arg.value = node.required("value").unsigned_number();
  const Node op = node.required("op");
  const std::string op_text = op.string();
  const std::optional<CompareOp> compare = op_from_name(op_text);
  if (!compare) op.fail("unknown operator " + in_quotes(op_text));
  arg.op = *compare;
  if (auto two = node.field("valueTwo")) {
    arg.value_two = two->unsigned_number();
    if (arg.value_two != 0 && arg.op != CompareOp::kMaskedEqual) {
      two->fail("only SCMP_CMP_MASKED_EQ uses valueTwo");
    }
  }
  return arg;
}

// A list of names, each checked by `valid` ("not WHAT ...").
template <typename Valid>
std::vector<std::string> parse_word_list(const Node& node, std::string_view what, Valid valid) {
  std::vector<std::string> words;
  for (const Node& item : node.items(kMaxListItems, "names")) {
    std::string word = item.string();
    if (word.size() > kMaxNameBytes || !valid(word)) {
      item.fail("not " + std::string(what) + " " + in_quotes(word));
    }
    words.push_back(std::move(word));
  }
  return words;
}

Filter parse_filter(const Node& node) {
  node.expect_keys({"caps", "arches", "minKernel"});
  Filter filter;
  if (auto caps = node.field("caps")) filter.caps = parse_word_list(*caps, "a capability name", is_capability);
  if (auto arches = node.field("arches")) filter.arches = parse_word_list(*arches, "an arch name", is_word);
  if (auto min = node.field("minKernel")) {
    const std::string text = min->string();
    filter.min_kernel = parse_major_minor(text);
    if (!filter.min_kernel) min->fail("expected a kernel version \"major.minor\", not " + in_quotes(text));
  }
  return filter;
}

std::string parse_syscall_name(const Node& node) {
  std::string name = node.string();
  if (!is_word(name) || name.size() > kMaxNameBytes) node.fail("not a syscall name " + in_quotes(name));
  return name;
}

// "names", or the old single "name"; never both, never a name twice.
std::vector<std::string> parse_names(const Node& rule) {
  const std::optional<Node> names = rule.field("names");
  const std::optional<Node> name = rule.field("name");
  if (names && name) name->fail("give \"names\" or \"name\", not both");
  if (name) return {parse_syscall_name(*name)};
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;
  for (const Node& item : rule.required("names").items(kMaxNamesPerRule, "names")) {
    std::string text = parse_syscall_name(item);
    if (!seen.insert(text).second) item.fail(in_quotes(text) + " is already in this rule");
    out.push_back(std::move(text));
  }
  return out;
}

std::vector<long> numbers_of(const std::vector<std::string>& names) {
  std::vector<long> numbers;
  for (const std::string& name : names) {
    if (auto nr = syscalls::number_of(syscalls::Abi::kX86_64, name)) numbers.push_back(*nr);
  }
  return numbers;
}

SyscallRule parse_rule(const Node& node, size_t index) {
  node.expect_keys({"names", "name", "action", "errnoRet", "errno", "args", "comment", "includes",
                    "excludes"});
  SyscallRule rule;
  rule.index = index;
  rule.names = parse_names(node);
  rule.numbers = numbers_of(rule.names);
  rule.action = parse_action(node.required("action"));
  rule.errno_ret = parse_errno_ret(node.field("errnoRet"), rule.action);
  rule.errno_name = parse_errno_name(node.field("errno"));
  if (auto args = node.field("args")) {
    for (const Node& arg : args->items(kMaxArgsPerRule, "arguments")) rule.args.push_back(parse_arg(arg));
  }
  if (auto includes = node.field("includes")) rule.includes = parse_filter(*includes);
  if (auto excludes = node.field("excludes")) rule.excludes = parse_filter(*excludes);
  if (auto comment = node.field("comment")) rule.comment = comment->string();
  return rule;
}

std::vector<std::string> unresolved_names_of(const std::vector<SyscallRule>& rules) {
  std::set<std::string> names;
  for (const SyscallRule& rule : rules) {
    for (const std::string& name : rule.names) {
      if (!syscalls::number_of(syscalls::Abi::kX86_64, name)) names.insert(name);
    }
  }
  return {names.begin(), names.end()};
}

std::vector<std::string> ignored_keys_of(const Node& root) {
  std::vector<std::string> keys;
  for (const auto& [key, value] : root.json().items()) {
    if (!listed(kTopLevelKeys, key)) keys.push_back(key);
  }
  return keys;  // sorted: nlohmann's objects are
}

void parse_top_level(const Node& root, Policy& policy) {
  policy.default_action = parse_action(root.required("defaultAction"));
  policy.default_errno_ret = parse_errno_ret(root.field("defaultErrnoRet"), policy.default_action);
  policy.default_errno_name = parse_errno_name(root.field("defaultErrno"));
  if (auto arches = root.field("architectures")) policy.architectures = parse_architectures(*arches);
  if (auto map = root.field("archMap")) {
    for (const Node& entry : map->items(kMaxListItems, "entries")) {
      policy.arch_map.push_back(parse_arch_map_entry(entry));
    }
    if (!policy.architectures.empty() && !policy.arch_map.empty()) {
      map->fail("give \"architectures\" or \"archMap\", not both");
    }
  }
  if (auto flags = root.field("flags")) policy.flags = parse_flags(*flags);
  if (auto path = root.field("listenerPath")) policy.listener_path = path->string();
  if (auto metadata = root.field("listenerMetadata")) policy.listener_metadata = metadata->string();
}

bool holds_all(const std::set<std::string, std::less<>>& held, const std::vector<std::string>& caps) {
  return std::all_of(caps.begin(), caps.end(), [&](const std::string& c) { return held.contains(c); });
}

bool holds_any(const std::set<std::string, std::less<>>& held, const std::vector<std::string>& caps) {
  return std::any_of(caps.begin(), caps.end(), [&](const std::string& c) { return held.contains(c); });
}

// Closes the descriptor it holds.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

[[noreturn]] void fail_errno() { throw PolicyError(std::strerror(errno)); }

}  // namespace

std::string_view action_name(Action action) { return name_in(kActions, action); }
std::optional<Action> action_from_name(std::string_view name) { return value_in(kActions, name); }
std::string_view op_name(CompareOp op) { return name_in(kOps, op); }
std::optional<CompareOp> op_from_name(std::string_view name) { return value_in(kOps, name); }

std::optional<KernelVersion> kernel_version_of_release(std::string_view release) {
  const size_t dot = release.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  size_t end = dot + 1;
  while (end < release.size() && release[end] >= '0' && release[end] <= '9') ++end;
  return parse_major_minor(release.substr(0, end));
}

KernelVersion running_kernel() {
  struct utsname name {};
  if (uname(&name) != 0) return {};
  return kernel_version_of_release(name.release).value_or(KernelVersion{});
}

bool applies(const SyscallRule& rule, const Conditions& conditions) {
  const Filter& in = rule.includes;
  const Filter& ex = rule.excludes;
  if (holds_any(conditions.caps, ex.caps) || listed(ex.arches, conditions.arch)) return false;
  if (ex.min_kernel && conditions.kernel >= *ex.min_kernel) return false;
  if (!holds_all(conditions.caps, in.caps)) return false;
  if (!in.arches.empty() && !listed(in.arches, conditions.arch)) return false;
  if (in.min_kernel && conditions.kernel < *in.min_kernel) return false;
  return true;
}

Policy parse(std::string_view json_text) {
  if (json_text.size() > kMaxPolicyBytes) throw PolicyError("larger than 4 MiB");
  const detail::Json document = detail::parse_bounded(json_text);
  const Node root(document, "");
  if (!document.is_object()) root.fail("expected a JSON object at the top level");
  Policy policy;
  parse_top_level(root, policy);
  if (auto rules = root.field("syscalls")) {
    const std::vector<Node> items = rules->items(kMaxSyscallRules, "rules");
    for (size_t i = 0; i < items.size(); ++i) policy.syscalls.push_back(parse_rule(items[i], i));
  }
  if (auto section = root.field("hytrace")) policy.hytrace = detail::parse_hytrace_section(*section);
  policy.unresolved_names = unresolved_names_of(policy.syscalls);
  policy.ignored_keys = ignored_keys_of(root);
  return policy;
}

Policy load(std::string_view json_text, const Conditions& conditions) {
  Policy policy = parse(json_text);
  std::erase_if(policy.syscalls, [&](const SyscallRule& rule) { return !applies(rule, conditions); });
  policy.unresolved_names = unresolved_names_of(policy.syscalls);
  return policy;
}

std::string read_policy_file(const std::string& path) {
  const Fd file{open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)};
  if (file.fd < 0) fail_errno();
  struct stat st {};
  if (fstat(file.fd, &st) != 0) fail_errno();
  if (S_ISDIR(st.st_mode)) throw PolicyError(std::strerror(EISDIR));
  if (!S_ISREG(st.st_mode)) throw PolicyError("not a regular file");
  if (static_cast<uint64_t>(st.st_size) > kMaxPolicyBytes) throw PolicyError("larger than 4 MiB");
  // Read up to one byte past the limit: the file may have grown since fstat.
  std::string text;
  char chunk[64 * 1024];
  while (text.size() <= kMaxPolicyBytes) {
    const ssize_t n = read(file.fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail_errno();
    if (n == 0) return text;
    text.append(chunk, static_cast<size_t>(n));
  }
  throw PolicyError("larger than 4 MiB");
}

std::vector<std::string> effective_architectures(const Policy& policy) {
  std::vector<std::string> arches = policy.architectures;
  for (const ArchMapEntry& entry : policy.arch_map) {
    if (entry.architecture != kNativeArchitecture) continue;
    arches.push_back(entry.architecture);
    arches.insert(arches.end(), entry.sub_architectures.begin(), entry.sub_architectures.end());
  }
  if (arches.empty()) arches.emplace_back(kNativeArchitecture);
  return arches;
}

}  // namespace hytrace::audit
