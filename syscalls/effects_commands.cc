// The `by HANDLER` rows of effects.tbl: syscalls whose command or flags
// argument decides what the kernel reads and writes. Each handler adds the
// command's terms; a command it does not know is unknown (fail closed), even
// where the kernel would reject it: a newer kernel may not.
#include <linux/sched.h>
#include <sys/ipc.h>
#include <sys/prctl.h>

#include <algorithm>
#include <cstddef>
#include <optional>

#include "syscalls/effects_rules.hpp"
#include "syscalls/render.hpp"

namespace hytrace::syscalls::detail {
namespace {

using Kind = Count::Kind;

Term bytes(Dir dir, uint8_t arg, uint32_t n, bool on_error = false) {
  Term t;
  t.dir = dir;
  t.arg = arg;
  t.size = Count{Kind::kLiteral, 0, 1, n};
  t.on_error = on_error;
  return t;
}

// The result's bytes, at most `cap_arg`'s value (a buffer's size).
Term result_bytes(uint8_t arg, uint8_t cap_arg, uint32_t elem = 1) {
  Term t;
  t.dir = Dir::kOut;
  t.arg = arg;
  t.size = Count{Kind::kResult, 0, 0, elem};
  t.cap = Count{Kind::kArg, cap_arg, 0, 1};
  return t;
}

Term cstring(uint8_t arg) {
  Term t;
  t.arg = arg;
  t.shape = Shape::kCString;
  return t;
}

constexpr Dir kIn = Dir::kIn;
constexpr Dir kOut = Dir::kOut;
constexpr Dir kInOut = Dir::kInOut;

// --- fcntl(fd, cmd, arg) ---------------------------------------------------
// The commands that take or return integers only.
constexpr uint32_t kFcntlPlain[] = {
    // F_DUPFD F_GETFD F_SETFD F_GETFL F_SETFL F_SETOWN F_GETOWN F_SETSIG F_GETSIG
    0, 1, 2, 3, 4, 8, 9, 10, 11,
    // F_GETLK64 F_SETLK64 F_SETLKW64 (EINVAL on x86-64) F_CANCELLK
    12, 13, 14, 1029,
    // F_SETLEASE F_GETLEASE F_NOTIFY F_DUPFD_QUERY F_CREATED_QUERY F_DUPFD_CLOEXEC
    // F_SETPIPE_SZ F_GETPIPE_SZ F_ADD_SEALS F_GET_SEALS
    1024, 1025, 1026, 1027, 1028, 1030, 1031, 1032, 1033, 1034};

bool fcntl_terms(const Call& call, std::vector<Term>& out) {
  constexpr uint32_t kFlock = 32, kOwnerEx = 8, kHint = 8;
  switch (static_cast<int>(call.args[1])) {
    case 5: case 36:                   // F_GETLK, F_OFD_GETLK
      out.push_back(bytes(kInOut, 2, kFlock)); return true;
    case 6: case 7: case 37: case 38:  // F_SETLK, F_SETLKW, F_OFD_SETLK, F_OFD_SETLKW
      out.push_back(bytes(kIn, 2, kFlock)); return true;
    case 16: out.push_back(bytes(kOut, 2, kOwnerEx)); return true;  // F_GETOWN_EX
    case 15: out.push_back(bytes(kIn, 2, kOwnerEx)); return true;   // F_SETOWN_EX
    case 17: out.push_back(bytes(kOut, 2, 2 * sizeof(uint32_t))); return true;  // F_GETOWNER_UIDS
    case 1035: case 1037: out.push_back(bytes(kOut, 2, kHint)); return true;  // F_GET_(FILE_)RW_HINT
    case 1036: case 1038: out.push_back(bytes(kIn, 2, kHint)); return true;   // F_SET_(FILE_)RW_HINT
    case 1039: out.push_back(bytes(kInOut, 2, 8)); return true;  // F_GETDELEG (struct delegation)
    case 1040: out.push_back(bytes(kIn, 2, 8)); return true;     // F_SETDELEG
  }
  // The kernel takes the command as an unsigned int.
  return std::ranges::find(kFcntlPlain, static_cast<uint32_t>(call.args[1])) != std::end(kFcntlPlain);
}

// A struct sock_fprog at `prog` and the program it points to (seccomp's
// SECCOMP_SET_MODE_FILTER, prctl's PR_SET_SECCOMP).
bool seccomp_filter_terms(uint64_t prog, MemoryReader& mem, std::vector<Term>& out) {
  if (prog == 0) return true;  // EFAULT before any read
  Term header = bytes(kIn, 0, 16);
  header.fixed_addr = prog;
  out.push_back(header);
  uint16_t len = 0;
  uint64_t filter = 0;
  if (read_exact(mem, prog, &len, sizeof len) && read_exact(mem, prog + 8, &filter, sizeof filter) &&
      filter) {
    Term t = bytes(kIn, 0, static_cast<uint32_t>(len) * 8);  // struct sock_filter: 8 bytes
    t.fixed_addr = filter;
    out.push_back(t);
  }
  return true;
}

// --- prctl(op, arg2, arg3, arg4, arg5) -------------------------------------
bool prctl_terms(const Call& call, MemoryReader& mem, std::vector<Term>& out) {
  switch (static_cast<int>(call.args[0])) {
    case PR_GET_PDEATHSIG: case PR_GET_UNALIGN: case PR_GET_FPEMU: case PR_GET_FPEXC:
    case PR_GET_ENDIAN: case PR_GET_TSC: case PR_GET_CHILD_SUBREAPER:
      out.push_back(bytes(kOut, 1, sizeof(int))); return true;
    case PR_GET_TID_ADDRESS: out.push_back(bytes(kOut, 1, sizeof(uint64_t))); return true;
    case PR_GET_NAME: out.push_back(bytes(kOut, 1, 16)); return true;
    case PR_SET_NAME: out.push_back(bytes(kIn, 1, 15)); return true;  // up to 15 bytes, NUL or not
    case PR_SET_SECCOMP: return call.args[1] != 2 || seccomp_filter_terms(call.args[2], mem, out);
    case 62:  // PR_SCHED_CORE: PR_SCHED_CORE_GET writes a cookie
      if (call.args[1] == 0) out.push_back(bytes(kOut, 4, sizeof(uint64_t)));
      return true;
    case PR_SET_VMA: out.push_back(cstring(4)); return true;          // PR_SET_VMA_ANON_NAME's name
    case 0x41555856: out.push_back(result_bytes(1, 2)); return true;  // PR_GET_AUXV
    case PR_SET_PDEATHSIG: case PR_GET_DUMPABLE: case PR_SET_DUMPABLE: case PR_SET_UNALIGN:
    case PR_GET_KEEPCAPS: case PR_SET_KEEPCAPS: case PR_SET_FPEMU: case PR_SET_FPEXC:
    case PR_GET_TIMING: case PR_SET_TIMING: case PR_SET_ENDIAN: case PR_GET_SECCOMP:
    case PR_CAPBSET_READ: case PR_CAPBSET_DROP: case PR_SET_TSC: case PR_GET_SECUREBITS:
    case PR_SET_SECUREBITS: case PR_SET_TIMERSLACK: case PR_GET_TIMERSLACK:
    case PR_TASK_PERF_EVENTS_DISABLE: case PR_TASK_PERF_EVENTS_ENABLE: case PR_MCE_KILL:
    case PR_MCE_KILL_GET: case PR_SET_CHILD_SUBREAPER: case PR_SET_NO_NEW_PRIVS:
    case PR_GET_NO_NEW_PRIVS: case PR_SET_THP_DISABLE: case PR_GET_THP_DISABLE:
    case PR_SET_FP_MODE: case PR_GET_FP_MODE: case PR_CAP_AMBIENT:
    case PR_GET_SPECULATION_CTRL: case PR_SET_SPECULATION_CTRL: case PR_SET_IO_FLUSHER:
    case PR_GET_IO_FLUSHER: case PR_SET_PTRACER:
    case 65: case 66:  // PR_SET_MDWE, PR_GET_MDWE
      return true;
  }
  return false;  // PR_SET_MM, PR_SET_SECCOMP, PR_SET_SYSCALL_USER_DISPATCH, PR_SCHED_CORE...
}

// --- futex(uaddr, op, val, timeout or val2, uaddr2, val3) -------------------
bool futex_terms(const Call& call, std::vector<Term>& out) {
  constexpr uint32_t kWord = sizeof(uint32_t);
  const Term word = bytes(kIn, 0, kWord);
  const Term timeout = bytes(kIn, 3, 16);
  // The PI operations change the futex word even when they fail (a waiter
  // bit set before a timeout).
  const Term pi_word = bytes(kInOut, 0, kWord, true);
  switch (static_cast<int>(call.args[1]) & 0x7f) {  // FUTEX_CMD_MASK
    case 0: case 9:  // FUTEX_WAIT, FUTEX_WAIT_BITSET
      out.insert(out.end(), {word, timeout}); return true;
    case 1: case 3: case 10:  // FUTEX_WAKE, FUTEX_REQUEUE, FUTEX_WAKE_BITSET
      return true;
    case 4: out.push_back(word); return true;  // FUTEX_CMP_REQUEUE
    case 5: out.push_back(bytes(kInOut, 4, kWord, true)); return true;  // FUTEX_WAKE_OP on uaddr2
    case 6: case 13:  // FUTEX_LOCK_PI, FUTEX_LOCK_PI2
      out.insert(out.end(), {pi_word, timeout}); return true;
    case 7: case 8: out.push_back(pi_word); return true;  // FUTEX_UNLOCK_PI, FUTEX_TRYLOCK_PI
    case 11:  // FUTEX_WAIT_REQUEUE_PI
      out.insert(out.end(), {word, timeout, bytes(kInOut, 4, kWord, true)}); return true;
    case 12: out.insert(out.end(), {word, bytes(kInOut, 4, kWord, true)}); return true;  // FUTEX_CMP_REQUEUE_PI
  }
  return false;
}

// The futex2 calls (futex_waitv, futex_wake, futex_wait, futex_requeue): the
// rows name the futex words and arrays; FUTEX2_NUMA adds the node word after
// each futex, read and written back (with -1 or FUTEX2_MPOL).
constexpr uint64_t kFutex2Numa = 0x04;
constexpr size_t kFutexWaitvMax = 128;

void numa_word(uint64_t uaddr, uint64_t flags, std::vector<Term>& out) {
  if (!(flags & kFutex2Numa) || uaddr == 0) return;
  Term t = bytes(kInOut, 0, sizeof(uint32_t), true);
  t.fixed_addr = uaddr + sizeof(uint32_t);
  out.push_back(t);
}

// Each struct futex_waitv {u64 val; u64 uaddr; u32 flags; u32 reserved}: its word.
void waiter_words(uint64_t waiters, uint64_t count, MemoryReader& mem, std::vector<Term>& out) {
  struct Waiter {
    uint64_t val, uaddr;
    uint32_t flags, reserved;
  };
  count = std::min<uint64_t>(count, kFutexWaitvMax);
  for (uint64_t i = 0; i < count; ++i) {
    Waiter w{};
    if (!read_exact(mem, waiters + i * sizeof w, &w, sizeof w)) return;
    if (w.uaddr == 0) continue;
    Term t = bytes(kIn, 0, sizeof(uint32_t));
    t.fixed_addr = w.uaddr;
    out.push_back(t);
    numa_word(w.uaddr, w.flags, out);
  }
}

bool futex2_terms(const Call& call, MemoryReader& mem, std::vector<Term>& out) {
  switch (call.nr) {
    case 202: return futex_terms(call, out);
    case 449: waiter_words(call.args[0], call.args[1], mem, out); return true;  // futex_waitv
    case 454: numa_word(call.args[0], call.args[3], out); return true;          // futex_wake
    case 455: numa_word(call.args[0], call.args[3], out); return true;          // futex_wait
    case 456: waiter_words(call.args[0], 2, mem, out); return true;             // futex_requeue
  }
  return false;
}

// --- ptrace(request, pid, addr, data) --------------------------------------
// Only the caller's memory counts: PTRACE_POKE* write the tracee's.
Term data_bytes(Dir dir, uint32_t n) { return bytes(dir, 3, n); }

Term data_by_result(uint32_t elem, bool capped_by_addr) {
  Term t = data_bytes(kOut, 0);
  t.size = Count{Kind::kResult, 0, 0, elem};
  if (capped_by_addr) t.cap = Count{Kind::kArg, 2, 0, 1};
  return t;
}

// arch_prctl through ptrace (PTRACE_ARCH_PRCTL): the code is in data, the
// value at addr.
bool ptrace_arch_prctl(const Call& call, std::vector<Term>& out);

bool ptrace_terms(const Call& call, std::vector<Term>& out) {
  switch (static_cast<long>(call.args[0])) {
    case 1: case 2: case 3: out.push_back(data_bytes(kOut, sizeof(long))); return true;  // PEEKTEXT/DATA/USER
    case 12: out.push_back(data_bytes(kOut, 216)); return true;  // GETREGS
    case 13: out.push_back(data_bytes(kIn, 216)); return true;   // SETREGS
    case 14: out.push_back(data_bytes(kOut, 512)); return true;  // GETFPREGS
    case 15: out.push_back(data_bytes(kIn, 512)); return true;   // SETFPREGS
    case 25: out.push_back(data_bytes(kOut, 16)); return true;   // GET_THREAD_AREA
    case 26: out.push_back(data_bytes(kIn, 16)); return true;    // SET_THREAD_AREA
    case 30: return ptrace_arch_prctl(call, out);                // ARCH_PRCTL
    case 0x4201: out.push_back(data_bytes(kOut, sizeof(unsigned long))); return true;  // GETEVENTMSG
    case 0x4202: out.push_back(data_bytes(kOut, 128)); return true;  // GETSIGINFO
    case 0x4203: out.push_back(data_bytes(kIn, 128)); return true;   // SETSIGINFO
    case 0x4204:    // GETREGSET: at most the iovec's length is written
    case 0x4205: {  // SETREGSET: an iovec, its buffer, and the length stored back
      Term t = data_bytes(call.args[0] == 0x4204 ? kOut : kIn, 0);
      t.shape = Shape::kIov;
      t.size = Count{Kind::kLiteral, 0, 1, 1};
      Term len = bytes(kOut, 0, sizeof(uint64_t));
      len.fixed_addr = call.args[3] ? call.args[3] + 8 : 0;
      out.push_back(t);
      if (len.fixed_addr) out.push_back(len);
      return true;
    }
    case 0x4209: {  // PEEKSIGINFO: the request at addr, siginfos by result
      out.push_back(bytes(kIn, 2, 16));
      out.push_back(data_by_result(128, false));
      return true;
    }
    case 0x420a: out.push_back(data_bytes(kOut, 8)); return true;  // GETSIGMASK (addr must be 8)
    case 0x420b: out.push_back(data_bytes(kIn, 8)); return true;   // SETSIGMASK
    case 0x420c: out.push_back(data_by_result(8, false)); return true;  // SECCOMP_GET_FILTER
    case 0x420d:  // SECCOMP_GET_METADATA: the filter's index in, the metadata out
      out.insert(out.end(), {data_bytes(kIn, 8), data_by_result(1, true)});
      return true;
    case 0x420e: case 0x420f:  // GET_SYSCALL_INFO, GET_RSEQ_CONFIGURATION: min(addr, result)
      out.push_back(data_by_result(1, true));
      return true;
    case 0x4210: out.push_back(data_bytes(kIn, 32)); return true;   // SET_SYSCALL_USER_DISPATCH_CONFIG
    case 0x4211: out.push_back(data_bytes(kOut, 32)); return true;  // GET_SYSCALL_USER_DISPATCH_CONFIG
    case 0x4212: out.push_back(data_bytes(kIn, 88)); return true;   // SET_SYSCALL_INFO
    // TRACEME POKETEXT POKEDATA POKEUSER CONT KILL SINGLESTEP ATTACH DETACH
    case 0: case 4: case 5: case 6: case 7: case 8: case 9: case 16: case 17:
    // SETOPTIONS (old) SYSCALL SYSEMU SYSEMU_SINGLESTEP SINGLEBLOCK
    case 21: case 24: case 31: case 32: case 33:
    // SETOPTIONS SEIZE INTERRUPT LISTEN
    case 0x4200: case 0x4206: case 0x4207: case 0x4208:
      return true;
  }
  return false;
}

// --- clone(flags, stack, parent_tid, child_tid, tls), clone3(args, size) ----
// In the caller's memory: the parent's tid (CLONE_PARENT_SETTID) or pidfd
// (CLONE_PIDFD), and, when the memory is shared, the child's tid
// (CLONE_CHILD_SETTID). CLONE_CHILD_CLEARTID writes at the child's exit: a
// task event, not this call's.
void clone_writes(uint64_t flags, uint64_t parent_tid, uint64_t child_tid, uint64_t pidfd,
                  std::vector<Term>& out) {
  const auto at = [&](uint64_t addr, bool on_error) {
    if (addr == 0) return;
    Term t = bytes(kOut, 0, sizeof(int), on_error);
    t.fixed_addr = addr;
    out.push_back(t);
  };
  if (flags & CLONE_PARENT_SETTID) at(parent_tid, false);
  if (flags & CLONE_PIDFD) at(pidfd, true);  // stored before later failures
  if ((flags & CLONE_CHILD_SETTID) && (flags & CLONE_VM)) at(child_tid, false);
}

bool clone_terms(const Call& call, MemoryReader& mem, std::vector<Term>& out) {
  if (call.nr != 435) {  // clone: CLONE_PIDFD shares the parent_tid slot
    clone_writes(call.args[0], call.args[2], call.args[3], call.args[2], out);
    return true;
  }
  struct clone_args args {};
  if (call.args[1] < offsetof(struct clone_args, tls) || !read_exact(mem, call.args[0], &args,
                                                                     std::min<uint64_t>(call.args[1], sizeof args))) {
    return true;  // the kernel fails it (EINVAL, EFAULT) without writing
  }
  clone_writes(args.flags, args.parent_tid, args.child_tid, args.pidfd, out);
  if (args.set_tid && args.set_tid_size && call.args[1] >= offsetof(struct clone_args, set_tid_size) + 8) {
    Term t = bytes(kIn, 0, static_cast<uint32_t>(std::min<uint64_t>(args.set_tid_size, 32)) * sizeof(pid_t));
    t.fixed_addr = args.set_tid;  // the pids to give the child, one per pid namespace level
    out.push_back(t);
  }
  return true;
}

// --- arch_prctl(code, addr) -------------------------------------------------
// Whether an arch_prctl code writes a u64 at its address; false for codes
// that touch no memory; nullopt for codes unknown.
std::optional<bool> arch_prctl_writes(uint64_t code) {
  switch (code) {
    case 0x1003: case 0x1004:                 // ARCH_GET_FS, ARCH_GET_GS
    case 0x1021: case 0x1022: case 0x1024:    // ARCH_GET_XCOMP_SUPP, _PERM, _GUEST_PERM
    case 0x4001: case 0x4003:                 // ARCH_GET_UNTAG_MASK, ARCH_GET_MAX_TAG_BITS
    case 0x5005:                              // ARCH_SHSTK_STATUS
      return true;
    case 0x1001: case 0x1002:                 // ARCH_SET_GS, ARCH_SET_FS
    case 0x1011: case 0x1012:                 // ARCH_GET_CPUID, ARCH_SET_CPUID
    case 0x1023: case 0x1025:                 // ARCH_REQ_XCOMP_PERM, _GUEST_PERM
    case 0x2001: case 0x2002: case 0x2003:    // ARCH_MAP_VDSO_*
    case 0x4002: case 0x4004:                 // ARCH_ENABLE_TAGGED_ADDR, ARCH_FORCE_TAGGED_SVA
    case 0x5001: case 0x5002: case 0x5003: case 0x5004:  // ARCH_SHSTK_*
      return false;
  }
  return std::nullopt;
}

bool arch_prctl_terms(const Call& call, std::vector<Term>& out) {
  const auto writes = arch_prctl_writes(call.args[0]);
  if (!writes) return false;
  if (*writes) out.push_back(bytes(kOut, 1, sizeof(uint64_t)));
  return true;
}

bool ptrace_arch_prctl(const Call& call, std::vector<Term>& out) {
  const auto writes = arch_prctl_writes(call.args[3]);
  if (!writes) return false;
  if (*writes) out.push_back(bytes(kOut, 2, sizeof(uint64_t)));
  return true;
}

// --- System V IPC control: the command (without IPC_64) decides ------------
constexpr int kIpc64 = 0x100;  // IPC_64 (linux/ipc.h): the 64-bit layouts, always so on x86-64
struct IpcSizes {
  uint32_t ds;        // the *id_ds of IPC_STAT, IPC_SET and the *_STAT commands
  uint32_t ipc_info;  // what IPC_INFO fills
  uint32_t own_info;  // what the *_INFO command fills
  int stat, info, stat_any;
};
// shmctl's IPC_INFO fills a struct shminfo64, SHM_INFO a struct shm_info.
constexpr IpcSizes kShm{112, 72, 48, 13, 14, 15};  // SHM_STAT SHM_INFO SHM_STAT_ANY
constexpr IpcSizes kMsg{120, 32, 32, 11, 12, 13};  // MSG_STAT MSG_INFO MSG_STAT_ANY
constexpr IpcSizes kSem{104, 40, 40, 18, 19, 20};  // SEM_STAT SEM_INFO SEM_STAT_ANY

bool ipc_terms(const IpcSizes& s, int cmd, uint8_t buf, std::vector<Term>& out) {
  cmd &= ~kIpc64;
  if (cmd == IPC_RMID) return true;
  if (cmd == IPC_STAT || cmd == s.stat || cmd == s.stat_any) {
    out.push_back(bytes(kOut, buf, s.ds));
  } else if (cmd == IPC_SET) {
    out.push_back(bytes(kIn, buf, s.ds));
  } else if (cmd == IPC_INFO) {
    out.push_back(bytes(kOut, buf, s.ipc_info));
  } else if (cmd == s.info) {
    out.push_back(bytes(kOut, buf, s.own_info));
  } else {
    return false;
  }
  return true;
}

bool shmctl_terms(const Call& call, std::vector<Term>& out) {
  const int cmd = static_cast<int>(call.args[1]) & ~kIpc64;
  if (cmd == 11 || cmd == 12) return true;  // SHM_LOCK, SHM_UNLOCK
  return ipc_terms(kShm, cmd, 2, out);
}

bool msgctl_terms(const Call& call, std::vector<Term>& out) {
  return ipc_terms(kMsg, static_cast<int>(call.args[1]), 2, out);
}

bool semctl_terms(const Call& call, std::vector<Term>& out) {
  const int cmd = static_cast<int>(call.args[2]) & ~kIpc64;
  // GETPID GETVAL GETNCNT GETZCNT SETVAL: numbers only. GETALL and SETALL
  // depend on the set's size, which the call does not carry: unknown.
  if (cmd == 11 || cmd == 12 || cmd == 14 || cmd == 15 || cmd == 16) return true;
  return ipc_terms(kSem, cmd, 3, out);
}

// --- seccomp(op, flags, args) -----------------------------------------------
bool seccomp_terms(const Call& call, MemoryReader& mem, std::vector<Term>& out) {
  switch (call.args[0]) {
    case 0: return true;  // SECCOMP_SET_MODE_STRICT
    case 1: return seccomp_filter_terms(call.args[2], mem, out);  // SECCOMP_SET_MODE_FILTER
    case 2: out.push_back(bytes(kIn, 2, sizeof(uint32_t))); return true;  // GET_ACTION_AVAIL
    case 3: out.push_back(bytes(kOut, 2, 6)); return true;               // GET_NOTIF_SIZES
  }
  return false;
}

}  // namespace

bool ioctl_terms(const Call& call, std::vector<Term>& out);  // effects_ioctl.cc

PlainCommandList plain_commands_of(Handler handler) {
  if (handler == Handler::kFcntl) return {1, kFcntlPlain};
  return {};
}

bool command_terms(Handler handler, const Call& call, MemoryReader& mem, std::vector<Term>& out) {
  switch (handler) {
    case Handler::kNone: return true;
    case Handler::kIoctl: return ioctl_terms(call, out);
    case Handler::kFcntl: return fcntl_terms(call, out);
    case Handler::kPrctl: return prctl_terms(call, mem, out);
    case Handler::kFutex: return futex2_terms(call, mem, out);
    case Handler::kPtrace: return ptrace_terms(call, out);
    case Handler::kClone: return clone_terms(call, mem, out);
    case Handler::kArchPrctl: return arch_prctl_terms(call, out);
    case Handler::kShmctl: return shmctl_terms(call, out);
    case Handler::kMsgctl: return msgctl_terms(call, out);
    case Handler::kSemctl: return semctl_terms(call, out);
    case Handler::kSeccomp: return seccomp_terms(call, mem, out);
  }
  return false;
}

}  // namespace hytrace::syscalls::detail
