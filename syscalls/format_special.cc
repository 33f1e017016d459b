// Syscalls whose arguments are not simply "argument i as the table says":
// the shown arguments depend on a flag or command (openat, fcntl, futex,
// prctl), or strace names them (clone).
#include <asm/unistd_64.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/mman.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>

#include <cerrno>

#include "syscalls/flags.hpp"
#include "syscalls/render.hpp"

namespace hytrace::syscalls::detail {
namespace {

// Shows the arguments `indices`, in that order; each is written by the
// kernel if the table says so.
void set_positions(Layout& l, const Ctx& ctx, std::initializer_list<uint8_t> indices) {
  l.count = 0;
  l.out_mask = 0;
  for (uint8_t i : indices) {
    if ((ctx.detail.out_mask >> i) & 1u) l.out_mask |= static_cast<uint8_t>(1u << l.count);
    l.index[l.count++] = i;
  }
}

bool has_creates(uint64_t flags) { return (flags & open_creates_mask()) != 0; }

bool fcntl_takes_no_arg(int cmd) {
  switch (cmd) {
    case F_GETFD: case F_GETFL: case F_GETOWN: case F_GETSIG:
    case F_GETLEASE: case F_GETPIPE_SZ: case F_GET_SEALS:
      return true;
    default:
      return false;
  }
}

int futex_cmd(const Ctx& ctx) { return static_cast<int>(ctx.call.args[1] & futex_cmd_mask()); }

void futex_layout(Layout& l, const Ctx& ctx, int cmd) {
  switch (cmd) {
    case FUTEX_WAIT: set_positions(l, ctx, {0, 1, 2, 3}); break;
    case FUTEX_WAKE: case FUTEX_FD: set_positions(l, ctx, {0, 1, 2}); break;
    case FUTEX_REQUEUE: case FUTEX_WAIT_REQUEUE_PI: set_positions(l, ctx, {0, 1, 2, 3, 4}); break;
    case FUTEX_LOCK_PI: case FUTEX_LOCK_PI2: set_positions(l, ctx, {0, 1, 3}); break;
    case FUTEX_UNLOCK_PI: case FUTEX_TRYLOCK_PI: set_positions(l, ctx, {0, 1}); break;
    case FUTEX_WAIT_BITSET: set_positions(l, ctx, {0, 1, 2, 3, 5}); break;
    case FUTEX_WAKE_BITSET: set_positions(l, ctx, {0, 1, 2, 5}); break;
    default: break;  // all six
  }
}

// Operations with a value (not a timeout) in argument 3.
bool futex_has_val2(int cmd) {
  return cmd == FUTEX_REQUEUE || cmd == FUTEX_CMP_REQUEUE || cmd == FUTEX_WAKE_OP ||
         cmd == FUTEX_CMP_REQUEUE_PI;
}

bool put_futex_arg(std::string& out, int index, const Ctx& ctx) {
  int cmd = futex_cmd(ctx);
  uint64_t v = ctx.call.args[index];
  if (index == 2 || (index == 3 && futex_has_val2(cmd))) {
    put_dec(out, static_cast<int>(v));
    return true;
  }
  if (index != 5) return false;
  if ((cmd == FUTEX_WAIT_BITSET || cmd == FUTEX_WAKE_BITSET) &&
      static_cast<uint32_t>(v) == futex_bitset_match_any()) {
    out += "FUTEX_BITSET_MATCH_ANY";
  } else if (cmd == FUTEX_CMP_REQUEUE || cmd == FUTEX_CMP_REQUEUE_PI) {
    put_dec(out, static_cast<int>(v));
  } else {
    put_hex(out, static_cast<uint32_t>(v));
  }
  return true;
}

// clone(flags, stack, parent_tid, child_tid, tls) on x86-64, shown as
// strace does: child_stack=, flags=, then the pointers the flags use.
void clone_layout(Layout& l, const Ctx& ctx, uint64_t flags) {
  set_positions(l, ctx, {1, 0});
  if ((flags & (CLONE_PARENT_SETTID | CLONE_PIDFD)) != 0) l.index[l.count++] = 2;
  if ((flags & CLONE_SETTLS) != 0) l.index[l.count++] = 4;
  if ((flags & (CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID)) != 0) l.index[l.count++] = 3;
}

bool put_clone_arg(std::string& out, int index, const Ctx& ctx) {
  static constexpr const char* kNames[] = {"flags=", "child_stack=", "parent_tid=",
                                           "child_tidptr=", "tls="};
  out += kNames[index];
  if (index == 0) {
    put_kind(out, ArgKind::kCloneFlags, ctx.call.args[0], 0, ctx);
  } else {
    put_ptr(out, ctx.call.args[index]);
  }
  return true;
}

int prctl_op(const Ctx& ctx) { return static_cast<int>(ctx.call.args[0]); }

void prctl_layout(Layout& l, const Ctx& ctx, int op) {
  switch (op) {
    case PR_GET_DUMPABLE: case PR_GET_KEEPCAPS: case PR_GET_SECCOMP:
    case PR_GET_TIMERSLACK: case PR_GET_NO_NEW_PRIVS: case PR_GET_THP_DISABLE:
    case PR_GET_SECUREBITS: case PR_GET_TIMING: case PR_GET_IO_FLUSHER:
    case PR_TASK_PERF_EVENTS_DISABLE: case PR_TASK_PERF_EVENTS_ENABLE:
      set_positions(l, ctx, {0});
      break;
    case PR_GET_NAME: case PR_GET_PDEATHSIG: case PR_GET_CHILD_SUBREAPER:
      set_positions(l, ctx, {0, 1});
      l.out_mask = 0b10;
      break;
    case PR_SET_NAME: case PR_SET_PDEATHSIG: case PR_SET_DUMPABLE:
    case PR_SET_KEEPCAPS: case PR_SET_TIMERSLACK: case PR_SET_CHILD_SUBREAPER:
    case PR_CAPBSET_READ: case PR_CAPBSET_DROP: case PR_SET_SECUREBITS:
    case PR_SET_TIMING:
      set_positions(l, ctx, {0, 1});
      break;
    default:
      break;  // the op and four more
  }
}

bool put_prctl_arg(std::string& out, int index, const Ctx& ctx) {
  if (index == 0) return false;
  uint64_t v = ctx.call.args[index];
  switch (prctl_op(ctx)) {
    case PR_SET_NAME: put_string_at(out, ctx.mem, v, ctx.opts.string_limit); break;
    case PR_GET_NAME: put_string_at(out, ctx.mem, v, ctx.opts.string_limit); break;
    case PR_SET_PDEATHSIG: put_signal(out, static_cast<int>(v)); break;
    case PR_GET_PDEATHSIG: case PR_GET_CHILD_SUBREAPER: put_int_at(out, ctx.mem, v); break;
    case PR_SET_DUMPABLE: case PR_SET_KEEPCAPS: case PR_SET_TIMERSLACK:
    case PR_SET_CHILD_SUBREAPER: case PR_CAPBSET_READ: case PR_CAPBSET_DROP:
    case PR_SET_SECUREBITS: case PR_SET_TIMING: case PR_SET_NO_NEW_PRIVS:
    case PR_SET_THP_DISABLE:
      put_udec(out, v);
      break;
    default: put_hex(out, v); break;
  }
  return true;
}

bool put_fcntl_arg(std::string& out, const Ctx& ctx) {
  uint64_t v = ctx.call.args[2];
  switch (static_cast<int>(ctx.call.args[1])) {
    case F_SETFL: put_open_flags(out, static_cast<uint32_t>(v)); break;
    case F_SETFD: put_flags(out, fd_flags(), static_cast<uint32_t>(v)); break;
    case F_DUPFD: case F_DUPFD_CLOEXEC: case F_SETOWN: case F_SETPIPE_SZ: case F_SETLEASE:
      put_dec(out, static_cast<int>(v));
      break;
    case F_SETSIG: put_signal(out, static_cast<int>(v)); break;
    case F_GETLK: case F_SETLK: case F_SETLKW: case F_OFD_GETLK: case F_OFD_SETLK:
    case F_OFD_SETLKW: case F_GETOWN_EX: case F_SETOWN_EX:
      put_ptr(out, v);
      break;
    default: put_hex(out, v); break;
  }
  return true;
}

bool put_fcntl_result(std::string& out, const Ctx& ctx) {
  uint64_t r = static_cast<uint64_t>(ctx.result);
  switch (static_cast<int>(ctx.call.args[1])) {
    case F_GETFL:
      put_hex(out, r);
      out += " (flags ";
      put_open_flags(out, r);
      out += ')';
      return true;
    case F_GETFD:
      put_hex(out, r);
      if (r != 0) {
        out += " (flags ";
        put_flags(out, fd_flags(), r);
        out += ')';
      }
      return true;
    default:
      return false;
  }
}

// ioctl's third argument, by command: none, an int, a pointer to an int
// (read or written), a struct winsize; else a bare address.
enum class IoctlArg { kNone, kValue, kIntIn, kIntOut, kWinsizeIn, kWinsizeOut, kAddress };

IoctlArg ioctl_arg(const Ctx& ctx) {
  switch (static_cast<uint32_t>(ctx.call.args[1])) {
    case FIOCLEX: case FIONCLEX: case TIOCNOTTY: case TIOCEXCL: case TIOCNXCL:
    case TIOCCONS: case TIOCSBRK: case TIOCCBRK:
      return IoctlArg::kNone;
    case TCSBRK: case TCXONC: case TCFLSH: case TIOCSCTTY:
      return IoctlArg::kValue;
    case FIONBIO: case FIOASYNC: case TIOCSPGRP: case TIOCSPTLCK: case TIOCSETD:
      return IoctlArg::kIntIn;
    case FIONREAD: case TIOCOUTQ: case TIOCGPGRP: case TIOCGPTN: case TIOCGETD: case TIOCGSID:
      return IoctlArg::kIntOut;
    case TIOCSWINSZ: return IoctlArg::kWinsizeIn;
    case TIOCGWINSZ: return IoctlArg::kWinsizeOut;
    default: return IoctlArg::kAddress;
  }
}

void ioctl_layout(Layout& l, IoctlArg arg) {
  if (arg == IoctlArg::kNone) l.count = 2;
  if (arg == IoctlArg::kIntOut || arg == IoctlArg::kWinsizeOut) l.out_mask = 0b100;
}

bool put_ioctl_arg(std::string& out, const Ctx& ctx) {
  uint64_t v = ctx.call.args[2];
  switch (ioctl_arg(ctx)) {
    case IoctlArg::kValue: put_dec(out, static_cast<int>(v)); return true;
    case IoctlArg::kIntIn: case IoctlArg::kIntOut: put_int_at(out, ctx.mem, v); return true;
    case IoctlArg::kWinsizeIn: case IoctlArg::kWinsizeOut: put_winsize(out, ctx.mem, v); return true;
    default: return false;
  }
}

bool interrupted(const Ctx& ctx) {
  int err = static_cast<int>(-ctx.result);
  return ctx.failed && (err == EINTR || is_restart_code(err));
}

// The remaining time of nanosleep/clock_nanosleep: written only when a
// signal interrupts the sleep.
bool is_sleep_remainder(const Ctx& ctx, int index) {
  return (ctx.info.nr == __NR_nanosleep && index == 1) ||
         (ctx.info.nr == __NR_clock_nanosleep && index == 3);
}

}  // namespace

bool written_despite_error(const Ctx& ctx, int index) {
  return is_sleep_remainder(ctx, index) && interrupted(ctx);
}

Layout layout_of(const Ctx& ctx) {
  Layout l;
  l.count = ctx.info.nargs;
  for (uint8_t i = 0; i < 6; ++i) l.index[i] = i;
  l.out_mask = ctx.detail.out_mask;
  const uint64_t* args = ctx.call.args;
  switch (ctx.info.nr) {
    case __NR_open: if (!has_creates(args[1])) l.count = 2; break;
    case __NR_openat: if (!has_creates(args[2])) l.count = 3; break;
    case __NR_mq_open: if (!has_creates(args[1])) l.count = 2; break;
    case __NR_fcntl: if (fcntl_takes_no_arg(static_cast<int>(args[1]))) l.count = 2; break;
    case __NR_futex: futex_layout(l, ctx, futex_cmd(ctx)); break;
    case __NR_clone: clone_layout(l, ctx, args[0]); break;
    case __NR_prctl: prctl_layout(l, ctx, prctl_op(ctx)); break;
    case __NR_restart_syscall: set_positions(l, ctx, {0}); break;
    case __NR_ioctl: ioctl_layout(l, ioctl_arg(ctx)); break;
    case __NR_mremap: if ((args[3] & MREMAP_FIXED) == 0) l.count = 4; break;
    // The offset is pos_l (64 bits on x86-64); pos_h is not shown.
    case __NR_preadv2:
    case __NR_pwritev2:
      set_positions(l, ctx, {0, 1, 2, 3, 5});
      break;
    default: break;
  }
  return l;
}

bool put_special_arg(std::string& out, int index, const Ctx& ctx) {
  switch (ctx.info.nr) {
    case __NR_futex: return put_futex_arg(out, index, ctx);
    case __NR_clone: return put_clone_arg(out, index, ctx);
    case __NR_prctl: return put_prctl_arg(out, index, ctx);
    case __NR_fcntl: return index == 2 && put_fcntl_arg(out, ctx);
    case __NR_restart_syscall:
      out += "<... resuming interrupted call ...>";
      return true;
    case __NR_ioctl: return index == 2 && put_ioctl_arg(out, ctx);
    case __NR_nanosleep:
    case __NR_clock_nanosleep:
      if (!is_sleep_remainder(ctx, index) || interrupted(ctx)) return false;
      put_ptr(out, ctx.call.args[index]);  // not written: the sleep completed
      return true;
    default: return false;
  }
}

bool put_special_result(std::string& out, const Ctx& ctx) {
  switch (ctx.info.nr) {
    case __NR_fcntl: return put_fcntl_result(out, ctx);
    case __NR_umask:
      put_octal_mode(out, static_cast<uint64_t>(ctx.result));
      return true;
    case __NR_sched_getscheduler:
      put_dec(out, ctx.result);
      if (const char* name = find_name(sched_policies(), static_cast<uint64_t>(ctx.result))) {
        out += " (";
        out += name;
        out += ')';
      }
      return true;
    case __NR_poll:
    case __NR_ppoll:
      put_dec(out, ctx.result);
      put_poll_result(out, ctx);
      return true;
    default:
      return false;
  }
}

bool is_in_out(const Ctx& ctx, int index) {
  if (index <= 0 || index >= 6 || ctx.detail.ext[index] != Ext::kIntPtr) return false;
  Ext before = ctx.detail.ext[index - 1];
  return before == Ext::kSockAddrOut || before == Ext::kSockOptVal;
}

}  // namespace hytrace::syscalls::detail
