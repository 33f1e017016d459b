// Flag and value tables, and the printers that turn a number into
// "O_RDONLY|O_CLOEXEC" or "SEEK_SET". Internal to hytrace_syscalls.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "syscalls/flag_entry.h"

namespace hytrace::syscalls::detail {

using FlagTable = std::span<const hytrace_flag>;

// The name of exactly value, or nullptr.
const char* find_name(FlagTable table, uint64_t value);

// "A|B|0x40": every entry whose bits are all set, in table order (so list a
// combined flag such as O_SYNC before its parts), then leftover bits in hex.
// 0 prints the table's zero-valued entry if it has one, else "0". When no
// entry matches a nonzero value and `unknown` is given: "0x40 /* unknown */".
void put_flags(std::string& out, FlagTable table, uint64_t value, const char* unknown = nullptr);

// The name of value, else "0x7 /* unknown */" (strace's "SIG_???" style).
void put_enum(std::string& out, FlagTable table, uint64_t value, const char* unknown);

// flags_file.cc
FlagTable open_access_modes();  // O_RDONLY, O_WRONLY, O_RDWR, O_ACCMODE
FlagTable open_flags();         // O_* other than the access mode
uint64_t open_access_mask();    // O_ACCMODE
uint64_t open_creates_mask();   // O_CREAT|__O_TMPFILE: openat shows a mode
FlagTable at_flags();
FlagTable faccessat_flags();
FlagTable statx_sync_types();  // AT_STATX_SYNC_AS_STAT...
uint64_t statx_sync_type_mask();
FlagTable statx_mask();
FlagTable statx_attributes();
FlagTable access_modes();
FlagTable fcntl_cmds();
FlagTable fd_flags();
FlagTable whence_values();
FlagTable lock_ops();
FlagTable rename_flags();
FlagTable xattr_flags();
FlagTable close_range_flags();
FlagTable rwf_flags();
FlagTable ioctl_cmds();
FlagTable fadvice_values();
FlagTable inotify_init_flags();
FlagTable inotify_mask();
FlagTable memfd_flags();
FlagTable resolve_flags();  // RESOLVE_* of openat2
FlagTable file_types();  // S_IFREG...
FlagTable mode_bits();   // S_ISUID, S_ISGID, S_ISVTX
uint64_t file_type_mask();  // S_IFMT
int64_t at_fdcwd();

// flags_memory.cc
FlagTable prot_flags();
FlagTable map_types();  // MAP_FILE (0), MAP_SHARED, MAP_PRIVATE, MAP_SHARED_VALIDATE
FlagTable map_flags();
uint64_t map_type_mask();
FlagTable madvise_advice();
FlagTable mremap_flags();
FlagTable msync_flags();
FlagTable mlockall_flags();

// flags_process.cc
FlagTable wait_options();
FlagTable id_types();
FlagTable prctl_ops();
FlagTable arch_prctl_ops();
FlagTable rlimit_resources();
FlagTable futex_cmds();
uint64_t futex_cmd_mask();
uint64_t futex_private_flag();
uint64_t futex_clock_realtime();
uint64_t futex_bitset_match_any();
FlagTable clock_ids();
FlagTable timer_flags();
FlagTable prio_which();
FlagTable sched_policies();
FlagTable itimer_which();
FlagTable rusage_who();
FlagTable umount_flags();
FlagTable ptrace_requests();
FlagTable seccomp_ops();
FlagTable bpf_cmds();
FlagTable getrandom_flags();
FlagTable sig_how();
FlagTable sa_flags();
uint64_t sa_restorer_flag();
FlagTable eventfd_flags();
FlagTable timerfd_flags();
FlagTable signalfd_flags();
FlagTable epoll_create_flags();
FlagTable epoll_ops();
FlagTable epoll_events();
FlagTable poll_events();

// flags_clone.cc
FlagTable clone_flags();
uint64_t clone_signal_mask();  // CSIGNAL
FlagTable namespace_flags();

// flags_net.cc
FlagTable address_families();
FlagTable socket_types();
FlagTable socket_flags();  // SOCK_CLOEXEC, SOCK_NONBLOCK
uint64_t socket_type_mask();
FlagTable msg_flags();
FlagTable shutdown_how();
FlagTable socket_levels();
FlagTable socket_options(int level);  // empty when the level is not known
FlagTable ip_protocols();

}  // namespace hytrace::syscalls::detail
