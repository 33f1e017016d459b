// Internal to hytrace_syscalls: the pieces the formatter is built from.
// Every put_* function appends to `out`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "syscalls/catalogue.hpp"
#include "syscalls/detail.hpp"
#include "syscalls/format.hpp"

namespace hytrace::syscalls::detail {

// Kernel-internal error codes (include/linux/errno.h); userspace headers
// do not define them.
inline constexpr int kErestartSys = 512;
inline constexpr int kErestartNoIntr = 513;
inline constexpr int kErestartNoHand = 514;
inline constexpr int kEnoIoctlCmd = 515;
inline constexpr int kErestartRestartBlock = 516;
// Results in [-4095, -1] are errors, as the kernel returns them.
inline constexpr long kMaxErrno = 4095;

// Everything an argument decoder may look at.
struct Ctx {
  const Call& call;
  const SyscallInfo& info;
  const ArgDetail& detail;
  MemoryReader& mem;
  const FormatOptions& opts;
  long result = 0;       // the return value, at exit
  bool exiting = false;  // rendering at exit
  bool failed = false;   // at exit: the call returned an error
};

// --- numbers and strings (quote.cc) ---
void put_dec(std::string& out, int64_t value);
void put_udec(std::string& out, uint64_t value);
void put_hex(std::string& out, uint64_t value);  // "0" or "0x1f"
void put_ptr(std::string& out, uint64_t value);  // "NULL" or "0x1f"
void put_octal_mode(std::string& out, uint64_t mode);  // "0644", "000"
// Quotes len bytes (at most limit of them), strace-style; "..." follows
// when len > limit or more_follows. hex: every byte as \xNN.
void put_quoted(std::string& out, const unsigned char* data, size_t len, size_t limit,
                bool more_follows, bool hex);
// True when all len bytes at addr were read.
bool read_exact(MemoryReader& mem, uint64_t addr, void* buf, size_t len);
template <class T>
bool read_value(MemoryReader& mem, uint64_t addr, T& value) {
  return read_exact(mem, addr, &value, sizeof value);
}
// A C string at addr, quoted and cut at limit; NULL for 0; the address when
// unreadable.
void put_string_at(std::string& out, MemoryReader& mem, uint64_t addr, size_t limit);
// A path: like put_string_at, cut at PATH_MAX rather than at -s (as strace).
void put_path_at(std::string& out, MemoryReader& mem, uint64_t addr);
// len bytes at addr, quoted and cut at limit; the address when unreadable.
void put_buffer_at(std::string& out, MemoryReader& mem, uint64_t addr, size_t len,
                   size_t limit, bool hex);
// char *const[] at addr: ["a", "b", ...]; NULL/address when unreadable.
void put_string_array(std::string& out, MemoryReader& mem, uint64_t addr, const FormatOptions& opts);
// The number of entries of a NULL-terminated pointer array; -1 when unreadable.
long count_pointers(MemoryReader& mem, uint64_t addr);

// --- errno and signals (errno_signal.cc) ---
const char* errno_name_or_null(int err);
bool is_restart_code(int err);
void put_errno_text(std::string& out, int err);
// "SIGINT" (or "INT" without prefix), "SIGRTMIN", "SIGRT_3"; false if unnamed.
bool put_signal_name(std::string& out, int sig, bool with_prefix);
void put_signal(std::string& out, int sig);  // name, or the number

// --- arguments (format_args.cc) ---
// Argument `index` of the call; is_out: the kernel wrote it (shown at exit,
// and as a bare address when the call failed).
void put_arg(std::string& out, int index, bool is_out, const Ctx& ctx);
void put_kind(std::string& out, ArgKind kind, uint64_t value, int index, const Ctx& ctx);
void put_open_flags(std::string& out, uint64_t flags);  // O_RDONLY|O_CLOEXEC

// --- structures (format_structs.cc) ---
void put_file_mode(std::string& out, uint64_t mode);  // S_IFREG|0644
void put_stat(std::string& out, MemoryReader& mem, uint64_t addr);
void put_statx(std::string& out, MemoryReader& mem, uint64_t addr);
void put_timespec(std::string& out, MemoryReader& mem, uint64_t addr);
void put_timeval(std::string& out, MemoryReader& mem, uint64_t addr);
void put_sigset(std::string& out, MemoryReader& mem, uint64_t addr, uint64_t size);
void put_sigset_mask(std::string& out, uint64_t mask);
void put_sigaction(std::string& out, MemoryReader& mem, uint64_t addr);
void put_rlimit(std::string& out, MemoryReader& mem, uint64_t addr);
void put_utsname(std::string& out, MemoryReader& mem, uint64_t addr);
void put_wait_status(std::string& out, MemoryReader& mem, uint64_t addr);
void put_fd_pair(std::string& out, MemoryReader& mem, uint64_t addr);
void put_int_at(std::string& out, MemoryReader& mem, uint64_t addr);
void put_iovec(std::string& out, const Ctx& ctx, uint64_t addr, uint64_t count);
void put_pollfds(std::string& out, const Ctx& ctx, uint64_t addr, uint64_t count);
void put_poll_result(std::string& out, const Ctx& ctx);  // " ([{fd=0, revents=POLLIN}])"
void put_epoll_event(std::string& out, MemoryReader& mem, uint64_t addr);
void put_epoll_events(std::string& out, const Ctx& ctx, uint64_t addr, long count);
void put_dirents(std::string& out, MemoryReader& mem, uint64_t addr, long size);
void put_cpuset(std::string& out, MemoryReader& mem, uint64_t addr, uint64_t size);
void put_open_how(std::string& out, MemoryReader& mem, uint64_t addr, uint64_t size);
void put_gid_list(std::string& out, const Ctx& ctx, uint64_t addr, long count);
void put_sysinfo(std::string& out, MemoryReader& mem, uint64_t addr);
void put_clone_args(std::string& out, MemoryReader& mem, uint64_t addr, uint64_t size);
void put_winsize(std::string& out, MemoryReader& mem, uint64_t addr);

// --- sockets (format_net.cc) ---
void put_sockaddr(std::string& out, MemoryReader& mem, uint64_t addr, uint64_t len);
void put_sock_proto(std::string& out, int family, int protocol);
void put_sock_type(std::string& out, uint64_t type);
void put_sockopt_name(std::string& out, int level, int name);
void put_sockopt_value(std::string& out, MemoryReader& mem, uint64_t addr, uint64_t len);

// --- per-syscall shapes (format_special.cc) ---
// Which arguments are shown, in which order, and which the kernel writes.
// Usually arguments 0..nargs-1 as the table says; openat shows its mode only
// with O_CREAT, fcntl's third argument depends on the command, clone shows
// its arguments in strace's order...
struct Layout {
  uint8_t count = 0;
  uint8_t index[6] = {};  // argument shown at each position
  uint8_t out_mask = 0;   // bit p: position p is written by the kernel
  bool is_out(size_t p) const { return (out_mask >> p) & 1u; }
};
Layout layout_of(const Ctx& ctx);
// Renders argument `index` when the syscall has its own shape for it
// (clone's named arguments, fcntl's third argument...); false otherwise.
bool put_special_arg(std::string& out, int index, const Ctx& ctx);
// A successful result shown the syscall's way ("0x8000 (flags O_RDONLY|...)",
// umask's "022", poll's revents); false for the plain number.
bool put_special_result(std::string& out, const Ctx& ctx);
// An argument both read and written (socklen of accept): shown at entry, and
// at exit as "[110 => 2]" when the kernel changed it.
bool is_in_out(const Ctx& ctx, int index);
// An argument the kernel writes even though the call failed (nanosleep's
// remaining time when a signal interrupts it).
bool written_despite_error(const Ctx& ctx, int index);

}  // namespace hytrace::syscalls::detail
