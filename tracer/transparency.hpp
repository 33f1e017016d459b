// What hytrace does so that the traced program never sees it: every mode
// gets this from the engine.
//   - No untraced task: CLONE_UNTRACED is cleared at clone's entry (the
//     event keeps the flags the program asked for). An untraced child would
//     inherit the filter, whose SECCOMP_RET_TRACE fails with ENOSYS when no
//     tracer is attached: the child breaks (LeakSanitizer's stop-the-world
//     thread hangs), and it would outlive hytrace.
//   - The filter is hidden: PR_GET_SECCOMP answers 0 and PR_GET_NO_NEW_PRIVS
//     answers 0 (when hytrace set it), unless the program set them itself.
//   - The gs base the stubs read their tid from (patcher/stub/layout.h):
//     arch_prctl(ARCH_GET_GS) answers 0 while it holds hytrace's tag.
//     `rdgsbase` in the program's own code still sees the tag.
// /proc/PID/status still shows the filter (docs/design/engine.md says why).
// The program's own ptrace of its tree is served by tracer/ptrace_emulation.hpp.
#pragma once

#include "bpf/filter.hpp"
#include "tracer/task.hpp"

namespace hytrace::tracer {

// The stops the rules above need, added to a spawned program's filter.
void require_transparency_stops(bpf::FilterSpec& spec);

class Transparency {
 public:
  // hytrace_no_new_privs: hytrace set PR_SET_NO_NEW_PRIVS before exec.
  explicit Transparency(bool hytrace_no_new_privs) : hytrace_no_new_privs_(hytrace_no_new_privs) {}

  // At a syscall's entry stop, before the mode sees it: may change the
  // call's registers or memory, or decide it (frame.skip and result).
  void on_entry(Task& task, SyscallFrame& frame) const;
  // At its exit: what the program set itself.
  void on_exit(Task& task, const SyscallFrame& frame, long result) const;

 private:
  bool hytrace_no_new_privs_;
};

}  // namespace hytrace::tracer
