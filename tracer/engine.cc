#include "tracer/engine.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/time.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <fstream>
#include <system_error>
#include <utility>

#include "tracer/inject_x86_64.hpp"
#include "tracer/instruction_trap.hpp"
#include "patcher/stub_blob.hpp"
#include "tracer/proc_maps.hpp"
#include "tracer/ptrace_x86_64.hpp"
#include "tracer/remote_memory.hpp"

namespace hytrace::tracer {
namespace {

// Set from the SIGINT/SIGTERM handler. Killing the sentinel child wakes the
// engine's waitpid(), so a signal that lands just before it blocks is not
// lost (a flag alone would race with the wait).
volatile sig_atomic_t g_interrupted = 0;
volatile pid_t g_sentinel = 0;

void on_interrupt(int sig) {
  g_interrupted = sig;
  if (g_sentinel > 0) kill(g_sentinel, SIGKILL);
}

// The sentinel holds none of hytrace's files (a reader of hytrace's output
// must see EOF when hytrace ends), and dies with hytrace even when hytrace
// ends before the sentinel first runs.
pid_t start_sentinel() {
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(0);
    for (int fd = 0; fd < 3; ++fd) close(fd);
    for (;;) pause();
  }
  return pid;
}

void on_drain_timer(int) {}

// One shot, `us` from now; 0 disarms.
void arm_drain_timer(long us) {
  itimerval t{};
  t.it_value.tv_sec = us / 1000000;
  t.it_value.tv_usec = us % 1000000;
  setitimer(ITIMER_REAL, &t, nullptr);
}

constexpr long kSeizeOptions = PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACESECCOMP |
                               PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK |
                               PTRACE_O_TRACEVFORK | PTRACE_O_TRACEEXEC | PTRACE_O_TRACEEXIT;

bool is_stop_signal(int sig) {
  return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

ExitStatus exit_status(int status) {
  ExitStatus out;
  if (WIFSIGNALED(status)) {
    out.signaled = true;
    out.code = WTERMSIG(status);
    out.core_dumped = WCOREDUMP(status);
  } else {
    out.code = WEXITSTATUS(status);
  }
  return out;
}

}  // namespace

Engine::Engine() = default;

Engine::~Engine() {
  for (auto& [tid, task] : tasks_) kill(tid, SIGKILL);
  if (const pid_t sentinel = g_sentinel; sentinel > 0) {
    g_sentinel = 0;
    kill(sentinel, SIGKILL);
    waitpid(sentinel, nullptr, 0);
  }
}

void Engine::handle_interrupts() {
  g_sentinel = start_sentinel();
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &sa, nullptr);
}

int Engine::interrupted_by() { return g_interrupted; }

void Engine::enable_patching(Patching* patching) {
  patching_ = patching;
  if (!patching) return;
  // Reported after the event during whose handling the patcher ran them.
  patching->on_injected([this](const InjectedCall& c) {
    auto it = tasks_.find(c.tid);
    if (it == tasks_.end()) return;
    const uint64_t entry = next_seq();
    queued_.push_back(Injected{it->second.get(), c.call, c.result, c.purpose, entry, next_seq()});
  });
  struct sigaction sa {};
  sa.sa_handler = on_drain_timer;  // without SA_RESTART: it ends the wait
  sigemptyset(&sa.sa_mask);
  sigaction(SIGALRM, &sa, nullptr);
}

std::shared_ptr<AddressSpace> Engine::new_space() {
  auto space = std::make_shared<AddressSpace>();
  space->id = next_space_id_++;
  return space;
}

Task& Engine::add_task(pid_t tid, std::shared_ptr<ThreadGroup> group,
                       std::shared_ptr<AddressSpace> space) {
  auto task = std::make_unique<Task>();
  task->tid = tid;
  task->group = std::move(group);
  task->space = std::move(space);
  return *(tasks_[tid] = std::move(task));
}

void Engine::spawn(const std::string& path, const std::vector<std::string>& argv,
                   const bpf::Program& filter, const std::function<void(pid_t)>& before_exec,
                   ChildSetup setup) {
  setup.trap_tsc = setup.trap_tsc || trap_tsc_;
  launch_ = std::make_unique<Launch>(path, argv, &filter, setup);
  const pid_t pid = launch_->pid();
  if (::ptrace(PTRACE_SEIZE, pid, nullptr, kSeizeOptions | PTRACE_O_EXITKILL) != 0) {
    const int error = errno;
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    launch_.reset();
    throw std::system_error(error, std::generic_category(), "ptrace(PTRACE_SEIZE)");
  }
  root_ = pid;
  transparency_.emplace(!bpf::has_sys_admin());  // as Launch decides no_new_privs
  ptrace_emulation_.emplace(*this);
  Task& root = add_task(pid, std::make_shared<ThreadGroup>(ThreadGroup{pid}), new_space());
  root.started = true;  // a seized running task has no attach stop
  if (before_exec) before_exec(pid);
  launch_->release();   // the child installs the filter and execs
}

void Engine::attach(pid_t pid) {
  attach_mode_ = true;
  root_ = pid;
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = opendir(dir.c_str());
  if (!d) throw std::system_error(errno, std::generic_category(), "cannot read " + dir);
  auto group = std::make_shared<ThreadGroup>(ThreadGroup{pid});
  auto space = new_space();
  // Threads created while we attach are caught by PTRACE_O_TRACECLONE of the
  // thread that creates them once it is seized; a thread created before that
  // is found by reading the directory again.
  for (bool found_new = true; found_new;) {
    found_new = false;
    rewinddir(d);
    while (dirent* e = readdir(d)) {
      const pid_t tid = static_cast<pid_t>(atoi(e->d_name));
      if (tid <= 0 || tasks_.count(tid)) continue;
      if (::ptrace(PTRACE_SEIZE, tid, nullptr, kSeizeOptions) != 0) {
        if (errno == ESRCH) continue;  // the thread exited meanwhile
        const int error = errno;
        closedir(d);
        throw std::system_error(error, std::generic_category(), "ptrace(PTRACE_SEIZE)");
      }
      ptrace::interrupt(tid);
      add_task(tid, group, space);
      found_new = true;
    }
  }
  closedir(d);
}

ExitStatus Engine::run(Handler& handler) {
  while (auto event = next()) {
    std::visit(
        [&](auto& e) {
          using E = std::decay_t<decltype(e)>;
          if constexpr (std::is_same_v<E, SyscallEnter>) handler.on_syscall_enter(*e.task, *e.frame);
          if constexpr (std::is_same_v<E, SyscallExit>)
            handler.on_syscall_exit(*e.task, e.frame, e.result);
          if constexpr (std::is_same_v<E, SignalDelivery>) handler.on_signal(*e.task, e);
          if constexpr (std::is_same_v<E, GroupStop>) handler.on_group_stop(e);
          if constexpr (std::is_same_v<E, TaskStart>) handler.on_task_start(e);
          if constexpr (std::is_same_v<E, Exec>) handler.on_exec(e);
          if constexpr (std::is_same_v<E, TaskExit>) handler.on_task_exit(e);
          if constexpr (std::is_same_v<E, InstructionTrap>) handler.on_instruction(e);
          if constexpr (std::is_same_v<E, Injected>) handler.on_injected(e);
          if constexpr (std::is_same_v<E, TaskExiting>) handler.on_task_exiting(e);
        },
        *event);
    resume(*event);
  }
  handler.on_finish();
  return root_status_;
}

std::optional<Event> Engine::next() {
  for (;;) {
    // The stubs' events go first: each was drained before the event that
    // queued_ holds next (queue_with_buffered).
    while (drained_next_ < drained_.size()) {
      if (auto event = buffered_event(drained_[drained_next_++])) return event;
    }
    if (!queued_.empty()) {
      Event event = queued_.front();
      queued_.pop_front();
      return event;
    }
    // After Ctrl-C, what had already happened is still reported (a few
    // events, so a busy tracee cannot hold the stop off), then the tree is
    // killed or detached.
    const bool draining = g_interrupted && !stopping_ && ++events_after_interrupt_ <= 64;
    if (g_interrupted && !stopping_ && !draining) begin_stop();
    if (tasks_.empty()) return std::nullopt;
    if (!statuses_.empty()) {
      const auto [tid, status] = statuses_.front();
      statuses_.pop_front();
      if (auto event = decode(tid, status)) queue_with_buffered(*event);
      continue;
    }
    int status = 0;
    const auto wait_start = std::chrono::steady_clock::now();
    pid_t tid = draining ? 0 : spin_wait(status);
    int wait_error = 0;
    const bool timed = tid == 0 && patching_ && !draining;
    const bool idle_timed = tid == 0 && !timed && !draining && idle_hook_;
    if (tid == 0) {
      if (timed) arm_drain_timer(drain_interval_us_);
      if (idle_timed) arm_drain_timer(idle_after_us_);
      tid = waitpid(-1, &status, __WALL | (draining ? WNOHANG : 0));
      wait_error = errno;
      // The wait includes the sleeping tracer's wake-up: polling would have
      // seen this stop when it came within about twice the poll.
      if (tid > 0) stops_close_ = std::chrono::steady_clock::now() - wait_start <= 2 * kSpinFor;
    }
    if (timed || idle_timed) arm_drain_timer(0);
    if (draining && tid == 0) {
      events_after_interrupt_ = 65;
      continue;
    }
    if (tid < 0) {
      if (wait_error == EINTR && timed) {
        drain_while_running();
        continue;
      }
      if (wait_error == EINTR && idle_timed && !g_interrupted) {
        idle_hook_();
        continue;
      }
      if (wait_error == EINTR) continue;
      if (wait_error == ECHILD) return std::nullopt;
      throw std::system_error(wait_error, std::generic_category(), "waitpid");
    }
    if (tid == g_sentinel) {
      g_sentinel = 0;
      continue;
    }
    if (auto event = decode(tid, status)) queue_with_buffered(*event);
  }
}

size_t Engine::tasks_in(const AddressSpace& space) const {
  size_t n = 0;
  for (const auto& [tid, task] : tasks_) n += task->space.get() == &space;
  return n;
}

// Events the stubs recorded happened before this stop (the stopped task's
// own ones certainly did): they go first, in sequence order.
void Engine::queue_with_buffered(Event event) {
  if (patching_) {
    queue_drained();
    check_buffer(*std::visit([](auto& e) { return e.task; }, event));
  }
  queued_.push_back(event);
  // What hytrace did in the task while handling it comes after it.
  for (Event& after : after_event_) queued_.push_back(std::move(after));
  after_event_.clear();
}

// The stop that came while hytrace ran syscalls in a task goes next, but
// after the Injected events of those syscalls: it happened after them, and
// if it is the task's end, they must not outlive the task they name.
void Engine::queue_interruption(Event event) {
  const Task* task = std::visit([](auto& e) -> const Task* { return e.task; }, event);
  auto at = queued_.begin();
  for (auto it = queued_.begin(); it != queued_.end(); ++it) {
    if (const auto* injected = std::get_if<Injected>(&*it); injected && injected->task == task) at = it + 1;
  }
  queued_.insert(at, std::move(event));
}

// Whether a CPU is left over by the tasks that run the program's code now
// (not stopped, and not parked in a traced syscall, where most wait: a
// shell in wait4, make in pselect). Never with one CPU.
bool Engine::cpu_free() const {
  if (cpus_ < 2) return false;
  int running = 1;  // hytrace
  for (const auto& [tid, task] : tasks_) {
    running += !task->stopped && !task->in_syscall();
    if (running > cpus_) return false;
  }
  return true;
}

int Engine::cpu_count() {
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  return sched_getaffinity(0, sizeof cpus, &cpus) == 0 ? CPU_COUNT(&cpus) : 1;
}

long Engine::min_drain_interval_us() { return cpu_count() < 2 ? 1000 : 250; }

// While stops come close together, the engine polls for the next one for a
// while (kSpinFor) before it sleeps in waitpid: on a virtual machine whose
// idle vCPUs halt, waking a sleeping tracer costs tens of microseconds per
// stop (docs/performance.md). A poll that sees nothing ends the polling
// until a wait ends soon again. Not while the program's running tasks
// leave no CPU free (a single CPU, make -j2), where the poll would take
// their time. Returns the task that stopped, or 0.
pid_t Engine::spin_wait(int& status) {
  if (!stops_close_ || !cpu_free()) return 0;
  const auto until = std::chrono::steady_clock::now() + kSpinFor;
  pid_t got = 0;
  while ((got = waitpid(-1, &status, __WALL | WNOHANG)) == 0 && std::chrono::steady_clock::now() < until) {
    __builtin_ia32_pause();
  }
  if (got == 0) stops_close_ = false;
  return std::max<pid_t>(got, 0);  // an error is the blocking wait's to report
}

// The timer woke the engine while no task stopped: the stubs' events so far
// are shown now, while the program runs, instead of when the buffer fills.
// The timer backs off while there is nothing to show.
void Engine::drain_while_running() {
  const size_t before = drained_.size() - drained_next_;
  queue_drained();
  drain_interval_us_ = drained_.size() - drained_next_ > before
                           ? min_drain_interval_us_
                           : std::min(drain_interval_us_ * 2, kMaxDrainIntervalUs);
}

// Appends the stubs' new events to drained_, which next() hands out in
// place: a drain of thousands of records copies and allocates nothing per
// record here.
void Engine::queue_drained() {
  std::vector<BufferedEvent>& drained = drained_;
  if (drained_next_ == drained.size()) {
    drained.clear();
    drained_next_ = 0;
    // An exited task is kept while its space's buffer may hold its records,
    // and until every drained event of it has been handed out.
    std::erase_if(departed_, [&](const auto& entry) { return patching_->drained(*entry.second->space); });
  }
  const auto first_new = static_cast<ptrdiff_t>(drained.size());
  std::set<AddressSpace*> seen;
  for (const auto* tasks : {&tasks_, &departed_}) {
    for (const auto& [tid, task] : *tasks) {
      AddressSpace* space = task->space.get();
      if (!space->patch || !seen.insert(space).second) continue;
      pid_t member_seen = 0;  // runs of one thread's records: one look-up
      patching_->drain(*space, drained, [&](pid_t record_tid) {
        if (record_tid == member_seen) return true;
        const Task* owner = find_task(record_tid);
        if (!owner) {
          const auto gone = departed_.find(record_tid);
          owner = gone == departed_.end() ? nullptr : gone->second.get();
        }
        if (!owner || owner->space.get() != space) return false;
        member_seen = record_tid;
        return true;
      });
    }
  }
  // Nearly in order already (a drain is in record order, with exits that
  // were pending in front): check before sorting.
  auto by_order = [](const BufferedEvent& a, const BufferedEvent& b) { return a.order < b.order; };
  if (!std::is_sorted(drained.begin() + first_new, drained.end(), by_order)) {
    std::stable_sort(drained.begin() + first_new, drained.end(), by_order);
  }
}

// The event of a drained record; its entry frame stays in drained_ until
// next() has handed out every drained event (and each was resumed).
std::optional<Event> Engine::buffered_event(BufferedEvent& e) {
  auto it = tasks_.find(e.tid);
  if (it == tasks_.end()) {
    // A thread's last records can be drained after its exit: a record that
    // another thread was still writing held the drain back.
    it = departed_.find(e.tid);
    if (it == departed_.end()) return std::nullopt;
  }
  Task* task = it->second.get();
  if (!e.exit) return SyscallEnter{task, &e.frame};
  // An exit's frame is not looked at again in drained_: moved, not copied
  // (a copy takes the captured memory's reference count twice).
  SyscallExit exit{task, std::move(e.frame), e.result};
  exit.frame.exit_seq = e.order;
  return exit;
}

bool Engine::is_buffered(const Event& event) const {
  if (const auto* enter = std::get_if<SyscallEnter>(&event)) return enter->frame->buffered;
  if (const auto* exit = std::get_if<SyscallExit>(&event)) return exit->frame.buffered;
  return false;
}

std::optional<Event> Engine::decode(pid_t tid, int status) {
  auto it = tasks_.find(tid);
  if (it == tasks_.end()) {
    // A new child's first stop can come before its parent's clone event.
    if (WIFSTOPPED(status)) early_stops_.insert(tid);
    else early_stops_.erase(tid);
    return std::nullopt;
  }
  Task& task = *it->second;
  if (!WIFSTOPPED(status)) return task_exit(task, status);
  task.stopped = true;
  task.listening = false;
  const int sig = WSTOPSIG(status);
  const int event = status >> 16;
  if (stopping_ && attach_mode_) {
    detach(task, event == 0 && sig != (SIGTRAP | 0x80) ? sig : 0);
    return std::nullopt;
  }
  if (sig == (SIGTRAP | 0x80)) return syscall_stop(task);
  switch (event) {
    case 0: return signal_stop(task, sig);
    case PTRACE_EVENT_SECCOMP: return syscall_stop(task);
    case PTRACE_EVENT_CLONE:
    case PTRACE_EVENT_FORK:
    case PTRACE_EVENT_VFORK: return new_task(task);
    case PTRACE_EVENT_EXEC: return exec(task);
    case PTRACE_EVENT_STOP: return stop_event(task, sig);
    case PTRACE_EVENT_EXIT:
      // A wait4 held for a tracee's stop is over: the task dies (SIGKILL,
      // another thread's exit_group) and must go on to its death.
      if (ptrace_emulation_ && ptrace_emulation_->on_exiting(task)) held_events_.erase(task.tid);
      task.exiting = true;
      task.exit_seq = next_seq();
      return TaskExiting{&task, task.exit_seq};
    default:  // PTRACE_EVENT_VFORK_DONE
      resume_task(task, 0);
      return std::nullopt;
  }
}

std::optional<Event> Engine::syscall_stop(Task& task) {
  ptrace::SyscallState state;
  if (!ptrace::syscall_state(task.tid, state)) return std::nullopt;  // killed; exit follows
  switch (state.op) {
    case ptrace::StopOp::kEntry:
    case ptrace::StopOp::kSeccomp: {
      SyscallFrame frame;
      frame.call = state.call;
      frame.ip = state.ip;
      frame.seq = next_seq();
      frame.entered = std::chrono::steady_clock::now();
      if (state.op == ptrace::StopOp::kSeccomp) frame.seccomp_data = static_cast<uint16_t>(state.seccomp_data);
      task.frames.push_back(frame);
      if (transparency_ && !is_launcher(task)) transparency_->on_entry(task, task.frames.back());
      if (patching_) patching_->on_entry(task, task.frames.back());
      return SyscallEnter{&task, &task.frames.back()};
    }
    case ptrace::StopOp::kExit: {
      if (task.frames.empty()) {  // attached in the middle of this syscall
        resume_task(task, 0);
        return std::nullopt;
      }
      SyscallFrame frame = task.frames.back();
      task.frames.pop_back();
      frame.exit_seq = next_seq();
      frame.exit_ip = state.ip;
      // The handler's frame is gone once rt_sigreturn has returned, not
      // before: until then the task is in the kernel with the context still
      // to restore, and the restored IP is only in the registers now.
      if (syscalls::role_of(frame.call.abi, frame.call.nr) == syscalls::Role::kSigreturn) {
        returned_to(task, state.ip, state.sp);
      }
      long result = state.result;
      if (frame.skip) {
        // A restart code is the kernel's to act on when a signal comes: it
        // needs the call's number back (skipping set it to -1).
        ptrace::set_result(task.tid, frame.result, is_restart_code(frame.result) ? frame.call.nr : -1);
        result = frame.result;
      }
      if (transparency_ && !is_launcher(task)) transparency_->on_exit(task, frame, result);
      if (trap_cpuid_ && result == 0 &&
          syscalls::role_of(frame.call.abi, frame.call.nr) == syscalls::Role::kExec) {
        const Injection done = enable_cpuid_faulting(task.tid);
        if (done.result) {
          const uint64_t entry = next_seq();
          after_event_.push_back(
              Injected{&task, cpuid_faulting_call(), *done.result, "cpuid faulting", entry, next_seq()});
        } else if (done.status != 0) {
          own_interruption_ = {task.tid, done.status};
        }
      }
      return SyscallExit{&task, frame, result};
    }
    case ptrace::StopOp::kNone: break;
  }
  resume_task(task, 0);
  return std::nullopt;
}

std::optional<Event> Engine::new_task(Task& parent) {
  const auto tid = static_cast<pid_t>(ptrace::event_message(parent.tid));
  const uint64_t flags = ptrace::clone_flags(parent.tid);
  auto group = (flags & CLONE_THREAD) ? parent.group
                                      : std::make_shared<ThreadGroup>(ThreadGroup{tid});
  auto space = (flags & CLONE_VM) ? parent.space : new_space();
  Task& child = add_task(tid, std::move(group), std::move(space));
  if (flags & CLONE_VFORK) child.vfork_parent = parent.tid;
  child.own_seccomp = parent.own_seccomp;
  child.own_no_new_privs = parent.own_no_new_privs;
  child.gs_tag = parent.gs_tag;  // the base it has until first_stop tags it
  if (!(flags & CLONE_VM)) {
    // A fork child returns through its parent's signal frames, on a copy
    // of its stack.
    child.signal_contexts = parent.signal_contexts;
    child.left_contexts = parent.left_contexts;
    child.program_contexts_dropped = parent.program_contexts_dropped;
    child.space->moved_contexts = parent.space->moved_contexts;
  }
  if (patching_ && !(flags & CLONE_VM) && parent.space->patch) patching_->forked(parent, child);
  if (early_stops_.erase(tid)) {
    child.stopped = true;
    first_stop(child);
  }
  return TaskStart{&child, &parent, flags, next_seq()};
}

// A new task's first stop, before it runs any code: its gs base is still
// its parent's (a tid tag that would name the parent).
void Engine::first_stop(Task& task) {
  task.started = true;
  if (patching_) patching_->tag_tid(task);
}

std::optional<Event> Engine::exec(Task& task) {
  const auto former = static_cast<pid_t>(ptrace::event_message(task.tid));
  if (former != task.tid) {
    // A non-leader thread exec'd: it takes over the leader's tid, and the old
    // leader is gone without an exit report (with whatever a handler held).
    held_events_.erase(task.tid);
    held_events_.erase(former);
    task.hold = false;
    auto it = tasks_.find(former);
    if (it != tasks_.end()) {
      task.frames = std::move(it->second->frames);
      task.gs_tag = it->second->gs_tag;  // the exec'ing thread's base, still its old tid's
      if (patching_) patching_->task_gone(*it->second);
      tasks_.erase(it);
    }
  }
  if (patching_) {
    patching_->task_gone(task);
    patching_->tag_tid(task);  // an exec'ing thread has the leader's tid now
  }
  task.space = new_space();
  task.vfork_parent = 0;
  task.signal_contexts.clear();
  task.left_contexts.clear();
  task.program_contexts_dropped = false;
  if (task.tid == root_) launch_.reset();  // exec'd: nothing more to hear from the launcher
  if (ptrace_emulation_) ptrace_emulation_->on_exec(task, former);
  return Exec{&task, former, next_seq()};
}

std::optional<Event> Engine::stop_event(Task& task, int sig) {
  if (!task.started) {  // the attach stop of a new or seized task
    first_stop(task);
    resume_task(task, 0);
    return std::nullopt;
  }
  // Under PTRACE_SEIZE a group-stop reports its stop signal; a
  // PTRACE_INTERRUPT, or a listening task woken by SIGCONT, reports SIGTRAP.
  if (is_stop_signal(sig)) return GroupStop{&task, sig, next_seq()};
  resume_task(task, 0);
  return std::nullopt;
}

std::optional<Event> Engine::signal_stop(Task& task, int sig) {
  SignalDelivery delivery{&task, {}, sig, 0};
  if (::ptrace(PTRACE_GETSIGINFO, task.tid, nullptr, &delivery.info) != 0) {
    resume_task(task, sig);
    return std::nullopt;
  }
  if (sig == SIGSEGV && (trap_tsc_ || trap_cpuid_)) {
    if (auto trap = trapped_instruction(task, delivery.info)) {
      trap->seq = next_seq();
      run_natively(*trap, cpuid_answers_);
      return *trap;
    }
  }
  if (ptrace_emulation_ && ptrace_emulation_->on_signal_stop(task, sig, delivery.info)) return std::nullopt;
  delivery.seq = next_seq();
  return delivery;
}

std::optional<Event> Engine::task_exit(Task& task, int status) {
  TaskExit exit{&task, exit_status(status), status, task.exit_seq ? task.exit_seq : next_seq()};
  if (ptrace_emulation_) ptrace_emulation_->on_exit(task);
  if (task.tid == root_) {
    root_status_ = exit.status;
    if (exit_with_root_ && !stopping_) begin_stop();
    // The root ended before its exec: the launcher tells why.
    if (launch_ && !exit.status.signaled) {
      if (auto failure = launch_->failure()) throw *failure;
    }
  }
  return exit;
}

bool Engine::waits_for_vfork_child(const Task& task) const {
  return std::any_of(tasks_.begin(), tasks_.end(),
                     [&](const auto& entry) { return entry.second->vfork_parent == task.tid; });
}

// The root before its exec is hytrace's launcher (installing the filters,
// say), not the program.
bool Engine::is_launcher(const Task& task) const { return task.tid == root_ && launch_ != nullptr; }

bool Engine::is_restart_code(long result) {
  // ERESTARTSYS, ERESTARTNOINTR, ERESTARTNOHAND, ERESTART_RESTARTBLOCK
  return result <= -512 && result >= -516 && result != -515;
}

// The one clock: the stubs' shared counter when patching, so stopped and
// buffered calls have one order.
Task* Engine::find_task(pid_t tid) const {
  auto it = tasks_.find(tid);
  return it == tasks_.end() ? nullptr : it->second.get();
}

uint64_t Engine::next_seq() { return patching_ ? patching_->next_seq() : ++seq_; }

void Engine::resume(Event& event) {
  Task* task = std::visit([](auto& e) { return static_cast<Task*>(e.task); }, event);
  const bool holdable = std::holds_alternative<SyscallEnter>(event) || std::holds_alternative<SyscallExit>(event) ||
                        std::holds_alternative<SignalDelivery>(event) || std::holds_alternative<InstructionTrap>(event) ||
                        std::holds_alternative<TaskExiting>(event);
  // The mode has decided; a call it lets run may be the program's own
  // ptrace, which the engine serves.
  if (auto* enter = std::get_if<SyscallEnter>(&event);
      enter && ptrace_emulation_ && !enter->frame->skip && !task->hold && !enter->frame->buffered) {
    ptrace_emulation_->on_entry(*task, *enter->frame);
  }
  if (holdable && task->hold && !is_buffered(event)) {
    held_events_.insert_or_assign(task->tid, event);
    return;
  }
  task->hold = false;
  resume_now(event);
}

void Engine::release(Task& task) {
  task.hold = false;
  auto it = held_events_.find(task.tid);
  if (it == held_events_.end()) return;
  Event event = std::move(it->second);
  held_events_.erase(it);
  resume_now(event);
}

size_t Engine::runnable_tasks() const {
  size_t n = 0;
  for (const auto& [tid, task] : tasks_) n += !task->exiting && !held_events_.count(tid) && !task->hold;
  return n;
}

bool Engine::write_memory(Task& task, uint64_t addr, const void* bytes, size_t len) {
  return RemoteMemory(task.tid).write(addr, bytes, len);
}

bool Engine::set_syscall_arg(Task& task, int index, uint64_t value) {
  // At an exit stop the call's frame is gone: the ABI of the task's calls.
  const syscalls::Abi abi = task.frames.empty() ? syscalls::Abi::kX86_64 : task.frames.back().call.abi;
  return ptrace::set_syscall_arg(task.tid, abi, index, value);
}

bool Engine::set_syscall_result(Task& task, long result) { return ptrace::set_result(task.tid, result); }

bool Engine::restart_syscall(Task& task, long nr) {
  user_regs_struct regs{};
  if (::ptrace(PTRACE_GETREGS, task.tid, nullptr, &regs) != 0) return false;
  regs.rax = static_cast<unsigned long long>(nr);
  regs.rip -= 2;
  return ::ptrace(PTRACE_SETREGS, task.tid, nullptr, &regs) == 0;
}

bool Engine::set_breakpoint(Task& task, uint64_t addr) { return ptrace::set_breakpoint(task.tid, addr); }

bool Engine::alone_in_space(const Task& task) const { return tasks_in(*task.space) == 1; }

std::optional<user_regs_struct> Engine::registers(Task& task) {
  user_regs_struct regs{};
  if (::ptrace(PTRACE_GETREGS, task.tid, nullptr, &regs) != 0) return std::nullopt;
  return regs;
}

std::optional<long> Engine::inject_syscall(Task& task, long nr, std::array<uint64_t, 6> args) {
  if (own_interruption_) return std::nullopt;
  user_regs_struct regs{};
  if (::ptrace(PTRACE_GETREGS, task.tid, nullptr, &regs) != 0) return std::nullopt;
  // After an exec the task stops at the new program's entry point, with no
  // syscall instruction behind it: one is written at the IP for the call.
  uint8_t insn[2] = {};
  const bool after_syscall = RemoteMemory(task.tid).read(regs.rip - 2, insn, 2) == 2 && insn[0] == 0x0f && insn[1] == 0x05;
  if (!after_syscall && tasks_in(*task.space) != 1) return std::nullopt;
  const Injection done = after_syscall ? tracer::inject_syscall(task.tid, regs.rip - 2, nr, args)
                                       : inject_syscall_at_ip(task.tid, nr, args);
  if (!done.result && done.status != 0) own_interruption_ = {task.tid, done.status};
  return done.result;
}

void Engine::resume_now(Event& event) {
  std::visit(
      [&](auto& e) {
        using E = std::decay_t<decltype(e)>;
        if (is_buffered(event) || std::is_same_v<E, Injected>) {  // ran already: nothing to resume
        } else if constexpr (std::is_same_v<E, SyscallEnter>) {
          if (e.frame->skip) ptrace::skip_syscall(e.task->tid, e.frame->result);
          resume_task(*e.task, 0);
        } else if constexpr (std::is_same_v<E, SyscallExit>) {
          // A task that stopped again while the engine ran a syscall in it
          // is not where the patcher could run one.
          if (!own_interruption_) finish_syscall(*e.task, e.frame, e.result);
          // After the modes had their say at the exit (audit maps its pages
          // after an exec), so that no injection meets it.
          if (ptrace_emulation_) ptrace_emulation_->before_return(*e.task);
          if (auto other = interruption()) {
            // The task stopped again while the engine or the patcher ran
            // syscalls in it.
            if (auto next_event = decode(other->first, other->second)) queue_interruption(*next_event);
          } else {
            resume_task(*e.task, 0);
          }
        } else if constexpr (std::is_same_v<E, SignalDelivery>) {
          if (e.set_info && e.deliver) ::ptrace(PTRACE_SETSIGINFO, e.task->tid, nullptr, &e.info);
          if (patching_ && e.deliver) note_signal_context(*e.task, e.deliver);
          resume_task(*e.task, e.deliver);
        } else if constexpr (std::is_same_v<E, InstructionTrap>) {
          complete(e);  // the instruction's work is done: no SIGSEGV
          resume_task(*e.task, 0);
        } else if constexpr (std::is_same_v<E, GroupStop>) {
          e.task->stopped = false;
          e.task->listening = true;
          ptrace::listen(e.task->tid);
        } else if constexpr (std::is_same_v<E, TaskStart>) {
          resume_task(*e.parent, 0);
          if (e.task->started && e.task->stopped) resume_task(*e.task, 0);
        } else if constexpr (std::is_same_v<E, TaskExit>) {
          held_events_.erase(e.task->tid);
          if (patching_) patching_->task_gone(*e.task);
          auto it = tasks_.find(e.task->tid);
          if (patching_ && e.task->space->patch) departed_[it->first] = std::move(it->second);
          tasks_.erase(it);
        } else {
          resume_task(*e.task, 0);
        }
      },
      event);
}

namespace {

constexpr uint64_t kRedZone = 128;
// How far above a task's stack pointer a live handler's signal frame is
// looked for (an alternate signal stack kept in the same mapping).
constexpr uint64_t kFrameSearch = 256 * 1024;
// How far above a context a task can be for the context to count as left:
// a longjmp lands a few frames up; a coroutine's stack further away is
// not taken for the frames above the interrupted call.
constexpr uint64_t kLeftReach = 64 * 1024;

bool in_stub_code(uint64_t ip) { return patcher::stub::in_gate(ip) && ip != patcher::stub::kTracedSyscallEnd; }

// Whether a saved context with this stack pointer and instruction pointer
// is in `words` (a signal frame's sigcontext holds rsp, then rip, rewound
// by 2 when the kernel restarts the interrupted call).
bool holds_context(const std::vector<uint64_t>& words, const SignalContext& c) {
  for (size_t i = 0; i + 1 < words.size(); ++i) {
    if (words[i] == c.sp && (words[i + 1] == c.ip || words[i + 1] == c.ip - 2)) return true;
  }
  return false;
}

// Forgets the contexts that `pick` selects whose handler has left (see
// Engine::left_stub), of a task stopped with `regs` outside an
// rt_sigreturn. Its memory is read only when one is at or below it.
template <typename Pick>
void forget_left(Task& task, const user_regs_struct& regs, Pick pick) {
  auto& contexts = task.signal_contexts;
  const auto below = [&](const SignalContext& c) {
    return pick(c.ip) && regs.rsp + kRedZone >= c.sp && regs.rsp <= c.sp + kLeftReach;
  };
  if (std::none_of(contexts.begin(), contexts.end(), below)) return;
  const pid_t tid = task.tid;
  const std::vector<Mapping> maps = read_maps(tid);
  const Mapping* stack = mapping_at(maps, regs.rsp);
  if (!stack) return;
  const uint64_t from = regs.rsp & ~uint64_t{7};  // a frame's words are 8-aligned
  std::vector<uint64_t> above(std::min<uint64_t>(stack->end - from, kFrameSearch) / sizeof(uint64_t));
  const size_t want = above.size() * sizeof(uint64_t);
  if (RemoteMemory(tid).read(from, above.data(), want) != want) return;  // what is not read may hold the frame
  std::erase_if(contexts, [&](const SignalContext& c) {
    const bool left = below(c) && stack == mapping_at(maps, c.sp) && !holds_context(above, c);
    if (left && in_stub_code(c.ip)) {
      if (task.left_contexts.size() == Task::kMostLeftContexts) task.left_contexts.erase(task.left_contexts.begin());
      task.left_contexts.push_back(c);
    }
    return left;
  });
}

}  // namespace

// An rt_sigreturn has restored a context: its handler's frame is gone.
// The kernel resumes at the context, rewound by 2 for a restart; anywhere
// else, the handler moved it, and the program may jump back to the context
// later by itself. A context in the stub that hytrace took for left
// (left_stub) coming back means that call's exit record may land in bytes
// the ring has handed out again: the buffer is no longer read, after what
// is committed in it has been drained.
void Engine::returned_to(Task& task, uint64_t ip, uint64_t sp) {
  auto& contexts = task.signal_contexts;
  const auto resumes = [&](const SignalContext& c) { return ip == c.ip || ip == c.ip - 2; };
  const auto same = [&](const SignalContext& c) { return resumes(c) && sp == c.sp; };
  if (patching_ && in_stub_code(ip) && std::none_of(contexts.begin(), contexts.end(), same) &&
      std::any_of(task.left_contexts.begin(), task.left_contexts.end(), same)) {
    queue_drained();  // what is committed is still good
    patching_->stop_reading(*task.space, "a signal handler that hytrace took for gone returned into the stub");
    return;  // the contexts left are other handlers', still pending
  }
  // The context restored is the one with the stack pointer restored; if
  // the handler changed that too, the innermost, unless the program's
  // contexts were dropped (forget_program_contexts): then it was one of them.
  auto match = std::find_if(contexts.rbegin(), contexts.rend(), [&](const SignalContext& c) { return c.sp == sp; });
  if (match == contexts.rend()) {
    if (contexts.empty() || task.program_contexts_dropped) return;
    match = contexts.rbegin();
  }
  const uint64_t context = match->ip;
  contexts.erase(std::next(match).base());
  if (patching_ && ip != context && ip != context - 2) task.space->moved_contexts.push_back(context);
}

// A handler will run: where the task resumes after it (the IP now, or 2
// bytes back if the kernel restarts an interrupted call) must stay unpatched
// until its rt_sigreturn. Signals without a handler leave no frame.
void Engine::note_signal_context(Task& task, int sig) {
  std::ifstream status("/proc/" + std::to_string(task.tid) + "/status");
  unsigned long long caught = 0;
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("SigCgt:", 0) == 0) caught = std::stoull(line.substr(7), nullptr, 16);
  }
  if (!(caught & (1ull << (sig - 1)))) return;
  user_regs_struct regs{};
  if (::ptrace(PTRACE_GETREGS, task.tid, nullptr, &regs) != 0) return;
  if (task.signal_contexts.size() >= Task::kMostSignalContexts) forget_program_contexts(task);
  task.signal_contexts.push_back({regs.rip, regs.rsp});
}

// More handler frames pending than a stack holds: handlers that left by
// longjmp, never to return. Rather than keep their sites unpatched, and the
// list growing, for good, the space patches no more sites, and the
// contexts in the program's code, which only kept sites unpatched, go (the
// stub's stay: they say which records are still being written).
void Engine::forget_program_contexts(Task& task) {
  patching_->stop_patching(*task.space, "thread " + std::to_string(task.tid) + " has " +
                                            std::to_string(task.signal_contexts.size()) +
                                            " signal handlers that never returned");
  const auto in_program = [](const SignalContext& c) { return !in_stub_code(c.ip); };
  std::erase_if(task.signal_contexts, in_program);
  task.program_contexts_dropped = true;
  std::erase_if(task.space->moved_contexts, [](uint64_t ip) { return !in_stub_code(ip); });
}

// At a syscall-exit stop: let the patcher act on what the finished call
// asked for, if that is safe now.
std::optional<std::pair<pid_t, int>> Engine::interruption() {
  if (own_interruption_) return std::exchange(own_interruption_, std::nullopt);
  return patching_ ? patching_->take_interruption() : std::nullopt;
}

void Engine::finish_syscall(Task& task, const SyscallFrame& frame, long result) {
  if (!patching_) return;
  patching_->on_exit(task, frame, result, [&] { return stop_space(task); });
  release_space();
}

std::optional<std::vector<patcher::TaskSnapshot>> Engine::stop_space(Task& current) {
  std::vector<Task*> members;
  for (auto& [tid, task] : tasks_) {
    if (task->space != current.space) continue;
    // A vfork parent sleeps where no interrupt reaches it, and where it
    // will go on is not known: the space cannot be stopped until its child
    // execs or exits. Both sides: the child shares the space (vfork), or
    // only the parent is in it (clone(CLONE_VFORK) without CLONE_VM).
    if (task->vfork_parent && tasks_.count(task->vfork_parent)) return std::nullopt;
    if (waits_for_vfork_child(*task)) return std::nullopt;
    members.push_back(task.get());
  }
  for (Task* task : members) {
    if (task == &current || task->stopped || (task->in_syscall() && !task->listening)) continue;
    // An exiting task runs no code of its own again; waiting for a leader
    // that exited before its threads would wait for them all.
    if (task->exiting) continue;
    ptrace::interrupt(task->tid);
    held_.push_back({task, task->listening});
  }
  if (!wait_for_held()) return std::nullopt;
  return snapshots_of(members, *current.space);
}

// Each interrupted task reports its stop, unless something else stopped (or
// ended) it first: that status is a real event, kept for next(), and its
// handling will resume the task. False on Ctrl-C. The wait is for any child,
// as next()'s is, so the sentinel's death ends it even when the interrupt
// came just before the wait began.
bool Engine::wait_for_held() {
  size_t unseen = held_.size();  // held_[0, unseen) have not reported yet
  while (unseen > 0) {
    int status = 0;
    const pid_t got = waitpid(-1, &status, __WALL);
    if (got < 0 && errno == EINTR && !g_interrupted) continue;
    const bool sentinel = got > 0 && got == g_sentinel;
    if (sentinel) g_sentinel = 0;  // it dies on Ctrl-C
    if (got < 0 || sentinel) {
      // Ctrl-C (or no child left): give up the write. The tasks not seen
      // stopping report their interrupt stop later, as any stray one.
      held_.erase(held_.begin(), held_.begin() + static_cast<long>(unseen));
      return !g_interrupted;
    }
    auto task_it = tasks_.find(got);
    if (task_it == tasks_.end()) {
      // A new child's first stop, before its parent's event: noted now, as
      // an early stop. Queued, it would be decoded after the parent's event,
      // and the child taken to be running meanwhile.
      decode(got, status);
      continue;
    }
    task_it->second->stopped = WIFSTOPPED(status);
    const auto it = std::find_if(held_.begin(), held_.begin() + static_cast<long>(unseen),
                                 [&](const Held& h) { return h.task->tid == got; });
    if (it == held_.begin() + static_cast<long>(unseen)) {
      statuses_.emplace_back(got, status);  // not waited for: next() decodes it
      continue;
    }
    Task& task = *it->task;
    const bool interrupt_stop = WIFSTOPPED(status) && (status >> 16) == PTRACE_EVENT_STOP &&
                                (it->relisten || !task.started || !is_stop_signal(WSTOPSIG(status)));
    --unseen;
    if (interrupt_stop) {
      if (!task.started) first_stop(task);
      it->relisten = it->relisten && is_stop_signal(WSTOPSIG(status));  // no SIGCONT meanwhile
      std::iter_swap(it, held_.begin() + static_cast<long>(unseen));   // seen: held until released
    } else {
      statuses_.emplace_back(got, status);
      held_.erase(it);
    }
  }
  return true;
}

std::vector<patcher::TaskSnapshot> Engine::snapshots_of(const std::vector<Task*>& members,
                                                        const AddressSpace& space) const {
  std::vector<patcher::TaskSnapshot> snapshots;
  if (!space.moved_contexts.empty()) {
    // No task: the saved contexts a program may jump back to (tid 0 is
    // never seen leaving, so these block for good).
    snapshots.push_back({0, 0, std::nullopt, space.moved_contexts});
  }
  for (const Task* task : members) {
    if (task->stopped) {
      if (auto s = snapshot_of_stopped(*task)) snapshots.push_back(*s);
    } else if (task->in_syscall() && !task->exiting) {
      snapshots.push_back(snapshot_of_parked(*task));
    }
  }
  return snapshots;
}

void Engine::release_space() {
  for (const Held& held : held_) {
    if (held.relisten) {
      held.task->stopped = false;
      ptrace::listen(held.task->tid);
    } else {
      held.task->listening = false;
      resume_task(*held.task, 0);
    }
  }
  held_.clear();
}

void Engine::check_buffer(Task& stopped) {
  AddressSpace& space = *stopped.space;
  if (!stopped.stopped || !patching_->stalled(space)) return;
  if (auto tasks = stop_space(stopped)) {
    const std::set<pid_t> left = left_stub(space, *tasks);
    patching_->check_stalled(space, *tasks, left);
  }
  release_space();
}

// A handler that interrupted a stub and never returned (it longjmp'd out)
// leaves the stub's context on its task's list, and the exit record of the
// stub's call reserved, for good: the ring cannot reuse the bytes after
// it. A context is left when its task, stopped now outside the stub and
// not in an rt_sigreturn, is on the same stack mapping as the context, at
// or above it, and no signal frame holding it is on the stack above the
// task (a handler on an alternate stack kept in that mapping): a live
// handler runs below the frame it interrupted, its own frame pushed under
// the red zone, or on another stack. Returns the tasks that can no longer
// go back into a stub's call: their pending exits will never be committed.
// Only the stub's contexts are forgotten: the others keep program sites
// unpatched, which costs only speed.
std::set<pid_t> Engine::left_stub(AddressSpace& space, std::vector<patcher::TaskSnapshot>& snapshots) {
  std::set<pid_t> left;
  // A handler moved a stub context elsewhere: the program may jump back.
  if (std::any_of(space.moved_contexts.begin(), space.moved_contexts.end(), in_stub_code)) return left;
  for (patcher::TaskSnapshot& snapshot : snapshots) {
    Task* task = find_task(snapshot.tid);
    if (!task || !task->stopped) continue;  // in a call: where it returns is not known yet
    const auto regs = registers(*task);
    if (!regs || in_stub_code(regs->rip) || static_cast<long>(regs->orig_rax) == SYS_rt_sigreturn) continue;
    auto& contexts = task->signal_contexts;
    forget_left(*task, *regs, in_stub_code);
    snapshot.signal_contexts.clear();
    for (const SignalContext& c : contexts) snapshot.signal_contexts.push_back(c.ip);
    if (std::none_of(contexts.begin(), contexts.end(), [](const SignalContext& c) { return in_stub_code(c.ip); })) {
      left.insert(task->tid);
    }
  }
  return left;
}

void Engine::resume_task(Task& task, int sig) {
  task.stopped = false;
  if (sig == 0) sig = std::exchange(task.inject_signal, 0);
  if (stopping_ && attach_mode_) return detach(task, sig);
  if (attach_mode_ || task.in_syscall()) {
    ptrace::syscall(task.tid, sig);
  } else {
    ptrace::cont(task.tid, sig);
  }
}

void Engine::on_idle(std::chrono::milliseconds after, std::function<void()> hook) {
  idle_after_us_ = static_cast<long>(after.count()) * 1000;
  idle_hook_ = std::move(hook);
  struct sigaction sa {};
  sa.sa_handler = on_drain_timer;  // without SA_RESTART: it ends the wait
  sigemptyset(&sa.sa_mask);
  sigaction(SIGALRM, &sa, nullptr);
}

void Engine::trap_instructions(bool tsc, bool cpuid) {
  trap_tsc_ = tsc;
  trap_cpuid_ = cpuid;
}

void Engine::stop() {
  if (!stopping_) begin_stop();
}

void Engine::begin_stop() {
  stopping_ = true;
  if (!attach_mode_) {
    std::set<pid_t> groups;
    for (auto& [tid, task] : tasks_) groups.insert(task->tgid());
    for (pid_t tgid : groups) kill(tgid, SIGKILL);
    // A task held in its exit stop dies only once it goes on from there.
    for (auto& [tid, task] : tasks_) task->hold = false;
    for (auto& [tid, event] : std::exchange(held_events_, {})) resume_now(event);
    return;
  }
  std::vector<Task*> stopped;
  for (auto& [tid, task] : tasks_) {
    if (task->stopped) stopped.push_back(task.get());
    else ptrace::interrupt(tid);
  }
  for (Task* task : stopped) detach(*task, 0);
}

void Engine::detach(Task& task, int sig) {
  ptrace::detach(task.tid, sig);
  tasks_.erase(task.tid);
}

}  // namespace hytrace::tracer
