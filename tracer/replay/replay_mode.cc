#include "tracer/replay/replay_mode.hpp"

#include <elf.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string_view>

#include <fmt/format.h>

#include "patcher/stub/layout.h"
#include "syscalls/catalogue.hpp"
#include "syscalls/format.hpp"
#include "tracer/engine.hpp"
#include "tracer/proc_maps.hpp"
#include "tracer/record/exec_facts.hpp"
#include "tracer/remote_memory.hpp"
#include "tracer/signal_text.hpp"
#include "tracer/tracefile/render.hpp"

namespace hytrace::tracer {
namespace {

using tracefile::SyscallEvent;

// What a replay runs for real: the calls that shape the process itself.
// Everything else is emulated from the recording.
bool shapes_the_process(std::string_view name) {
  static const std::set<std::string_view> kRun = {
      "mmap",          "munmap",     "mprotect",     "mremap",         "brk",
      "madvise",       "arch_prctl", "set_tid_address", "set_robust_list", "rt_sigaction",
      "rt_sigprocmask", "sigaltstack", "rt_sigreturn", "clone",         "clone3",
      "fork",          "vfork",      "execve",       "execveat",       "exit",
      "exit_group",
  };
  return kRun.count(name) != 0;
}

bool writes_output(std::string_view name) {
  return name == "write" || name == "writev" || name == "pwrite64" || name == "pwritev" || name == "pwritev2";
}

bool clone_like(std::string_view name) {
  return name == "clone" || name == "clone3" || name == "fork" || name == "vfork";
}

// A signal the kernel raises for the instruction the task just ran: the
// program cannot go on without it.
bool synchronous(const siginfo_t& info) {
  const int sig = info.si_signo;
  return info.si_code > 0 && (sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGTRAP);
}

std::string name_of(const syscalls::Call& call) {
  const std::string_view name = syscalls::name_of(call.abi, call.nr);
  return name.empty() ? fmt::format("syscall_{}", call.nr) : std::string(name);
}

// An argument that says what the call is asked to do (an operation, a
// descriptor, flags), as opposed to a value the program passes along. The
// same call with another of these is another request: a futex WAKE where
// the recording has a WAIT means the threads met in another order in user
// code, and the replay has already left the recorded run.
bool names_the_request(syscalls::ArgKind kind) {
  using K = syscalls::ArgKind;
  switch (kind) {
    case K::kFd: case K::kDirFd: case K::kOpenFlags: case K::kAtFlags: case K::kProtFlags:
    case K::kMmapFlags: case K::kSignal: case K::kSigHow: case K::kCloneFlags: case K::kWaitOptions:
    case K::kAccessMode: case K::kFcntlCmd: case K::kSockFamily: case K::kSockType: case K::kWhence:
    case K::kFutexOp: case K::kPrctlOp: case K::kIoctlCmd: case K::kArchPrctlOp: case K::kClockId:
    case K::kMadvise: case K::kRlimitRes:
      return true;
    default:
      return false;
  }
}

// Same number, but not the same request (x86-64: the ABI the catalogue
// describes argument by argument).
bool another_request(const SyscallEvent& e, const syscalls::Call& live) {
  if (e.abi != syscalls::Abi::kX86_64) return false;
  const syscalls::SyscallInfo* info = syscalls::lookup(e.nr);
  if (!info || !info->decoded) return false;
  for (size_t i = 0; i < std::min<size_t>(info->nargs, 6); ++i) {
    if (names_the_request(info->args[i]) && e.args[i] != live.args[i]) return true;
  }
  return false;
}

siginfo_t siginfo_of(const tracefile::SignalEvent& sig) {
  siginfo_t info{};
  std::memcpy(&info, sig.siginfo.data(), sizeof info);
  return info;
}

// The task takes the recorded signal, with its recorded siginfo.
void deliver_recorded(SignalDelivery& delivery, const siginfo_t& info) {
  delivery.info = info;
  delivery.set_info = true;
  delivery.deliver = info.si_signo;
}

std::string join_path(const std::string& dir, const std::string& path) {
  if (path.empty() || path[0] == '/' || dir.empty()) return path;
  return dir + "/" + path;
}

// The NUL-terminated string the kernel read at `addr`, from the recording.
std::string recorded_string(const SyscallEvent& e, uint64_t addr) {
  for (const auto& r : e.reads) {
    if (r.addr != addr) continue;
    const size_t nul = r.bytes.find('\0');
    return nul == std::string::npos ? r.bytes : r.bytes.substr(0, nul);
  }
  return {};
}

constexpr size_t kHistory = 10;

// Done with its own exit: a zombie, or gone.
bool is_zombie(pid_t tid) {
  const auto stat = read_stat(tid);
  return !stat || stat->state == 'Z' || stat->state == 'X';
}

}  // namespace

ReplayMode::ReplayMode(Engine& engine, std::vector<tracefile::Event> events, ReplayOptions options)
    : engine_(engine), events_(std::move(events)), options_(options) {
  index();
}

void ReplayMode::index() {
  std::stable_sort(events_.begin(), events_.end(), [](const auto& a, const auto& b) {
    return tracefile::seq_range(a).first < tracefile::seq_range(b).first;
  });
  for (size_t i = 0; i < events_.size(); ++i) {
    const tracefile::Event& ev = events_[i];
    if (const auto* s = std::get_if<SyscallEvent>(&ev)) {
      places_.push_back({s->entry_seq, s->tid, Kind::kEntry, i});
      if (!(s->flags & tracefile::kUnfinished)) places_.push_back({s->exit_seq, s->tid, Kind::kExit, i});
    } else if (const auto* sig = std::get_if<tracefile::SignalEvent>(&ev)) {
      places_.push_back({sig->seq, sig->tid, Kind::kSignal, i});
    } else if (const auto* r = std::get_if<tracefile::RdtscEvent>(&ev)) {
      places_.push_back({r->seq, r->tid, Kind::kInstruction, i});
    } else if (const auto* c = std::get_if<tracefile::CpuidEvent>(&ev)) {
      places_.push_back({c->seq, c->tid, Kind::kInstruction, i});
    } else if (const auto* inj = std::get_if<tracefile::InjectedEvent>(&ev)) {
      injected_[inj->tid].push_back(i);
      if (inj->nr == SYS_mmap && inj->result > 0) {
        hytrace_pages_.push_back({static_cast<uint64_t>(inj->result), static_cast<uint64_t>(inj->result) + inj->args[1]});
      }
    } else if (const auto* p = std::get_if<tracefile::ProcessEvent>(&ev)) {
      if (p->kind != tracefile::ProcessEvent::Kind::kExit) process_[p->tid].push_back(i);
      else places_.push_back({p->seq, p->tid, Kind::kTaskExit, i});
    } else if (const auto* x = std::get_if<tracefile::ExecEvent>(&ev)) {
      if (!first_exec_) first_exec_ = x;
    } else if (const auto* end = std::get_if<tracefile::EndEvent>(&ev)) {
      recorded_status_ = end->status;
    }
  }
  std::stable_sort(places_.begin(), places_.end(), [](const Place& a, const Place& b) { return a.seq < b.seq; });
  for (size_t i = 0; i < places_.size(); ++i) queues_[places_[i].rtid].push_back(i);
}

std::string ReplayMode::exec_path() const {
  for (const auto& ev : events_) {
    const auto* s = std::get_if<SyscallEvent>(&ev);
    if (!s || s->tid != first_exec_->former_tid) continue;
    if (syscalls::role_of(s->abi, s->nr) != syscalls::Role::kExec || s->result != 0) continue;
    const bool at = syscalls::name_of(s->abi, s->nr) == "execveat";
    const std::string path = recorded_string(*s, s->args[at ? 1 : 0]);
    if (!path.empty()) return path;
  }
  return first_exec_->path;
}

bool ReplayMode::complete() const { return divergence_.empty() && cursor_ == places_.size(); }

int32_t ReplayMode::recorded_tid(const Task& task) const {
  auto it = recorded_of_.find(task.tid);
  return it == recorded_of_.end() ? 0 : it->second;
}

ReplayMode::Files& ReplayMode::files_of(const Task& task) { return files_[task.tgid()]; }

const SyscallEvent& ReplayMode::syscall_at(const Place& p) const { return std::get<SyscallEvent>(events_[p.event]); }

std::string ReplayMode::recorded_text(const SyscallEvent& e) const {
  return syscalls::line_text(tracefile::render(e, {}, false).rc);
}

std::string ReplayMode::live_text(Task& task, const syscalls::Call& call) const {
  RemoteMemory memory(task.tid);
  syscalls::RenderedCall rc = syscalls::render_entry(call, memory, {});
  std::string text = rc.name + "(";
  for (size_t i = 0; i < rc.args.size(); ++i) text += (i ? ", " : "") + rc.args[i];
  return text + ")";
}

void ReplayMode::diverge(int32_t rtid, const std::string& what) {
  if (!divergence_.empty()) return;
  const uint64_t at = cursor_ < places_.size() ? places_[cursor_].seq : 0;
  divergence_ = fmt::format("replay diverged at event {} (recorded tid {}): {}", at, rtid, what);
  const std::string last = recent(rtid);
  if (!last.empty()) divergence_ += "\nthe task's last events before it:\n" + last;
  if (unordered_ > 0) {
    divergence_ += fmt::format(
        "\n(before it, {} time(s) no task went on for {} ms and the tasks held between their events ran out of "
        "the recorded order: see \"Code between syscalls\" in docs/guide/replay.md)",
        unordered_, kIdleStep.count());
  }
  engine_.stop();
}

std::string ReplayMode::recent(int32_t rtid) const {
  auto it = history_.find(rtid);
  if (it == history_.end()) return {};
  std::string out;
  for (const std::string& line : it->second) out += "  " + line + "\n";
  if (!out.empty()) out.pop_back();
  return out;
}

// The task's next place must be of `kind`; else the replay has diverged.
const ReplayMode::Place* ReplayMode::expect(Task& task, Kind kind, const std::string& live) {
  if (!divergence_.empty()) return nullptr;
  if (recorded_of_.empty()) {  // the root's first event: it is the recording's first task
    const int32_t root = places_.empty() ? task.tid : places_.front().rtid;
    recorded_of_[task.tid] = root;
    live_of_[root] = task.tid;
    threads_[task.tgid()] = 1;
  }
  const int32_t rtid = recorded_tid(task);
  auto queue = queues_.find(rtid);
  if (rtid == 0 || queue == queues_.end() || queue->second.empty()) {
    diverge(rtid, fmt::format("the recording has nothing more for this task, which did: {}", live));
    return nullptr;
  }
  const Place& p = places_[queue->second.front()];
  if (p.kind == kind) return &p;
  std::string expected;
  if (p.kind == Kind::kEntry || p.kind == Kind::kExit) {
    expected = recorded_text(syscall_at(p));
  } else if (p.kind == Kind::kSignal) {
    expected = "a signal";
  } else if (p.kind == Kind::kTaskExit) {
    expected = "its end";
  } else {
    expected = "an rdtsc or cpuid";
  }
  diverge(rtid, fmt::format("expected {}\n  got      {}", expected, live));
  return nullptr;
}

// A task at the place of the order goes on; one that is early waits.
void ReplayMode::hold_or_go(Task& task, const Place& place) {
  settle_leaders();
  const auto index = static_cast<size_t>(&place - places_.data());
  if (index == cursor_) {
    done(task, place);
    task.hold = hold_between(task, place);
    arm_async(task);
    return;
  }
  task.hold = true;
  waiting_[index] = &task;
  check_stuck();
}

// The code between two of a task's events runs in the recorded order too:
// a task whose place is done waits in that stop until its next place is
// the order's next. So only one task runs user code at a time, and threads
// that meet in user space (a pthread barrier's counter, a lock word) meet
// in the recorded order, which the emulated futex results depend on. Not
// after an entry: the call itself must run (a clone makes the task the
// order waits for next), and an emulated one stops again at its exit.
bool ReplayMode::hold_between(Task& task, const Place& place) {
  if (place.kind == Kind::kEntry || place.kind == Kind::kTaskExit || parked_.count(task.tid)) return false;
  const auto& queue = queues_[place.rtid];
  if (queue.empty() || queue.front() == cursor_ || !divergence_.empty()) return false;
  between_[task.tid] = &task;
  return true;
}

// A signal that interrupted user code is delivered where it did: an
// execution breakpoint at the recorded instruction, and the signal at the
// first hit whose registers and stack page are the recorded ones (a loop
// passes there many times). Only for a task stopped now: held between its
// places, or `stopped`, the one whose stop is being handled; false when it
// cannot be armed, and the signal then comes at the task's next stop.
bool ReplayMode::arm_breakpoint(pid_t tid, const Place& p, Task* stopped) {
  const auto& sig = std::get<tracefile::SignalEvent>(events_[p.event]);
  // In hytrace's own pages when recording (a stub, around the call it
  // served): the replay has no stub there. It comes at the next stop: the
  // served call's exit (signal_before_exit), or the previous call's.
  if (in_hytrace_pages(p)) return false;
  Task* task = take_between(p);
  const bool held = task != nullptr;
  if (!task && stopped && stopped->tid == tid) task = stopped;
  if (!task) return false;
  if (!engine_.set_breakpoint(*task, sig.ip)) {
    if (held) between_[task->tid] = task;
    return false;
  }
  armed_[task->tid] = static_cast<size_t>(&p - places_.data());
  breakpoint_passes_ = 0;
  if (held) engine_.release(*task);
  return true;
}

// The breakpoint's task is where the recorded signal interrupted it: the
// same registers and the same live stack (live_stack_hash). Not compared: the resume flag (the breakpoint sets it), orig_rax, and rcx and
// r11, which the syscall instruction clobbers: after a call that a stub
// served when recording they held the stub's values, here the kernel's.
bool ReplayMode::at_recorded_state(Task& task, const tracefile::SignalEvent& sig) {
  const auto regs = engine_.registers(task);
  if (!regs) return false;
  std::array<uint64_t, tracefile::kUserRegs> live{};
  static_assert(sizeof *regs == sizeof live);
  std::memcpy(live.data(), &*regs, sizeof live);
  constexpr size_t kOrigRax = offsetof(user_regs_struct, orig_rax) / sizeof(uint64_t);
  constexpr size_t kFlags = offsetof(user_regs_struct, eflags) / sizeof(uint64_t);
  constexpr uint64_t kResumeFlag = 1u << 16;
  constexpr size_t kRcx = offsetof(user_regs_struct, rcx) / sizeof(uint64_t);
  constexpr size_t kR11 = offsetof(user_regs_struct, r11) / sizeof(uint64_t);
  constexpr size_t kGsBase = offsetof(user_regs_struct, gs_base) / sizeof(uint64_t);
  for (size_t i = 0; i < live.size(); ++i) {
    if (i == kOrigRax || i == kRcx || i == kR11) continue;
    // The recorder's tid tag for the stubs (patcher/stub/layout.h), not the program's.
    if (i == kGsBase && sig.regs[i] == HYTRACE_GS_TID(sig.tid)) continue;
    const uint64_t mask = i == kFlags ? ~kResumeFlag : ~uint64_t{0};
    if ((live[i] & mask) != (sig.regs[i] & mask)) return false;
  }
  return live_stack_hash(task.tid, regs->rsp) == sig.stack_hash;
}

// A SIGTRAP of the breakpoint armed for `task`: the recorded signal goes in
// its place when this is the recorded moment; else the task goes on.
bool ReplayMode::breakpoint_hit(Task& task, SignalDelivery& delivery) {
  auto armed = armed_.find(task.tid);
  if (armed == armed_.end() || delivery.info.si_signo != SIGTRAP) return false;
  const Place& p = places_[armed->second];
  const auto& sig = std::get<tracefile::SignalEvent>(events_[p.event]);
  // The kernel says TRAP_BRKPT, as for an INT1, when the debug status
  // register read 0 at the trap (seen on this VM, about once in 300
  // replays of sigchld_user_code): the breakpoint's all the same when it is
  // at the armed address.
  const bool ours = delivery.info.si_code == TRAP_HWBKPT ||
                    (delivery.info.si_code == TRAP_BRKPT && reinterpret_cast<uint64_t>(delivery.info.si_addr) == sig.ip);
  if (!ours) return false;
  delivery.deliver = 0;
  const siginfo_t info = siginfo_of(sig);
  if (!at_recorded_state(task, sig)) {
    if (++breakpoint_passes_ >= kMostBreakpointPasses) {
      diverge(p.rtid, fmt::format("the instruction at {:#x} where the recording has {} was passed {} times, never "
                                  "with the recorded registers and stack",
                                  sig.ip, syscalls::signal_name(info.si_signo), breakpoint_passes_));
    }
    return true;
  }
  disarm(task);
  deliver_recorded(delivery, info);
  hold_or_go(task, p);
  return true;
}

void ReplayMode::disarm(Task& task) {
  if (!armed_.erase(task.tid)) return;
  breakpoint_passes_ = 0;
  engine_.set_breakpoint(task, 0);
}

// An in-user-code signal the order has passed for this task is sent as it
// goes on from its stop: it is delivered at its next stop.
void ReplayMode::arm_async(Task& task) {
  auto async = async_.find(task.tid);
  if (async == async_.end() || !async->second || task.inject_signal != 0) return;
  task.inject_signal = siginfo_of(*async->second).si_signo;
}

// A task held between its places whose next place is the order's next.
Task* ReplayMode::take_between(const Place& next) {
  auto live = live_of_.find(next.rtid);
  if (live == live_of_.end()) return nullptr;
  auto held = between_.find(live->second);
  if (held == between_.end()) return nullptr;
  Task* task = held->second;
  between_.erase(held);
  return task;
}

// Called after each kIdleStep with no event. A task held between its places
// may be what the running one spins on in user code (a lock word, a flag
// with no futex): the held ones go on, unordered up to their next places,
// which they wait at as ever. Only when nothing is held that way and the
// order has not moved for kIdleSeconds is the replay stuck.
void ReplayMode::idle() {
  if (!divergence_.empty() || cursor_ >= places_.size()) return;
  const size_t before = cursor_;
  settle_leaders();
  if (cursor_ != before) return;
  if (!between_.empty()) {
    for (auto& [tid, task] : std::exchange(between_, {})) engine_.release(*task);
    ++unordered_;
    return;
  }
  if (cursor_ != idle_cursor_) {
    idle_cursor_ = cursor_;
    idle_steps_ = 0;
  }
  if (++idle_steps_ * kIdleStep < std::chrono::seconds(kIdleSeconds)) return;
  const Place& next = places_[cursor_];
  diverge(next.rtid, fmt::format("no task went on for {} s: recorded task {} never reached its event {}",
                                 kIdleSeconds, next.rtid, next.seq));
}

// Every task waits for its turn or is ending, and the one whose turn it is
// will never come: the replay cannot go on.
void ReplayMode::check_stuck() {
  if (!divergence_.empty() || cursor_ >= places_.size() || waiting_.empty()) return;
  // An ending task's reaping moves the order on by itself.
  for (const auto& [tid, at] : reaped_at_) {
    if (!waiting_.count(at)) return;
  }
  if (engine_.runnable_tasks() > 0 || !killed_.empty()) return;  // a kill_parked death moves it on
  {
    const Place& next = places_[cursor_];
    std::string who;
    for (const auto& [at, held] : waiting_) who += fmt::format(", {} at {}", recorded_tid(*held), places_[at].seq);
    diverge(next.rtid, fmt::format("every task waits (recorded tasks{}; {} in calls that never returned), and "
                                   "recorded task {} never reached its event {}",
                                   who, parked_.size(), next.rtid, next.seq));
  }
}

void ReplayMode::done(Task& task, const Place& place) {
  auto& queue = queues_[place.rtid];
  if (!queue.empty()) queue.pop_front();
  auto& history = history_[place.rtid];
  if (place.kind == Kind::kExit) history.push_back(recorded_text(syscall_at(place)));
  if (place.kind == Kind::kSignal) history.push_back("--- signal ---");
  if (history.size() > kHistory) history.pop_front();
  ++cursor_;
  release_next(&task);
}

// The order moved on: a task waiting at the new place goes; an in-user-code
// signal at it is armed on a breakpoint (arm_breakpoint), or else sent to
// its task now, to be delivered at that task's next stop.
void ReplayMode::release_next(Task* stopped) {
  while (cursor_ < places_.size() && divergence_.empty()) {
    if (happened_.erase(cursor_)) {
      ++cursor_;
      continue;
    }
    const Place& p = places_[cursor_];
    if (p.kind == Kind::kSignal) {
      const auto& sig = std::get<tracefile::SignalEvent>(events_[p.event]);
      auto live = live_of_.find(p.rtid);
      // Not when the task waits here: a live signal stood for it (on_signal).
      if (sig.where == tracefile::SignalEvent::Where::kInUserCode && live != live_of_.end() &&
          !waiting_.count(cursor_)) {
        if (arm_breakpoint(live->second, p, stopped)) return;  // delivered when the task is there
        async_[live->second] = &sig;
        queues_[p.rtid].pop_front();
        ++cursor_;
        pending_async_.insert(live->second);  // sent as the task next goes on (arm_async)
        if (auto held = stub_held_.find(live->second); held != stub_held_.end()) {
          const auto [task, call] = held->second;
          stub_held_.erase(held);
          if (call) undo_for_handler(*task, *call);
          else arm_async(*task);
          engine_.release(*task);
        }
        continue;
      }
    }
    if (p.kind == Kind::kTaskExit) kill_parked(p);
    auto waiting = waiting_.find(cursor_);
    if (waiting == waiting_.end()) {
      if (Task* task = take_between(p)) {  // it runs up to its place
        arm_async(*task);
        engine_.release(*task);
      }
      return;
    }
    Task* task = waiting->second;
    waiting_.erase(waiting);
    if (p.kind == Kind::kTaskExit && reaped_at_.count(task->tid)) {
      if (!end_in_turn(*task, p)) engine_.release(*task);
      return;  // the order moves on when it is reaped
    }
    done(*task, p);
    arm_async(*task);
    if (!parked_.count(task->tid) && !hold_between(*task, p)) engine_.release(*task);
    return;  // done() released the ones after it
  }
}

bool ReplayMode::killed_by_sigkill(const Place& p) const {
  if (p.kind != Kind::kTaskExit) return false;
  const auto& end = std::get<tracefile::ProcessEvent>(events_[p.event]);
  return WIFSIGNALED(end.status) && WTERMSIG(end.status) == SIGKILL;
}

// The recording saw this task killed by SIGKILL in a call that never
// returned. What killed it is not made again here (another task's kill is
// emulated; hytrace itself killed it for a tracer's PTRACE_O_EXITKILL), so
// the replay kills it, in its turn.
void ReplayMode::kill_parked(const Place& p) {
  if (!killed_by_sigkill(p)) return;
  auto live = live_of_.find(p.rtid);
  if (live == live_of_.end() || !parked_.count(live->second)) return;
  const Task* task = engine_.find_task(live->second);
  if (task && killed_.insert(task->tid).second) syscall(SYS_tgkill, task->tgid(), task->tid, SIGKILL);
}

// A SIGKILL from elsewhere lands anywhere, even before the task's first
// call: the task waits at the call it reached for its turn to be killed.
// Not a call a stub served: it has run already (that case diverges).
bool ReplayMode::killed_before(Task& task, const SyscallFrame& frame) {
  if (frame.buffered) return false;
  const auto queue = queues_.find(recorded_tid(task));
  if (queue == queues_.end() || queue->second.empty()) return false;
  const Place& p = places_[queue->second.front()];
  if (!killed_by_sigkill(p)) return false;
  parked_.insert(task.tid);
  task.hold = true;
  if (queue->second.front() == cursor_) kill_parked(p);
  return true;
}

bool ReplayMode::runs_for_real(const SyscallEvent& e) const {
  return shapes_the_process(syscalls::name_of(e.abi, e.nr));
}

bool ReplayMode::result_matches(const SyscallEvent& e, long live) const {
  const std::string_view name = syscalls::name_of(e.abi, e.nr);
  if (clone_like(name)) return (live > 0) == (e.result > 0) || (live == 0 && e.result == 0);
  if (name == "rt_sigreturn") return true;     // the interrupted context's rax
  if (name == "set_tid_address") return true;  // the caller's tid: the recorded one is given
  return live == e.result;
}

void ReplayMode::on_syscall_enter(Task& task, SyscallFrame& frame) {
  // The kernel makes again a call that ran for real and was interrupted
  // here but not in the recording: it is still the same recorded call.
  if (restarting_.erase(task.tid) && entered_.count(task.tid)) return;
  // The call made again once the signal was delivered (signal_before_exit).
  if (auto redo = redo_.find(task.tid); redo != redo_.end() && is_redo(task, frame, redo->second)) {
    const SyscallEvent& e = syscall_at(places_[redo->second.entry]);
    entered_[task.tid] = redo->second.entry;
    redo_.erase(redo);
    frame.skip = true;
    frame.result = e.result;
    return;
  }
  if (killed_before(task, frame)) return;
  const std::string live = live_text(task, frame.call);
  const Place* p = expect(task, Kind::kEntry, live);
  if (!p) return;
  const SyscallEvent& e = syscall_at(*p);
  if (e.nr != frame.call.nr || e.abi != frame.call.abi || another_request(e, frame.call)) {
    diverge(p->rtid, fmt::format("expected {}\n  got      {}", recorded_text(e), live));
    return;
  }
  entered_[task.tid] = static_cast<size_t>(p - places_.data());
  if (!uncleared_.empty()) let_uncleared_go(entered_[task.tid]);
  const std::string name = name_of(frame.call);
  const bool output =
      writes_output(name) && files_of(task).output.count(static_cast<int64_t>(e.args[0])) && !options_.quiet;
  // A call the recording saw interrupted (a fork cut short by SIGCHLD) did
  // nothing: it is emulated, and restarted as it was.
  const bool interrupted = Engine::is_restart_code(e.result);
  if ((e.flags & tracefile::kUnfinished) && left_by_signal(*p)) {
    frame.skip = true;
    frame.result = -EINTR;
    left_.insert(task.tid);
  } else if ((runs_for_real(e) || output) && !interrupted) {
    if (name == "mmap" && !(e.args[3] & MAP_ANONYMOUS) && e.result >= 0) emulate_file_mapping(task, frame, e);
  } else if (e.flags & tracefile::kUnfinished) {
    // The recorded call never returned (its task was killed in it, or exec
    // by another thread ended it): the task waits there until the same
    // happens.
    parked_.insert(task.tid);
    hold_or_go(task, *p);  // in its turn, like any other
    task.hold = true;
    return;
  } else {
    frame.skip = true;
    frame.result = e.result;
  }
  hold_or_go(task, *p);
}

// The recorded descriptor does not exist here: the mapping is made
// anonymous at the recorded address and filled from the file at exit.
void ReplayMode::emulate_file_mapping(Task& task, SyscallFrame&, const SyscallEvent& e) {
  const uint64_t flags = (e.args[3] & ~uint64_t{MAP_SHARED | MAP_SHARED_VALIDATE | MAP_FIXED_NOREPLACE}) |
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED;
  engine_.set_syscall_arg(task, 0, static_cast<uint64_t>(e.result));
  engine_.set_syscall_arg(task, 3, flags);
  engine_.set_syscall_arg(task, 4, static_cast<uint64_t>(-1));
  engine_.set_syscall_arg(task, 5, 0);
}

void ReplayMode::fill_file_mapping(Task& task, const SyscallEvent& e) {
  const Files& files = files_of(task);
  auto path = files.paths.find(static_cast<int64_t>(e.args[4]));
  if (path == files.paths.end()) {
    diverge(recorded_tid(task), fmt::format("mmap of descriptor {}, whose file the recording does not name",
                                            e.args[4]));
    return;
  }
  std::ifstream in(path->second, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(e.args[5]));
  std::string bytes(e.args[1], '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  const auto got = static_cast<size_t>(std::max<std::streamsize>(0, in.gcount()));
  if (got > 0) engine_.write_memory(task, static_cast<uint64_t>(e.result), bytes.data(), got);
}

void ReplayMode::track_files(Task& task, const SyscallEvent& e) {
  const std::string_view name = syscalls::name_of(e.abi, e.nr);
  Files& files = files_of(task);
  if (e.result < 0) return;
  track_output(files, name, e);
  const std::string cwd = first_exec_ ? first_exec_->cwd : "";
  if (name == "openat" || name == "openat2") {
    files.paths[e.result] = join_path(cwd, recorded_string(e, e.args[1]));
  } else if (name == "open" || name == "creat") {
    files.paths[e.result] = join_path(cwd, recorded_string(e, e.args[0]));
  } else if (name == "close") {
    files.paths.erase(static_cast<int64_t>(e.args[0]));
  } else if (name == "dup" || name == "dup2" || name == "dup3" || name == "fcntl") {
    if (name == "fcntl" && e.args[1] != F_DUPFD && e.args[1] != F_DUPFD_CLOEXEC) return;
    auto from = files.paths.find(static_cast<int64_t>(e.args[0]));
    if (from != files.paths.end()) files.paths[e.result] = from->second;
  }
}

// Which descriptors are still stdout and stderr: closing one, or a dup2 over
// it, ends that; a dup of one is one too. Any other new descriptor is not.
void ReplayMode::track_output(Files& files, std::string_view name, const SyscallEvent& e) {
  const auto fd = static_cast<int64_t>(e.args[0]);
  if (name == "close") {
    files.output.erase(fd);
  } else if (name == "dup2" || name == "dup3") {
    const bool was_output = files.output.count(fd) != 0;
    files.output.erase(static_cast<int64_t>(e.args[1]));
    if (was_output) files.output.insert(static_cast<int64_t>(e.args[1]));
  } else if (name == "dup" || (name == "fcntl" && (e.args[1] == F_DUPFD || e.args[1] == F_DUPFD_CLOEXEC))) {
    if (files.output.count(fd)) files.output.insert(e.result);
  }
}

void ReplayMode::write_outputs(Task& task, const SyscallEvent& e) {
  for (const auto& range : e.writes) {
    if (!range.bytes.empty()) engine_.write_memory(task, range.addr, range.bytes.data(), range.bytes.size());
  }
  write_poke(task, e);
}

// A recorded PTRACE_POKETEXT or POKEDATA wrote a word into its tracee (the
// engine served it: tracer/ptrace_emulation.hpp): the replay writes it too.
void ReplayMode::write_poke(const Task& task, const SyscallEvent& e) {
  const bool poke = e.abi == syscalls::Abi::kX86_64 && syscalls::role_of(e.abi, e.nr) == syscalls::Role::kPtrace &&
                    (e.args[0] == PTRACE_POKETEXT || e.args[0] == PTRACE_POKEDATA);
  if (!poke || e.result != 0) return;
  auto live = live_of_.find(static_cast<pid_t>(e.args[1]));
  Task* tracee = live == live_of_.end() ? nullptr : engine_.find_task(live->second);
  if (!tracee || tracee->tgid() == task.tgid()) return;
  const uint64_t word = e.args[3];
  engine_.write_memory(*tracee, e.args[2], &word, sizeof word);
}

// A signal recorded at this event is sent as the task goes on from it.
void ReplayMode::arm_signal_after(Task& task, uint64_t seq) {
  const auto& queue = queues_[recorded_tid(task)];
  if (queue.size() < 2) return;
  const Place& next = places_[queue[1]];
  if (next.kind != Kind::kSignal) return;
  const auto& sig = std::get<tracefile::SignalEvent>(events_[next.event]);
  if (sig.where != tracefile::SignalEvent::Where::kAtEvent || sig.at_seq != seq) return;
  task.inject_signal = siginfo_of(sig).si_signo;
}

void ReplayMode::on_syscall_exit(Task& task, const SyscallFrame& frame, long result) {
  if (left_for_signal(task)) return;
  if (signal_before_exit(task, frame, result)) return;
  const Place* p = expect(task, Kind::kExit, live_text(task, frame.call) + fmt::format(" = {}", result));
  if (!p) return;
  auto entered = entered_.find(task.tid);
  if (entered == entered_.end() || places_[entered->second].event != p->event) {
    diverge(p->rtid, "a syscall returned that the recording has not entered");
    return;
  }
  const SyscallEvent& e = syscall_at(*p);
  const std::string name = name_of(frame.call);
  const bool real = runs_for_real(e) && !frame.skip;
  if (real && Engine::is_restart_code(result) && !Engine::is_restart_code(e.result)) {
    // A signal of the replay's own kernel (a real child's SIGCHLD)
    // interrupted it; the kernel restarts it, and its real end comes later.
    restarting_.insert(task.tid);
    return;
  }
  entered_.erase(entered);
  if (real && !result_matches(e, result)) {
    diverge(p->rtid, fmt::format("{} returned {} here; the recording says\n  {}", name, result, recorded_text(e)));
    return;
  }
  // Clone's tid, output writes; not rt_sigreturn's, the restored context's
  // rax (a call undone for its signal must be made again: undo_for_handler).
  const bool sigreturn = syscalls::role_of(e.abi, e.nr) == syscalls::Role::kSigreturn;
  if (!frame.skip && result != e.result && !sigreturn) engine_.set_syscall_result(task, e.result);
  if (real && name == "mmap" && !(e.args[3] & MAP_ANONYMOUS) && e.result >= 0) fill_file_mapping(task, e);
  write_outputs(task, e);
  track_files(task, e);
  arm_signal_after(task, e.exit_seq);
  if (frame.skip && Engine::is_restart_code(e.result) && task.inject_signal == 0) {
    // Interrupted without a handler to run (the recorder's own stop, a
    // stop signal): the kernel made the call again; so does the replay.
    engine_.restart_syscall(task, e.result == -516 ? SYS_restart_syscall : frame.call.nr);
  }
  make_injected_mappings(task);
  hold_or_go(task, *p);
  if (auto remap = remap_after_exit_.find(task.tid); remap != remap_after_exit_.end()) {
    recorded_of_[task.tid] = remap->second;
    live_of_[remap->second] = task.tid;
    remap_after_exit_.erase(remap);
  }
}

// When recording, a signal interrupted the stub that served this call, and
// was delivered (its handler run, if it has one) before the call's exit had
// its place: the order has the signal (and the handler's calls) between the
// call's entry and its exit. The call is undone at this exit, the signal
// delivered, and the call made again once the task is back at it, as the
// kernel restarts a call that a signal interrupted; that second entry is
// the same recorded call, emulated. A call that ran for real (an output
// write, an mmap) is undone only once its result matched: it is not run
// twice. A file mapping is not undone: its contents are filled at its exit.
bool ReplayMode::signal_before_exit(Task& task, const SyscallFrame& frame, long result) {
  auto entered = entered_.find(task.tid);
  const auto& queue = queues_[recorded_tid(task)];
  if (entered == entered_.end() || queue.empty()) return false;
  const Place& next = places_[queue.front()];
  const bool signal_next = next.kind == Kind::kSignal && in_hytrace_pages(next);
  const bool signal_passed = pending_async_.count(task.tid) != 0 &&
                             !(next.kind == Kind::kExit && next.event == places_[entered->second].event);
  if (!signal_next && !signal_passed) return false;
  if (!frame.skip) {  // only for the signal next in its task's order: the call is surely the one it hit
    if (!signal_next) return false;
    const SyscallEvent& e = syscall_at(places_[entered->second]);
    const bool file_mapping = name_of(frame.call) == "mmap" && !(e.args[3] & MAP_ANONYMOUS);
    if (file_mapping || !result_matches(e, result)) return false;  // on_syscall_exit decides
  }
  if (signal_next) {  // its turn has not come yet
    stub_held_[task.tid] = {&task, frame.call};
    task.hold = true;
    return true;
  }
  return undo_for_handler(task, frame.call);
}

// The call is made again after the signal: this exit becomes the syscall
// instruction again, the signal goes in, and the second entry is the same
// recorded call (on_syscall_enter).
bool ReplayMode::undo_for_handler(Task& task, const syscalls::Call& call) {
  auto entered = entered_.find(task.tid);
  if (entered == entered_.end()) return false;
  const auto regs = engine_.registers(task);
  if (!regs || !engine_.restart_syscall(task, call.nr)) return false;
  redo_[task.tid] = {entered->second, regs->rip, regs->rsp, call};
  entered_.erase(entered);
  arm_async(task);
  return true;
}

// The undone call's second entry: the task is back at it with the stack it
// had (a handler's own calls run on the handler's frame, below it; a signal
// with no handler brings it straight back).
bool ReplayMode::is_redo(Task& task, const SyscallFrame& frame, const Redo& redo) {
  const syscalls::Call& call = redo.call;
  if (frame.ip != redo.ip || frame.call.nr != call.nr || frame.call.abi != call.abi) return false;
  if (!std::equal(std::begin(frame.call.args), std::end(frame.call.args), std::begin(call.args))) return false;
  const auto regs = engine_.registers(task);
  return regs && regs->rsp == redo.sp;
}

// A call that never returned, and its task went on with a signal that
// landed in the stub serving it: the handler left the call (siglongjmp).
// (A handler that returned, with the call then cut short by another
// thread's exit, is taken for one too: the program sees -EINTR, and the
// replay reports where it then differs.)
bool ReplayMode::left_by_signal(const Place& entry) const {
  const auto& queue = queues_.at(entry.rtid);
  return queue.size() >= 2 && &places_[queue[0]] == &entry && places_[queue[1]].kind == Kind::kSignal &&
         in_hytrace_pages(places_[queue[1]]);
}

// Such a call is emulated as interrupted (-EINTR), and has no exit place:
// the signal goes in at this exit, in its turn; its handler leaves again.
bool ReplayMode::left_for_signal(Task& task) {
  if (!left_.erase(task.tid)) return false;
  entered_.erase(task.tid);
  const auto& queue = queues_[recorded_tid(task)];
  if (!queue.empty() && places_[queue.front()].kind == Kind::kSignal && in_hytrace_pages(places_[queue.front()])) {
    stub_held_[task.tid] = {&task, std::nullopt};  // nothing to undo
    task.hold = true;
    return true;
  }
  arm_async(task);
  return true;
}

bool ReplayMode::in_hytrace_pages(const Place& p) const {
  const auto* sig = std::get_if<tracefile::SignalEvent>(&events_[p.event]);
  if (!sig || sig->where != tracefile::SignalEvent::Where::kInUserCode) return false;
  for (const auto& [start, end] : hytrace_pages_) {
    if (sig->ip >= start && sig->ip < end) return true;
  }
  return false;
}

// The pages hytrace mapped while recording (gate, buffer, stub pages) moved
// the program's later mappings: the replay maps placeholders at the same
// addresses, after the same event, so every later address is the recorded
// one.
void ReplayMode::make_injected_mappings(Task& task) {
  const int32_t rtid = recorded_tid(task);
  auto& mine = injected_[rtid];
  const auto& queue = queues_[rtid];
  const uint64_t before = queue.size() >= 2 ? places_[queue[1]].seq : UINT64_MAX;
  while (!mine.empty()) {
    const auto& inj = std::get<tracefile::InjectedEvent>(events_[mine.front()]);
    if (inj.entry_seq > before) return;
    mine.pop_front();
    if (inj.nr != SYS_mmap || inj.result < 0) continue;
    // MAP_FIXED when recording replaced hytrace's own pages (a fork child's
    // new buffer over its copy of the parent's): so does the placeholder.
    const uint64_t fixed = (inj.args[3] & MAP_FIXED) ? MAP_FIXED : MAP_FIXED_NOREPLACE;
    const long got = engine_.inject_syscall(
        task, SYS_mmap,
        {static_cast<uint64_t>(inj.result), inj.args[1], PROT_NONE,
         MAP_PRIVATE | MAP_ANONYMOUS | fixed | MAP_NORESERVE, static_cast<uint64_t>(-1), 0})
                         .value_or(-EINTR);
    if (got != inj.result) {
      diverge(rtid, fmt::format("cannot map hytrace's recorded pages at {:#x} again ({})",
                                static_cast<uint64_t>(inj.result), got));
      return;
    }
  }
}

void ReplayMode::on_signal(Task& task, SignalDelivery& delivery) {
  if (!divergence_.empty()) return;
  if (breakpoint_hit(task, delivery)) return;
  // An in-user-code signal this replay sent: delivered at this stop.
  if (auto async = async_.find(task.tid); async != async_.end() && async->second) {
    const siginfo_t info = siginfo_of(*async->second);
    if (info.si_signo == delivery.info.si_signo) {
      deliver_recorded(delivery, info);
      async_.erase(async);
      pending_async_.erase(task.tid);
      return;
    }
  }
  const int32_t rtid = recorded_tid(task);
  auto queue = queues_.find(rtid);
  if (queue != queues_.end() && !queue->second.empty()) {
    const Place& p = places_[queue->second.front()];
    if (p.kind == Kind::kSignal) {
      const auto& sig = std::get<tracefile::SignalEvent>(events_[p.event]);
      const siginfo_t info = siginfo_of(sig);
      // A live signal of the same number stands for the recorded one, and
      // a breakpoint armed for it must not deliver it a second time. While
      // armed, only at the recorded state: the breakpoint gets there.
      const bool armed = armed_.count(task.tid) != 0;
      if (info.si_signo == delivery.info.si_signo && (!armed || at_recorded_state(task, sig))) {
        disarm(task);
        deliver_recorded(delivery, info);
        hold_or_go(task, p);
        return;
      }
    }
  }
  if (synchronous(delivery.info)) {
    diverge(rtid, fmt::format("the program got {}, which the recording does not have here",
                              siginfo_text(delivery.info)));
    return;
  }
  delivery.deliver = 0;  // the kernel's own (a real child's SIGCHLD...): the recording decides
}

void ReplayMode::on_instruction(InstructionTrap& trap) {
  Task& task = *trap.task;
  const bool cpuid = trap.kind == InstructionTrap::Kind::kCpuid;
  const Place* p = expect(task, Kind::kInstruction, cpuid ? "cpuid" : "rdtsc");
  if (!p) return;
  if (const auto* c = std::get_if<tracefile::CpuidEvent>(&events_[p->event]); c && cpuid) {
    trap.eax = c->eax;
    trap.ebx = c->ebx;
    trap.ecx = c->ecx;
    trap.edx = c->edx;
  } else if (const auto* r = std::get_if<tracefile::RdtscEvent>(&events_[p->event]); r && !cpuid) {
    trap.tsc = r->value;
    trap.aux = r->aux;
  } else {
    diverge(p->rtid, cpuid ? "the program ran cpuid where the recording has rdtsc"
                           : "the program ran rdtsc where the recording has cpuid");
    return;
  }
  hold_or_go(task, *p);
}

void ReplayMode::on_task_start(const TaskStart& start) {
  const int32_t parent = recorded_tid(*start.parent);
  auto& clones = process_[parent];
  if (clones.empty()) {
    diverge(parent, fmt::format("a new task {} that the recording does not have", start.task->tid));
    return;
  }
  const auto& p = std::get<tracefile::ProcessEvent>(events_[clones.front()]);
  clones.pop_front();
  recorded_of_[start.task->tid] = p.child;
  live_of_[p.child] = start.task->tid;
  ++threads_[start.task->tgid()];
  // CLONE_CHILD_SETTID: the child sees its recorded tid, as it did.
  for (const auto& range : p.writes) engine_.write_memory(*start.task, range.addr, range.bytes.data(), range.bytes.size());
  if (!(start.clone_flags & CLONE_THREAD)) files_[start.task->tid] = files_of(*start.parent);
}

// The new program's memory: the vDSO hidden as when recording, and the 16
// AT_RANDOM bytes (stack protector, pointer guard) the recorded run had.
void ReplayMode::on_exec(const Exec& exec) {
  Task& task = *exec.task;
  if (exec.former_tid != task.tid) {  // a thread exec'd and took the leader's tid: its events go on there
    if (auto it = recorded_of_.find(exec.former_tid); it != recorded_of_.end()) recorded_of_[task.tid] = it->second;
    if (auto it = entered_.find(exec.former_tid); it != entered_.end()) {
      entered_[task.tid] = it->second;
      entered_.erase(it);
    }
    parked_.erase(task.tid);
  }
  ExecFacts::hide_vdso(task.tid);
  const int32_t rtid = recorded_tid(task);
  for (const auto& ev : events_) {
    const auto* x = std::get_if<tracefile::ExecEvent>(&ev);
    if (!x || (x->tid != rtid && x->former_tid != rtid) || done_execs_.count(&ev)) continue;
    done_execs_.insert(&ev);
    // The recorded thread that exec'd became the recorded leader once its
    // execve returned.
    if (x->tid != rtid) remap_after_exit_[task.tid] = x->tid;
    std::ifstream auxv("/proc/" + std::to_string(task.tid) + "/auxv", std::ios::binary);
    uint64_t pair[2];
    while (auxv.read(reinterpret_cast<char*>(pair), sizeof pair) && pair[0] != AT_NULL) {
      if (pair[0] == AT_RANDOM) engine_.write_memory(task, pair[1], x->at_random.data(), x->at_random.size());
    }
    return;
  }
}

// The task's end, in its turn: a thread that exits early waits here. Its
// place is done only once the kernel has reaped it (TaskExit), after it
// cleared its CLONE_CHILD_CLEARTID word and woke its joiner: a joiner's
// later events wait for that.
void ReplayMode::on_task_exiting(const TaskExiting& exiting) {
  Task& task = *exiting.task;
  // Killed in a call that never returned: it ends now, from this stop.
  if (parked_.erase(task.tid)) task.hold = false;
  // A leader that another thread's exec ends has no end in the recording
  // (the exec'ing thread goes on with its tid); any other early end is
  // caught when the task is reaped.
  const auto queue = queues_.find(recorded_tid(task));
  if (queue == queues_.end() || queue->second.empty() || places_[queue->second.front()].kind != Kind::kTaskExit) {
    return;
  }
  const Place* p = expect(task, Kind::kTaskExit, "its exit");
  if (!p) return;
  const auto index = static_cast<size_t>(p - places_.data());
  // A leader whose threads live on is reaped after them: its end is done
  // once it is a zombie (settle_leaders).
  if (task.is_leader() && threads_[task.tgid()] > 1) ending_leaders_.insert(task.tid);
  reaped_at_[task.tid] = index;
  if (index == cursor_) {
    task.hold = end_in_turn(task, *p);
    return;
  }
  task.hold = true;
  waiting_[index] = &task;
  check_stuck();
}

// Its end is the order's next place. The kernel clears the task's
// CLONE_CHILD_CLEARTID word after this stop, at no event of its own. A
// joiner whose futex wait on the tid comes after this end in the recording
// still read the tid there: for such a joiner the task waits here, its end
// done, until the joiner has entered that futex call (then it goes and
// clears the word). Otherwise it goes on, and its end is done when it
// is reaped (or, a leader with threads left, a zombie). True: it waits.
bool ReplayMode::end_in_turn(Task& task, const Place& p) {
  queues_[p.rtid].pop_front();
  std::set<size_t> joiners = late_joiners(p.rtid);
  if (joiners.empty()) return false;  // on_task_exit or settle_leaders moves the order
  reaped_at_.erase(task.tid);
  ending_leaders_.erase(task.tid);
  uncleared_[task.tid] = {&task, std::move(joiners)};
  ++cursor_;
  release_next();
  return true;
}

// The futex waits of the other tasks that may wait on the ending task's
// word, having read it before the kernel cleared it (then the wait failed
// with EAGAIN, or slept until the clear woke it): each one's next call
// when it is a futex wait (the word's address and value are the program's:
// glibc waits on the tid, a raw clone's caller on what it stored), or else
// its first wait when that is for the ending task's tid, which it read
// before the clear even when calls of its own came between
// (main_exits_first). Each queue is looked at only up to its first wait.
std::set<size_t> ReplayMode::late_joiners(int32_t rtid) const {
  const auto is_wait = [&](const SyscallEvent& e) {
    const uint64_t cmd = e.args[1] & FUTEX_CMD_MASK;
    return syscalls::name_of(e.abi, e.nr) == "futex" && (cmd == FUTEX_WAIT || cmd == FUTEX_WAIT_BITSET);
  };
  std::set<size_t> out;
  for (const auto& [other, queue] : queues_) {
    if (other == rtid) continue;
    bool next = true;
    for (const size_t i : queue) {
      if (places_[i].kind != Kind::kEntry) continue;
      const SyscallEvent& e = syscall_at(places_[i]);
      if (is_wait(e)) {  // its first wait: the only one that may have read the word before the clear
        if (next || static_cast<int32_t>(e.args[2]) == rtid) out.insert(i);
        break;
      }
      next = false;
    }
  }
  return out;
}

// A late joiner entered its futex call: the ending task it read goes and
// clears its word now, before the joiner reads it again.
void ReplayMode::let_uncleared_go(size_t entry) {
  for (auto it = uncleared_.begin(); it != uncleared_.end();) {
    auto& [task, joiners] = it->second;
    if (!joiners.erase(entry) || !joiners.empty()) {
      ++it;
      continue;
    }
    const pid_t tid = it->first;
    engine_.release(*task);
    it = uncleared_.erase(it);
    // It clears the word within microseconds of going on: the joiner's
    // next read must see that.
    for (int i = 0; i < 100000 && !is_zombie(tid); ++i) sched_yield();
  }
}

// The task's end happened: its place is done, now or when the order gets
// there. False when its end was not in the order's hands.
bool ReplayMode::ended(pid_t tid) {
  auto reaped = reaped_at_.find(tid);
  if (reaped == reaped_at_.end()) return false;
  const size_t index = reaped->second;
  reaped_at_.erase(reaped);
  ending_leaders_.erase(tid);
  waiting_.erase(index);
  if (index == cursor_) {
    ++cursor_;
    release_next();
  } else {
    happened_.insert(index);
  }
  return true;
}

// An ending leader with threads left is not reaped until they are gone, so
// no event says when it has cleared its CLONE_CHILD_CLEARTID word and woken
// its joiner: it has once it is a zombie (or gone).
void ReplayMode::settle_leaders() {
  for (auto it = ending_leaders_.begin(); it != ending_leaders_.end();) {
    const pid_t tid = *it++;
    if (is_zombie(tid)) ended(tid);
  }
}

void ReplayMode::on_task_exit(const TaskExit& exit) {
  const int32_t rtid = recorded_tid(*exit.task);
  --threads_[exit.task->tgid()];
  if (ended(exit.task->tid)) {
    forget(*exit.task);
    check_stuck();
    return;
  }
  auto& queue = queues_[rtid];
  // Its end: now if it is the order's turn, else as soon as the order gets
  // there (a dead task cannot wait). What it had still to do is a divergence,
  // unless the replay is ending anyway.
  while (!queue.empty() && divergence_.empty()) {
    const size_t index = queue.front();
    const Place& p = places_[index];
    if (p.kind != Kind::kTaskExit) {
      if (!Engine::interrupted_by()) diverge(rtid, "the task ended before the recording says it did");
      break;
    }
    queue.pop_front();
    if (index == cursor_) {
      ++cursor_;
      release_next();
    } else {
      happened_.insert(index);
    }
    break;
  }
  forget(*exit.task);
  check_stuck();
}

// A task that is gone waits for nothing, and nothing waits on it.
void ReplayMode::forget(const Task& task) {
  entered_.erase(task.tid);
  parked_.erase(task.tid);
  killed_.erase(task.tid);
  between_.erase(task.tid);
  uncleared_.erase(task.tid);
  async_.erase(task.tid);
  pending_async_.erase(task.tid);
  armed_.erase(task.tid);
  redo_.erase(task.tid);
  stub_held_.erase(task.tid);
  left_.erase(task.tid);
  std::erase_if(waiting_, [&](const auto& entry) { return entry.second == &task; });
}

}  // namespace hytrace::tracer

