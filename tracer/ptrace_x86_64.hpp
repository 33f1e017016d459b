// Thin, typed wrappers over the ptrace requests the engine uses. Architecture
// specific: registers and the syscall ABI of x86-64.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>

#include "syscalls/format.hpp"

namespace hytrace::tracer::ptrace {

enum class StopOp : uint8_t { kNone, kEntry, kExit, kSeccomp };

struct SyscallState {
  StopOp op = StopOp::kNone;
  syscalls::Call call;  // entry and seccomp stops
  uint64_t ip = 0;      // address after the syscall instruction
  uint64_t sp = 0;
  long result = 0;      // exit stops
  uint32_t seccomp_data = 0;
};

// PTRACE_GET_SYSCALL_INFO (Linux 5.3+). False when the task is gone.
bool syscall_state(pid_t tid, SyscallState& out);

// The clone flags of the clone/clone3/fork/vfork the task is stopped in (at a
// PTRACE_EVENT_{CLONE,FORK,VFORK} stop).
uint64_t clone_flags(pid_t tid);

// At a syscall-entry (or seccomp) stop: argument `index` of the call becomes
// `value`, in the registers of the call's ABI.
bool set_syscall_arg(pid_t tid, syscalls::Abi abi, int index, uint64_t value);

// At a syscall-entry stop: do not run the syscall; it returns `result`.
bool skip_syscall(pid_t tid, long result);
// At a syscall-exit stop: replace the return value; with `nr` >= 0, also
// the call's number (orig_rax), which the kernel's restart logic reads.
bool set_result(pid_t tid, long result, long nr = -1);

// Debug register 0 as an execution breakpoint at `addr`, 0 to remove it:
// the task stops with SIGTRAP (TRAP_HWBKPT) before it runs that
// instruction; the kernel sets the resume flag, so going on from there does
// not stop again at once.
bool set_breakpoint(pid_t tid, uint64_t addr);

// The task's gs base (user_regs_struct.gs_base), through PEEKUSER/POKEUSER.
std::optional<uint64_t> gs_base(pid_t tid);
bool set_gs_base(pid_t tid, uint64_t base);

// Resume requests; ESRCH (the task died meanwhile) is not an error: its exit
// is reported by waitpid.
void cont(pid_t tid, int sig);
void syscall(pid_t tid, int sig);
void listen(pid_t tid);
void interrupt(pid_t tid);
void detach(pid_t tid, int sig);
unsigned long event_message(pid_t tid);

}  // namespace hytrace::tracer::ptrace
