// The audit policy: a Docker/OCI seccomp profile (JSON) read into plain
// values, plus hytrace's own section for what the OCI format cannot say
// (path and network rules). Loading only reads and validates: it knows
// nothing of ptrace, libseccomp or Landlock; enforcing the rules is the
// audit mode's job. The format, the limits and what is ignored:
// docs/design/audit-policy.md.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace hytrace::audit {

// An invalid policy: one line naming the JSON path of the problem
// ("syscalls[3].args[0].op: unknown operator \"EQUALS\""), or the line and
// column of bad JSON. Every byte of it is printable ASCII.
class PolicyError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// --- limits (a hostile file cannot make the loader use more) -----------------

inline constexpr size_t kMaxPolicyBytes = 4u << 20;    // the whole file
inline constexpr size_t kMaxJsonDepth = 32;            // nested arrays and objects
inline constexpr size_t kMaxJsonValues = 256u << 10;   // every value, containers too
inline constexpr size_t kMaxSyscallRules = 10000;      // syscalls[]
inline constexpr size_t kMaxNamesPerRule = 1024;       // syscalls[i].names
inline constexpr size_t kMaxArgsPerRule = 64;          // syscalls[i].args
inline constexpr size_t kMaxListItems = 64;            // architectures, archMap, caps, arches, flags
inline constexpr size_t kMaxPathRules = 4096;          // hytrace.paths
inline constexpr size_t kMaxNetworkRules = 4096;       // hytrace.network
inline constexpr size_t kMaxNameBytes = 64;            // a syscall, capability or arch name
inline constexpr size_t kMaxPathBytes = 4095;          // a prefix or glob (PATH_MAX - 1)

// --- the OCI part ------------------------------------------------------------

enum class Action : uint8_t {
  kAllow,        // SCMP_ACT_ALLOW
  kErrno,        // SCMP_ACT_ERRNO: fail with errnoRet (EPERM when absent)
  kKill,         // SCMP_ACT_KILL: libseccomp's old name of KILL_THREAD
  kKillProcess,  // SCMP_ACT_KILL_PROCESS
  kKillThread,   // SCMP_ACT_KILL_THREAD
  kTrap,         // SCMP_ACT_TRAP: SIGSYS
  kLog,          // SCMP_ACT_LOG: allow and log
  kTrace,        // SCMP_ACT_TRACE: a ptrace stop, errnoRet as the message
  kNotify,       // SCMP_ACT_NOTIFY: a user-notification listener decides
};
std::string_view action_name(Action action);  // "SCMP_ACT_ALLOW"
std::optional<Action> action_from_name(std::string_view name);

// How an argument compares with `value` (libseccomp's datum_a); only
// kMaskedEqual uses `value_two`: (arg & value) == value_two.
enum class CompareOp : uint8_t {
  kNotEqual,        // SCMP_CMP_NE
  kLess,            // SCMP_CMP_LT
  kLessOrEqual,     // SCMP_CMP_LE
  kEqual,           // SCMP_CMP_EQ
  kGreaterOrEqual,  // SCMP_CMP_GE
  kGreater,         // SCMP_CMP_GT
  kMaskedEqual,     // SCMP_CMP_MASKED_EQ
};
std::string_view op_name(CompareOp op);  // "SCMP_CMP_EQ"
std::optional<CompareOp> op_from_name(std::string_view name);

struct ArgCondition {
  uint8_t index = 0;  // 0..5
  uint64_t value = 0;
  uint64_t value_two = 0;  // 0 unless op is kMaskedEqual
  CompareOp op = CompareOp::kEqual;
  bool operator==(const ArgCondition&) const = default;
};

struct KernelVersion {
  uint32_t major = 0;
  uint32_t minor = 0;
  auto operator<=>(const KernelVersion&) const = default;
};

// The leading "major.minor" of a kernel release as uname(2) gives it
// ("6.18.0-1-amd64" -> 6.18); nullopt when it does not start so.
std::optional<KernelVersion> kernel_version_of_release(std::string_view release);
// This machine's kernel, from uname(2); 0.0 when it cannot be read.
KernelVersion running_kernel();

// A rule's includes or excludes. Empty fields say nothing.
struct Filter {
  std::vector<std::string> caps;    // "CAP_SYS_ADMIN"
  std::vector<std::string> arches;  // Go's names, as Docker writes them: "amd64", "x32", "arm64"
  std::optional<KernelVersion> min_kernel;
  bool empty() const { return caps.empty() && arches.empty() && !min_kernel; }
};

struct SyscallRule {
  size_t index = 0;                // its position in the file's syscalls[]
  std::vector<std::string> names;  // as written: "names", or the old single "name"
  std::vector<long> numbers;       // x86-64 numbers of the names the catalogue knows, in order
  Action action = Action::kAllow;
  std::optional<uint16_t> errno_ret;  // only with kErrno (0..4095) and kTrace (0..65535)
  std::vector<ArgCondition> args;     // all must hold (but see the design note on repeats)
  Filter includes;                    // the rule applies only if all of these hold
  Filter excludes;                    // and none of these
  std::string comment;
  std::string errno_name;  // containers/common's "errno" ("EPERM"), informational
};

struct ArchMapEntry {
  std::string architecture;  // "SCMP_ARCH_X86_64"
  std::vector<std::string> sub_architectures;
};

// --- hytrace's section ("hytrace": {"paths": [...], "network": [...]}) -------

enum class Verdict : uint8_t { kAllow, kDeny, kLog };
std::string_view verdict_name(Verdict verdict);  // "allow", "deny", "log"

// What a path rule is about, as bits so a rule's set is one integer.
enum PathAccess : uint32_t {
  kAccessRead = 1u << 0,      // open for reading, list a directory
  kAccessWrite = 1u << 1,     // open for writing
  kAccessExec = 1u << 2,      // execve, execveat
  kAccessCreate = 1u << 3,    // a new file, directory, link, node or socket
  kAccessUnlink = 1u << 4,    // unlink, rmdir
  kAccessRename = 1u << 5,    // rename from or to, hard link
  kAccessTruncate = 1u << 6,  // truncate, open with O_TRUNC
};
// "read" -> kAccessRead...; nullopt when not one of the names above.
std::optional<PathAccess> access_from_name(std::string_view name);

struct PathRule {
  size_t index = 0;  // its position in hytrace.paths
  Verdict action = Verdict::kAllow;
  uint32_t access = 0;  // PathAccess bits, never 0
  bool is_glob = false;
  // prefix: an absolute, normalised path without a trailing '/' (but "/"),
  // matching itself and everything under it. glob: an absolute pattern
  // where '*' and '?' match within one component and a "**" component
  // matches any number of components.
  std::string pattern;
  std::string comment;
};

enum class NetOp : uint8_t { kConnect, kBind };

struct IpPrefix {
  int family = 0;                  // AF_INET or AF_INET6
  std::array<uint8_t, 16> bytes{};  // network order; AF_INET uses the first 4
  uint8_t length = 0;              // prefix bits; host bits are zero
  bool operator==(const IpPrefix&) const = default;
};

struct NetworkRule {
  size_t index = 0;  // its position in hytrace.network
  Verdict action = Verdict::kAllow;
  NetOp op = NetOp::kConnect;
  uint16_t port_low = 0;  // inclusive; 0..65535 when the rule names no port
  uint16_t port_high = 65535;
  std::optional<IpPrefix> address;  // any address when absent
  std::string comment;
};

struct HytraceSection {
  bool present = false;
  std::vector<PathRule> paths;
  std::vector<NetworkRule> network;
};

// --- the whole policy ----------------------------------------------------------

struct Policy {
  Action default_action = Action::kAllow;
  std::optional<uint16_t> default_errno_ret;
  std::string default_errno_name;  // containers/common's "defaultErrno"
  std::vector<std::string> architectures;
  std::vector<ArchMapEntry> arch_map;
  std::vector<std::string> flags;  // "SECCOMP_FILTER_FLAG_LOG"...
  std::string listener_path;
  std::string listener_metadata;
  std::vector<SyscallRule> syscalls;  // parse(): every rule; load(): those that apply
  HytraceSection hytrace;
  // Names of the rules above that are not x86-64 syscalls (other arches',
  // newer kernels'): sorted, each once. Not an error; worth a warning.
  std::vector<std::string> unresolved_names;
  // Top-level keys this loader does not know, sorted: ignored, so that
  // other tools' extensions load. Worth a warning too.
  std::vector<std::string> ignored_keys;
};

// What includes and excludes are evaluated against.
struct Conditions {
  std::set<std::string, std::less<>> caps;  // the program's capabilities: "CAP_SYS_ADMIN"
  std::string arch = "amd64";               // Go's name of the architecture, as in "arches"
  KernelVersion kernel;                     // running_kernel(), usually
};

// Whether `rule` applies under `conditions`, as Docker decides it: every
// capability of includes.caps held, none of excludes.caps; the arch in
// includes.arches (when given) and not in excludes.arches; the kernel at
// least includes.minKernel (when given) and below excludes.minKernel.
bool applies(const SyscallRule& rule, const Conditions& conditions);

// Reads and validates a policy; every rule is kept. Throws PolicyError.
Policy parse(std::string_view json_text);
// parse(), then only the rules that apply under `conditions`.
Policy load(std::string_view json_text, const Conditions& conditions);

// The file's bytes, at most kMaxPolicyBytes; throws PolicyError ("No such
// file or directory", "not a regular file", "larger than 4 MiB"). Never
// waits on a FIFO.
std::string read_policy_file(const std::string& path);

// The seccomp architectures the profile's filter is for on this x86-64
// machine, as Docker picks them: "architectures", or else archMap's entry
// for SCMP_ARCH_X86_64 with its sub-architectures; when neither names any,
// libseccomp's default, the native SCMP_ARCH_X86_64 alone.
std::vector<std::string> effective_architectures(const Policy& policy);

}  // namespace hytrace::audit
