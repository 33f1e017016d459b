#include "tracer/audit/audit_mode.hpp"

#include <fcntl.h>
#include <sys/syscall.h>
#include <linux/audit.h>
#include <linux/openat2.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <csignal>
#include <linux/seccomp.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <fstream>
#include <string_view>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "syscalls/catalogue.hpp"
#include "tracer/audit/policy_filter.hpp"
#include "tracer/audit/rules.hpp"
#include "tracer/captured_memory.hpp"
#include "tracer/engine.hpp"

namespace hytrace::tracer {
namespace {

constexpr int kLogVersion = 1;  // the "v" of each JSON line: docs/guide/audit.md
constexpr long kX32Bit = 0x40000000;
// No rule of any policy: enforced_errno fails it with EPERM.
constexpr uint16_t kNoRule = audit::kMaxSyscallRules;

std::string read_link(const std::string& path) {
  char buf[PATH_MAX];
  const ssize_t n = readlink(path.c_str(), buf, sizeof buf);
  // A link as long as the buffer may be cut short: no name is safer than a wrong one.
  return n > 0 && static_cast<size_t>(n) < sizeof buf ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

std::string first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// A NUL-terminated string of the tracee, at most PATH_MAX bytes.
std::optional<std::string> read_path(syscalls::MemoryReader& mem, uint64_t addr) {
  if (addr == 0) return std::nullopt;
  std::string out;
  char chunk[256];
  while (out.size() < PATH_MAX) {
    const size_t n = mem.read(addr + out.size(), chunk, sizeof chunk);
    if (n == 0) return std::nullopt;
    for (size_t i = 0; i < n; ++i) {
      if (chunk[i] == '\0') return out;
      out.push_back(chunk[i]);
    }
  }
  return std::nullopt;
}

std::string syscall_name(const syscalls::Call& call) {
  const std::string_view name = syscalls::name_of(call.abi, call.nr);
  if (name.empty()) return fmt::format("syscall_{:#x}", call.nr);
  if (call.abi == syscalls::Abi::kI386) return fmt::format("{} (i386)", name);
  if (call.abi == syscalls::Abi::kX32) return fmt::format("{} (x32)", name);
  return std::string(name);
}

std::string timestamp() {
  const auto now = std::chrono::system_clock::now();
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  const time_t secs = static_cast<time_t>(us / 1000000);
  tm utc{};
  gmtime_r(&secs, &utc);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", utc.tm_year + 1900, utc.tm_mon + 1,
                     utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, us % 1000000);
}

// A filter with a user-notification listener: its SECCOMP_RET_USER_NOTIF
// outranks the policy's TRACE stops, and the listener could let those
// calls run. Refused under --enforce (a hytrace rule of its own).
bool opens_listener(const syscalls::Call& call) {
  return syscalls::role_of(call.abi, call.nr) == syscalls::Role::kSeccomp && call.args[0] == SECCOMP_SET_MODE_FILTER &&
         (call.args[1] & SECCOMP_FILTER_FLAG_NEW_LISTENER) != 0;
}

int severity(audit::Verdict verdict) {
  switch (verdict) {
    case audit::Verdict::kAllow: return 0;
    case audit::Verdict::kLog: return 1;
    case audit::Verdict::kDeny: return 2;
  }
  return 2;
}

// A number of /proc/PID/status ("Tgid:", "TracerPid:"), -1 when unreadable.
long status_number(pid_t pid, std::string_view field) {
  std::ifstream status(fmt::format("/proc/{}/status", pid));
  for (std::string line; std::getline(status, line);) {
    if (line.rfind(field, 0) == 0) return std::strtol(line.c_str() + field.size(), nullptr, 10);
  }
  return -1;
}

// A thread of hytrace's own process.
bool is_hytrace(pid_t tid) { return tid > 0 && (tid == getpid() || status_number(tid, "Tgid:") == getpid()); }

// hytrace itself, or a task it traces (a sibling, the caller itself).
bool ours(pid_t pid) { return pid > 0 && (pid == getpid() || status_number(pid, "TracerPid:") == getpid()); }

// The pid behind a pidfd of the task, from its fdinfo ("Pid:\tN").
pid_t pid_of_pidfd(pid_t tid, uint64_t fd) {
  std::ifstream info(fmt::format("/proc/{}/fdinfo/{}", tid, fd));
  for (std::string line; std::getline(info, line);) {
    if (line.rfind("Pid:", 0) == 0) return static_cast<pid_t>(std::strtol(line.c_str() + 4, nullptr, 10));
  }
  return 0;
}

// A call that would read or write the memory, registers or files of
// hytrace or of a traced task: with it a program could change a path after
// hytrace checked it, or hytrace's own state. The kernel allows it to a
// task with CAP_SYS_PTRACE (root), which hytrace's non-dumpable state does
// not stop; hytrace refuses it under --enforce.
bool reaches_tracer(pid_t caller, const syscalls::Call& call) {
  if (call.abi != syscalls::Abi::kX86_64) return false;
  switch (call.nr) {
    // A traced task's ptrace of another is served by the engine, only on
    // that task's stops (tracer/ptrace_emulation.hpp): hytrace's own
    // threads are what must stay out of reach.
    case SYS_ptrace:
      if ((call.args[0] == PTRACE_POKETEXT || call.args[0] == PTRACE_POKEDATA) &&
          FrozenArguments::touches(call.args[2], sizeof(long))) {
        return true;  // the copies of checked arguments (frozen_args.hpp)
      }
      return call.args[0] != 0 /* PTRACE_TRACEME */ && is_hytrace(static_cast<pid_t>(call.args[1]));
    case SYS_process_vm_readv:
    case SYS_process_vm_writev: return ours(static_cast<pid_t>(call.args[0]));
    case SYS_pidfd_getfd: return ours(pid_of_pidfd(caller, call.args[0]));
    default: return false;
  }
}

// The x86-64 call of the same name, for the path and network rules, which
// are about what a call does, whatever its ABI (an i386 open through
// int 0x80 is an open). nullopt for a call x86-64 has no twin of
// (socketcall).
std::optional<syscalls::Call> x86_64_twin(const syscalls::Call& call) {
  if (call.abi == syscalls::Abi::kX86_64) return call;
  // i386's own names for calls x86-64 has under another (same arguments, as
  // far as their paths go).
  constexpr std::pair<std::string_view, std::string_view> kRenamed[] = {
      {"chown32", "chown"}, {"lchown32", "lchown"}, {"truncate64", "truncate"},
      {"utimensat_time64", "utimensat"}};
  std::string_view name = syscalls::name_of(call.abi, call.nr);
  for (const auto& [i386, x86_64] : kRenamed) {
    if (name == i386) name = x86_64;
  }
  const auto nr = syscalls::number_of(syscalls::Abi::kX86_64, name);
  if (!nr) return std::nullopt;
  syscalls::Call twin = call;
  twin.abi = syscalls::Abi::kX86_64;
  twin.nr = *nr;
  return twin;
}

// i386 socketcall(SYS_CONNECT or SYS_BIND, args): its address is behind a
// pointer in memory, which the network rules do not read.
bool socketcall_connects(const syscalls::Call& call) {
  constexpr uint64_t kSysBind = 2, kSysConnect = 3;
  return call.abi == syscalls::Abi::kI386 && syscalls::name_of(call.abi, call.nr) == "socketcall" &&
         (call.args[0] == kSysBind || call.args[0] == kSysConnect);
}

// Calls that do what the path and network rules are about without a path
// or an address to check: io_uring's operations (IORING_OP_OPENAT,
// IORING_OP_CONNECT...) reach the kernel without a syscall, and
// open_by_handle_at opens a file by handle.
bool bypasses_hytrace_rules(const syscalls::Call& call) {
  const std::string_view name = syscalls::name_of(call.abi, call.nr);
  return name == "io_uring_setup" || name == "open_by_handle_at";
}

bool opens(const syscalls::Call& call) {
  return call.abi == syscalls::Abi::kX86_64 &&
         (call.nr == SYS_open || call.nr == SYS_openat || call.nr == SYS_openat2 || call.nr == SYS_creat);
}

// A syscall rule's action that lets the call run, logged or not: the hytrace
// rules still decide it.
bool runs(audit::Action action) {
  return action == audit::Action::kAllow || action == audit::Action::kLog || action == audit::Action::kTrace;
}

// Writing to /proc/PID/mem of a traced task: it writes even read-only pages,
// so with it a thread could rewrite the copy of a checked path
// (FrozenArguments) between the check and the kernel's read.
bool writes_task_memory(pid_t caller, const std::string& path, uint32_t access) {
  if (!(access & audit::kAccessWrite)) return false;
  const auto normal = audit::normalized_path(path);
  if (!normal || !normal->starts_with("/proc/") || !normal->ends_with("/mem")) return false;
  std::vector<std::string_view> parts;
  for (std::string_view rest = std::string_view(*normal).substr(1); !rest.empty();) {
    const size_t slash = rest.find('/');
    parts.push_back(rest.substr(0, slash));
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  }
  // proc, PID, [task, TID,] mem
  if (parts.size() != 3 && !(parts.size() == 5 && parts[2] == "task")) return false;
  const std::string_view who = parts.size() == 5 ? parts[3] : parts[1];
  if (who == "self" || who == "thread-self") return true;
  pid_t pid = 0;
  for (char c : who) {
    if (c < '0' || c > '9' || pid > 100000000) return true;  // not a number: fail closed
    pid = pid * 10 + (c - '0');
  }
  return pid == caller || ours(pid);
}

// The task's path as hytrace must spell it to reach the same file:
// /proc/self and /proc/thread-self name the reader, so they become the
// task's own directories.
std::string as_seen_by(const Task& task, const std::string& path) {
  const auto swap = [&](std::string_view prefix, const std::string& to) -> std::optional<std::string> {
    if (path.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
    if (path.size() != prefix.size() && path[prefix.size()] != '/') return std::nullopt;
    return to + path.substr(prefix.size());
  };
  if (auto p = swap("/proc/self", fmt::format("/proc/{}", task.tgid()))) return *p;
  if (auto p = swap("/proc/thread-self", fmt::format("/proc/{}/task/{}", task.tgid(), task.tid))) return *p;
  return path;
}

// A file's identity as stat(2) follows it: what an exec must have run.
std::optional<std::pair<dev_t, ino_t>> identity(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return std::nullopt;
  return std::make_pair(st.st_dev, st.st_ino);
}

// Descriptor `fd` of the task is a /proc/PID/mem file (however its path was
// spelled: through /proc/self/root, a dirfd of /proc/self, /dev/fd...).
// Any procfs counts (a second one mounted elsewhere, in a namespace of the
// program's own). Only a name that ends as a mem file's does is looked at
// further, so no other file system is asked anything.
bool is_memory_file(pid_t tid, long fd) {
  const std::string link = fmt::format("/proc/{}/fd/{}", tid, fd);
  const std::string target = read_link(link);
  if (!target.empty() && !target.ends_with("/mem")) return false;
  struct statfs fs {};
  return statfs(link.c_str(), &fs) != 0 || fs.f_type == PROC_SUPER_MAGIC;  // unreadable: fail closed
}

std::string rule_name(uint16_t rule) {
  return rule == audit::kDefaultRule ? "defaultAction" : fmt::format("syscalls[{}]", rule);
}

}  // namespace

const AuditMode::Decision AuditMode::kNoListener{audit::Action::kErrno,
                                                "hytrace: no user-notification listener under --enforce", kNoRule};
const AuditMode::Decision AuditMode::kOffLimits{audit::Action::kErrno,
                                               "hytrace: the tracer and the traced tasks are off limits", kNoRule};
// Fail closed: the checked bytes could not be put out of the program's
// reach (no room, no sealed region), so the call does not run.
const AuditMode::Decision AuditMode::kCannotFreeze{audit::Action::kErrno, "hytrace: cannot copy the checked arguments",
                                                  kNoRule, audit::Verdict::kDeny, EAGAIN, "deny"};
// A 32-bit call whose path or address a hytrace rule is about: it cannot
// be given a copy (i386 pointers are 32-bit; the copies are above 4 GiB),
// and socketcall's address is behind another pointer. Landlock, where it
// says the rule, holds for it anyway.
const AuditMode::Decision AuditMode::kUncheckable{audit::Action::kErrno,
                                                 "hytrace: a 32-bit call that hytrace rules cannot be checked on",
                                                 kNoRule, audit::Verdict::kDeny, EACCES, "deny"};
// io_uring and open_by_handle_at under hytrace rules, unless a rule of the
// policy allows them by name: ENOSYS, so that programs fall back to the
// plain calls, which are checked (liburing and glibc do).
const AuditMode::Decision AuditMode::kBypass{audit::Action::kErrno,
                                            "hytrace: it would bypass the hytrace rules (allow it by name to let it)",
                                            kNoRule, audit::Verdict::kDeny, ENOSYS, "deny"};
// Fail closed: a relative path could not be given as the absolute one
// decided on (its directory is gone or unnamed, a chroot, or openat2's
// RESOLVE_BENEATH, IN_ROOT or NO_XDEV are about that very directory), so
// another thread could change what it names.
const AuditMode::Decision AuditMode::kCannotPin{audit::Action::kErrno,
                                               "hytrace: a relative path that cannot be given as the one checked",
                                               kNoRule, audit::Verdict::kDeny, EACCES, "deny"};

std::string_view outcome_name(Outcome outcome) {
  switch (outcome) {
    case Outcome::kAllow: return "allow";
    case Outcome::kLog: return "log";
    case Outcome::kDeny: return "deny";
    case Outcome::kTrap: return "trap";
    case Outcome::kKill: return "kill";
    case Outcome::kWouldDeny: return "would-deny";
    case Outcome::kWouldTrap: return "would-trap";
    case Outcome::kWouldKill: return "would-kill";
  }
  return "?";
}

std::vector<PathArgument> path_arguments(pid_t tid, const syscalls::Call& call, syscalls::MemoryReader& mem) {
  std::vector<PathArgument> out;
  const syscalls::SyscallInfo* info = call.abi == syscalls::Abi::kX86_64 ? syscalls::lookup(call.nr) : nullptr;
  if (!info) return out;
  for (int i = 0; i < info->nargs && i < 6; ++i) {
    if (info->args[i] != syscalls::ArgKind::kPath) continue;
    PathArgument& a = out.emplace_back();  // kept in place: one entry per path argument
    a.arg = i;
    a.raw = read_path(mem, call.args[i]);
    if (!a.raw && call.nr == SYS_utimensat && call.args[i] == 0 && static_cast<int>(call.args[0]) != AT_FDCWD) {
      // utimensat(fd, NULL, ...), futimens(3): the file behind the fd.
      a.absolute = read_link(fmt::format("/proc/{}/fd/{}", tid, static_cast<int>(call.args[0])));
      a.of_fd = !a.absolute.empty();
      continue;
    }
    if (!a.raw) continue;
    if (!a.raw->empty() && (*a.raw)[0] == '/') {
      a.absolute = *a.raw;
      continue;
    }
    const bool has_dirfd = i > 0 && info->args[i - 1] == syscalls::ArgKind::kDirFd;
    const int dirfd = has_dirfd ? static_cast<int>(call.args[i - 1]) : AT_FDCWD;
    const std::string base = dirfd == AT_FDCWD ? read_link(fmt::format("/proc/{}/cwd", tid))
                                               : read_link(fmt::format("/proc/{}/fd/{}", tid, dirfd));
    if (base.empty()) {
      a.absolute = *a.raw;  // the directory is gone: the path as given
    } else if (a.raw->empty()) {
      a.absolute = base;    // AT_EMPTY_PATH: the dirfd itself
    } else {
      a.absolute = base == "/" ? "/" + *a.raw : base + "/" + *a.raw;
      // A directory's link names it when it is reachable from hytrace's
      // root; else it reads "... (deleted)", "pipe:[N]" and the like. The
      // name means the same to the task when its root is hytrace's (no
      // chroot).
      a.joined = base[0] == '/' && !base.ends_with(" (deleted)") &&
                 read_link(fmt::format("/proc/{}/root", tid)) == "/";
    }
  }
  return out;
}

std::vector<std::string> absolute_paths(pid_t tid, const syscalls::Call& call, syscalls::MemoryReader& mem) {
  std::vector<std::string> out;
  for (PathArgument& a : path_arguments(tid, call, mem)) out.push_back(std::move(a.absolute));
  return out;
}

CallMemory read_call_memory(pid_t tid, const syscalls::Call& call, syscalls::MemoryReader& mem) {
  CallMemory out;
  out.paths = path_arguments(tid, call, mem);
  if (call.abi != syscalls::Abi::kX86_64) return out;
  if (call.nr == SYS_openat2) {
    // The kernel takes sizes from the first version's to a page (EINVAL,
    // E2BIG otherwise).
    const uint64_t size = call.args[3];
    if (size >= sizeof(open_how) && size <= FrozenArguments::kMaxCopy) {
      out.open_how.resize(size);
      if (mem.read(call.args[2], out.open_how.data(), size) != size) out.open_how.clear();
    }
  }
  std::optional<uint64_t> how_flags;  // without them, every open access counts
  if (!out.open_how.empty()) {
    open_how how{};
    std::memcpy(&how, out.open_how.data(), sizeof how);
    how_flags = how.flags;
    out.open_how_resolve = how.resolve;
  }
  out.accesses = audit::path_accesses(call.nr, std::span<const uint64_t, 6>(call.args, 6), how_flags);
  if (call.nr == SYS_connect || call.nr == SYS_bind) {
    // The kernel takes at most a sockaddr_storage (EINVAL otherwise).
    const uint64_t len = call.args[2];
    if (len > 0 && len <= 128) {
      out.sockaddr.resize(len);
      const size_t got = mem.read(call.args[1], out.sockaddr.data(), len);
      out.sockaddr.resize(got);
      out.sockaddr_short = got != len;
    }
  }
  return out;
}

AuditMode::AuditMode(Engine& engine, const audit::Policy& policy, const bpf::Program& program, Output& log,
                     AuditOptions options)
    : policy_(policy),
      program_(program),
      log_(log),
      options_(std::move(options)),
      has_hytrace_rules_(!policy.hytrace.paths.empty() || !policy.hytrace.network.empty()),
      freezing_(options_.enforce && has_hytrace_rules_),
      frozen_(engine) {}

// A rule of the policy that allows this very call by name (not merely its
// default action).
bool AuditMode::named_allow(const syscalls::Call& call) const {
  if (call.abi != syscalls::Abi::kX86_64) return false;
  for (const audit::SyscallRule& r : policy_.syscalls) {
    if (r.action == audit::Action::kAllow && std::find(r.numbers.begin(), r.numbers.end(), call.nr) != r.numbers.end()) {
      return true;
    }
  }
  return false;
}

// The policy program run on the call decides, not the stop's seccomp data:
// a filter of the program's own, installed later, returning TRACE too,
// would win the data (docs/design/audit-policy.md). nullopt: allowed.
std::optional<AuditMode::Decision> AuditMode::decision_of(const SyscallFrame& frame) const {
  bpf::SeccompInput in;
  const bool i386 = frame.call.abi == syscalls::Abi::kI386;
  in.nr = static_cast<int>(frame.call.nr | (frame.call.abi == syscalls::Abi::kX32 ? kX32Bit : 0));
  in.arch = i386 ? AUDIT_ARCH_I386 : AUDIT_ARCH_X86_64;
  in.ip = frame.ip;
  for (size_t i = 0; i < 6; ++i) in.args[i] = frame.call.args[i];
  const auto verdict = bpf::evaluate(program_, in);
  if (verdict && (*verdict & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_ALLOW) return std::nullopt;
  const auto rule = verdict && (*verdict & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_TRACE
                        ? audit::policy_rule_of(static_cast<uint16_t>(*verdict & SECCOMP_RET_DATA))
                        : std::nullopt;
  Decision d;
  if (!rule) {
    // The kernel acts on the others before any stop; reaching here means
    // the program is not what was compiled: fail closed.
    d.action = audit::Action::kErrno;
    d.rule = "the policy program (unexpected verdict)";
    d.rule_index = kNoRule;
    return d;
  }
  d.rule_index = *rule;
  if (*rule == audit::kForeignAbiRule) {
    d.action = audit::Action::kKillProcess;  // what enforcing does to it
    d.rule = "architectures";
    return d;
  }
  d.rule = rule_name(*rule);
  if (*rule == audit::kDefaultRule) {
    d.action = policy_.default_action;
    return d;
  }
  for (const audit::SyscallRule& r : policy_.syscalls) {
    if (r.index == *rule) {
      d.action = r.action;
      return d;
    }
  }
  d.action = audit::Action::kErrno;  // a rule the policy lacks: enforced_errno fails it closed
  d.rule += " (not in the policy)";
  return d;
}

// Under --enforce the call is failed (audit::enforced_errno decides with
// what) or let run; in observe mode it always runs, and the log says what
// enforcing would have done.
Outcome AuditMode::apply(const Decision& d, SyscallFrame& frame) const {
  using audit::Action;
  if (d.verdict) return apply_verdict(*d.verdict, d.error, frame);
  if (options_.enforce) {
    const auto error = audit::enforced_errno(policy_, d.rule_index);
    if (!error) return d.action == Action::kAllow ? Outcome::kAllow : Outcome::kLog;
    frame.skip = true;
    frame.result = -*error;
    return Outcome::kDeny;
  }
  switch (d.action) {
    case Action::kAllow: return Outcome::kAllow;
    case Action::kLog:
    case Action::kTrace: return Outcome::kLog;
    case Action::kTrap: return Outcome::kWouldTrap;
    case Action::kKill:
    case Action::kKillThread:
    case Action::kKillProcess: return Outcome::kWouldKill;
    case Action::kErrno:
    case Action::kNotify: break;
  }
  return Outcome::kWouldDeny;
}

Outcome AuditMode::apply_verdict(audit::Verdict verdict, int error, SyscallFrame& frame) const {
  switch (verdict) {
    case audit::Verdict::kAllow: return Outcome::kAllow;
    case audit::Verdict::kLog: return Outcome::kLog;
    case audit::Verdict::kDeny: break;
  }
  if (!options_.enforce) return Outcome::kWouldDeny;
  frame.skip = true;
  frame.result = -error;
  return Outcome::kDeny;
}

// The hytrace section's rules, decided on what the call names when it
// stops: a path made absolute, a socket address. Under --enforce the kernel
// is then given the bytes decided on (freeze). Of several paths (rename),
// the most severe verdict wins.
std::optional<AuditMode::Decision> AuditMode::hytrace_decision(pid_t tid, const syscalls::Call& call,
                                                               const CallMemory& read) const {
  std::optional<Decision> worst;
  const auto consider = [&](audit::Verdict verdict, std::string rule, int error) {
    if (worst && severity(verdict) <= severity(*worst->verdict)) return;
    Decision d;
    d.verdict = verdict;
    d.rule = std::move(rule);
    d.error = error;
    d.action_text = std::string(audit::verdict_name(verdict));
    worst = std::move(d);
  };
  const std::vector<uint32_t>& accesses = read.accesses;
  for (size_t i = 0; i < accesses.size() && i < read.paths.size(); ++i) {
    if (accesses[i] == 0) continue;
    const PathArgument& path = read.paths[i];
    if (!path.raw && !path.of_fd) {
      // Not readable at the stop: the kernel would fail it with EFAULT,
      // unless another thread maps it first. Fail closed.
      consider(audit::Verdict::kDeny, "hytrace: a path that cannot be read", EFAULT);
      continue;
    }
    if (options_.enforce && writes_task_memory(tid, path.absolute, accesses[i])) {
      consider(audit::Verdict::kDeny, "hytrace: the memory of a traced task is off limits", EACCES);
      continue;
    }
    if (const auto d = audit::decide_path(policy_.hytrace.paths, path.absolute, accesses[i])) {
      consider(d->verdict, fmt::format("hytrace.paths[{}]", d->rule_index), EACCES);
    }
  }
  if (call.nr == SYS_connect || call.nr == SYS_bind) {
    if (read.sockaddr_short) {
      consider(audit::Verdict::kDeny, "hytrace: an address that cannot be read", EFAULT);
    } else if (const auto d = audit::decide_network(policy_.hytrace.network,
                                                    call.nr == SYS_connect ? audit::NetOp::kConnect
                                                                           : audit::NetOp::kBind,
                                                    read.sockaddr)) {
      consider(d->verdict, fmt::format("hytrace.network[{}]", d->rule_index), EACCES);
    }
  }
  return worst;
}

// The checked bytes go where no task can change them, and the call reads
// them there (tracer/audit/frozen_args.hpp). A relative path that hytrace
// joined to its directory is given as the absolute path decided on, so a
// chdir or a dup2 over the dirfd in between changes nothing either; one that
// cannot be (see kCannotPin) fails. An exec's relative path stays as it is
// (a script would see its interpreter's argument change): what it ran is
// checked at its exit instead (check_exec).
const AuditMode::Decision* AuditMode::freeze(Task& task, const SyscallFrame& frame, const CallMemory& read) {
  const syscalls::Call& call = frame.call;
  const bool exec = syscalls::role_of(call.abi, call.nr) == syscalls::Role::kExec;
  const bool about_dir = (read.open_how_resolve & (RESOLVE_BENEATH | RESOLVE_IN_ROOT | RESOLVE_NO_XDEV)) != 0;
  std::vector<FrozenCopy> copies;
  for (size_t i = 0; i < read.accesses.size() && i < read.paths.size(); ++i) {
    const PathArgument& path = read.paths[i];
    if (read.accesses[i] == 0 || !path.raw) continue;
    const bool relative = !path.raw->empty() && (*path.raw)[0] != '/';
    const bool absolute = relative && path.joined && !exec && !about_dir && path.absolute.size() < PATH_MAX;
    if (relative && !absolute && (!exec || !path.joined)) return &kCannotPin;
    const std::string& text = absolute ? path.absolute : *path.raw;
    FrozenCopy& copy = copies.emplace_back();
    copy.arg = path.arg;
    copy.bytes.assign(text.begin(), text.end());
    copy.bytes.push_back('\0');
  }
  if (!read.open_how.empty()) copies.push_back({2, read.open_how});
  if (!read.sockaddr.empty()) copies.push_back({1, read.sockaddr});
  // i386 and x32 calls take 32-bit pointers, and the copies are above 4 GiB.
  if (!copies.empty() && call.abi != syscalls::Abi::kX86_64) return &kUncheckable;
  if (!copies.empty() && !frozen_.freeze(task, frame.seq, copies)) return &kCannotFreeze;
  if (exec && !read.paths.empty()) {
    const std::string& decided = read.paths[0].absolute;
    const std::string file = as_seen_by(task, audit::normalized_path(decided).value_or(decided));
    if (const auto id = identity(file)) exec_checked_[frame.seq] = {task.tid, *id};
  }
  return nullptr;
}

// At the exit of an exec whose path was checked: the program that now runs
// must be the file that was decided on, or one the exec rules allow too.
// Another thread changing the cwd, a dirfd or a symlink in between could
// have made the kernel run another; a denied one is killed before its first
// instruction. A script, or a binfmt_misc format, runs its interpreter: that
// is the program then, and the interpreter opens the script through a
// checked open.
void AuditMode::check_exec(Task& task, const SyscallFrame& frame, long result) {
  const auto it = exec_checked_.find(frame.seq);
  if (it == exec_checked_.end()) return;
  const ExecCheck checked = it->second;
  exec_checked_.erase(it);
  if (result != 0) return;
  const std::string exe_link = fmt::format("/proc/{}/exe", task.tid);
  if (identity(exe_link) == checked.file) return;
  const std::string exe = read_link(exe_link);
  const auto d = exe.empty() ? std::nullopt : audit::decide_path(policy_.hytrace.paths, exe, audit::kAccessExec);
  if (exe.empty() || (d && d->verdict == audit::Verdict::kDeny)) {
    kill_for(task, frame.seq, "hytrace: exec of another file than the one checked");
  }
}

// A write-open that ends as a /proc/PID/mem file: its path got past the
// check at entry (a spelling it could not tell). With it the program could
// rewrite the copies of checked arguments: it is killed before the
// descriptor is its own.
void AuditMode::note_write_open(const Task& task, const SyscallFrame& frame, const CallMemory& read) {
  if (opens(frame.call) && !read.accesses.empty() && (read.accesses[0] & audit::kAccessWrite)) {
    write_opens_[frame.seq] = task.tid;
  }
}

void AuditMode::check_open(Task& task, const SyscallFrame& frame, long result) {
  const auto it = write_opens_.find(frame.seq);
  if (it == write_opens_.end()) return;
  write_opens_.erase(it);
  if (result >= 0 && is_memory_file(task.tid, result)) {
    kill_for(task, frame.seq, "hytrace: the memory of a traced task is off limits");
  }
}

void AuditMode::kill_for(Task& task, uint64_t seq, const char* rule) {
  ::kill(task.tgid(), SIGKILL);
  auto it = pending_.find(seq);
  if (it == pending_.end()) {
    it = pending_.emplace(seq, Pending{}).first;
    it->second.tid = task.tid;
  }
  it->second.decision = Decision{audit::Action::kKillProcess, rule, kNoRule, audit::Verdict::kDeny, 0, "kill"};
  it->second.outcome = Outcome::kKill;
}

void AuditMode::on_syscall_enter(Task& task, SyscallFrame& frame) {
  // The launcher's exec of the program: hytrace's own code, one thread,
  // nothing to copy the path away from (and no region to copy it to).
  const bool launcher = !launched_;
  if (!launched_) {
    // Until the root execs the program, the calls are the launcher's,
    // made before the policy filter exists (installing it, say).
    if (syscalls::role_of(frame.call.abi, frame.call.nr) != syscalls::Role::kExec) return;
    launched_ = true;
  }
  const bool freezing = freezing_ && !launcher;
  FrameMemory mem(task.tid, frame.captured.get());
  auto decision = decision_of(frame);
  if (!decision && opens_listener(frame.call)) decision = kNoListener;
  if (!decision && reaches_tracer(task.tid, frame.call)) decision = kOffLimits;
  // The hytrace rules have their say over every call the syscall rules let
  // run (allowed, or logged).
  std::optional<CallMemory> read;
  if (has_hytrace_rules_ && (!decision || runs(decision->action))) {
    std::optional<Decision> own;
    if (const auto twin = x86_64_twin(frame.call)) {
      read = read_call_memory(task.tid, *twin, mem);
      own = hytrace_decision(task.tid, *twin, *read);
    } else if (options_.enforce && !policy_.hytrace.network.empty() && socketcall_connects(frame.call)) {
      own = kUncheckable;
    }
    if (options_.enforce && bypasses_hytrace_rules(frame.call) && !named_allow(frame.call)) own = kBypass;
    if (own && (!decision || own->verdict == audit::Verdict::kDeny)) decision = std::move(own);
  }
  std::optional<Outcome> outcome;
  if (decision) outcome = apply(*decision, frame);  // may fail it (frame.skip)
  // A call that runs is given the bytes that were checked.
  if (read && freezing && !frame.skip) {
    if (const Decision* failed = freeze(task, frame, *read)) {
      decision = *failed;
      outcome = apply(*failed, frame);
    } else {
      note_write_open(task, frame, *read);
    }
  }
  if (!decision && !options_.audited.shows(frame.call)) return;
  Pending& p = pending_[frame.seq];
  p.tid = task.tid;
  // Which filter sent the stop, as its data says (a filter of the
  // program's own can win the data: the decision never rests on it).
  p.stopped_by = frame.seccomp_data && audit::policy_rule_of(*frame.seccomp_data) ? "policy" : "tracer";
  p.call = syscalls::render_entry(frame.call, mem, options_.format);
  p.call.name = syscall_name(frame.call);
  if (read) {
    for (const PathArgument& a : read->paths) p.paths.push_back(a.absolute);
  } else {
    p.paths = absolute_paths(task.tid, frame.call, mem);
  }
  std::erase(p.paths, std::string());  // unreadable: no path to show
  if (decision) {
    p.decision = *decision;
    p.outcome = *outcome;
  } else {
    p.decision.rule = "allowed";
  }
  // A would-kill or would-trap call in observe mode, and an enforced one
  // the kernel did not act on, still run: the log is written at exit.
}

void AuditMode::on_syscall_exit(Task& task, const SyscallFrame& frame, long result) {
  if (freezing_) {
    const bool exec = syscalls::role_of(frame.call.abi, frame.call.nr) == syscalls::Role::kExec && result == 0;
    frozen_.thaw(task, frame.seq, !exec);
    check_exec(task, frame, result);
    check_open(task, frame, result);
    if (exec) {
      frozen_.on_exec(task);
    } else if (!Engine::is_restart_code(result)) {
      frozen_.retry(task);  // the exec's mapping met a signal: again, if still alone in its memory
    }
    if (const auto problem = frozen_.take_problem()) fmt::print(stderr, "hytrace: {}\n", *problem);
  }
  auto it = pending_.find(frame.seq);
  if (it == pending_.end()) return;
  FrameMemory mem(task.tid, frame.captured.get());
  syscalls::render_exit(it->second.call, frame.call, result, mem, options_.format);
  write(task, it->second, result);
  pending_.erase(it);
}

void AuditMode::on_exec(const Exec&) { launched_ = true; }

void AuditMode::on_signal(Task& task, SignalDelivery& delivery) {
  // SIGSYS from a TRAP rule: the kernel refused the call and raised the
  // signal; the program's handler (or death) follows as usual.
  if (delivery.info.si_signo != SIGSYS || delivery.info.si_code != 1 /* SYS_SECCOMP */) return;
  syscalls::Call call;
  call.nr = delivery.info.si_syscall;
  write_kernel_action(task.tgid(), task.tid, syscall_name(call), Outcome::kTrap);
}

void AuditMode::on_task_exiting(const TaskExiting& exiting) {
  // A task the policy kills is in that call at its exit stop.
  const std::string line = first_line(fmt::format("/proc/{}/syscall", exiting.task->tid));
  char* end = nullptr;
  const long nr = std::strtol(line.c_str(), &end, 10);
  if (end != line.c_str() && nr >= 0) {
    syscalls::Call call;
    call.nr = nr;
    last_call_[exiting.task->tid] = syscall_name(call);
  }
}

void AuditMode::on_task_exit(const TaskExit& exit) {
  const pid_t tid = exit.task->tid;
  frozen_.forget(tid);
  // What it left unfinished is gone with it.
  std::erase_if(write_opens_, [&](const auto& entry) { return entry.second == tid; });
  std::erase_if(exec_checked_, [&](const auto& entry) { return entry.second.tid == tid; });
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->second.tid != tid) {
      ++it;
      continue;
    }
    // A call that never returned (exit, a kill): logged without a result.
    it->second.call.result.assign(1, '?');
    write(*exit.task, it->second, std::nullopt);
    it = pending_.erase(it);
  }
  auto last = last_call_.find(tid);
  if (exit.status.signaled && exit.status.code == SIGSYS && options_.enforce) {
    write_kernel_action(exit.task->tgid(), tid, last != last_call_.end() ? last->second : "?", Outcome::kKill);
  }
  if (last != last_call_.end()) last_call_.erase(last);
}

void AuditMode::write_kernel_action(pid_t pid, pid_t tid, const std::string& syscall, Outcome outcome) {
  ++counts_.events;
  ++counts_.by_syscall[syscall];
  ++counts_.by_outcome[outcome];
  if (options_.json) {
    nlohmann::json j{{"v", kLogVersion}, {"time", timestamp()}, {"pid", pid},   {"tid", tid},
                     {"syscall", syscall}, {"outcome", outcome_name(outcome)}, {"by", "kernel"}};
    log_.write(j.dump() + "\n");
  } else {
    log_.write(fmt::format("{} [pid {} tid {}] {}: {} by the kernel (policy filter)\n", timestamp(), pid, tid,
                           syscall, outcome_name(outcome)));
  }
  log_.event_done();
}

void AuditMode::write(const Task& task, const Pending& p, std::optional<long> result) {
  ++counts_.events;
  ++counts_.by_syscall[p.call.name];
  ++counts_.by_outcome[p.outcome];
  const std::string comm = first_line(fmt::format("/proc/{}/comm", task.tid));
  const std::string exe = read_link(fmt::format("/proc/{}/exe", task.tid));
  const std::string action = !p.decision.action_text.empty() ? p.decision.action_text
                             : p.decision.rule == "allowed"  ? "SCMP_ACT_ALLOW"
                                                             : std::string(audit::action_name(p.decision.action));
  if (options_.json) {
    nlohmann::json j{{"v", kLogVersion}, {"time", timestamp()}, {"pid", task.tgid()}, {"tid", task.tid},
                     {"comm", comm},      {"exe", exe},          {"syscall", p.call.name}, {"args", p.call.args},
                     {"paths", p.paths},  {"action", action},    {"rule", p.decision.rule},
                     {"outcome", outcome_name(p.outcome)}, {"stopped_by", p.stopped_by}};
    if (result) {
      j["result"] = *result;
      if (p.call.is_error) j["error"] = p.call.error_name;
    }
    log_.write(j.dump() + "\n");
  } else {
    std::string paths;
    for (const std::string& path : p.paths) paths += fmt::format(" path={:?}", path);
    log_.write(fmt::format("{} [pid {} tid {} {}] {}{}: {} ({}, {})\n", timestamp(), task.tgid(), task.tid, comm,
                           syscalls::line_text(p.call), paths, outcome_name(p.outcome), action, p.decision.rule));
  }
  log_.event_done();
}

void AuditMode::on_finish() {
  if (options_.json) {
    nlohmann::json by_syscall = counts_.by_syscall;
    nlohmann::json by_outcome = nlohmann::json::object();
    for (const auto& [outcome, n] : counts_.by_outcome) by_outcome[std::string(outcome_name(outcome))] = n;
    log_.write(nlohmann::json{{"v", kLogVersion}, {"summary", {{"events", counts_.events},
                                                                {"by_syscall", by_syscall},
                                                                {"by_outcome", by_outcome}}}}
                   .dump() +
               "\n");
  } else {
    log_.write(fmt::format("audit summary: {} events\n", counts_.events));
    for (const auto& [outcome, n] : counts_.by_outcome) {
      log_.write(fmt::format("  outcome {:<24} {:>10}\n", outcome_name(outcome), n));
    }
    for (const auto& [name, n] : counts_.by_syscall) log_.write(fmt::format("  syscall {:<24} {:>10}\n", name, n));
  }
  log_.flush();
}

}  // namespace hytrace::tracer
