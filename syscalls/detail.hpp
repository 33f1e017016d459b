// Internal to hytrace_syscalls: what the generated table knows beyond the
// public SyscallInfo. Not part of the library's interface.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "syscalls/catalogue.hpp"

namespace hytrace::syscalls::detail {

// A finer decoding than ArgKind for one argument. kNone means "use the
// public ArgKind". Every other value names a richer decoder; the public kind
// of such an argument is its plain fallback (kPtr, kHex, kInt...), so code
// that only reads SyscallInfo still sees something sensible.
// gen_catalogue.py maps the names of syscalls.tbl onto these enumerators.
enum class Ext : uint8_t {
  kNone,
  // Structures and arrays.
  kEnvp,         // envp: address and /* N vars */
  kSigaction,    // struct sigaction (kernel layout)
  kRlimit,       // struct rlimit
  kFdPair,       // int[2] written by pipe/socketpair
  kWaitStatus,   // int* status of wait4
  kUtsname,      // struct utsname
  kDirents,      // getdents buffer: address and /* N entries */
  kTimeval,      // struct timeval
  kCString,      // NUL-terminated string written by the kernel (getcwd)
  kHexBuf,       // buffer shown with every byte as \xNN (getrandom)
  kIovec,        // struct iovec[], count is the next argument
  kPollFds,      // struct pollfd[], count is the next argument
  kEpollEvent,   // struct epoll_event*
  kEpollEvents,  // struct epoll_event[] written, count is the result
  kCpuSet,       // cpu mask, size is the previous argument / result
  kSockAddrOut,  // struct sockaddr* written, length at *next argument
  kIntPtr,       // int* shown as [N]
  kStatx,        // struct statx
  kOpenHow,      // struct open_how
  kGidList,      // gid_t[]: count is the result at exit, else the previous argument
  kSysinfo,      // struct sysinfo
  kCloneArgs,    // struct clone_args, size is the next argument
  // Values decoded by number. Every Ext from kOff on reads no memory:
  // memory_args() (catalogue.cc) relies on this order; keep structures above.
  kOff,          // a 64-bit signed offset or length (off_t, loff_t)
  kUid,          // uid_t/gid_t: -1 for (uid_t)-1
  kSockProto,    // protocol, depending on the family in argument 0
  kSockLevel,    // SOL_SOCKET, IPPROTO_TCP...
  kSockOpt,      // option name, depending on the level in argument 1
  kSockOptVal,   // option value: [N] when its length is an int's
  // Flag sets.
  kOFlags,       // O_* without an access mode (pipe2, dup3)
  kFaccessFlags, // AT_EACCESS...
  kMsgFlags,     // MSG_*
  kSockFlags,    // SOCK_CLOEXEC|SOCK_NONBLOCK
  kEfdFlags,     // EFD_*
  kEpollFlags,   // EPOLL_CLOEXEC
  kTfdFlags,     // TFD_*
  kSfdFlags,     // SFD_*
  kInFlags,      // IN_CLOEXEC|IN_NONBLOCK
  kInMask,       // IN_ACCESS...
  kMfdFlags,     // MFD_*
  kGrndFlags,    // GRND_*
  kTimerFlags,   // TIMER_ABSTIME
  kRenameFlags,  // RENAME_*
  kMremapFlags,  // MREMAP_*
  kMsyncFlags,   // MS_ASYNC...
  kMlockallFlags,// MCL_*
  kNsFlags,      // CLONE_NEW* (unshare, setns)
  kUmountFlags,  // MNT_*
  kStatxFlags,   // AT_STATX_* and AT_*
  kStatxMask,    // STATX_*
  kCloseRangeFlags,  // CLOSE_RANGE_*
  kRwfFlags,     // RWF_*
  kXattrFlags,   // XATTR_*
  // Enumerations.
  kEpollOp,      // EPOLL_CTL_*
  kShutHow,      // SHUT_*
  kLockOp,       // LOCK_* (a flag set, shown like strace)
  kFadvice,      // POSIX_FADV_*
  kPrioWhich,    // PRIO_*
  kSchedPolicy,  // SCHED_*
  kIdType,       // P_* of waitid
  kItimerWhich,  // ITIMER_*
  kRusageWho,    // RUSAGE_*
  kPtraceReq,    // PTRACE_*
  kSeccompOp,    // SECCOMP_SET_MODE_*...
  kBpfCmd,       // BPF_*
};

struct ArgDetail {
  Ext ext[6];
  uint8_t out_mask;  // bit i: argument i is written by the kernel (shown at exit)
};

// The bytes the formatter reads for a structure of fixed size (Ext below
// kOff), 0 when its size is not fixed.
size_t fixed_struct_bytes(Ext ext);
// At most this many bytes of a structure or array are read.
inline constexpr long kMaxStructBytes = 1 << 20;

// The generated table (syscall_table.cc, made by gen_catalogue.py).
std::span<const SyscallInfo> generated_table();
std::span<const ArgDetail> generated_details();
// Indices into generated_table() sorted by name, for number_of().
std::span<const uint16_t> generated_name_order();
// Index into generated_table() by number (0..max); -1 for unused numbers.
std::span<const int16_t> generated_slot_by_nr();

// x32 and i386 syscall names by number (empty where free), from numbers.tbl.
std::span<const std::string_view> generated_x32_names();
std::span<const std::string_view> generated_i386_names();

// The files the table was generated from (for tests).
std::string_view generated_numbers_path();
std::string_view generated_table_path();

// The detail of an entry of generated_table().
const ArgDetail& details_of(const SyscallInfo& info);

}  // namespace hytrace::syscalls::detail
