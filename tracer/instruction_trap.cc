#include "tracer/instruction_trap.hpp"

#include <asm/prctl.h>
#include <cpuid.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <unistd.h>
#include <x86intrin.h>

#include <array>

#include "tracer/inject_x86_64.hpp"
#include "tracer/remote_memory.hpp"

namespace hytrace::tracer {
namespace {

constexpr std::array<uint8_t, 2> kRdtsc = {0x0f, 0x31};
constexpr std::array<uint8_t, 3> kRdtscp = {0x0f, 0x01, 0xf9};
constexpr std::array<uint8_t, 2> kCpuid = {0x0f, 0xa2};

template <size_t N>
bool starts_with(const uint8_t* bytes, const std::array<uint8_t, N>& insn) {
  for (size_t i = 0; i < N; ++i) {
    if (bytes[i] != insn[i]) return false;
  }
  return true;
}

size_t length_of(InstructionTrap::Kind kind) {
  return kind == InstructionTrap::Kind::kRdtscp ? kRdtscp.size() : kRdtsc.size();
}

}  // namespace

bool cpuid_faulting_available() { return syscall(SYS_arch_prctl, ARCH_GET_CPUID, 0) >= 0; }

std::optional<InstructionTrap> trapped_instruction(Task& task, const siginfo_t& info) {
  // Both faults are general-protection faults: SIGSEGV from the kernel.
  if (info.si_signo != SIGSEGV || info.si_code != SI_KERNEL) return std::nullopt;
  user_regs_struct regs{};
  if (ptrace(PTRACE_GETREGS, task.tid, nullptr, &regs) != 0) return std::nullopt;
  uint8_t bytes[3] = {};
  if (RemoteMemory(task.tid).read(regs.rip, bytes, sizeof bytes) < 2) return std::nullopt;
  InstructionTrap trap{&task, InstructionTrap::Kind::kRdtsc};
  trap.ip = regs.rip;
  if (starts_with(bytes, kRdtsc)) return trap;
  if (starts_with(bytes, kRdtscp)) {
    trap.kind = InstructionTrap::Kind::kRdtscp;
    return trap;
  }
  if (starts_with(bytes, kCpuid)) {
    trap.kind = InstructionTrap::Kind::kCpuid;
    trap.leaf = static_cast<uint32_t>(regs.rax);
    trap.subleaf = static_cast<uint32_t>(regs.rcx);
    return trap;
  }
  return std::nullopt;
}

void run_natively(InstructionTrap& trap, CpuidAnswers& answers) {
  switch (trap.kind) {
    case InstructionTrap::Kind::kRdtsc: trap.tsc = __rdtsc(); break;
    case InstructionTrap::Kind::kRdtscp: trap.tsc = __rdtscp(&trap.aux); break;
    case InstructionTrap::Kind::kCpuid: {
      std::array<uint32_t, 4> asked{};
      auto it = answers.find({trap.leaf, trap.subleaf});
      if (it == answers.end()) {
        __cpuid_count(trap.leaf, trap.subleaf, asked[0], asked[1], asked[2], asked[3]);
        // Bounded: a program can ask with any ecx, which most leaves ignore.
        if (answers.size() < kMostCpuidAnswers) answers.emplace(std::pair{trap.leaf, trap.subleaf}, asked);
      }
      const std::array<uint32_t, 4>& r = it == answers.end() ? asked : it->second;
      trap.eax = r[0];
      trap.ebx = r[1];
      trap.ecx = r[2];
      trap.edx = r[3];
      break;
    }
  }
}

bool complete(const InstructionTrap& trap) {
  const pid_t tid = trap.task->tid;
  user_regs_struct regs{};
  if (ptrace(PTRACE_GETREGS, tid, nullptr, &regs) != 0) return false;
  // Each writes 32-bit registers: their upper halves become zero.
  if (trap.kind == InstructionTrap::Kind::kCpuid) {
    regs.rax = trap.eax;
    regs.rbx = trap.ebx;
    regs.rcx = trap.ecx;
    regs.rdx = trap.edx;
  } else {
    regs.rax = trap.tsc & 0xffffffffu;
    regs.rdx = trap.tsc >> 32;
    if (trap.kind == InstructionTrap::Kind::kRdtscp) regs.rcx = trap.aux;
  }
  regs.rip = trap.ip + length_of(trap.kind);
  return ptrace(PTRACE_SETREGS, tid, nullptr, &regs) == 0;
}

syscalls::Call cpuid_faulting_call() {
  syscalls::Call call;
  call.nr = SYS_arch_prctl;
  call.args[0] = ARCH_SET_CPUID;
  return call;
}

Injection enable_cpuid_faulting(pid_t tid) {
  const syscalls::Call call = cpuid_faulting_call();
  return inject_syscall_at_ip(tid, call.nr, {call.args[0], call.args[1], 0, 0, 0, 0});
}

}  // namespace hytrace::tracer
