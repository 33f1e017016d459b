#include "tracer/transparency.hpp"

#include <asm/prctl.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <cerrno>

#include "syscalls/catalogue.hpp"
#include "tracer/ptrace_x86_64.hpp"
#include "tracer/remote_memory.hpp"

namespace hytrace::tracer {
namespace {

using syscalls::Role;

Role role(const SyscallFrame& frame) { return syscalls::role_of(frame.call.abi, frame.call.nr); }

void clear_untraced(Task& task, const SyscallFrame& frame) {
  const uint64_t flags = frame.call.args[0];
  if (role(frame) == Role::kClone) {
    if (flags & CLONE_UNTRACED) ptrace::set_syscall_arg(task.tid, frame.call.abi, 0, flags & ~uint64_t{CLONE_UNTRACED});
    return;
  }
  // clone3: the flags lead struct clone_args, in the program's memory.
  // Another thread could set the bit again before the kernel reads it: that
  // is for audit's hostile programs to close, not for transparency.
  RemoteMemory mem(task.tid);
  uint64_t clone3_flags = 0;
  if (mem.read(flags, &clone3_flags, sizeof clone3_flags) != sizeof clone3_flags) return;
  if (!(clone3_flags & CLONE_UNTRACED)) return;
  clone3_flags &= ~uint64_t{CLONE_UNTRACED};
  mem.store(flags, &clone3_flags, sizeof clone3_flags);  // the program's own memory, never a read-only page
}

bool succeeded(long result) { return result >= 0; }

bool is_get_gs(const SyscallFrame& frame) {
  return frame.call.abi == syscalls::Abi::kX86_64 && frame.call.nr == SYS_arch_prctl &&
         frame.call.args[0] == ARCH_GET_GS;
}

// The gs base holds the stubs' tid tag, which the program did not set: it
// reads 0, as it would untraced.
void hide_tid_tag(Task& task, SyscallFrame& frame) {
  const auto gs = ptrace::gs_base(task.tid);
  if (!gs || !task.has_tag(*gs)) return;
  const uint64_t zero = 0;
  frame.skip = true;
  frame.result = RemoteMemory(task.tid).store(frame.call.args[1], &zero, sizeof zero) ? 0 : -EFAULT;
}

}  // namespace

void require_transparency_stops(bpf::FilterSpec& spec) {
  spec.traced_when.push_back({SYS_clone, 0, CLONE_UNTRACED, CLONE_UNTRACED});
  spec.traced_when.push_back({SYS_arch_prctl, 0, ~uint64_t{0}, ARCH_GET_GS});
  for (const uint64_t op : {PR_GET_SECCOMP, PR_SET_SECCOMP, PR_GET_NO_NEW_PRIVS, PR_SET_NO_NEW_PRIVS}) {
    spec.traced_when.push_back({SYS_prctl, 0, ~uint64_t{0}, op});
  }
  // clone3's and seccomp's flags are in memory, where the filter cannot look.
  // ptrace is served for the program's own tracees (tracer/ptrace_emulation.hpp),
  // and their stops are reaped by wait4 or waitid.
  // An exec stops too, so that its exit stop comes: an inner tracer's
  // ATTACHed tracee gets its post-exec SIGTRAP there.
  for (const int nr : {SYS_clone3, SYS_seccomp, SYS_ptrace, SYS_wait4, SYS_waitid, SYS_execve, SYS_execveat}) {
    if (static_cast<size_t>(nr) < spec.traced.size()) spec.traced[nr] = true;
  }
}

void Transparency::on_entry(Task& task, SyscallFrame& frame) const {
  if (is_get_gs(frame)) return hide_tid_tag(task, frame);
  switch (role(frame)) {
    case Role::kClone:
    case Role::kClone3:
      clear_untraced(task, frame);
      return;
    case Role::kPrctl:
      if (frame.call.args[0] == PR_GET_SECCOMP && !task.own_seccomp) {
        frame.skip = true;
        frame.result = 0;
      } else if (frame.call.args[0] == PR_GET_NO_NEW_PRIVS && hytrace_no_new_privs_ && !task.own_no_new_privs) {
        frame.skip = true;
        frame.result = 0;
      }
      return;
    default:
      return;
  }
}

void Transparency::on_exit(Task& task, const SyscallFrame& frame, long result) const {
  if (frame.skip || !succeeded(result)) return;
  const uint64_t op = frame.call.args[0];
  if (role(frame) == Role::kPrctl) {
    if (op == PR_SET_NO_NEW_PRIVS) task.own_no_new_privs = true;
    if (op == PR_SET_SECCOMP) task.own_seccomp = true;
  } else if (role(frame) == Role::kSeccomp) {
    if (op == SECCOMP_SET_MODE_STRICT || op == SECCOMP_SET_MODE_FILTER) task.own_seccomp = true;
  }
}

}  // namespace hytrace::tracer
