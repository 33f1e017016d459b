// `hytrace replay`: re-runs a recording. The engine reports the replayed
// program's events; this mode matches each against the recording, in the
// recording's one global order:
//
// - run: the calls that shape the process itself (memory mappings, signal
//   dispositions, clones, exec, exit) run for real, and their results must
//   be the recorded ones (a clone's is mapped from the live tid);
// - emulate: every other call is skipped, with the recorded result and the
//   recorded bytes written into the program's memory;
// - hold: a task that reached its next event before its turn waits in its
//   stop until the events before it have happened.
//
// Signals are delivered where they were recorded: the kernel's own are held
// back unless the recording has them next, and the recorded ones are sent
// at their event with their recorded siginfo. rdtsc and cpuid give the
// recorded values. The first mismatch is a divergence: one report, and the
// replay ends.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <array>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tracer/event.hpp"
#include "tracer/tracefile/events.hpp"

namespace hytrace::tracer {

class Engine;

struct ReplayOptions {
  bool quiet = false;  // do not write the recorded program's stdout and stderr
};

class ReplayMode final : public Handler {
 public:
  // How long the replay waits for a task that should go on before it says
  // that it cannot go on (a replay never waits for real time otherwise:
  // every sleep and blocking call is emulated).
  static constexpr int kIdleSeconds = 5;
  // How often idle() is called while nothing happens.
  static constexpr std::chrono::milliseconds kIdleStep{50};
  // `events`: the whole recording, in any order.
  ReplayMode(Engine& engine, std::vector<tracefile::Event> events, ReplayOptions options);

  // The recorded root: the tid, argv, envp and cwd of its first exec.
  const tracefile::ExecEvent& first_exec() const { return *first_exec_; }
  bool has_exec() const { return first_exec_ != nullptr; }
  // The path the recorded root gave execve, as it gave it (relative, maybe):
  // the kernel copies it onto the new stack, so another spelling would move
  // every stack address.
  std::string exec_path() const;
  // How the recorded root ended (its wait status), if the recording says.
  std::optional<int> recorded_status() const { return recorded_status_; }

  void on_syscall_enter(Task& task, SyscallFrame& frame) override;
  void on_syscall_exit(Task& task, const SyscallFrame& frame, long result) override;
  void on_signal(Task& task, SignalDelivery& delivery) override;
  void on_task_start(const TaskStart& start) override;
  void on_exec(const Exec& exec) override;
  void on_task_exit(const TaskExit& exit) override;
  void on_task_exiting(const TaskExiting& exiting) override;
  void on_instruction(InstructionTrap& trap) override;

  // No task reported anything for kIdleStep: tasks held between their
  // places go on (the running one may spin on them in user code); when none
  // is, and the order has not moved for kIdleSeconds, the one whose turn it
  // is will not come (it is blocked for real, or stopped).
  void idle();

  // The first divergence, as its report; "" while the replay matches.
  const std::string& divergence() const { return divergence_; }
  // Every recorded event that should have happened did.
  bool complete() const;
  uint64_t replayed() const { return cursor_; }

 private:
  // kTaskExit: a task's end is in the order too: it is when the kernel
  // clears CLONE_CHILD_CLEARTID and wakes the joiner, and a parent's wait4
  // comes after it.
  enum class Kind : uint8_t { kEntry, kExit, kSignal, kInstruction, kTaskExit };
  struct Place {
    uint64_t seq = 0;
    int32_t rtid = 0;  // the recorded task
    Kind kind = Kind::kEntry;
    size_t event = 0;  // in events_
  };
  // What the mode keeps of a replayed process: its recorded descriptors'
  // paths, for the file mappings it must make itself.
  struct Files {
    std::map<int64_t, std::string> paths;
    // The descriptors that are still the replay's own stdout and stderr:
    // what the program writes there is written for real.
    std::set<int64_t> output = {1, 2};
  };

  void index();
  // The task's next recorded place, or null (divergence set) when it is not
  // `kind`.
  const Place* expect(Task& task, Kind kind, const std::string& live);
  // The place is done: the order moves on, and a task held at the next
  // place goes on.
  void done(Task& task, const Place& place);
  void hold_or_go(Task& task, const Place& place);
  bool hold_between(Task& task, const Place& place);
  Task* take_between(const Place& next);
  bool arm_breakpoint(pid_t tid, const Place& p, Task* stopped);
  bool at_recorded_state(Task& task, const tracefile::SignalEvent& sig);
  void disarm(Task& task);
  bool breakpoint_hit(Task& task, SignalDelivery& delivery);
  bool signal_before_exit(Task& task, const SyscallFrame& frame, long result);
  bool undo_for_handler(Task& task, const syscalls::Call& call);
  bool in_hytrace_pages(const Place& p) const;
  bool left_by_signal(const Place& entry) const;
  bool left_for_signal(Task& task);
  void arm_async(Task& task);
  void release_next(Task* stopped = nullptr);
  void kill_parked(const Place& p);
  bool killed_before(Task& task, const SyscallFrame& frame);
  bool killed_by_sigkill(const Place& p) const;
  bool ended(pid_t tid);
  bool end_in_turn(Task& task, const Place& p);
  std::set<size_t> late_joiners(int32_t rtid) const;
  void let_uncleared_go(size_t entry);
  void settle_leaders();
  void forget(const Task& task);
  void check_stuck();
  void diverge(int32_t rtid, const std::string& what);
  std::string recent(int32_t rtid) const;
  std::string recorded_text(const tracefile::SyscallEvent& e) const;
  std::string live_text(Task& task, const syscalls::Call& call) const;
  bool runs_for_real(const tracefile::SyscallEvent& e) const;
  void emulate_file_mapping(Task& task, SyscallFrame& frame, const tracefile::SyscallEvent& e);
  void fill_file_mapping(Task& task, const tracefile::SyscallEvent& e);
  void track_files(Task& task, const tracefile::SyscallEvent& e);
  static void track_output(Files& files, std::string_view name, const tracefile::SyscallEvent& e);
  bool result_matches(const tracefile::SyscallEvent& e, long live) const;
  void write_outputs(Task& task, const tracefile::SyscallEvent& e);
  void write_poke(const Task& task, const tracefile::SyscallEvent& e);
  void arm_signal_after(Task& task, uint64_t seq);
  void make_injected_mappings(Task& task);
  const tracefile::SyscallEvent& syscall_at(const Place& p) const;
  int32_t recorded_tid(const Task& task) const;
  Files& files_of(const Task& task);

  Engine& engine_;
  std::vector<tracefile::Event> events_;
  ReplayOptions options_;
  const tracefile::ExecEvent* first_exec_ = nullptr;
  std::optional<int> recorded_status_;
  std::vector<Place> places_;                      // in the recorded order
  std::map<int32_t, std::deque<size_t>> queues_;   // per recorded tid: its places not done
  std::map<int32_t, std::deque<size_t>> process_;  // per recorded parent: its clone/fork events
  std::map<int32_t, std::deque<size_t>> injected_; // per recorded tid: hytrace's own calls
  size_t cursor_ = 0;                              // the next place in places_
  std::set<size_t> happened_;                      // places after the cursor that happened (a task's end)
  std::map<size_t, Task*> waiting_;                // held tasks, by the place they wait at
  std::map<pid_t, int32_t> recorded_of_;           // live tid -> recorded tid
  std::map<int32_t, pid_t> live_of_;               // recorded tid -> live tid
  std::map<pid_t, Files> files_;                   // by live tgid
  std::map<pid_t, size_t> entered_;                // live tid -> the place of its call in progress
  std::map<int32_t, std::deque<std::string>> history_;  // per recorded tid: the last events, as text
  // In-user-code signals sent and not yet delivered, by live tid.
  std::map<pid_t, const tracefile::SignalEvent*> async_;
  std::set<pid_t> pending_async_;
  std::map<pid_t, int32_t> remap_after_exit_;  // live tid -> its recorded tid once its execve returned
  std::set<pid_t> restarting_;  // live tids whose real call the kernel restarts
  std::set<pid_t> parked_;  // in a call the recording never saw return: held for good
  std::set<pid_t> killed_;  // parked ones the replay killed itself (kill_parked)
  uint64_t unordered_ = 0;  // times idle() let held tasks go on out of the recorded order
  size_t idle_cursor_ = 0;  // the cursor when idle() last counted
  int idle_steps_ = 0;      // idle() calls since the cursor last moved
  // Tasks with an execution breakpoint at their in-user-code signal's
  // instruction, and that signal's place.
  std::map<pid_t, size_t> armed_;
  // A call undone for a signal, made again once the signal was delivered
  // (signal_before_exit): its entry's place, and where the task was.
  struct Redo {
    size_t entry;
    uint64_t ip;  // after the syscall instruction
    uint64_t sp;
    syscalls::Call call;  // as it was made
  };
  std::map<pid_t, Redo> redo_;
  bool is_redo(Task& task, const SyscallFrame& frame, const Redo& redo);
  // Held at the exit of a call whose stub a signal interrupted, until that
  // signal's turn: the task and the call, to undo it (none for a call the
  // handler left, left_).
  std::map<pid_t, std::pair<Task*, std::optional<syscalls::Call>>> stub_held_;
  // In a call that never returned when recording, as a handler left it.
  std::set<pid_t> left_;
  uint64_t breakpoint_passes_ = 0;  // hits of the armed breakpoint that were not the recorded moment
  // Each pass is a ptrace stop: a replay gives up after this many
  // (hardware counters, which would say how far to run, are not there).
  static constexpr uint64_t kMostBreakpointPasses = 200000;
  std::vector<std::pair<uint64_t, uint64_t>> hytrace_pages_;  // [start, end) hytrace mapped when recording
  std::map<pid_t, Task*> between_;  // held after a done place until their next place is the order's next
  std::map<pid_t, size_t> reaped_at_;  // live tid -> its end's place, done when it is reaped
  // Ending tasks held before they clear their CLONE_CHILD_CLEARTID word,
  // with the futex entries of the joiners that must read it first.
  struct Uncleared {
    Task* task = nullptr;
    std::set<size_t> joiners;
  };
  std::map<pid_t, Uncleared> uncleared_;
  std::set<pid_t> ending_leaders_;     // of reaped_at_: leaders with threads left, done as zombies
  std::map<pid_t, int> threads_;       // live tgid -> its live threads
  std::set<const tracefile::Event*> done_execs_;   // exec events already met
  std::string divergence_;
};

}  // namespace hytrace::tracer
