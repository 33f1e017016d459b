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
// Every event but a syscall's has its place in the engine's one clock, `seq`
// (a syscall's entry and exit places are SyscallFrame::seq and exit_seq).
struct SignalDelivery {
  Task* task;
  siginfo_t info;
  int deliver;  // the signal to inject on resume; a handler may set 0
  uint64_t seq = 0;
  bool set_info = false;  // a handler changed `info`: the task gets that siginfo
};
struct GroupStop {
  Task* task;
  int sig;
  uint64_t seq = 0;
};
struct TaskStart {
  Task* task;
  Task* parent;
  uint64_t clone_flags;
  uint64_t seq = 0;
};
struct Exec {
  Task* task;
  pid_t former_tid;  // differs from task->tid when a non-leader thread exec'd
  uint64_t seq = 0;
};
struct TaskExit {
  Task* task;
  ExitStatus status;
  int wait_status = 0;  // as waitpid(2) gave it
  uint64_t seq = 0;
};

// An instruction the engine traps for the modes that ask (rdtsc and rdtscp
// with PR_SET_TSC, cpuid with cpuid faulting): it arrives filled with what
// the instruction gives on the tracer's CPU now; a handler may change the
// values, and the engine puts them in the registers and steps over it.
struct InstructionTrap {
  enum class Kind : uint8_t { kRdtsc, kRdtscp, kCpuid };
  Task* task;
  Kind kind;
  uint64_t ip = 0;
  uint32_t leaf = 0, subleaf = 0;  // cpuid's eax and ecx
  uint64_t tsc = 0;                // rdtsc, rdtscp
  uint32_t aux = 0;                // rdtscp's ecx (TSC_AUX)
  uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0;  // cpuid's answer
  uint64_t seq = 0;
};

// A syscall hytrace ran in the program itself (mapping its gate, buffer and
// stub pages): it has run already; `purpose` says what for ("gate", "event
// buffer", "sequence counter", "stub page", or "").
struct Injected {
  Task* task;
  syscalls::Call call;
  long result = 0;
  const char* purpose = "";
  uint64_t seq = 0;       // a syscall has two places: entry
  uint64_t exit_seq = 0;  // and exit
};

// The task has begun to exit (PTRACE_EVENT_EXIT): it runs no code of its
// own again, and the kernel has not yet released its memory (nor cleared
// its CLONE_CHILD_CLEARTID word, which wakes a joiner). Its TaskExit has
// this place in the order.
struct TaskExiting {
  Task* task;
  uint64_t seq = 0;
};

using Event = std::variant<SyscallEnter, SyscallExit, SignalDelivery, GroupStop, TaskStart, Exec,
                           TaskExit, InstructionTrap, Injected, TaskExiting>;

class Handler {
 public:
  virtual ~Handler() = default;
  // Set skip/result on the frame to emulate the call (not for buffered
  // frames: those have run already).
  virtual void on_syscall_enter(Task&, SyscallFrame&) {}
  virtual void on_syscall_exit(Task&, const SyscallFrame&, long /*result*/) {}
  virtual void on_signal(Task&, SignalDelivery&) {}
  virtual void on_group_stop(const GroupStop&) {}
  virtual void on_task_start(const TaskStart&) {}
  virtual void on_exec(const Exec&) {}
  virtual void on_task_exit(const TaskExit&) {}
  virtual void on_instruction(InstructionTrap&) {}
  virtual void on_injected(const Injected&) {}
  virtual void on_task_exiting(const TaskExiting&) {}
  // The tracee tree is gone (or detached); flush what is buffered.
  virtual void on_finish() {}
};

}  // namespace hytrace::tracer
