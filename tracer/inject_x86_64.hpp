// Running syscalls inside a stopped tracee on its behalf: how the tracer maps
// the gate, the event buffer and stub pages into the traced program.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <optional>

namespace hytrace::tracer {

struct Injection {
  // The syscall's return value; nullopt when the task did not run it: a
  // signal arrived first, or the task died. Then `status` is the wait status
  // to handle as an ordinary event, and the task's registers are as before.
  std::optional<long> result;
  int status = 0;
};

// Runs syscall `nr` in `tid`, which must be in a ptrace stop that
// PTRACE_SYSCALL can resume (a syscall stop or an event stop), by pointing
// its instruction pointer at the `syscall` instruction at `insn`. Restores
// every register afterwards. Seccomp stops on the way are passed through.
Injection inject_syscall(pid_t tid, uint64_t insn, long nr, std::array<uint64_t, 6> args);

// The same where no syscall instruction is at hand (the first stop of a new
// program, whose IP is its entry point): one is written at the task's IP for
// the call, and the bytes are put back. Only for a task alone in its address
// space, as after an exec: another thread could run the written bytes.
// nullopt result, status 0, when the bytes could not be read or written.
Injection inject_syscall_at_ip(pid_t tid, long nr, std::array<uint64_t, 6> args);

}  // namespace hytrace::tracer
