// The ptrace engine: starts or attaches to a tree of tasks, keeps the model
// of tasks, thread groups and address spaces exact, and turns wait statuses
// into the closed Event type. Modes see only events and task handles.
//
//   Engine engine;
//   engine.spawn(path, argv, filter);
//   while (auto event = engine.next()) { dispatch(handler, *event); engine.resume(*event); }
//
// run() is that loop.
#pragma once

#include <sys/types.h>
#include <sys/user.h>

#include <array>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "bpf/filter.hpp"
#include "tracer/event.hpp"
#include "tracer/instruction_trap.hpp"
#include "tracer/launch.hpp"
#include "tracer/patching.hpp"
#include "tracer/ptrace_emulation.hpp"
#include "tracer/transparency.hpp"

namespace hytrace::tracer {

class Engine {
 public:
  Engine();
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Forks, installs `filter` in the child, execs `path`. The child is seized
  // before it installs the filter, so no traced syscall runs untraced.
  // `before_exec` (optional) runs with the child's pid while it is held,
  // for observers that must be armed first (the eBPF oracle).
  void spawn(const std::string& path, const std::vector<std::string>& argv,
             const bpf::Program& filter, const std::function<void(pid_t)>& before_exec = {},
             ChildSetup setup = {});
  // Seizes every thread of a running process. There is no filter to add
  // there: every syscall stops (PTRACE_SYSCALL). Throws std::system_error.
  void attach(pid_t pid);

  // Waits for the next event of interest; nullopt once no task is left.
  std::optional<Event> next();
  // Lets the event's task go on, applying what the handler decided.
  void resume(Event& event);
  // The whole loop; returns how the first task (the root) ended.
  ExitStatus run(Handler& handler);

  // Ctrl-C and SIGTERM make the engine kill the tree it spawned, or detach
  // from the one it attached to. Call once, before spawn/attach.
  void handle_interrupts();
  // The signal that interrupted the engine, 0 if none.
  static int interrupted_by();
  // Ends the run now as Ctrl-C would, without a signal: for a mode that
  // cannot go on (the trace file's disk is full).
  void stop();
  // ERESTARTSYS and kin: a result the kernel acts on when it returns to the
  // program (restart the call, or fail it with EINTR when a handler runs).
  static bool is_restart_code(long result);
  // Lets a task that a handler held (Task::hold) go on from the event it
  // was held at, as resume() would have. Nothing when it is not held.
  void release(Task& task);

  // What a mode may do to a stopped task, so that modes never call ptrace.
  // Each is false when the task is gone (its exit event follows).
  // The program's memory, read-only pages included.
  bool write_memory(Task& task, uint64_t addr, const void* bytes, size_t len);
  // At a syscall-entry stop: argument `index` of the call becomes `value`.
  // At an exit stop: the register that held it (a restart of the call, or
  // the program after it, sees that value).
  bool set_syscall_arg(Task& task, int index, uint64_t value);
  // At a syscall-exit stop: the call returns `result`.
  bool set_syscall_result(Task& task, long result);
  // At a syscall-exit stop: the task makes syscall `nr` again, from the
  // same instruction, as the kernel restarts an interrupted call when no
  // handler runs.
  bool restart_syscall(Task& task, long nr);
  // At a syscall stop: runs syscall `nr` in the task through the syscall
  // instruction that stopped, its registers kept (at the exit stop of an
  // exec, through one written for the time of the call at the new
  // program's entry point). nullopt when it did not run (a signal came
  // first: that stop is handled as an event before the task goes on).
  // Not at an entry stop whose call must still run: the task would return
  // from the injected call instead.
  std::optional<long> inject_syscall(Task& task, long nr, std::array<uint64_t, 6> args);
  // An execution breakpoint at `addr` (0: none): the task reports a SIGTRAP
  // signal (si_code TRAP_HWBKPT) before it runs the instruction there.
  bool set_breakpoint(Task& task, uint64_t addr);
  // The task's general registers, at any stop.
  std::optional<user_regs_struct> registers(Task& task);

  size_t task_count() const { return tasks_.size(); }
  // No other task shares its memory (no thread, no CLONE_VM process): none
  // can change its code or data while it is stopped.
  bool alone_in_space(const Task& task) const;
  // The live task of that tid, nullptr when there is none.
  Task* find_task(pid_t tid) const;
  // Tasks that will report another event without a handler's say: neither
  // held (Task::hold) nor past their exit stop.
  size_t runnable_tasks() const;
  pid_t root() const { return root_; }
  bool attached() const { return attach_mode_; }
  // When the root process ends, kill (spawned) or detach (attached) the
  // rest of the tree instead of waiting for it: for daemons in CI.
  void exit_with_root() { exit_with_root_ = true; }
  // Patch hot sites through `patching` (which must outlive the engine's
  // run). Only for spawned programs: their filter allows the stub's gate.
  // While it waits for a stop, the engine also shows the stubs' events every
  // few milliseconds (a SIGALRM timer interrupts its waitpid).
  void enable_patching(Patching* patching);
  // Trap rdtsc/rdtscp (set up by spawn's ChildSetup::trap_tsc) and cpuid
  // (turned on after each exec: the kernel clears it there) as
  // InstructionTrap events. Call before spawn.
  void trap_instructions(bool tsc, bool cpuid);
  // Calls `hook` when no task has reported anything for `after` (without
  // patching, whose drain timer keeps the wait short): for a mode that holds
  // tasks and must notice that it waits for what will not come.
  void on_idle(std::chrono::milliseconds after, std::function<void()> hook);

 private:
  friend class PtraceEmulation;  // it stops, resumes and queues as the engine does
  uint64_t next_seq();
  std::optional<Event> decode(pid_t tid, int status);
  std::optional<Event> syscall_stop(Task& task);
  std::optional<Event> new_task(Task& parent);
  void first_stop(Task& task);
  std::optional<Event> exec(Task& task);
  std::optional<Event> stop_event(Task& task, int sig);
  std::optional<Event> signal_stop(Task& task, int sig);
  std::optional<Event> task_exit(Task& task, int status);
  void resume_task(Task& task, int sig);
  void begin_stop();
  void detach(Task& task, int sig);
  Task& add_task(pid_t tid, std::shared_ptr<ThreadGroup> group,
                 std::shared_ptr<AddressSpace> space);
  std::shared_ptr<AddressSpace> new_space();
  size_t tasks_in(const AddressSpace& space) const;
  // Queues the stub's events recorded before this stop, then `event`.
  void queue_with_buffered(Event event);
  void queue_interruption(Event event);
  std::optional<Event> buffered_event(BufferedEvent& e);
  bool is_buffered(const Event& event) const;
  void finish_syscall(Task& task, const SyscallFrame& frame, long result);
  void note_signal_context(Task& task, int sig);
  std::optional<std::pair<pid_t, int>> interruption();
  // Brings every task of `current`'s address space into a ptrace stop, or
  // finds it parked in a traced syscall (it stops at the exit before it
  // runs code), and describes each for the patcher. Wait statuses that are
  // real events are kept for next(). nullopt when a task cannot be stopped.
  std::optional<std::vector<patcher::TaskSnapshot>> stop_space(Task& current);
  bool wait_for_held();
  bool is_launcher(const Task& task) const;
  bool waits_for_vfork_child(const Task& task) const;
  std::vector<patcher::TaskSnapshot> snapshots_of(const std::vector<Task*>& members,
                                                  const AddressSpace& space) const;
  // Lets the tasks stop_space interrupted go on as they were.
  void release_space();
  // When the reading of the stopped task's ring has stalled: stops the
  // space to look whether the stalled record is one no stub writes.
  void check_buffer(Task& stopped);
  std::set<pid_t> left_stub(AddressSpace& space, std::vector<patcher::TaskSnapshot>& snapshots);
  void returned_to(Task& task, uint64_t ip, uint64_t sp);
  void forget_program_contexts(Task& task);
  void queue_drained();
  void drain_while_running();
  // Drains while the program runs: every min_drain_interval_us_ while
  // records come, backing off to kMaxDrainIntervalUs when none do. With a
  // CPU of its own, hytrace drains often, so a full buffer's stop has
  // little left to take in (250 us: 405 -> 346 ns per 64-byte read under
  // record); sharing the program's only CPU, each drain takes the CPU from
  // the program, and 1 ms costs it less (519 ns against 580).
  static int cpu_count();
  static long min_drain_interval_us();
  pid_t spin_wait(int& status);
  bool cpu_free() const;
  static constexpr auto kSpinFor = std::chrono::microseconds(50);
  const int cpus_ = cpu_count();  // in hytrace's affinity
  CpuidAnswers cpuid_answers_;
  std::vector<Event> after_event_;  // queued after the event being decoded
  bool stops_close_ = true;       // the last wait for a stop ended soon
  static constexpr long kMaxDrainIntervalUs = 100000;
  const long min_drain_interval_us_ = min_drain_interval_us();
  long drain_interval_us_ = min_drain_interval_us_;

  std::map<pid_t, std::unique_ptr<Task>> tasks_;
  // Exited tasks whose space's buffer may still hold their records.
  std::map<pid_t, std::unique_ptr<Task>> departed_;
  std::set<pid_t> early_stops_;  // new children seen before their parent's event
  pid_t root_ = 0;
  ExitStatus root_status_;
  std::unique_ptr<Launch> launch_;  // the spawned root, until it has exec'd
  std::optional<Transparency> transparency_;  // spawned programs: their filter is hidden
  std::optional<PtraceEmulation> ptrace_emulation_;  // spawned programs: their own ptrace
  bool attach_mode_ = false;
  bool exit_with_root_ = false;
  long idle_after_us_ = 0;
  std::function<void()> idle_hook_;
  bool trap_tsc_ = false;
  bool trap_cpuid_ = false;
  // A stop that came while the engine ran a syscall in a task of its own
  // accord (cpuid faulting after exec): handled before the task resumes.
  std::optional<std::pair<pid_t, int>> own_interruption_;
  bool stopping_ = false;
  int events_after_interrupt_ = 0;
  uint64_t next_space_id_ = 1;
  uint64_t seq_ = 0;
  Patching* patching_ = nullptr;
  std::deque<Event> queued_;
  std::deque<std::pair<pid_t, int>> statuses_;  // reaped while stopping a space, not decoded yet
  struct Held {
    Task* task;
    bool relisten;  // it was in a group-stop: listen again
  };
  std::vector<Held> held_;  // interrupted by stop_space
  // The stubs' events drained and not handed out yet, from drained_next_ on;
  // reused, so its memory stays.
  std::vector<BufferedEvent> drained_;
  size_t drained_next_ = 0;
  std::map<pid_t, Event> held_events_;  // by tid: the event a held task waits at
  void resume_now(Event& event);
};

}  // namespace hytrace::tracer
