// CLONE_* from the kernel's <linux/sched.h>, which has the clone3-only bits
// glibc's <sched.h> lacks (and clashes with it, hence a file of its own).
#include <linux/sched.h>

#include "syscalls/flags.hpp"

namespace hytrace::syscalls::detail {
namespace {

#define F HYTRACE_FLAG

// Bits above CSIGNAL, in value order (strace's order).
#define HYTRACE_CLONE_FLAGS                                                          \
  F(CLONE_VM), F(CLONE_FS), F(CLONE_FILES), F(CLONE_SIGHAND), F(CLONE_PIDFD),       \
      F(CLONE_PTRACE), F(CLONE_VFORK), F(CLONE_PARENT), F(CLONE_THREAD),            \
      F(CLONE_NEWNS), F(CLONE_SYSVSEM), F(CLONE_SETTLS), F(CLONE_PARENT_SETTID),    \
      F(CLONE_CHILD_CLEARTID), F(CLONE_DETACHED), F(CLONE_UNTRACED),               \
      F(CLONE_CHILD_SETTID), F(CLONE_NEWCGROUP), F(CLONE_NEWUTS), F(CLONE_NEWIPC), \
      F(CLONE_NEWUSER), F(CLONE_NEWPID), F(CLONE_NEWNET), F(CLONE_IO),             \
      F(CLONE_CLEAR_SIGHAND), F(CLONE_INTO_CGROUP)

constexpr hytrace_flag kCloneFlags[] = {HYTRACE_CLONE_FLAGS};

// unshare() and setns() take no exit signal, so CLONE_NEWTIME (inside
// CSIGNAL) is a flag there.
constexpr hytrace_flag kNamespaceFlags[] = {F(CLONE_NEWTIME), HYTRACE_CLONE_FLAGS};

#undef HYTRACE_CLONE_FLAGS
#undef F

}  // namespace

FlagTable clone_flags() { return kCloneFlags; }
uint64_t clone_signal_mask() { return CSIGNAL; }
FlagTable namespace_flags() { return kNamespaceFlags; }

}  // namespace hytrace::syscalls::detail
