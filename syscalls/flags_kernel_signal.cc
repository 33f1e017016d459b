// SA_* flags as the kernel defines them: <asm/signal.h> is the only header
// with SA_RESTORER, and it clashes with glibc's <signal.h> (sigset_t, struct
// timeval), which every C++ standard header pulls in. So this file includes
// nothing else: no standard C++ header, only <asm/signal.h> and C's
// <stdint.h>/<stddef.h> through flag_entry.h.
#include <asm/signal.h>

#include "syscalls/flag_entry.h"

namespace hytrace::syscalls::detail {

// strace's order.
extern const hytrace_flag kKernelSaFlags[] = {
    HYTRACE_FLAG(SA_RESTORER),  HYTRACE_FLAG(SA_ONSTACK),   HYTRACE_FLAG(SA_RESTART),
    HYTRACE_FLAG(SA_NODEFER),   HYTRACE_FLAG(SA_RESETHAND), HYTRACE_FLAG(SA_SIGINFO),
    HYTRACE_FLAG(SA_NOCLDSTOP), HYTRACE_FLAG(SA_NOCLDWAIT),
};
extern const size_t kKernelSaFlagCount = sizeof kKernelSaFlags / sizeof kKernelSaFlags[0];
extern const uint64_t kKernelSaRestorer = SA_RESTORER;

}  // namespace hytrace::syscalls::detail
