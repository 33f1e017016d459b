// Flag and value tables of process, signal, time and event syscalls.
#include <asm/prctl.h>
#include <linux/bpf.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>

#include "syscalls/flags.hpp"

namespace hytrace::syscalls::detail {

// SA_* as the kernel defines them (glibc lacks SA_RESTORER), from
// flags_kernel_signal.cc.
extern const hytrace_flag kKernelSaFlags[];
extern const size_t kKernelSaFlagCount;
extern const uint64_t kKernelSaRestorer;

namespace {

#define F HYTRACE_FLAG

constexpr hytrace_flag kWaitOptions[] = {
    F(WNOHANG), F(WSTOPPED), F(WEXITED), F(WCONTINUED), F(WNOWAIT),
    F(__WNOTHREAD), F(__WALL), F(__WCLONE),
};

constexpr hytrace_flag kIdTypes[] = {F(P_ALL), F(P_PID), F(P_PGID), F(P_PIDFD)};

constexpr hytrace_flag kPrctlOps[] = {
    F(PR_SET_PDEATHSIG),    F(PR_GET_PDEATHSIG),     F(PR_GET_DUMPABLE),
    F(PR_SET_DUMPABLE),     F(PR_GET_UNALIGN),       F(PR_SET_UNALIGN),
    F(PR_GET_KEEPCAPS),     F(PR_SET_KEEPCAPS),      F(PR_GET_FPEMU),
    F(PR_SET_FPEMU),        F(PR_GET_FPEXC),         F(PR_SET_FPEXC),
    F(PR_GET_TIMING),       F(PR_SET_TIMING),        F(PR_SET_NAME),
    F(PR_GET_NAME),         F(PR_GET_ENDIAN),        F(PR_SET_ENDIAN),
    F(PR_GET_SECCOMP),      F(PR_SET_SECCOMP),       F(PR_CAPBSET_READ),
    F(PR_CAPBSET_DROP),     F(PR_GET_TSC),           F(PR_SET_TSC),
    F(PR_GET_SECUREBITS),   F(PR_SET_SECUREBITS),    F(PR_SET_TIMERSLACK),
    F(PR_GET_TIMERSLACK),   F(PR_TASK_PERF_EVENTS_DISABLE),
    F(PR_TASK_PERF_EVENTS_ENABLE), F(PR_MCE_KILL),   F(PR_MCE_KILL_GET),
    F(PR_SET_MM),           F(PR_SET_PTRACER),       F(PR_SET_CHILD_SUBREAPER),
    F(PR_GET_CHILD_SUBREAPER), F(PR_SET_NO_NEW_PRIVS), F(PR_GET_NO_NEW_PRIVS),
    F(PR_GET_TID_ADDRESS),  F(PR_SET_THP_DISABLE),   F(PR_GET_THP_DISABLE),
    F(PR_SET_FP_MODE),      F(PR_GET_FP_MODE),       F(PR_CAP_AMBIENT),
    F(PR_GET_SPECULATION_CTRL), F(PR_SET_SPECULATION_CTRL),
    F(PR_SET_TAGGED_ADDR_CTRL), F(PR_GET_TAGGED_ADDR_CTRL),
    F(PR_SET_IO_FLUSHER),   F(PR_GET_IO_FLUSHER),    F(PR_SET_SYSCALL_USER_DISPATCH),
    F(PR_SCHED_CORE),       F(PR_SET_VMA),
};

constexpr hytrace_flag kArchPrctlOps[] = {
    F(ARCH_SET_GS),          F(ARCH_SET_FS),          F(ARCH_GET_FS),
    F(ARCH_GET_GS),          F(ARCH_GET_CPUID),       F(ARCH_SET_CPUID),
    F(ARCH_GET_XCOMP_SUPP),  F(ARCH_GET_XCOMP_PERM),  F(ARCH_REQ_XCOMP_PERM),
    F(ARCH_GET_XCOMP_GUEST_PERM), F(ARCH_REQ_XCOMP_GUEST_PERM),
    F(ARCH_MAP_VDSO_X32),    F(ARCH_MAP_VDSO_32),     F(ARCH_MAP_VDSO_64),
};

constexpr hytrace_flag kRlimits[] = {
    F(RLIMIT_CPU),     F(RLIMIT_FSIZE),  F(RLIMIT_DATA),   F(RLIMIT_STACK),
    F(RLIMIT_CORE),    F(RLIMIT_RSS),    F(RLIMIT_NPROC),  F(RLIMIT_NOFILE),
    F(RLIMIT_MEMLOCK), F(RLIMIT_AS),     F(RLIMIT_LOCKS),  F(RLIMIT_SIGPENDING),
    F(RLIMIT_MSGQUEUE), F(RLIMIT_NICE),  F(RLIMIT_RTPRIO), F(RLIMIT_RTTIME),
};

constexpr hytrace_flag kFutexCmds[] = {
    F(FUTEX_WAIT),         F(FUTEX_WAKE),          F(FUTEX_FD),
    F(FUTEX_REQUEUE),      F(FUTEX_CMP_REQUEUE),   F(FUTEX_WAKE_OP),
    F(FUTEX_LOCK_PI),      F(FUTEX_UNLOCK_PI),     F(FUTEX_TRYLOCK_PI),
    F(FUTEX_WAIT_BITSET),  F(FUTEX_WAKE_BITSET),   F(FUTEX_WAIT_REQUEUE_PI),
    F(FUTEX_CMP_REQUEUE_PI), F(FUTEX_LOCK_PI2),
};

constexpr hytrace_flag kClockIds[] = {
    F(CLOCK_REALTIME),        F(CLOCK_MONOTONIC),      F(CLOCK_PROCESS_CPUTIME_ID),
    F(CLOCK_THREAD_CPUTIME_ID), F(CLOCK_MONOTONIC_RAW), F(CLOCK_REALTIME_COARSE),
    F(CLOCK_MONOTONIC_COARSE), F(CLOCK_BOOTTIME),       F(CLOCK_REALTIME_ALARM),
    F(CLOCK_BOOTTIME_ALARM),  F(CLOCK_TAI),
};

constexpr hytrace_flag kTimerFlags[] = {F(TIMER_ABSTIME)};

constexpr hytrace_flag kPrioWhich[] = {F(PRIO_PROCESS), F(PRIO_PGRP), F(PRIO_USER)};

constexpr hytrace_flag kSchedPolicies[] = {
    F(SCHED_OTHER), F(SCHED_FIFO), F(SCHED_RR), F(SCHED_BATCH), F(SCHED_IDLE),
    F(SCHED_DEADLINE),
};

constexpr hytrace_flag kItimerWhich[] = {F(ITIMER_REAL), F(ITIMER_VIRTUAL), F(ITIMER_PROF)};

constexpr hytrace_flag kRusageWho[] = {F(RUSAGE_SELF), F(RUSAGE_CHILDREN), F(RUSAGE_THREAD)};

constexpr hytrace_flag kUmountFlags[] = {
    F(MNT_FORCE), F(MNT_DETACH), F(MNT_EXPIRE), F(UMOUNT_NOFOLLOW)};

constexpr hytrace_flag kPtraceRequests[] = {
    F(PTRACE_TRACEME),     F(PTRACE_PEEKTEXT),    F(PTRACE_PEEKDATA),
    F(PTRACE_PEEKUSER),    F(PTRACE_POKETEXT),    F(PTRACE_POKEDATA),
    F(PTRACE_POKEUSER),    F(PTRACE_CONT),        F(PTRACE_KILL),
    F(PTRACE_SINGLESTEP),  F(PTRACE_GETREGS),     F(PTRACE_SETREGS),
    F(PTRACE_GETFPREGS),   F(PTRACE_SETFPREGS),   F(PTRACE_ATTACH),
    F(PTRACE_DETACH),      F(PTRACE_GETFPXREGS),  F(PTRACE_SETFPXREGS),
    F(PTRACE_SYSCALL),     F(PTRACE_GET_THREAD_AREA), F(PTRACE_SET_THREAD_AREA),
    F(PTRACE_ARCH_PRCTL),  F(PTRACE_SYSEMU),      F(PTRACE_SYSEMU_SINGLESTEP),
    F(PTRACE_SETOPTIONS),  F(PTRACE_GETEVENTMSG), F(PTRACE_GETSIGINFO),
    F(PTRACE_SETSIGINFO),  F(PTRACE_GETREGSET),   F(PTRACE_SETREGSET),
    F(PTRACE_SEIZE),       F(PTRACE_INTERRUPT),   F(PTRACE_LISTEN),
    F(PTRACE_PEEKSIGINFO), F(PTRACE_GETSIGMASK),  F(PTRACE_SETSIGMASK),
    F(PTRACE_SECCOMP_GET_FILTER), F(PTRACE_SECCOMP_GET_METADATA),
    F(PTRACE_GET_SYSCALL_INFO), F(PTRACE_GET_RSEQ_CONFIGURATION),
};

constexpr hytrace_flag kSeccompOps[] = {
    F(SECCOMP_SET_MODE_STRICT), F(SECCOMP_SET_MODE_FILTER),
    F(SECCOMP_GET_ACTION_AVAIL), F(SECCOMP_GET_NOTIF_SIZES),
};

constexpr hytrace_flag kBpfCmds[] = {
    F(BPF_MAP_CREATE),       F(BPF_MAP_LOOKUP_ELEM),   F(BPF_MAP_UPDATE_ELEM),
    F(BPF_MAP_DELETE_ELEM),  F(BPF_MAP_GET_NEXT_KEY),  F(BPF_PROG_LOAD),
    F(BPF_OBJ_PIN),          F(BPF_OBJ_GET),           F(BPF_PROG_ATTACH),
    F(BPF_PROG_DETACH),      F(BPF_PROG_TEST_RUN),     F(BPF_PROG_GET_NEXT_ID),
    F(BPF_MAP_GET_NEXT_ID),  F(BPF_PROG_GET_FD_BY_ID), F(BPF_MAP_GET_FD_BY_ID),
    F(BPF_OBJ_GET_INFO_BY_FD), F(BPF_PROG_QUERY),      F(BPF_RAW_TRACEPOINT_OPEN),
    F(BPF_BTF_LOAD),         F(BPF_BTF_GET_FD_BY_ID),  F(BPF_TASK_FD_QUERY),
    F(BPF_MAP_LOOKUP_AND_DELETE_ELEM), F(BPF_MAP_FREEZE), F(BPF_BTF_GET_NEXT_ID),
    F(BPF_MAP_LOOKUP_BATCH), F(BPF_MAP_LOOKUP_AND_DELETE_BATCH),
    F(BPF_MAP_UPDATE_BATCH), F(BPF_MAP_DELETE_BATCH),  F(BPF_LINK_CREATE),
    F(BPF_LINK_UPDATE),      F(BPF_LINK_GET_FD_BY_ID), F(BPF_LINK_GET_NEXT_ID),
    F(BPF_ENABLE_STATS),     F(BPF_ITER_CREATE),       F(BPF_LINK_DETACH),
    F(BPF_PROG_BIND_MAP),
};

constexpr hytrace_flag kGetrandomFlags[] = {F(GRND_NONBLOCK), F(GRND_RANDOM), F(GRND_INSECURE)};

constexpr hytrace_flag kSigHow[] = {F(SIG_BLOCK), F(SIG_UNBLOCK), F(SIG_SETMASK)};

constexpr hytrace_flag kEventfdFlags[] = {F(EFD_SEMAPHORE), F(EFD_CLOEXEC), F(EFD_NONBLOCK)};
constexpr hytrace_flag kTimerfdFlags[] = {F(TFD_CLOEXEC), F(TFD_NONBLOCK)};
constexpr hytrace_flag kSignalfdFlags[] = {F(SFD_CLOEXEC), F(SFD_NONBLOCK)};
constexpr hytrace_flag kEpollCreateFlags[] = {F(EPOLL_CLOEXEC)};
constexpr hytrace_flag kEpollOps[] = {F(EPOLL_CTL_ADD), F(EPOLL_CTL_DEL), F(EPOLL_CTL_MOD)};

constexpr hytrace_flag kEpollEvents[] = {
    F(EPOLLIN),     F(EPOLLPRI),    F(EPOLLOUT),       F(EPOLLERR),
    F(EPOLLHUP),    F(EPOLLRDNORM), F(EPOLLRDBAND),
    F(EPOLLWRNORM), F(EPOLLWRBAND), F(EPOLLMSG),       F(EPOLLRDHUP),
    F(EPOLLEXCLUSIVE), F(EPOLLWAKEUP), F(EPOLLONESHOT), F(EPOLLET),
};

constexpr hytrace_flag kPollEvents[] = {
    F(POLLIN),     F(POLLPRI),    F(POLLOUT),    F(POLLERR),
    F(POLLHUP),    F(POLLNVAL),   F(POLLRDNORM), F(POLLRDBAND),
    F(POLLWRNORM), F(POLLWRBAND), F(POLLMSG),    F(POLLRDHUP),
};

#undef F

}  // namespace

FlagTable wait_options() { return kWaitOptions; }
FlagTable id_types() { return kIdTypes; }
FlagTable prctl_ops() { return kPrctlOps; }
FlagTable arch_prctl_ops() { return kArchPrctlOps; }
FlagTable rlimit_resources() { return kRlimits; }
FlagTable futex_cmds() { return kFutexCmds; }
uint64_t futex_cmd_mask() { return FUTEX_CMD_MASK; }
uint64_t futex_private_flag() { return FUTEX_PRIVATE_FLAG; }
uint64_t futex_clock_realtime() { return FUTEX_CLOCK_REALTIME; }
uint64_t futex_bitset_match_any() { return FUTEX_BITSET_MATCH_ANY; }
FlagTable clock_ids() { return kClockIds; }
FlagTable timer_flags() { return kTimerFlags; }
FlagTable prio_which() { return kPrioWhich; }
FlagTable sched_policies() { return kSchedPolicies; }
FlagTable itimer_which() { return kItimerWhich; }
FlagTable rusage_who() { return kRusageWho; }
FlagTable umount_flags() { return kUmountFlags; }
FlagTable ptrace_requests() { return kPtraceRequests; }
FlagTable seccomp_ops() { return kSeccompOps; }
FlagTable bpf_cmds() { return kBpfCmds; }
FlagTable getrandom_flags() { return kGetrandomFlags; }
FlagTable sig_how() { return kSigHow; }
FlagTable sa_flags() { return {kKernelSaFlags, kKernelSaFlagCount}; }
uint64_t sa_restorer_flag() { return kKernelSaRestorer; }
FlagTable eventfd_flags() { return kEventfdFlags; }
FlagTable timerfd_flags() { return kTimerfdFlags; }
FlagTable signalfd_flags() { return kSignalfdFlags; }
FlagTable epoll_create_flags() { return kEpollCreateFlags; }
FlagTable epoll_ops() { return kEpollOps; }
FlagTable epoll_events() { return kEpollEvents; }
FlagTable poll_events() { return kPollEvents; }

}  // namespace hytrace::syscalls::detail
