#include "tracer/ptrace_emulation.hpp"

#include <elf.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/stat.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "patcher/stub/layout.h"
#include "tracer/engine.hpp"
#include "tracer/proc_maps.hpp"
#include "tracer/ptrace_x86_64.hpp"
#include "tracer/remote_memory.hpp"

namespace hytrace::tracer {
namespace {

constexpr uint64_t kSupportedOptions = PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD;
constexpr size_t kMostRegsetBytes = 16 * 1024;  // XSTATE is ~2.7 KiB on this kind of machine

// Into the inner tracer's buffers: as the kernel's copy-out would, never
// into read-only pages (hytrace's own among them).
bool put(const Task& task, uint64_t addr, const void* bytes, size_t len) {
  return RemoteMemory(task.tid).store(addr, bytes, len);
}

bool get(const Task& task, uint64_t addr, void* bytes, size_t len) {
  return RemoteMemory(task.tid).read(addr, bytes, len) == len;
}

// The kernel's answer when the tracer's buffer is bad.
long to_result(bool ok) { return ok ? 0 : -EFAULT; }

// A process that is dead and not reaped (a zombie with no thread left),
// child of `parent` (any parent when 0): its parent's tgid, else nullopt.
std::optional<pid_t> dead_child(pid_t pid, pid_t parent) {
  const auto stat = read_stat(pid);
  if (!stat || stat->state != 'Z' || (parent != 0 && stat->ppid != parent)) return std::nullopt;
  // A leader whose threads live on is a zombie too, which no wait reaps yet.
  std::error_code error;
  size_t threads = 0;
  for (auto entry = std::filesystem::directory_iterator(fmt::format("/proc/{}/task", pid), error);
       !error && entry != std::filesystem::directory_iterator(); entry.increment(error)) {
    ++threads;
  }
  if (error || threads > 1) return std::nullopt;
  return stat->ppid;
}

long kernel_ptrace(long req, pid_t tid, uint64_t addr, void* data) {
  errno = 0;
  const long r = ::ptrace(static_cast<enum __ptrace_request>(req), tid, addr, data);
  return errno != 0 ? -errno : r;
}

constexpr uint64_t kGsBaseAt = offsetof(user_regs_struct, gs_base);

// The gs base hytrace set for the stubs (Task::gs_tag) is hytrace's: an
// inner tracer reads 0 there, and writing 0 back keeps it.
uint64_t as_shown(const Task& target, uint64_t gs) { return target.has_tag(gs) ? 0 : gs; }

uint64_t as_written(const Task& target, uint64_t gs) {
  if (gs != 0) return gs;
  const uint64_t now = ptrace::gs_base(target.tid).value_or(0);
  return target.has_tag(now) ? now : 0;
}

// The gs base word of general registers laid out as user_regs_struct,
// `length` bytes of them (a regset may be cut short).
void map_gs_base(uint8_t* regs, size_t length, const std::function<uint64_t(uint64_t)>& map) {
  if (length < kGsBaseAt + sizeof(uint64_t)) return;
  uint64_t gs = 0;
  std::memcpy(&gs, regs + kGsBaseAt, sizeof gs);
  gs = map(gs);
  std::memcpy(regs + kGsBaseAt, &gs, sizeof gs);
}

// GETREGS and kin: the registers as hytrace's own ptrace reads them, copied
// to the inner tracer's buffer.
template <typename Regs>
long copy_out(const Task& caller, const Task& target, long req, uint64_t data) {
  Regs regs{};
  if (const long r = kernel_ptrace(req, target.tid, 0, &regs); r < 0) return r;
  if constexpr (std::is_same_v<Regs, user_regs_struct>) regs.gs_base = as_shown(target, regs.gs_base);
  return to_result(put(caller, data, &regs, sizeof regs));
}

template <typename Regs>
long copy_in(const Task& caller, const Task& target, long req, uint64_t data) {
  Regs regs{};
  if (!get(caller, data, &regs, sizeof regs)) return -EFAULT;
  if constexpr (std::is_same_v<Regs, user_regs_struct>) regs.gs_base = as_written(target, regs.gs_base);
  return kernel_ptrace(req, target.tid, 0, &regs);
}

// GETREGSET and SETREGSET: an iovec in the inner tracer's memory, whose
// length the kernel updates to what it wrote.
long regset(const Task& caller, const Task& target, long req, uint64_t type, uint64_t iov_addr) {
  iovec iov{};
  if (!get(caller, iov_addr, &iov, sizeof iov)) return -EFAULT;
  const uint64_t user_buffer = reinterpret_cast<uint64_t>(iov.iov_base);
  std::vector<uint8_t> bytes(std::min<size_t>(iov.iov_len, kMostRegsetBytes));
  if (req == PTRACE_SETREGSET && !get(caller, user_buffer, bytes.data(), bytes.size())) return -EFAULT;
  const bool general = type == NT_PRSTATUS;
  if (general && req == PTRACE_SETREGSET) {
    map_gs_base(bytes.data(), bytes.size(), [&](uint64_t gs) { return as_written(target, gs); });
  }
  iovec local{bytes.data(), bytes.size()};
  if (const long r = kernel_ptrace(req, target.tid, type, &local); r < 0) return r;
  if (req == PTRACE_SETREGSET) return 0;
  if (general) map_gs_base(bytes.data(), local.iov_len, [&](uint64_t gs) { return as_shown(target, gs); });
  iov.iov_len = local.iov_len;
  return to_result(put(caller, user_buffer, bytes.data(), local.iov_len) && put(caller, iov_addr, &iov, sizeof iov));
}

}  // namespace

void PtraceEmulation::on_entry(Task& caller, SyscallFrame& frame) {
  if (frame.call.abi != syscalls::Abi::kX86_64) return;
  const syscalls::Role role = syscalls::role_of(frame.call.abi, frame.call.nr);
  if (role == syscalls::Role::kWait4) return wait(caller, frame);
  if (role != syscalls::Role::kPtrace) return;
  const auto tid = static_cast<pid_t>(frame.call.args[1]);
  if (frame.call.args[0] == PTRACE_TRACEME) return;
  if (!tracees_.count(tid) && !engine_.find_task(tid)) return;  // not ours: the kernel's to answer
  frame.skip = true;
  frame.result = request(caller, frame);
}

long PtraceEmulation::request(Task& caller, const SyscallFrame& frame) {
  const long req = static_cast<long>(frame.call.args[0]);
  const auto tid = static_cast<pid_t>(frame.call.args[1]);
  const uint64_t addr = frame.call.args[2];
  const uint64_t data = frame.call.args[3];
  if (req == PTRACE_ATTACH || req == PTRACE_SEIZE) {
    Task* target = engine_.find_task(tid);
    if (!target) return -ESRCH;
    if (req == PTRACE_SEIZE && (data & ~kSupportedOptions)) return unsupported(req);
    return attach(caller, *target, req == PTRACE_SEIZE, req == PTRACE_SEIZE ? data : 0);
  }
  auto it = tracees_.find(tid);
  if (it == tracees_.end() || it->second.tracer != caller.tid) return -ESRCH;
  Tracee& tracee = it->second;
  if (req == PTRACE_KILL) {
    if (const Task* target = engine_.find_task(tid)) syscall(SYS_tgkill, target->tgid(), tid, SIGKILL);
    return 0;
  }
  // As the kernel: only a tracee in its stop. hytrace's own view decides,
  // not the flag alone: a thread that exec'd took another's tid, and that
  // task may be running.
  const Task* target = engine_.find_task(tid);
  if (!tracee.stopped || !target || !target->stopped) return -ESRCH;
  switch (req) {
    case PTRACE_CONT: return go_on(tracee, tid, data, false);
    case PTRACE_DETACH: return go_on(tracee, tid, data, true);
    default: return access(caller, tracee, tid, req, addr, data);
  }
}

long PtraceEmulation::attach(const Task& caller, Task& target, bool seize, uint64_t options) {
  // The kernel's refusals: its own thread group, an already traced task.
  if (target.tgid() == caller.tgid() || tracees_.count(target.tid)) return -EPERM;
  Tracee& tracee = tracees_[target.tid];
  tracee.tracer = caller.tid;
  tracee.options = options;
  tracee.seized = seize;
  if (!seize) syscall(SYS_tgkill, target.tgid(), target.tid, SIGSTOP);
  return 0;
}

// The requests that read or change the stopped tracee.
long PtraceEmulation::access(Task& caller, Tracee& tracee, pid_t tid, long req, uint64_t addr, uint64_t data) {
  const Task& target = *engine_.find_task(tid);  // request() found it stopped
  switch (req) {
    case PTRACE_PEEKTEXT:
    case PTRACE_PEEKDATA: {
      uint64_t word = 0;
      if (!get(target, addr, &word, sizeof word)) return -EIO;
      return to_result(put(caller, data, &word, sizeof word));
    }
    case PTRACE_PEEKUSER: {
      errno = 0;
      long word = ::ptrace(PTRACE_PEEKUSER, tid, addr, nullptr);
      if (errno != 0) return -errno;
      if (addr == kGsBaseAt) word = static_cast<long>(as_shown(target, static_cast<uint64_t>(word)));
      return to_result(put(caller, data, &word, sizeof word));
    }
    case PTRACE_POKETEXT:
    case PTRACE_POKEDATA:
      // POKETEXT writes read-only text, as the kernel's does (audit keeps
      // hytrace's own pages out of reach before this).
      return RemoteMemory(tid).write(addr, &data, sizeof data) ? 0 : -EIO;
    case PTRACE_POKEUSER:
      if (addr == kGsBaseAt) data = as_written(target, data);
      return kernel_ptrace(req, tid, addr, reinterpret_cast<void*>(data));
    case PTRACE_GETREGS: return copy_out<user_regs_struct>(caller, target, req, data);
    case PTRACE_SETREGS: return copy_in<user_regs_struct>(caller, target, req, data);
    case PTRACE_GETFPREGS: return copy_out<user_fpregs_struct>(caller, target, req, data);
    case PTRACE_SETFPREGS: return copy_in<user_fpregs_struct>(caller, target, req, data);
    case PTRACE_GETREGSET:
    case PTRACE_SETREGSET: return regset(caller, target, req, addr, data);
    case PTRACE_GETSIGINFO: return to_result(put(caller, data, &tracee.info, sizeof tracee.info));
    case PTRACE_SETSIGINFO: return to_result(get(caller, data, &tracee.info, sizeof tracee.info));
    case PTRACE_SETOPTIONS:
      if (data & ~kSupportedOptions) return unsupported(req);
      tracee.options = data;
      return 0;
    default: return unsupported(req);
  }
}

// CONT and DETACH: the tracee goes on from its signal stop, with the signal
// its tracer chose. A signal it passes on is delivered as any other, and the
// mode sees it; one it suppresses never happened, as far as the program can
// tell.
long PtraceEmulation::go_on(Tracee& tracee, pid_t tid, uint64_t sig, bool detach) {
  if (sig >= _NSIG) return -EIO;
  Task* task = engine_.find_task(tid);
  const siginfo_t info = tracee.info;
  tracee.stopped = false;
  tracee.status = 0;
  if (detach) tracees_.erase(tid);
  if (!task) return 0;
  if (sig == 0) {
    engine_.resume_task(*task, 0);
    return 0;
  }
  // The siginfo is set again, so a SETSIGINFO counts. The kernel's rule for
  // a tracer that changes the signal: it becomes a plain SI_USER one.
  SignalDelivery delivery{task, info, static_cast<int>(sig), engine_.next_seq(), true};
  if (static_cast<int>(sig) != info.si_signo) {
    delivery.info = siginfo_t{};
    delivery.info.si_signo = static_cast<int>(sig);
    delivery.info.si_code = SI_USER;
  }
  engine_.queued_.push_back(delivery);
  return 0;
}

long PtraceEmulation::unsupported(long req) {
  if (!said_unsupported_) {
    std::fprintf(stderr, "hytrace: the program's ptrace request %ld is not emulated: it fails with EIO\n", req);
    said_unsupported_ = true;
  }
  return -EIO;
}

std::optional<PtraceEmulation::Waiter> PtraceEmulation::waiter_of(const syscalls::Call& call) {
  Waiter w;
  uint64_t options = 0;
  if (call.nr == SYS_waitid) {
    const auto id = static_cast<pid_t>(call.args[1]);
    switch (call.args[0]) {
      case P_ALL: w.pid = -1; break;
      case P_PID:
        if (id <= 0) return std::nullopt;
        w.pid = id;
        break;
      case P_PGID:
        if (id < 0) return std::nullopt;  // the kernel's EINVAL
        w.pid = id == 0 ? 0 : -id;
        break;
      default: return std::nullopt;  // P_PIDFD
    }
    options = call.args[3];
    if (!(options & (WEXITED | WSTOPPED | WCONTINUED))) return std::nullopt;  // EINVAL
    w.waitid = true;
    w.info_addr = call.args[2];
    w.rusage_addr = call.args[4];
    w.keep = options & WNOWAIT;
  } else {
    w.pid = static_cast<pid_t>(call.args[0]);
    w.status_addr = call.args[1];
    options = call.args[2];
    w.rusage_addr = call.args[3];
  }
  w.own_only = options & __WNOTHREAD;
  return w;
}

// wait4 and waitid by a task with tracees.
void PtraceEmulation::wait(Task& caller, SyscallFrame& frame) {
  const auto waiter = waiter_of(frame.call);
  if (!waiter) return;
  const auto it = waiter->pid > 0 ? tracees_.find(waiter->pid) : tracees_.end();
  const bool for_tracee = it != tracees_.end() && waits_for(caller, *waiter, it->first, it->second);
  if (!for_tracee && !(waiter->pid <= 0 && has_tracees(caller, *waiter))) return;
  if (const pid_t tid = reapable(caller, *waiter)) {
    frame.skip = true;
    frame.result = reap(caller, *waiter, tid);
    return;
  }
  const uint64_t options = frame.call.args[frame.call.nr == SYS_waitid ? 3 : 2];
  if (options & WNOHANG) {
    if (!for_tracee) return;  // its own children may have something: the kernel's to say
    frame.skip = true;
    frame.result = nothing_yet(caller, *waiter);
    return;
  }
  // A real child that ended is the kernel's to report, at once.
  if (!for_tracee && kernel_has_one(caller, *waiter)) return;
  waiters_[caller.tid] = *waiter;
  caller.hold = true;
}

bool PtraceEmulation::waits_for(const Task& caller, const Waiter& waiter, pid_t tid, const Tracee& tracee) const {
  if (tracee.tracer != caller.tid) {
    const Task* tracer = waiter.own_only ? nullptr : engine_.find_task(tracee.tracer);
    if (!tracer || tracer->tgid() != caller.tgid()) return false;
  }
  if (waiter.pid > 0) return waiter.pid == tid;
  if (waiter.pid == -1) return true;
  if (waiter.pid == INT_MIN) return false;  // no such group (and no negating it)
  const pid_t group = waiter.pid == 0 ? getpgid(caller.tid) : -waiter.pid;
  return group > 0 && getpgid(tid) == group;
}

pid_t PtraceEmulation::reapable(const Task& caller, const Waiter& waiter) const {
  for (const auto& [tid, tracee] : tracees_) {
    if (tracee.status != 0 && waits_for(caller, waiter, tid, tracee)) return tid;
  }
  return 0;
}

long PtraceEmulation::reap(Task& caller, const Waiter& waiter, pid_t tid) {
  Tracee& tracee = tracees_.at(tid);
  const int status = waiter.keep ? tracee.status : std::exchange(tracee.status, 0);
  const rusage usage{};
  if (waiter.rusage_addr && !put(caller, waiter.rusage_addr, &usage, sizeof usage)) return -EFAULT;
  if (!waiter.waitid) {
    if (waiter.status_addr && !put(caller, waiter.status_addr, &status, sizeof status)) return -EFAULT;
    return tid;
  }
  // What the kernel reports of a ptrace stop (wait_task_stopped).
  siginfo_t info{};
  info.si_signo = SIGCHLD;
  info.si_code = CLD_TRAPPED;
  info.si_pid = tid;
  struct stat st {};
  info.si_uid = stat(fmt::format("/proc/{}", tid).c_str(), &st) == 0 ? st.st_uid : 0;
  info.si_status = WSTOPSIG(status);
  return waiter.info_addr && !put(caller, waiter.info_addr, &info, sizeof info) ? -EFAULT : 0;
}

// WNOHANG, and no stop to report: wait4 returns 0, waitid a cleared siginfo.
long PtraceEmulation::nothing_yet(Task& caller, const Waiter& waiter) {
  const siginfo_t none{};
  if (waiter.waitid && waiter.info_addr && !put(caller, waiter.info_addr, &none, sizeof none)) return -EFAULT;
  return 0;
}

void PtraceEmulation::wake() {
  for (auto it = waiters_.begin(); it != waiters_.end();) {
    Task* task = engine_.find_task(it->first);
    const pid_t tid = task && !task->frames.empty() ? reapable(*task, it->second) : 0;
    if (!tid) {
      ++it;
      continue;
    }
    SyscallFrame& frame = task->frames.back();
    frame.skip = true;
    frame.result = reap(*task, it->second, tid);
    it = waiters_.erase(it);
    engine_.release(*task);
  }
}

bool PtraceEmulation::on_signal_stop(Task& task, int sig, const siginfo_t& info) {
  auto it = tracees_.find(task.tid);
  if (it == tracees_.end() || it->second.stopped) return false;
  Tracee& tracee = it->second;
  tracee.stopped = true;
  tracee.info = info;
  if (tracee.exec_trap && sig == SIGTRAP) {
    tracee.exec_trap = false;
    // What the kernel's own post-exec SIGTRAP carries (send_sig, SI_USER).
    tracee.info = siginfo_t{};
    tracee.info.si_signo = SIGTRAP;
    tracee.info.si_code = SI_USER;
    tracee.info.si_pid = task.tgid();
    struct stat st {};
    tracee.info.si_uid = stat(fmt::format("/proc/{}", task.tid).c_str(), &st) == 0 ? st.st_uid : 0;
  }
  tracee.status = (sig << 8) | 0x7f;  // as WIFSTOPPED reads it
  wake();
  return true;
}

bool PtraceEmulation::on_exiting(Task& task) {
  kill_on_exit(task.tid);
  if (!waiters_.erase(task.tid)) return false;
  task.hold = false;
  return true;
}

// The kernel kills them in the tracer's exit, before its parent can reap it:
// at its PTRACE_EVENT_EXIT here, which comes earlier still.
void PtraceEmulation::kill_on_exit(pid_t tracer) {
  for (const auto& [tid, tracee] : tracees_) {
    if (tracee.tracer != tracer || !(tracee.options & PTRACE_O_EXITKILL)) continue;
    if (const Task* task = engine_.find_task(tid)) syscall(SYS_tgkill, task->tgid(), tid, SIGKILL);
  }
}

void PtraceEmulation::on_exit(const Task& task) {
  kill_on_exit(task.tid);  // a tracer whose exit event was not seen
  waiters_.erase(task.tid);
  // Its tracees go on untraced, as the kernel detaches them.
  for (auto it = tracees_.begin(); it != tracees_.end();) {
    if (it->second.tracer != task.tid) {
      ++it;
      continue;
    }
    Task* tracee = engine_.find_task(it->first);
    const bool stopped = it->second.stopped;
    it = tracees_.erase(it);
    if (tracee && stopped) engine_.resume_task(*tracee, 0);
  }
  // A tracee's death is the kernel's to report: once hytrace has reaped it,
  // the kernel tells the real parent, and a tracer that is not the parent
  // is told nothing (the kernel would tell it too: not emulated).
  tracees_.erase(task.tid);
  if (task.is_leader()) {
    if (const auto parent = dead_child(task.tid, 0)) ended_[*parent].insert(task.tid);
  }
  // Waits that were for it (by pid, or for any or a group, with no tracee
  // left to wait for, or that a real child's end answers) run in the kernel
  // now: its death, or the caller's other children, are the kernel's to report.
  for (auto w = waiters_.begin(); w != waiters_.end();) {
    Task* waiting = engine_.find_task(w->first);
    const bool for_it = w->second.pid == task.tid;
    const bool left = waiting && w->second.pid <= 0 && has_tracees(*waiting, w->second) &&
                      !kernel_has_one(*waiting, w->second);
    if (!waiting || (w->second.pid > 0 && !for_it) || (w->second.pid <= 0 && left)) {
      ++w;
      continue;
    }
    w = waiters_.erase(w);
    engine_.release(*waiting);
  }
}

void PtraceEmulation::on_exec(const Task& task, pid_t former_tid) {
  if (former_tid != task.tid) {
    // The leader is gone: as a tracee, and as a tracer (its tracees go on
    // untraced). The thread that exec'd goes on under the leader's tid, as
    // a tracee and as a tracer.
    on_exit(task);
    if (auto node = tracees_.extract(former_tid); !node.empty()) {
      node.key() = task.tid;
      tracees_.insert(std::move(node));
    }
    for (auto& [tid, tracee] : tracees_) {
      if (tracee.tracer == former_tid) tracee.tracer = task.tid;
    }
    waiters_.erase(former_tid);
  }
  const auto it = tracees_.find(task.tid);
  if (it != tracees_.end() && !it->second.seized) it->second.exec_trap_due = true;
}

void PtraceEmulation::before_return(const Task& task) {
  const auto it = tracees_.find(task.tid);
  if (it == tracees_.end() || !std::exchange(it->second.exec_trap_due, false)) return;
  it->second.exec_trap = true;
  syscall(SYS_tgkill, task.tgid(), task.tid, SIGTRAP);
}

bool PtraceEmulation::kernel_has_one(const Task& caller, const Waiter& waiter) {
  // __WNOTHREAD: only the caller's own children, which /proc does not tell
  // from its other threads'; the wait stays hytrace's.
  if (waiter.own_only) return false;
  auto it = ended_.find(caller.tgid());
  if (it == ended_.end()) return false;
  std::set<pid_t>& ended = it->second;
  bool found = false;
  for (auto pid = ended.begin(); pid != ended.end();) {
    if (!dead_child(*pid, caller.tgid())) {
      pid = ended.erase(pid);  // reaped (its pid may be another process's now)
      continue;
    }
    const pid_t group = waiter.pid == 0 ? getpgid(caller.tid) : -waiter.pid;
    found = found || waiter.pid == -1 || waiter.pid == *pid || (waiter.pid <= 0 && getpgid(*pid) == group);
    ++pid;
  }
  if (ended.empty()) ended_.erase(it);
  return found;
}

bool PtraceEmulation::has_tracees(const Task& caller, const Waiter& waiter) const {
  for (const auto& [tid, tracee] : tracees_) {
    if (waits_for(caller, waiter, tid, tracee)) return true;
  }
  return false;
}

}  // namespace hytrace::tracer
