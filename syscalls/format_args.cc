// One argument, by its kind.
#include <iterator>

#include <fmt/format.h>

#include "syscalls/flags.hpp"
#include "syscalls/render.hpp"

namespace hytrace::syscalls::detail {
namespace {

// A kernel `int` argument: the upper half of the register is not part of it.
int64_t as_int(uint64_t value) { return static_cast<int>(value); }
uint64_t as_uint(uint64_t value) { return static_cast<uint32_t>(value); }

// Extensions that are a plain flag set or enumeration.
struct TableExt {
  Ext ext;
  FlagTable (*table)();
  bool is_flags;
  const char* unknown;  // strace's "PREFIX_???" comment for unnamed values
};

constexpr TableExt kTableExts[] = {
    {Ext::kOFlags, open_flags, true, "O_???"},
    {Ext::kFaccessFlags, faccessat_flags, true, "AT_???"},
    {Ext::kMsgFlags, msg_flags, true, "MSG_???"},
    {Ext::kSockFlags, socket_flags, true, "SOCK_???"},
    {Ext::kEfdFlags, eventfd_flags, true, "EFD_???"},
    {Ext::kEpollFlags, epoll_create_flags, true, "EPOLL_???"},
    {Ext::kTfdFlags, timerfd_flags, true, "TFD_???"},
    {Ext::kSfdFlags, signalfd_flags, true, "SFD_???"},
    {Ext::kInFlags, inotify_init_flags, true, "IN_???"},
    {Ext::kInMask, inotify_mask, true, "IN_???"},
    {Ext::kMfdFlags, memfd_flags, true, "MFD_???"},
    {Ext::kGrndFlags, getrandom_flags, true, "GRND_???"},
    {Ext::kTimerFlags, timer_flags, true, "TIMER_???"},
    {Ext::kRenameFlags, rename_flags, true, "RENAME_???"},
    {Ext::kMremapFlags, mremap_flags, true, "MREMAP_???"},
    {Ext::kMsyncFlags, msync_flags, true, "MS_???"},
    {Ext::kMlockallFlags, mlockall_flags, true, "MCL_???"},
    {Ext::kNsFlags, namespace_flags, true, "CLONE_???"},
    {Ext::kUmountFlags, umount_flags, true, "MNT_???"},
    {Ext::kStatxMask, statx_mask, true, "STATX_???"},
    {Ext::kCloseRangeFlags, close_range_flags, true, "CLOSE_RANGE_???"},
    {Ext::kRwfFlags, rwf_flags, true, "RWF_???"},
    {Ext::kXattrFlags, xattr_flags, true, "XATTR_???"},
    {Ext::kLockOp, lock_ops, true, "LOCK_???"},
    {Ext::kEpollOp, epoll_ops, false, "EPOLL_CTL_???"},
    {Ext::kShutHow, shutdown_how, false, "SHUT_???"},
    {Ext::kFadvice, fadvice_values, false, "POSIX_FADV_???"},
    {Ext::kPrioWhich, prio_which, false, "PRIO_???"},
    {Ext::kSchedPolicy, sched_policies, false, "SCHED_???"},
    {Ext::kIdType, id_types, false, "P_???"},
    {Ext::kItimerWhich, itimer_which, false, "ITIMER_???"},
    {Ext::kRusageWho, rusage_who, false, "RUSAGE_???"},
    {Ext::kPtraceReq, ptrace_requests, false, "PTRACE_???"},
    {Ext::kSeccompOp, seccomp_ops, false, "SECCOMP_???"},
    {Ext::kBpfCmd, bpf_cmds, false, "BPF_???"},
};

const TableExt* find_table_ext(Ext ext) {
  for (const TableExt& t : kTableExts) {
    if (t.ext == ext) return &t;
  }
  return nullptr;
}

// Arguments next to `index` (a buffer's length...); 0 past either end.
uint64_t next_arg(const Ctx& ctx, int index) { return index + 1 < 6 ? ctx.call.args[index + 1] : 0; }
uint64_t prev_arg(const Ctx& ctx, int index) { return index > 0 ? ctx.call.args[index - 1] : 0; }

// The length of a buffer whose size the kernel reports through the pointer
// in argument `index` (socklen_t*), read at exit.
uint64_t length_at(const Ctx& ctx, int index) {
  uint32_t len = 0;
  if (index >= 6 || !read_value(ctx.mem, ctx.call.args[index], len)) return 0;
  return len;
}

// The sigset size: the call's last argument (rt_sigprocmask(..., 8)).
uint64_t sigset_size(const Ctx& ctx) {
  int last = ctx.info.nargs - 1;
  if (last > 0 && ctx.info.args[last] == ArgKind::kUInt) return ctx.call.args[last];
  return 8;
}

void put_envp(std::string& out, MemoryReader& mem, uint64_t addr) {
  put_ptr(out, addr);
  if (addr == 0) return;
  long count = count_pointers(mem, addr);
  if (count < 0) return;
  fmt::format_to(std::back_inserter(out), " /* {} var{} */", count, count == 1 ? "" : "s");
}

void put_statx_flags(std::string& out, uint64_t flags) {
  // The sync type is a value inside the flags (AT_STATX_SYNC_AS_STAT is 0),
  // shown first as strace does: AT_STATX_SYNC_AS_STAT|AT_EMPTY_PATH.
  uint64_t sync_mask = statx_sync_type_mask();
  put_enum(out, statx_sync_types(), flags & sync_mask, "AT_STATX_???");
  if ((flags & ~sync_mask) != 0) {
    out += '|';
    put_flags(out, at_flags(), flags & ~sync_mask);
  }
}

void put_clone_flags(std::string& out, uint64_t value) {
  uint64_t sig = value & clone_signal_mask();
  uint64_t flags = value & ~clone_signal_mask();
  if (flags != 0) put_flags(out, clone_flags(), flags);
  if (sig != 0) {
    if (flags != 0) out += '|';
    put_signal(out, static_cast<int>(sig));
  }
  if (value == 0) out += '0';
}

void put_futex_op(std::string& out, uint64_t value) {
  uint64_t op = as_uint(value);
  uint64_t cmd = op & futex_cmd_mask();
  const char* name = find_name(futex_cmds(), cmd);
  if (name == nullptr) {
    put_hex(out, op);
    out += " /* FUTEX_??? */";
    return;
  }
  out += name;
  if ((op & futex_private_flag()) != 0) out += "_PRIVATE";
  if ((op & futex_clock_realtime()) != 0) out += "|FUTEX_CLOCK_REALTIME";
}

void put_mmap_flags(std::string& out, uint64_t value) {
  put_enum(out, map_types(), value & map_type_mask(), "MAP_???");
  uint64_t rest = value & ~map_type_mask();
  if (rest != 0) {
    out += '|';
    put_flags(out, map_flags(), rest);
  }
}

void put_ext(std::string& out, Ext ext, uint64_t v, int index, const Ctx& ctx) {
  if (const TableExt* t = find_table_ext(ext)) {
    if (t->is_flags) {
      put_flags(out, t->table(), as_uint(v), t->unknown);
    } else {
      put_enum(out, t->table(), static_cast<uint64_t>(as_int(v)), t->unknown);
    }
    return;
  }
  const uint64_t* args = ctx.call.args;
  switch (ext) {
    case Ext::kEnvp: put_envp(out, ctx.mem, v); return;
    case Ext::kSigaction: put_sigaction(out, ctx.mem, v); return;
    case Ext::kRlimit: put_rlimit(out, ctx.mem, v); return;
    case Ext::kFdPair: put_fd_pair(out, ctx.mem, v); return;
    case Ext::kWaitStatus: put_wait_status(out, ctx.mem, v); return;
    case Ext::kUtsname: put_utsname(out, ctx.mem, v); return;
    case Ext::kDirents: put_dirents(out, ctx.mem, v, ctx.result); return;
    case Ext::kTimeval: put_timeval(out, ctx.mem, v); return;
    case Ext::kCString: put_path_at(out, ctx.mem, v); return;
    case Ext::kHexBuf:
      put_buffer_at(out, ctx.mem, v, static_cast<uint64_t>(ctx.result), ctx.opts.string_limit, true);
      return;
    case Ext::kIovec: put_iovec(out, ctx, v, next_arg(ctx, index)); return;
    case Ext::kPollFds: put_pollfds(out, ctx, v, next_arg(ctx, index)); return;
    case Ext::kEpollEvent: put_epoll_event(out, ctx.mem, v); return;
    case Ext::kEpollEvents: put_epoll_events(out, ctx, v, ctx.result); return;
    case Ext::kCpuSet:
      put_cpuset(out, ctx.mem, v, ctx.exiting ? static_cast<uint64_t>(ctx.result) : prev_arg(ctx, index));
      return;
    case Ext::kSockAddrOut: put_sockaddr(out, ctx.mem, v, length_at(ctx, index + 1)); return;
    case Ext::kIntPtr: put_int_at(out, ctx.mem, v); return;
    case Ext::kStatx: put_statx(out, ctx.mem, v); return;
    case Ext::kOpenHow: put_open_how(out, ctx.mem, v, next_arg(ctx, index)); return;
    case Ext::kGidList:
      put_gid_list(out, ctx, v, ctx.exiting ? ctx.result : static_cast<long>(as_int(prev_arg(ctx, index))));
      return;
    case Ext::kSysinfo: put_sysinfo(out, ctx.mem, v); return;
    case Ext::kCloneArgs: put_clone_args(out, ctx.mem, v, next_arg(ctx, index)); return;
    case Ext::kOff: put_dec(out, static_cast<int64_t>(v)); return;
    case Ext::kUid:
      if (as_uint(v) == static_cast<uint32_t>(-1)) {
        out += "-1";
      } else {
        put_udec(out, as_uint(v));
      }
      return;
    case Ext::kSockProto: put_sock_proto(out, static_cast<int>(args[0]), static_cast<int>(v)); return;
    case Ext::kSockLevel:
      put_enum(out, socket_levels(), static_cast<uint64_t>(as_int(v)), "SOL_???");
      return;
    case Ext::kSockOpt: put_sockopt_name(out, static_cast<int>(args[1]), static_cast<int>(v)); return;
    case Ext::kSockOptVal:
      put_sockopt_value(out, ctx.mem, v, ctx.exiting ? length_at(ctx, index + 1) : next_arg(ctx, index));
      return;
    case Ext::kStatxFlags: put_statx_flags(out, as_uint(v)); return;
    default: put_hex(out, v); return;
  }
}

}  // namespace

void put_open_flags(std::string& out, uint64_t flags) {
  put_enum(out, open_access_modes(), flags & open_access_mask(), nullptr);
  uint64_t rest = flags & ~open_access_mask();
  if (rest != 0) {
    out += '|';
    put_flags(out, open_flags(), rest);
  }
}

void put_kind(std::string& out, ArgKind kind, uint64_t v, int index, const Ctx& ctx) {
  switch (kind) {
    case ArgKind::kInt: put_dec(out, as_int(v)); return;
    case ArgKind::kUInt: put_udec(out, v); return;
    case ArgKind::kHex: put_hex(out, v); return;
    case ArgKind::kPtr: put_ptr(out, v); return;
    case ArgKind::kFd:
    case ArgKind::kPid: put_dec(out, as_int(v)); return;
    case ArgKind::kDirFd:
      if (as_int(v) == at_fdcwd()) {
        out += "AT_FDCWD";
      } else {
        put_dec(out, as_int(v));
      }
      return;
    case ArgKind::kPath: put_path_at(out, ctx.mem, v); return;
    case ArgKind::kString: put_string_at(out, ctx.mem, v, ctx.opts.string_limit); return;
    case ArgKind::kBufIn: put_buffer_at(out, ctx.mem, v, next_arg(ctx, index), ctx.opts.string_limit, false); return;
    case ArgKind::kBufOut:
      put_buffer_at(out, ctx.mem, v, static_cast<uint64_t>(ctx.result), ctx.opts.string_limit, false);
      return;
    case ArgKind::kStrArray: put_string_array(out, ctx.mem, v, ctx.opts); return;
    case ArgKind::kOpenFlags: put_open_flags(out, as_uint(v)); return;
    case ArgKind::kMode:
      if ((as_uint(v) & file_type_mask()) != 0) {
        put_file_mode(out, as_uint(v));
      } else {
        put_octal_mode(out, as_uint(v));
      }
      return;
    case ArgKind::kAtFlags: put_flags(out, at_flags(), as_uint(v), "AT_???"); return;
    case ArgKind::kProtFlags: put_flags(out, prot_flags(), v, "PROT_???"); return;
    case ArgKind::kMmapFlags: put_mmap_flags(out, v); return;
    case ArgKind::kSignal: put_signal(out, static_cast<int>(v)); return;
    case ArgKind::kSigHow: put_enum(out, sig_how(), static_cast<uint64_t>(as_int(v)), "SIG_???"); return;
    case ArgKind::kSigSet: put_sigset(out, ctx.mem, v, sigset_size(ctx)); return;
    case ArgKind::kCloneFlags: put_clone_flags(out, v); return;
    case ArgKind::kWaitOptions: put_flags(out, wait_options(), as_uint(v), "W???"); return;
    case ArgKind::kAccessMode: put_flags(out, access_modes(), as_uint(v), "?_OK"); return;
    case ArgKind::kFcntlCmd: put_enum(out, fcntl_cmds(), static_cast<uint64_t>(as_int(v)), "F_???"); return;
    case ArgKind::kSockFamily:
      put_enum(out, address_families(), static_cast<uint64_t>(as_int(v)), "AF_???");
      return;
    case ArgKind::kSockType: put_sock_type(out, as_uint(v)); return;
    case ArgKind::kSockAddr: put_sockaddr(out, ctx.mem, v, as_uint(next_arg(ctx, index))); return;
    case ArgKind::kWhence: put_enum(out, whence_values(), as_uint(v), "SEEK_???"); return;
    case ArgKind::kTimespec: put_timespec(out, ctx.mem, v); return;
    case ArgKind::kStatOut: put_stat(out, ctx.mem, v); return;
    case ArgKind::kFutexOp: put_futex_op(out, v); return;
    case ArgKind::kPrctlOp: put_enum(out, prctl_ops(), static_cast<uint64_t>(as_int(v)), "PR_???"); return;
    case ArgKind::kIoctlCmd: put_enum(out, ioctl_cmds(), as_uint(v), nullptr); return;
    case ArgKind::kArchPrctlOp:
      put_enum(out, arch_prctl_ops(), static_cast<uint64_t>(as_int(v)), "ARCH_???");
      return;
    case ArgKind::kClockId: put_enum(out, clock_ids(), static_cast<uint64_t>(as_int(v)), nullptr); return;
    case ArgKind::kMadvise: put_enum(out, madvise_advice(), static_cast<uint64_t>(as_int(v)), "MADV_???"); return;
    case ArgKind::kRlimitRes:
      put_enum(out, rlimit_resources(), static_cast<uint64_t>(as_int(v)), "RLIMIT_???");
      return;
    case ArgKind::kUnused: return;
  }
  put_hex(out, v);
}

void put_arg(std::string& out, int index, bool is_out, const Ctx& ctx) {
  uint64_t v = ctx.call.args[index];
  if (is_out && ctx.failed && !written_despite_error(ctx, index)) {
    put_ptr(out, v);  // the kernel wrote nothing: strace shows the address
    return;
  }
  if (put_special_arg(out, index, ctx)) return;
  Ext ext = ctx.detail.ext[index];
  if (ext != Ext::kNone) {
    put_ext(out, ext, v, index, ctx);
  } else {
    put_kind(out, ctx.info.args[index], v, index, ctx);
  }
}

}  // namespace hytrace::syscalls::detail
