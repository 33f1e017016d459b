#include "tracer/ptrace_x86_64.hpp"

#include <linux/audit.h>
#include <sched.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>

#include <cerrno>
#include <cstddef>
#include <system_error>

#include "tracer/remote_memory.hpp"

namespace hytrace::tracer::ptrace {
namespace {

constexpr uint64_t kX32Bit = 0x40000000;

void request(__ptrace_request req, pid_t tid, void* addr, long data) {
  if (::ptrace(req, tid, addr, data) != 0 && errno != ESRCH) {
    throw std::system_error(errno, std::generic_category(), "ptrace");
  }
}

syscalls::Call make_call(uint32_t arch, uint64_t nr, const uint64_t* args) {
  syscalls::Call call;
  call.nr = static_cast<long>(nr);
  for (int i = 0; i < 6; ++i) call.args[i] = args[i];
  if (arch == AUDIT_ARCH_I386) {
    call.abi = syscalls::Abi::kI386;
  } else if (nr & kX32Bit) {
    call.abi = syscalls::Abi::kX32;
    call.nr = static_cast<long>(nr & ~kX32Bit);
  }
  return call;
}

}  // namespace

bool syscall_state(pid_t tid, SyscallState& out) {
  __ptrace_syscall_info info{};
  if (::ptrace(PTRACE_GET_SYSCALL_INFO, tid, sizeof(info), &info) <= 0) return false;
  out.ip = info.instruction_pointer;
  out.sp = info.stack_pointer;
  switch (info.op) {
    case PTRACE_SYSCALL_INFO_ENTRY:
      out.op = StopOp::kEntry;
      out.call = make_call(info.arch, info.entry.nr, info.entry.args);
      break;
    case PTRACE_SYSCALL_INFO_SECCOMP:
      out.op = StopOp::kSeccomp;
      out.call = make_call(info.arch, info.seccomp.nr, info.seccomp.args);
      out.seccomp_data = info.seccomp.ret_data;
      break;
    case PTRACE_SYSCALL_INFO_EXIT:
      out.op = StopOp::kExit;
      out.result = info.exit.rval;
      break;
    default:
      out.op = StopOp::kNone;
  }
  return true;
}

uint64_t clone_flags(pid_t tid) {
  user_regs_struct regs{};
  if (::ptrace(PTRACE_GETREGS, tid, nullptr, &regs) != 0) return 0;
  // The ABI decides both the number and where the first argument is.
  __ptrace_syscall_info info{};
  const bool i386 = ::ptrace(PTRACE_GET_SYSCALL_INFO, tid, sizeof(info), &info) > 0 &&
                    info.arch == AUDIT_ARCH_I386;
  const syscalls::Abi abi = i386 ? syscalls::Abi::kI386
                            : (regs.orig_rax & kX32Bit) ? syscalls::Abi::kX32
                                                        : syscalls::Abi::kX86_64;
  const auto nr = static_cast<long>(regs.orig_rax & ~kX32Bit);
  const uint64_t first_arg = i386 ? (regs.rbx & 0xffffffffu) : regs.rdi;
  switch (syscalls::role_of(abi, nr)) {
    case syscalls::Role::kClone:
      return first_arg;
    case syscalls::Role::kClone3: {
      uint64_t flags = 0;  // struct clone_args starts with the flags
      RemoteMemory(tid).read(first_arg, &flags, sizeof(flags));
      return flags;
    }
    case syscalls::Role::kVfork:
      return CLONE_VM | CLONE_VFORK;
    default:  // fork
      return 0;
  }
}

bool set_syscall_arg(pid_t tid, syscalls::Abi abi, int index, uint64_t value) {
  user_regs_struct regs{};
  if (index < 0 || index > 5 || ::ptrace(PTRACE_GETREGS, tid, nullptr, &regs) != 0) return false;
  unsigned long long* const native[] = {&regs.rdi, &regs.rsi, &regs.rdx, &regs.r10, &regs.r8, &regs.r9};
  unsigned long long* const i386[] = {&regs.rbx, &regs.rcx, &regs.rdx, &regs.rsi, &regs.rdi, &regs.rbp};
  *(abi == syscalls::Abi::kI386 ? i386 : native)[index] = value;
  return ::ptrace(PTRACE_SETREGS, tid, nullptr, &regs) == 0;
}

bool skip_syscall(pid_t tid, long result) {
  user_regs_struct regs{};
  if (::ptrace(PTRACE_GETREGS, tid, nullptr, &regs) != 0) return false;
  regs.orig_rax = static_cast<unsigned long long>(-1);
  regs.rax = static_cast<unsigned long long>(result);
  return ::ptrace(PTRACE_SETREGS, tid, nullptr, &regs) == 0;
}

bool set_result(pid_t tid, long result, long nr) {
  user_regs_struct regs{};
  if (::ptrace(PTRACE_GETREGS, tid, nullptr, &regs) != 0) return false;
  regs.rax = static_cast<unsigned long long>(result);
  if (nr >= 0) regs.orig_rax = static_cast<unsigned long long>(nr);
  return ::ptrace(PTRACE_SETREGS, tid, nullptr, &regs) == 0;
}

bool set_breakpoint(pid_t tid, uint64_t addr) {
  const auto debug_register = [](int i) {
    return reinterpret_cast<void*>(offsetof(struct user, u_debugreg) + i * sizeof(unsigned long));
  };
  if (addr == 0) return ::ptrace(PTRACE_POKEUSER, tid, debug_register(7), nullptr) == 0;
  if (::ptrace(PTRACE_POKEUSER, tid, debug_register(0), reinterpret_cast<void*>(addr)) != 0) return false;
  // DR7: L0 (local enable of DR0); R/W0 = 00 (execute) and LEN0 = 00 (1 byte).
  return ::ptrace(PTRACE_POKEUSER, tid, debug_register(7), reinterpret_cast<void*>(1)) == 0;
}

namespace {
void* gs_base_offset() { return reinterpret_cast<void*>(offsetof(user_regs_struct, gs_base)); }
}  // namespace

std::optional<uint64_t> gs_base(pid_t tid) {
  errno = 0;
  const long base = ::ptrace(PTRACE_PEEKUSER, tid, gs_base_offset(), nullptr);
  if (errno != 0) return std::nullopt;
  return static_cast<uint64_t>(base);
}

bool set_gs_base(pid_t tid, uint64_t base) {
  return ::ptrace(PTRACE_POKEUSER, tid, gs_base_offset(), reinterpret_cast<void*>(base)) == 0;
}

void cont(pid_t tid, int sig) { request(PTRACE_CONT, tid, nullptr, sig); }
void syscall(pid_t tid, int sig) { request(PTRACE_SYSCALL, tid, nullptr, sig); }
void listen(pid_t tid) { request(PTRACE_LISTEN, tid, nullptr, 0); }
void interrupt(pid_t tid) { request(PTRACE_INTERRUPT, tid, nullptr, 0); }
void detach(pid_t tid, int sig) { request(PTRACE_DETACH, tid, nullptr, sig); }

unsigned long event_message(pid_t tid) {
  unsigned long msg = 0;
  ::ptrace(PTRACE_GETEVENTMSG, tid, nullptr, &msg);
  return msg;
}

}  // namespace hytrace::tracer::ptrace
