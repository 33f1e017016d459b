// The syscall catalogue: every x86-64 syscall of numbers.tbl (Linux 6.19), with
// argument kinds and strace-style classes. Knows nothing of processes.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace hytrace::syscalls {

// The three syscall ABIs of an x86-64 kernel: native, i386 (int 0x80,
// sysenter) and x32 (native instructions, __X32_SYSCALL_BIT in rax).
enum class Abi : uint8_t { kX86_64, kI386, kX32 };

// strace's syscall classes, as bits so a set of them is one integer.
enum Class : uint32_t {
  kFile = 1u << 0,     // %file: takes a path
  kDesc = 1u << 1,     // %desc: takes or returns a file descriptor
  kNetwork = 1u << 2,  // %network (alias %net)
  kProcess = 1u << 3,  // %process: process lifecycle
  kSignal = 1u << 4,   // %signal
  kMemory = 1u << 5,   // %memory
  kIpc = 1u << 6,      // %ipc
  kCreds = 1u << 7,    // %creds
  kClock = 1u << 8,    // %clock
  kStat = 1u << 9,     // %stat and friends
};

// How one argument is shown. The formatter's switch is over this enum;
// adding a kind means adding a case there.
enum class ArgKind : uint8_t {
  kInt,        // signed decimal
  kUInt,       // unsigned decimal (sizes, counts)
  kHex,        // 0x... (addresses, opaque values)
  kPtr,        // pointer shown as address, NULL when 0
  kFd,         // file descriptor (AT_FDCWD aware when kDirFd)
  kDirFd,      // AT_FDCWD or an fd
  kPath,       // NUL-terminated string read at entry
  kString,     // NUL-terminated string read at entry
  kBufIn,      // bytes the kernel reads; length is the next argument
  kBufOut,     // bytes the kernel writes; length is the return value
  kStrArray,   // char *const[] (argv/envp) read at entry
  kOpenFlags,  // O_*
  kMode,       // 0644
  kAtFlags,    // AT_*
  kProtFlags,  // PROT_*
  kMmapFlags,  // MAP_*
  kSignal,     // SIGINT
  kSigHow,     // SIG_BLOCK...
  kSigSet,     // pointer to sigset_t
  kCloneFlags, // CLONE_* (low byte: exit signal)
  kWaitOptions,  // WNOHANG...
  kAccessMode,   // F_OK, R_OK...
  kFcntlCmd,     // F_GETFL...
  kSockFamily,   // AF_*
  kSockType,     // SOCK_*
  kSockAddr,     // struct sockaddr*, length is the next argument
  kWhence,       // SEEK_*
  kTimespec,     // struct timespec* read at entry
  kStatOut,      // struct stat* written by the kernel
  kFutexOp,      // FUTEX_*
  kPrctlOp,      // PR_*
  kIoctlCmd,     // TCGETS...
  kArchPrctlOp,  // ARCH_*
  kClockId,      // CLOCK_*
  kMadvise,      // MADV_*
  kRlimitRes,    // RLIMIT_*
  kPid,          // a pid (signed decimal)
  kUnused,       // past the last argument
};

// What the return value is, for the "= ..." part.
enum class RetKind : uint8_t {
  kInt,      // decimal, -1 ERRNO on error
  kFd,       // an fd
  kHex,      // an address (mmap, brk)
  kNoReturn, // exit, exit_group: "= ?"
};

struct SyscallInfo {
  long nr;
  std::string_view name;
  uint8_t nargs;  // how many arguments are shown; 6 when unknown
  ArgKind args[6];
  RetKind ret;
  uint32_t classes;  // Class bits
  bool decoded;      // false: no argument spec, printed as raw hex
};

// nullptr when the number is not a syscall of x86-64.
const SyscallInfo* lookup(long nr);
std::optional<long> number_of(std::string_view name);

// Any ABI, by the checked-in numbers of syscalls/numbers.tbl; x32 numbers
// without __X32_SYSCALL_BIT. Empty / nullopt when not a syscall of `abi`.
std::string_view name_of(Abi abi, long nr);
std::optional<long> number_of(Abi abi, std::string_view name);

// The syscalls whose meaning the engine models itself. They are recognised
// by (ABI, number), never by number alone: i386's chmod is x86-64's
// rt_sigreturn, and i386's clone is x86-64's getresgid.
enum class Role : uint8_t {
  kNone,
  kFork,       // fork
  kVfork,      // vfork
  kClone,      // clone: flags in the first argument
  kClone3,     // clone3: flags in the struct clone_args behind the first argument
  kExec,       // execve, execveat
  kSigreturn,  // rt_sigreturn, and i386's sigreturn
  kExit,       // exit, exit_group
  kPrctl,      // prctl: the filter's and no_new_privs' queries are answered
  kSeccomp,    // seccomp: the program's own filters
  kPtrace,     // ptrace: emulated for the program's own tracees
  kWait4,      // wait4, waitid: an emulated tracee's stops are reaped here
};
Role role_of(Abi abi, long nr);
// Every syscall of the table, sorted by number.
std::span<const SyscallInfo> all();
// "%file" or "file" (and strace's aliases such as "%net") -> bits.
std::optional<uint32_t> class_from_name(std::string_view name);

// A pointer argument whose bytes the formatter shows, described so that a
// caller can copy them when the call happens, before the program reuses the
// memory (the in-tracee stub's records).
struct MemoryArg {
  enum class Size : uint8_t {
    kCString,     // up to the NUL, at most `max` bytes
    kFromArg,     // args[size_arg] bytes, at most `max`
    kFromResult,  // the result's bytes when it is > 0, at most `max` and args[size_arg]
    kFixed,       // `max` bytes
  };
  uint8_t arg = 0;
  bool at_exit = false;  // the kernel writes it: read after the call
  Size size = Size::kFixed;
  uint8_t size_arg = 0;  // kFromArg, kFromResult: the argument with the buffer's size
  uint32_t max = 0;
  // Record's rules: a kFromResult output whose buffer is over `max` makes
  // the stub leave the call to the tracer, so no byte is missing...
  bool exact = false;
  // ...and the kernel writes into the record itself, which the stub copies
  // to the program's buffer, so the record holds what the kernel wrote
  // even if another thread changes the buffer at once.
  bool redirect = false;
};

// The memory the formatter shows of syscall `nr`: the regions effects.tbl
// says the kernel reads or writes, clipped to what is shown (strings and
// buffers to `string_limit` + 1, for -s). nullopt when the stub cannot
// capture them: effects unknown, a command rule (ioctl excepted: its
// argument is captured as at most a struct winsize both ways), or a rule
// the stub cannot evaluate (iovecs, lengths behind arguments...).
std::optional<std::vector<MemoryArg>> memory_args(long nr, size_t string_limit);

// A syscall whose effects depend on a command (fcntl): the argument that
// holds it and the commands that touch no memory of the program, which the
// stub may serve with no capture. nullopt for any other syscall, and when
// its effects are unknown.
struct PlainCommands {
  uint8_t arg = 0;
  std::vector<uint32_t> values;
};
std::optional<PlainCommands> plain_commands(long nr);

// For record: every byte the kernel writes (outputs up to `most_output`
// bytes, larger ones leave the call to the tracer) and, for dump's sake,
// what it reads clipped as -s `string_limit` would. nullopt when the stub
// cannot capture the writes exactly.
std::optional<std::vector<MemoryArg>> recorded_args(long nr, size_t string_limit, uint32_t most_output);

}  // namespace hytrace::syscalls
