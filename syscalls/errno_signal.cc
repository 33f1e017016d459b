// errno and signal names, strace-style.
#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <iterator>

#include <fmt/format.h>

#include "syscalls/format.hpp"
#include "syscalls/render.hpp"

namespace hytrace::syscalls {
namespace detail {
namespace {

struct Named {
  int value;
  const char* name;
};

#define N(x) {x, #x}

constexpr Named kErrnos[] = {
    N(EPERM),        N(ENOENT),       N(ESRCH),        N(EINTR),        N(EIO),
    N(ENXIO),        N(E2BIG),        N(ENOEXEC),      N(EBADF),        N(ECHILD),
    N(EAGAIN),       N(ENOMEM),       N(EACCES),       N(EFAULT),       N(ENOTBLK),
    N(EBUSY),        N(EEXIST),       N(EXDEV),        N(ENODEV),       N(ENOTDIR),
    N(EISDIR),       N(EINVAL),       N(ENFILE),       N(EMFILE),       N(ENOTTY),
    N(ETXTBSY),      N(EFBIG),        N(ENOSPC),       N(ESPIPE),       N(EROFS),
    N(EMLINK),       N(EPIPE),        N(EDOM),         N(ERANGE),       N(EDEADLK),
    N(ENAMETOOLONG), N(ENOLCK),       N(ENOSYS),       N(ENOTEMPTY),    N(ELOOP),
    N(ENOMSG),       N(EIDRM),        N(ECHRNG),       N(EL2NSYNC),     N(EL3HLT),
    N(EL3RST),       N(ELNRNG),       N(EUNATCH),      N(ENOCSI),       N(EL2HLT),
    N(EBADE),        N(EBADR),        N(EXFULL),       N(ENOANO),       N(EBADRQC),
    N(EBADSLT),      N(EBFONT),       N(ENOSTR),       N(ENODATA),      N(ETIME),
    N(ENOSR),        N(ENONET),       N(ENOPKG),       N(EREMOTE),      N(ENOLINK),
    N(EADV),         N(ESRMNT),       N(ECOMM),        N(EPROTO),       N(EMULTIHOP),
    N(EDOTDOT),      N(EBADMSG),      N(EOVERFLOW),    N(ENOTUNIQ),     N(EBADFD),
    N(EREMCHG),      N(ELIBACC),      N(ELIBBAD),      N(ELIBSCN),      N(ELIBMAX),
    N(ELIBEXEC),     N(EILSEQ),       N(ERESTART),     N(ESTRPIPE),     N(EUSERS),
    N(ENOTSOCK),     N(EDESTADDRREQ), N(EMSGSIZE),     N(EPROTOTYPE),   N(ENOPROTOOPT),
    N(EPROTONOSUPPORT), N(ESOCKTNOSUPPORT), N(EOPNOTSUPP), N(EPFNOSUPPORT), N(EAFNOSUPPORT),
    N(EADDRINUSE),   N(EADDRNOTAVAIL), N(ENETDOWN),    N(ENETUNREACH),  N(ENETRESET),
    N(ECONNABORTED), N(ECONNRESET),   N(ENOBUFS),      N(EISCONN),      N(ENOTCONN),
    N(ESHUTDOWN),    N(ETOOMANYREFS), N(ETIMEDOUT),    N(ECONNREFUSED), N(EHOSTDOWN),
    N(EHOSTUNREACH), N(EALREADY),     N(EINPROGRESS),  N(ESTALE),       N(EUCLEAN),
    N(ENOTNAM),      N(ENAVAIL),      N(EISNAM),       N(EREMOTEIO),    N(EDQUOT),
    N(ENOMEDIUM),    N(EMEDIUMTYPE),  N(ECANCELED),    N(ENOKEY),       N(EKEYEXPIRED),
    N(EKEYREVOKED),  N(EKEYREJECTED), N(EOWNERDEAD),   N(ENOTRECOVERABLE), N(ERFKILL),
    N(EHWPOISON),
};

// Kernel-internal codes a tracer sees at syscall exit. No userspace header
// defines them; the numbers are those of the kernel's include/linux/errno.h.
struct Internal {
  int value;
  const char* name;
  const char* text;  // strace's text; nullptr: strerror's ("Unknown error 515")
};

constexpr Internal kInternal[] = {
    {kErestartSys, "ERESTARTSYS", "To be restarted if SA_RESTART is set"},
    {kErestartNoIntr, "ERESTARTNOINTR", "To be restarted"},
    {kErestartNoHand, "ERESTARTNOHAND", "To be restarted if no handler"},
    {kEnoIoctlCmd, "ENOIOCTLCMD", nullptr},
    {kErestartRestartBlock, "ERESTART_RESTARTBLOCK", "Interrupted by signal"},
};

constexpr Named kSignals[] = {
    N(SIGHUP),  N(SIGINT),    N(SIGQUIT), N(SIGILL),    N(SIGTRAP),   N(SIGABRT),
    N(SIGBUS),  N(SIGFPE),    N(SIGKILL), N(SIGUSR1),   N(SIGSEGV),   N(SIGUSR2),
    N(SIGPIPE), N(SIGALRM),   N(SIGTERM), N(SIGSTKFLT), N(SIGCHLD),   N(SIGCONT),
    N(SIGSTOP), N(SIGTSTP),   N(SIGTTIN), N(SIGTTOU),   N(SIGURG),    N(SIGXCPU),
    N(SIGXFSZ), N(SIGVTALRM), N(SIGPROF), N(SIGWINCH),  N(SIGIO),     N(SIGPWR),
    N(SIGSYS),
};

#undef N

// Name lookup by number, built at compile time from the lists above.
template <size_t Size, size_t M>
constexpr auto index_names(const Named (&list)[M]) {
  std::array<const char*, Size> names{};
  for (const Named& n : list) names[static_cast<size_t>(n.value)] = n.name;
  return names;
}

constexpr auto kErrnoByNumber = index_names<EHWPOISON + 1>(kErrnos);
constexpr auto kSignalByNumber = index_names<__SIGRTMIN>(kSignals);

}  // namespace

const char* errno_name_or_null(int err) {
  if (err > 0 && static_cast<size_t>(err) < kErrnoByNumber.size()) return kErrnoByNumber[static_cast<size_t>(err)];
  for (const Internal& i : kInternal) {
    if (i.value == err) return i.name;
  }
  return nullptr;
}

bool is_restart_code(int err) {
  return err == kErestartSys || err == kErestartNoIntr || err == kErestartNoHand ||
         err == kErestartRestartBlock;
}

}  // namespace detail

bool is_restart_result(long result) {
  return result < 0 && result >= -detail::kMaxErrno && detail::is_restart_code(static_cast<int>(-result));
}

namespace detail {

void put_errno_text(std::string& out, int err) {
  for (const Internal& i : kInternal) {
    if (i.value == err && i.text != nullptr) {
      out += i.text;
      return;
    }
  }
  const char* text = strerrordesc_np(err);
  if (text != nullptr) {
    out += text;
  } else {
    fmt::format_to(std::back_inserter(out), "Unknown error {}", err);
  }
}

bool put_signal_name(std::string& out, int sig, bool with_prefix) {
  const char* name = nullptr;
  if (sig > 0 && static_cast<size_t>(sig) < kSignalByNumber.size()) {
    name = kSignalByNumber[static_cast<size_t>(sig)];
  }
  if (name != nullptr) {
    out += with_prefix ? name : name + 3;
    return true;
  }
  if (sig < __SIGRTMIN || sig > __SIGRTMAX) return false;
  // The kernel's SIGRTMIN is 32; glibc reserves 32 and 33 and calls 34 its
  // SIGRTMIN, but strace names signals as the kernel numbers them.
  if (with_prefix) out += "SIG";
  if (sig == __SIGRTMIN) {
    out += "RTMIN";
  } else {
    fmt::format_to(std::back_inserter(out), "RT_{}", sig - __SIGRTMIN);
  }
  return true;
}

void put_signal(std::string& out, int sig) {
  if (!put_signal_name(out, sig, true)) fmt::format_to(std::back_inserter(out), "{}", sig);
}

}  // namespace detail

std::string signal_name(int sig) {
  std::string out;
  if (!detail::put_signal_name(out, sig, true)) out = fmt::format("SIG{}", sig);
  return out;
}

std::string errno_name(int err) {
  const char* name = detail::errno_name_or_null(err);
  return name != nullptr ? std::string(name) : fmt::format("E{}", err);
}

}  // namespace hytrace::syscalls
