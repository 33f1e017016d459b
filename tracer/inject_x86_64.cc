#include "tracer/inject_x86_64.hpp"

#include <signal.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>

#include <cerrno>
#include <system_error>

#include "tracer/ptrace_x86_64.hpp"
#include "tracer/remote_memory.hpp"

namespace hytrace::tracer {
namespace {

bool get_regs(pid_t tid, user_regs_struct& regs) {
  return ::ptrace(PTRACE_GETREGS, tid, nullptr, &regs) == 0;
}
bool set_regs(pid_t tid, const user_regs_struct& regs) {
  return ::ptrace(PTRACE_SETREGS, tid, nullptr, &regs) == 0;
}

// Resumes with PTRACE_SYSCALL until the injected call's exit stop. Returns
// the wait status of anything else that stopped the task first.
std::optional<int> run_to_exit(pid_t tid) {
  bool entered = false;
  for (;;) {
    if (::ptrace(PTRACE_SYSCALL, tid, nullptr, 0) != 0) return 0;
    // Interrupted (Ctrl-C), the wait is taken up again: the task runs, and
    // resuming it a second time would fail and leave it running the
    // injected call unwatched.
    int status = 0;
    pid_t got;
    do got = waitpid(tid, &status, __WALL);
    while (got < 0 && errno == EINTR);
    if (got < 0) return 0;
    if (!WIFSTOPPED(status)) return status;
    const bool syscall_stop = WSTOPSIG(status) == (SIGTRAP | 0x80);
    const bool seccomp_stop = (status >> 16) == PTRACE_EVENT_SECCOMP;
    // The task's death (SIGKILL) is the engine's to see, its exit event
    // included (the emulated EXITKILL acts there).
    if ((status >> 16) == PTRACE_EVENT_EXIT) return status;
    if (!syscall_stop && !seccomp_stop) {
      if (!entered) return status;  // e.g. a signal, before the syscall ran
      continue;                     // cannot happen between entry and exit
    }
    if (seccomp_stop) continue;  // the filter traces this number: let it run
    ptrace::SyscallState state;
    if (!ptrace::syscall_state(tid, state)) return 0;
    if (state.op == ptrace::StopOp::kExit) return std::nullopt;
    entered = true;
  }
}

}  // namespace

Injection inject_syscall(pid_t tid, uint64_t insn, long nr, std::array<uint64_t, 6> args) {
  user_regs_struct saved{};
  if (!get_regs(tid, saved)) return {std::nullopt, 0};
  user_regs_struct regs = saved;
  regs.rip = insn;
  regs.rax = static_cast<unsigned long long>(nr);
  regs.orig_rax = static_cast<unsigned long long>(-1);  // no restart games at the old stop
  regs.rdi = args[0];
  regs.rsi = args[1];
  regs.rdx = args[2];
  regs.r10 = args[3];
  regs.r8 = args[4];
  regs.r9 = args[5];
  if (!set_regs(tid, regs)) return {std::nullopt, 0};
  Injection out;
  if (const auto other = run_to_exit(tid)) {
    out.status = *other;
  } else if (get_regs(tid, regs)) {
    out.result = static_cast<long>(regs.rax);
  }
  set_regs(tid, saved);
  return out;
}

Injection inject_syscall_at_ip(pid_t tid, long nr, std::array<uint64_t, 6> args) {
  constexpr std::array<uint8_t, 2> kSyscall = {0x0f, 0x05};
  user_regs_struct regs{};
  if (!get_regs(tid, regs)) return {};
  RemoteMemory memory(tid);
  std::array<uint8_t, kSyscall.size()> saved{};
  if (memory.read(regs.rip, saved.data(), saved.size()) != saved.size()) return {};
  if (!memory.write(regs.rip, kSyscall.data(), kSyscall.size())) return {};
  const Injection done = inject_syscall(tid, regs.rip, nr, args);
  memory.write(regs.rip, saved.data(), saved.size());
  return done;
}

}  // namespace hytrace::tracer
