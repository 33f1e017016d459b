// Structures the kernel reads or writes: stat, timespec, sigset, ...
// x86-64 layouts; the kernel's equal glibc's for all of these.
#include <linux/openat2.h>
#include <linux/sched.h>
#include <sys/ioctl.h>
#include <sys/sysinfo.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include <array>
#include <bit>
#include <cstring>
#include <iterator>
#include <vector>

#include <fmt/format.h>

#include "syscalls/flags.hpp"
#include "syscalls/render.hpp"

namespace hytrace::syscalls::detail {
namespace {

// struct sigaction as the kernel takes it (not glibc's).
struct KernelSigaction {
  uint64_t handler;
  uint64_t flags;
  uint64_t restorer;
  uint64_t mask;
};

// struct linux_dirent64 up to d_reclen (linux_dirent has it there too).
constexpr size_t kDirentReclenOffset = 16;
constexpr size_t kSigsetBytes = 8;  // the kernel's sigset_t on x86-64
constexpr uint64_t kRlimInfinity = ~uint64_t{0};

template <class... Args>
void put(std::string& out, fmt::format_string<Args...> f, Args&&... args) {
  fmt::format_to(std::back_inserter(out), f, std::forward<Args>(args)...);
}

void put_rlim(std::string& out, uint64_t value) {
  if (value == kRlimInfinity) {
    out += "RLIM64_INFINITY";
  } else if (value != 0 && value % 1024 == 0) {
    put(out, "{}*1024", value / 1024);
  } else {
    put_udec(out, value);
  }
}

void put_field_string(std::string& out, const char* field, size_t size) {
  size_t len = strnlen(field, size);
  put_quoted(out, reinterpret_cast<const unsigned char*>(field), len, size, false, false);
}

void put_epoll_data(std::string& out, const epoll_event& ev) {
  out += "{events=";
  put_flags(out, epoll_events(), ev.events);
  uint64_t data = ev.data.u64;
  put(out, ", data={{u32={}, u64={}}}}}", static_cast<uint32_t>(data), data);
}

}  // namespace

void put_file_mode(std::string& out, uint64_t mode) {
  uint64_t type = mode & file_type_mask();
  const char* type_name = find_name(file_types(), type);
  if (type != 0 && type_name == nullptr) {
    put_octal_mode(out, mode);
    return;
  }
  if (type_name != nullptr) {
    out += type_name;
    out += '|';
  }
  for (const hytrace_flag& bit : mode_bits()) {
    if ((mode & bit.value) != 0) {
      out += bit.name;
      out += '|';
    }
  }
  put_octal_mode(out, mode & 0777);
}

void put_stat(std::string& out, MemoryReader& mem, uint64_t addr) {
  struct stat st;
  if (!read_value(mem, addr, st)) {
    put_hex(out, addr);
    return;
  }
  out += "{st_mode=";
  put_file_mode(out, st.st_mode);
  if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
    put(out, ", st_rdev=makedev({:#x}, {:#x})", major(st.st_rdev), minor(st.st_rdev));
  } else {
    put(out, ", st_size={}", st.st_size);
  }
  out += ", ...}";
}

size_t fixed_struct_bytes(Ext ext) {
  switch (ext) {
    case Ext::kSigaction: return sizeof(KernelSigaction);
    case Ext::kRlimit: return sizeof(rlimit);
    case Ext::kFdPair: return 2 * sizeof(int);
    case Ext::kWaitStatus:
    case Ext::kIntPtr: return sizeof(int);
    case Ext::kUtsname: return sizeof(utsname);
    case Ext::kTimeval: return sizeof(timeval);
    case Ext::kStatx: return sizeof(struct statx);
    case Ext::kSysinfo: return sizeof(struct sysinfo);
    default: return 0;
  }
}

void put_statx(std::string& out, MemoryReader& mem, uint64_t addr) {
  struct statx stx;
  if (!read_value(mem, addr, stx)) {
    put_hex(out, addr);
    return;
  }
  out += "{stx_mask=";
  put_flags(out, statx_mask(), stx.stx_mask);
  out += ", stx_attributes=";
  put_flags(out, statx_attributes(), stx.stx_attributes);
  out += ", stx_mode=";
  put_file_mode(out, stx.stx_mode);
  put(out, ", stx_size={}, ...}}", stx.stx_size);
}

void put_timespec(std::string& out, MemoryReader& mem, uint64_t addr) {
  timespec ts;
  if (!read_value(mem, addr, ts)) {
    put_ptr(out, addr);
    return;
  }
  put(out, "{{tv_sec={}, tv_nsec={}}}", ts.tv_sec, ts.tv_nsec);
}

void put_timeval(std::string& out, MemoryReader& mem, uint64_t addr) {
  timeval tv;
  if (!read_value(mem, addr, tv)) {
    put_ptr(out, addr);
    return;
  }
  put(out, "{{tv_sec={}, tv_usec={}}}", tv.tv_sec, tv.tv_usec);
}

namespace {

void put_mask_bits(std::string& out, uint64_t mask, size_t bits) {
  if (bits < 64) mask &= (uint64_t{1} << bits) - 1;
  // As strace: when 2/3 or more of the signals are in, show those that are not.
  if (static_cast<size_t>(std::popcount(mask)) >= bits * 2 / 3) {
    out += '~';
    mask = ~mask;
    if (bits < 64) mask &= (uint64_t{1} << bits) - 1;
  }
  out += '[';
  bool first = true;
  for (size_t bit = 0; bit < bits; ++bit) {
    if ((mask & (uint64_t{1} << bit)) == 0) continue;
    if (!first) out += ' ';
    first = false;
    int sig = static_cast<int>(bit) + 1;
    if (!put_signal_name(out, sig, false)) put_dec(out, sig);
  }
  out += ']';
}

}  // namespace

void put_sigset_mask(std::string& out, uint64_t mask) { put_mask_bits(out, mask, 64); }

void put_sigset(std::string& out, MemoryReader& mem, uint64_t addr, uint64_t size) {
  if (addr == 0) {
    out += "NULL";
    return;
  }
  size_t bytes = static_cast<size_t>(std::min<uint64_t>(size, kSigsetBytes));
  uint64_t mask = 0;
  if (bytes == 0 || !read_exact(mem, addr, &mask, bytes)) {
    put_hex(out, addr);
    return;
  }
  put_mask_bits(out, mask, bytes * 8);
}

void put_sigaction(std::string& out, MemoryReader& mem, uint64_t addr) {
  KernelSigaction sa;
  if (addr == 0 || !read_value(mem, addr, sa)) {
    put_ptr(out, addr);
    return;
  }
  out += "{sa_handler=";
  if (sa.handler == reinterpret_cast<uint64_t>(SIG_DFL)) {
    out += "SIG_DFL";
  } else if (sa.handler == reinterpret_cast<uint64_t>(SIG_IGN)) {
    out += "SIG_IGN";
  } else {
    put_hex(out, sa.handler);
  }
  out += ", sa_mask=";
  put_sigset_mask(out, sa.mask);
  out += ", sa_flags=";
  put_flags(out, sa_flags(), sa.flags);
  if ((sa.flags & sa_restorer_flag()) != 0) {
    out += ", sa_restorer=";
    put_hex(out, sa.restorer);
  }
  out += '}';
}

void put_rlimit(std::string& out, MemoryReader& mem, uint64_t addr) {
  rlimit rl;
  if (addr == 0 || !read_value(mem, addr, rl)) {
    put_ptr(out, addr);
    return;
  }
  out += "{rlim_cur=";
  put_rlim(out, rl.rlim_cur);
  out += ", rlim_max=";
  put_rlim(out, rl.rlim_max);
  out += '}';
}

void put_utsname(std::string& out, MemoryReader& mem, uint64_t addr) {
  utsname u;
  if (!read_value(mem, addr, u)) {
    put_ptr(out, addr);
    return;
  }
  out += "{sysname=";
  put_field_string(out, u.sysname, sizeof u.sysname);
  out += ", nodename=";
  put_field_string(out, u.nodename, sizeof u.nodename);
  out += ", ...}";
}

void put_wait_status(std::string& out, MemoryReader& mem, uint64_t addr) {
  int status = 0;
  if (addr == 0 || !read_value(mem, addr, status)) {
    put_ptr(out, addr);
    return;
  }
  out += "[{";
  if (WIFEXITED(status)) {
    put(out, "WIFEXITED(s) && WEXITSTATUS(s) == {}", WEXITSTATUS(status));
  } else if (WIFSIGNALED(status)) {
    out += "WIFSIGNALED(s) && WTERMSIG(s) == ";
    put_signal(out, WTERMSIG(status));
    if (WCOREDUMP(status)) out += " && WCOREDUMP(s)";
  } else if (WIFSTOPPED(status)) {
    out += "WIFSTOPPED(s) && WSTOPSIG(s) == ";
    put_signal(out, WSTOPSIG(status));
  } else if (WIFCONTINUED(status)) {
    out += "WIFCONTINUED(s)";
  } else {
    out.resize(out.size() - 1);
    put(out, "{:#x}]", static_cast<unsigned>(status));
    return;
  }
  out += '}';
  unsigned event = static_cast<unsigned>(status) >> 16;
  if (event != 0) put(out, " | {:#x}", event << 16);
  out += ']';
}

void put_fd_pair(std::string& out, MemoryReader& mem, uint64_t addr) {
  std::array<int, 2> fds;
  if (!read_value(mem, addr, fds)) {
    put_ptr(out, addr);
    return;
  }
  put(out, "[{}, {}]", fds[0], fds[1]);
}

void put_int_at(std::string& out, MemoryReader& mem, uint64_t addr) {
  int value = 0;
  if (addr == 0 || !read_value(mem, addr, value)) {
    put_ptr(out, addr);
    return;
  }
  put(out, "[{}]", value);
}

void put_iovec(std::string& out, const Ctx& ctx, uint64_t addr, uint64_t count) {
  // At exit (readv) the data is what the kernel wrote: `result` bytes.
  uint64_t data_left = ctx.exiting ? static_cast<uint64_t>(ctx.result) : ~uint64_t{0};
  iovec first;
  if (count == 0 || !read_value(ctx.mem, addr, first)) {
    put_ptr(out, addr);
    return;
  }
  out += '[';
  for (uint64_t i = 0; i < count; ++i) {
    iovec iov;
    if (i > 0) out += ", ";
    if (i == ctx.opts.array_limit) {
      out += "...";
      break;
    }
    if (!read_value(ctx.mem, addr + i * sizeof iov, iov)) {
      out += "...";
      break;
    }
    uint64_t base = reinterpret_cast<uint64_t>(iov.iov_base);
    uint64_t shown = std::min<uint64_t>(iov.iov_len, data_left);
    data_left -= shown;
    out += "{iov_base=";
    put_buffer_at(out, ctx.mem, base, shown, ctx.opts.string_limit, false);
    put(out, ", iov_len={}}}", iov.iov_len);
  }
  out += ']';
}

void put_pollfds(std::string& out, const Ctx& ctx, uint64_t addr, uint64_t count) {
  pollfd pfd;
  if (count == 0 || !read_value(ctx.mem, addr, pfd)) {
    put_ptr(out, addr);
    return;
  }
  out += '[';
  for (uint64_t i = 0; i < count; ++i) {
    if (i > 0) out += ", ";
    if (i == ctx.opts.array_limit || !read_value(ctx.mem, addr + i * sizeof pfd, pfd)) {
      out += "...";
      break;
    }
    put(out, "{{fd={}, events=", pfd.fd);
    put_flags(out, poll_events(), static_cast<uint16_t>(pfd.events));
    out += '}';
  }
  out += ']';
}

void put_poll_result(std::string& out, const Ctx& ctx) {
  if (ctx.result == 0) {
    out += " (Timeout)";
    return;
  }
  uint64_t addr = ctx.call.args[0];
  uint64_t count = ctx.call.args[1];
  pollfd pfd;
  out += " ([";
  size_t shown = 0;
  for (uint64_t i = 0; i < count && i < static_cast<uint64_t>(kMaxStructBytes); ++i) {
    if (!read_value(ctx.mem, addr + i * sizeof pfd, pfd)) break;
    if (pfd.revents == 0) continue;
    if (shown++ > 0) out += ", ";
    put(out, "{{fd={}, revents=", pfd.fd);
    put_flags(out, poll_events(), static_cast<uint16_t>(pfd.revents));
    out += '}';
  }
  out += "])";
}

void put_epoll_event(std::string& out, MemoryReader& mem, uint64_t addr) {
  epoll_event ev;
  if (addr == 0 || !read_value(mem, addr, ev)) {
    put_ptr(out, addr);
    return;
  }
  put_epoll_data(out, ev);
}

void put_epoll_events(std::string& out, const Ctx& ctx, uint64_t addr, long count) {
  out += '[';
  epoll_event ev;
  for (long i = 0; i < count; ++i) {
    if (i > 0) out += ", ";
    if (static_cast<size_t>(i) == ctx.opts.array_limit ||
        !read_value(ctx.mem, addr + static_cast<uint64_t>(i) * sizeof ev, ev)) {
      out += "...";
      break;
    }
    put_epoll_data(out, ev);
  }
  out += ']';
}

void put_dirents(std::string& out, MemoryReader& mem, uint64_t addr, long size) {
  put_hex(out, addr);
  if (size < 0 || size > kMaxStructBytes) return;
  std::vector<unsigned char> buf(static_cast<size_t>(size));
  if (!read_exact(mem, addr, buf.data(), buf.size())) return;
  unsigned count = 0;
  for (size_t at = 0; at + kDirentReclenOffset + 2 <= buf.size();) {
    uint16_t reclen;
    std::memcpy(&reclen, buf.data() + at + kDirentReclenOffset, sizeof reclen);
    if (reclen == 0) break;
    ++count;
    at += reclen;
  }
  put(out, " /* {} entries */", count);
}

void put_cpuset(std::string& out, MemoryReader& mem, uint64_t addr, uint64_t size) {
  if (size == 0 || size > static_cast<uint64_t>(kMaxStructBytes)) {
    put_ptr(out, addr);
    return;
  }
  std::vector<unsigned char> buf(static_cast<size_t>(size));
  if (!read_exact(mem, addr, buf.data(), buf.size())) {
    put_ptr(out, addr);
    return;
  }
  out += '[';
  bool first = true;
  for (size_t cpu = 0; cpu < buf.size() * 8; ++cpu) {
    if ((buf[cpu / 8] & (1u << (cpu % 8))) == 0) continue;
    if (!first) out += ' ';
    first = false;
    put_udec(out, cpu);
  }
  out += ']';
}

void put_open_how(std::string& out, MemoryReader& mem, uint64_t addr, uint64_t size) {
  open_how how;
  if (size < sizeof how || !read_value(mem, addr, how)) {
    put_ptr(out, addr);
    return;
  }
  out += "{flags=";
  put_open_flags(out, how.flags);
  if ((how.flags & open_creates_mask()) != 0) {
    out += ", mode=";
    put_octal_mode(out, how.mode);
  }
  out += ", resolve=";
  put_flags(out, resolve_flags(), how.resolve);
  out += '}';
}

void put_gid_list(std::string& out, const Ctx& ctx, uint64_t addr, long count) {
  if (addr == 0 || count < 0 || count > kMaxStructBytes) {
    put_ptr(out, addr);
    return;
  }
  out += '[';
  for (long i = 0; i < count; ++i) {
    uint32_t gid;
    if (i > 0) out += ", ";
    if (static_cast<size_t>(i) == ctx.opts.array_limit ||
        !read_value(ctx.mem, addr + static_cast<uint64_t>(i) * sizeof gid, gid)) {
      out += "...";
      break;
    }
    put_udec(out, gid);
  }
  out += ']';
}

void put_sysinfo(std::string& out, MemoryReader& mem, uint64_t addr) {
  struct sysinfo si;
  if (!read_value(mem, addr, si)) {
    put_ptr(out, addr);
    return;
  }
  put(out,
      "{{uptime={}, loads=[{}, {}, {}], totalram={}, freeram={}, sharedram={}, bufferram={}, "
      "totalswap={}, freeswap={}, procs={}, totalhigh={}, freehigh={}, mem_unit={}}}",
      si.uptime, si.loads[0], si.loads[1], si.loads[2], si.totalram, si.freeram, si.sharedram,
      si.bufferram, si.totalswap, si.freeswap, si.procs, si.totalhigh, si.freehigh, si.mem_unit);
}

void put_clone_args(std::string& out, MemoryReader& mem, uint64_t addr, uint64_t size) {
  clone_args args{};
  size_t want = static_cast<size_t>(std::min<uint64_t>(size, sizeof args));
  if (want < CLONE_ARGS_SIZE_VER0 || !read_exact(mem, addr, &args, want)) {
    put_ptr(out, addr);
    return;
  }
  out += "{flags=";
  put_flags(out, clone_flags(), args.flags);
  if ((args.flags & CLONE_PIDFD) != 0) put(out, ", pidfd={:#x}", args.pidfd);
  if ((args.flags & (CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID)) != 0) {
    put(out, ", child_tid={:#x}", args.child_tid);
  }
  if ((args.flags & CLONE_PARENT_SETTID) != 0) put(out, ", parent_tid={:#x}", args.parent_tid);
  out += ", exit_signal=";
  put_signal(out, static_cast<int>(args.exit_signal));
  out += ", stack=";
  put_ptr(out, args.stack);
  out += ", stack_size=";
  put_hex(out, args.stack_size);
  if ((args.flags & CLONE_SETTLS) != 0) put(out, ", tls={:#x}", args.tls);
  out += '}';
}

void put_winsize(std::string& out, MemoryReader& mem, uint64_t addr) {
  winsize ws;
  if (!read_value(mem, addr, ws)) {
    put_ptr(out, addr);
    return;
  }
  put(out, "{{ws_row={}, ws_col={}, ws_xpixel={}, ws_ypixel={}}}", ws.ws_row, ws.ws_col, ws.ws_xpixel,
      ws.ws_ypixel);
}

}  // namespace hytrace::syscalls::detail
