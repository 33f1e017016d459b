#include "tracer/audit/audit_mode.hpp"

#include <fcntl.h>
#include <sys/syscall.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <fstream>
#include <string_view>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "syscalls/catalogue.hpp"
#include "tracer/audit/policy_filter.hpp"
#include "tracer/audit/rules.hpp"
#include "tracer/captured_memory.hpp"

namespace hytrace::tracer {
namespace {

constexpr int kLogVersion = 1;  // the "v" of each JSON line: docs/guide/audit.md
constexpr long kX32Bit = 0x40000000;
// No rule of any policy: enforced_errno fails it with EPERM.
constexpr uint16_t kNoRule = audit::kMaxSyscallRules;

std::string read_link(const std::string& path) {
  char buf[PATH_MAX];
  const ssize_t n = readlink(path.c_str(), buf, sizeof buf);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
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
    case SYS_ptrace: return call.args[0] != 0 /* PTRACE_TRACEME */ && is_hytrace(static_cast<pid_t>(call.args[1]));
    case SYS_process_vm_readv:
    case SYS_process_vm_writev: return ours(static_cast<pid_t>(call.args[0]));
    case SYS_pidfd_getfd: return ours(pid_of_pidfd(caller, call.args[0]));
    default: return false;
  }
}

std::string rule_name(uint16_t rule) {
  return rule == audit::kDefaultRule ? "defaultAction" : fmt::format("syscalls[{}]", rule);
}

}  // namespace

const AuditMode::Decision AuditMode::kNoListener{audit::Action::kErrno,
                                                "hytrace: no user-notification listener under --enforce", kNoRule};
const AuditMode::Decision AuditMode::kOffLimits{audit::Action::kErrno,
                                               "hytrace: the tracer and the traced tasks are off limits", kNoRule};

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

std::vector<std::string> absolute_paths(pid_t tid, const syscalls::Call& call, syscalls::MemoryReader& mem) {
  std::vector<std::string> out;
  const syscalls::SyscallInfo* info = call.abi == syscalls::Abi::kX86_64 ? syscalls::lookup(call.nr) : nullptr;
  if (!info) return out;
  for (int i = 0; i < info->nargs && i < 6; ++i) {
    if (info->args[i] != syscalls::ArgKind::kPath) continue;
    const auto path = read_path(mem, call.args[i]);
    if (!path) {
      out.emplace_back();  // kept in place: one entry per path argument
      continue;
    }
    if (!path->empty() && (*path)[0] == '/') {
      out.push_back(*path);
      continue;
    }
    const bool has_dirfd = i > 0 && info->args[i - 1] == syscalls::ArgKind::kDirFd;
    const int dirfd = has_dirfd ? static_cast<int>(call.args[i - 1]) : AT_FDCWD;
    const std::string base = dirfd == AT_FDCWD ? read_link(fmt::format("/proc/{}/cwd", tid))
                                               : read_link(fmt::format("/proc/{}/fd/{}", tid, dirfd));
    if (base.empty()) {
      out.push_back(*path);  // the directory is gone: the path as given
    } else if (path->empty()) {
      out.push_back(base);   // AT_EMPTY_PATH: the dirfd itself
    } else {
      out.push_back(base == "/" ? "/" + *path : base + "/" + *path);
    }
  }
  return out;
}

AuditMode::AuditMode(const audit::Policy& policy, const bpf::Program& program, Output& log, AuditOptions options)
    : policy_(policy),
      program_(program),
      log_(log),
      options_(std::move(options)),
      has_hytrace_rules_(!policy.hytrace.paths.empty() || !policy.hytrace.network.empty()) {}

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
// stops: a path made absolute, a socket address. Another thread can change
// that memory before the kernel reads it (docs/design/audit-policy.md).
// Of several paths (rename), the most severe verdict wins.
std::optional<AuditMode::Decision> AuditMode::hytrace_decision(const syscalls::Call& call,
                                                               const std::vector<std::string>& paths,
                                                               syscalls::MemoryReader& mem) const {
  if (call.abi != syscalls::Abi::kX86_64) return std::nullopt;  // their numbers differ: see the notes
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
  std::optional<uint64_t> how_flags;
  if (call.nr == SYS_openat2) {
    uint64_t flags = 0;
    if (mem.read(call.args[2], &flags, sizeof flags) == sizeof flags) how_flags = flags;
  }
  const auto accesses = audit::path_accesses(call.nr, std::span<const uint64_t, 6>(call.args, 6), how_flags);
  for (size_t i = 0; i < accesses.size() && i < paths.size(); ++i) {
    if (accesses[i] == 0) continue;
    if (paths[i].empty()) {
      // Not readable at the stop: the kernel would fail it with EFAULT,
      // unless another thread maps it first. Fail closed.
      consider(audit::Verdict::kDeny, "hytrace: a path that cannot be read", EFAULT);
      continue;
    }
    if (const auto d = audit::decide_path(policy_.hytrace.paths, paths[i], accesses[i])) {
      consider(d->verdict, fmt::format("hytrace.paths[{}]", d->rule_index), EACCES);
    }
  }
  if (call.nr == SYS_connect || call.nr == SYS_bind) {
    uint8_t addr[128];
    const size_t want = std::min<uint64_t>(call.args[2], sizeof addr);
    const size_t got = mem.read(call.args[1], addr, want);
    const auto op = call.nr == SYS_connect ? audit::NetOp::kConnect : audit::NetOp::kBind;
    if (const auto d = audit::decide_network(policy_.hytrace.network, op, std::span<const uint8_t>(addr, got))) {
      consider(d->verdict, fmt::format("hytrace.network[{}]", d->rule_index), EACCES);
    }
  }
  return worst;
}

void AuditMode::on_syscall_enter(Task& task, SyscallFrame& frame) {
  if (!launched_) {
    // Until the root execs the program, the calls are the launcher's,
    // made before the policy filter exists (installing it, say).
    if (syscalls::role_of(frame.call.abi, frame.call.nr) != syscalls::Role::kExec) return;
    launched_ = true;
  }
  FrameMemory mem(task.tid, frame.captured.get());
  auto decision = decision_of(frame);
  if (!decision && opens_listener(frame.call)) decision = kNoListener;
  if (!decision && reaches_tracer(task.tid, frame.call)) decision = kOffLimits;
  std::vector<std::string> paths;
  if (!decision && has_hytrace_rules_) {
    paths = absolute_paths(task.tid, frame.call, mem);
    decision = hytrace_decision(frame.call, paths, mem);
  }
  if (!decision && !options_.audited.shows(frame.call)) return;
  Pending& p = pending_[frame.seq];
  p.tid = task.tid;
  // Which filter sent the stop, as its data says (a filter of the
  // program's own can win the data: the decision never rests on it).
  p.stopped_by = frame.seccomp_data && audit::policy_rule_of(*frame.seccomp_data) ? "policy" : "tracer";
  p.call = syscalls::render_entry(frame.call, mem, options_.format);
  p.call.name = syscall_name(frame.call);
  p.paths = paths.empty() ? absolute_paths(task.tid, frame.call, mem) : std::move(paths);
  std::erase(p.paths, std::string());  // unreadable: no path to show
  if (decision) {
    p.decision = *decision;
    p.outcome = apply(*decision, frame);
  } else {
    p.decision.rule = "allowed";
  }
  // A would-kill or would-trap call in observe mode, and an enforced one
  // the kernel did not act on, still run: the log is written at exit.
}

void AuditMode::on_syscall_exit(Task& task, const SyscallFrame& frame, long result) {
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
