// ptrace by the traced program, served by hytrace. hytrace is already every
// task's tracer, so the kernel refuses the program's own PTRACE_ATTACH with
// EPERM (LeakSanitizer then gives up: "does not work under ptrace"). For a
// target in the traced tree, the engine answers instead, from its own stops:
//
//   - ATTACH sends SIGSTOP, as the kernel does; SEIZE does not. The target's
//     signal stops are then its inner tracer's: the task stays stopped, the
//     mode sees nothing, and the inner tracer's wait4 reaps the stop.
//   - CONT and DETACH let it go on, with the signal the inner tracer chose
//     (the mode sees that delivery as any other); KILL kills it.
//   - PEEK*, POKE*, GETREGS, SETREGS, GET/SETFPREGS, GET/SETREGSET,
//     GET/SETSIGINFO and SETOPTIONS (EXITKILL, TRACESYSGOOD) act on the
//     stopped task through hytrace's own ptrace.
//   - Everything else (syscall and event stops, INTERRUPT, LISTEN,
//     SINGLESTEP, TRACEME) fails with EIO, said once on stderr.
//
// A wait4 or waitid for a tracee (for one, any, or a process group, by its
// tracer or another thread of the tracer's process) is answered from the
// stops not yet reaped; with none, the caller waits in its entry stop until
// one comes, or until a real child it waits for ends (the kernel's wait
// then returns that child). The mode decides each call first: what it refuses
// (audit's off-limits rule) or emulates itself (replay) is never served.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <map>
#include <optional>
#include <set>

#include "tracer/task.hpp"

namespace hytrace::tracer {

class Engine;

class PtraceEmulation {
 public:
  explicit PtraceEmulation(Engine& engine) : engine_(engine) {}

  // At a ptrace or wait4 entry the mode let run: decides it (frame.skip and
  // result), or sets caller.hold until a tracee's stop answers it. Nothing
  // for a call that concerns no traced tracee.
  void on_entry(Task& caller, SyscallFrame& frame);
  // A signal stop of `task`: true when it is a tracee's, kept for its
  // tracer (the task stays stopped until the tracer lets it go on).
  bool on_signal_stop(Task& task, int sig, const siginfo_t& info);
  // The task began to exit: its tracees that asked for PTRACE_O_EXITKILL
  // are killed now, before anyone can see it dead, as the kernel does.
  // True when it was held in a wait4 here (no longer held now).
  bool on_exiting(Task& task);
  // The task ended: its tracees go on untraced, and a tracer waiting for it
  // makes its wait4 in the kernel.
  void on_exit(const Task& task);
  // The task exec'd (a non-leader thread: under the leader's tid now, the
  // leader gone). A tracee attached without SEIZE gets the SIGTRAP the
  // kernel sends after exec.
  void on_exec(const Task& task, pid_t former_tid);
  // At a syscall exit, as the task is about to return to its program: the
  // post-exec SIGTRAP is sent then.
  void before_return(const Task& task);

 private:
  struct Tracee {
    pid_t tracer = 0;
    bool stopped = false;  // in a signal stop its tracer sees
    siginfo_t info{};      // that stop's
    int status = 0;        // a stop's wait status not reaped yet, 0 when none
    uint64_t options = 0;  // PTRACE_O_* from SEIZE or SETOPTIONS
    bool seized = false;   // SEIZE, not ATTACH: no SIGTRAP after exec
    bool exec_trap_due = false;  // exec'd: the SIGTRAP is to be sent as it returns
    bool exec_trap = false;      // the SIGTRAP hytrace sent after an exec, to report as the kernel's
  };
  struct Waiter {
    pid_t pid = -1;            // as wait4 takes it: a tracee, -1 any, 0 or -PGID a process group
    uint64_t status_addr = 0;  // wait4's
    uint64_t rusage_addr = 0;
    uint64_t info_addr = 0;    // waitid's siginfo
    bool waitid = false;
    bool keep = false;         // WNOWAIT: reported, still reapable
    bool own_only = false;     // __WNOTHREAD: not the tracees of the caller's other threads
  };

  long request(Task& caller, const SyscallFrame& frame);
  long attach(const Task& caller, Task& target, bool seize, uint64_t options);
  void kill_on_exit(pid_t tracer);
  long access(Task& caller, Tracee& tracee, pid_t tid, long req, uint64_t addr, uint64_t data);
  long go_on(Tracee& tracee, pid_t tid, uint64_t sig, bool detach);
  long unsupported(long req);
  void wait(Task& caller, SyscallFrame& frame);
  // What a wait4 or waitid asks for; nullopt for one the kernel must answer
  // (a pidfd, or arguments it refuses).
  static std::optional<Waiter> waiter_of(const syscalls::Call& call);
  // The tracees `waiter`, made by `caller`, is about: traced by it (or by
  // another thread of its process, without __WNOTHREAD) and named by its pid.
  bool waits_for(const Task& caller, const Waiter& waiter, pid_t tid, const Tracee& tracee) const;
  // The stop `tid` reports to `waiter` now, 0 when none.
  pid_t reapable(const Task& caller, const Waiter& waiter) const;
  long reap(Task& caller, const Waiter& waiter, pid_t tid);
  long nothing_yet(Task& caller, const Waiter& waiter);
  // Tracers waiting for what a tracee now has to report get it.
  void wake();
  bool has_tracees(const Task& caller, const Waiter& waiter) const;
  // A child of the caller's process that is dead and not yet reaped, which
  // `waiter` is about: the kernel's wait returns it at once.
  bool kernel_has_one(const Task& caller, const Waiter& waiter);

  Engine& engine_;
  std::map<pid_t, Tracee> tracees_;  // by tid
  std::map<pid_t, Waiter> waiters_;  // by the inner tracer's tid
  // Processes that ended, by their parent's tgid: the kernel's to report to
  // a wait for them (checked again in /proc when used: reaped meanwhile).
  std::map<pid_t, std::set<pid_t>> ended_;
  bool said_unsupported_ = false;
};

}  // namespace hytrace::tracer
