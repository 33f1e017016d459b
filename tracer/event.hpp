// The closed set of events the engine reports, and the handler interface the
// modes (trace, count, record, replay, audit) implement. A handler acts on the
// tracee only through the Tracee handle; every hook has a pass-through default.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <cstdint>
#include <variant>

#include "tracer/task.hpp"

namespace hytrace::tracer {

// How a task ended: exited with a code, or killed by a signal.
struct ExitStatus {
  bool signaled = false;
  int code = 0;  // exit code, or the signal number when signaled
  bool core_dumped = false;
};

struct SyscallEnter {
  Task* task;
  SyscallFrame* frame;  // the task's innermost frame, or a buffered one
};
struct SyscallExit {
  Task* task;
  SyscallFrame frame;  // the popped frame
  long result;
};
struct SignalDelivery {
  Task* task;
  siginfo_t info;
  int deliver;  // the signal to inject on resume; a handler may set 0
};
struct GroupStop {
  Task* task;
  int sig;
};
struct TaskStart {
  Task* task;
  Task* parent;
  uint64_t clone_flags;
};
struct Exec {
  Task* task;
  pid_t former_tid;  // differs from task->tid when a non-leader thread exec'd
};
struct TaskExit {
  Task* task;
  ExitStatus status;
};

using Event = std::variant<SyscallEnter, SyscallExit, SignalDelivery, GroupStop, TaskStart, Exec,
                           TaskExit>;

class Handler {
 public:
  virtual ~Handler() = default;
  // Set skip/result on the frame to emulate the call (not for buffered
  // frames: those have run already).
  virtual void on_syscall_enter(Task&, SyscallFrame&) {}
  virtual void on_syscall_exit(Task&, const SyscallFrame&, long /*result*/) {}
  virtual void on_signal(Task&, SignalDelivery&) {}
  virtual void on_group_stop(Task&, int /*sig*/) {}
  virtual void on_task_start(Task& /*child*/, Task& /*parent*/, uint64_t /*clone_flags*/) {}
  virtual void on_exec(Task&, pid_t /*former_tid*/) {}
  virtual void on_task_exit(Task&, const ExitStatus&) {}
  // The tracee tree is gone (or detached); flush what is buffered.
  virtual void on_finish() {}
};

}  // namespace hytrace::tracer
