// strace-style text for a siginfo: "{si_signo=SIGCHLD, si_code=CLD_EXITED, ...}".
#pragma once

#include <signal.h>

#include <string>

namespace hytrace::tracer {

std::string si_code_name(const siginfo_t& info);
std::string siginfo_text(const siginfo_t& info);

}  // namespace hytrace::tracer
