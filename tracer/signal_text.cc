#include "tracer/signal_text.hpp"

#include <fmt/format.h>

#include "syscalls/format.hpp"

namespace hytrace::tracer {
namespace {

struct CodeName {
  int signo;  // 0: any signal
  int code;
  const char* name;
};

constexpr CodeName kCodes[] = {
    {0, SI_USER, "SI_USER"},        {0, SI_KERNEL, "SI_KERNEL"},
    {0, SI_QUEUE, "SI_QUEUE"},      {0, SI_TIMER, "SI_TIMER"},
    {0, SI_MESGQ, "SI_MESGQ"},      {0, SI_ASYNCIO, "SI_ASYNCIO"},
    {0, SI_SIGIO, "SI_SIGIO"},      {0, SI_TKILL, "SI_TKILL"},
    {SIGCHLD, CLD_EXITED, "CLD_EXITED"},     {SIGCHLD, CLD_KILLED, "CLD_KILLED"},
    {SIGCHLD, CLD_DUMPED, "CLD_DUMPED"},     {SIGCHLD, CLD_TRAPPED, "CLD_TRAPPED"},
    {SIGCHLD, CLD_STOPPED, "CLD_STOPPED"},   {SIGCHLD, CLD_CONTINUED, "CLD_CONTINUED"},
    {SIGSEGV, SEGV_MAPERR, "SEGV_MAPERR"},   {SIGSEGV, SEGV_ACCERR, "SEGV_ACCERR"},
    {SIGBUS, BUS_ADRALN, "BUS_ADRALN"},      {SIGBUS, BUS_ADRERR, "BUS_ADRERR"},
    {SIGILL, ILL_ILLOPC, "ILL_ILLOPC"},      {SIGILL, ILL_ILLOPN, "ILL_ILLOPN"},
    {SIGFPE, FPE_INTDIV, "FPE_INTDIV"},      {SIGTRAP, TRAP_BRKPT, "TRAP_BRKPT"},
    {SIGSYS, 1, "SYS_SECCOMP"},
};

bool is_fault(int signo) {
  return signo == SIGSEGV || signo == SIGBUS || signo == SIGILL || signo == SIGFPE ||
         signo == SIGTRAP;
}

}  // namespace

std::string si_code_name(const siginfo_t& info) {
  for (const auto& c : kCodes) {
    const bool generic = c.signo == 0 && (info.si_code <= 0 || info.si_code == SI_KERNEL);
    if ((generic || c.signo == info.si_signo) && c.code == info.si_code) return c.name;
  }
  return std::to_string(info.si_code);
}

std::string siginfo_text(const siginfo_t& info) {
  std::string out = fmt::format("{{si_signo={}, si_code={}", syscalls::signal_name(info.si_signo),
                                si_code_name(info));
  if (info.si_code == SI_USER || info.si_code == SI_TKILL || info.si_code == SI_QUEUE) {
    fmt::format_to(std::back_inserter(out), ", si_pid={}, si_uid={}", info.si_pid, info.si_uid);
  } else if (info.si_signo == SIGCHLD && info.si_code > 0) {
    fmt::format_to(std::back_inserter(out), ", si_pid={}, si_uid={}, si_status={}", info.si_pid,
                   info.si_uid, info.si_status);
  } else if (is_fault(info.si_signo) && info.si_code > 0) {
    fmt::format_to(std::back_inserter(out), ", si_addr={}", info.si_addr);
  }
  return out + "}";
}

}  // namespace hytrace::tracer
