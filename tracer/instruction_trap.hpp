// Trapping rdtsc, rdtscp and cpuid, whose values differ between runs and
// machines: PR_SET_TSC(PR_TSC_SIGSEGV) makes the first two fault (set once
// before exec: it survives execve), cpuid faulting (ARCH_SET_CPUID) the
// third (the kernel clears it at every execve: set again at each exec).
// Each fault is a SIGSEGV that the engine turns into an InstructionTrap.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <utility>

#include "tracer/event.hpp"
#include "tracer/inject_x86_64.hpp"

namespace hytrace::tracer {

// True when this CPU and kernel can fault on cpuid (ARCH_GET_CPUID works).
bool cpuid_faulting_available();

// The trapped instruction at the task's IP, if `info` is the SIGSEGV such a
// fault raises; fills kind, ip and (cpuid) leaf and subleaf.
std::optional<InstructionTrap> trapped_instruction(Task& task, const siginfo_t& info);
// What cpuid answered the tracer, per leaf and subleaf. A cpuid costs about
// 12 µs on this VM (a VM exit), and glibc's start-up asks about 70 per exec
// with the same leaves each time; the answers do not change while hytrace
// runs (the APIC ids in leaves 1, 0xb and 0x1f are the first CPU's, which a
// traced program gets on any CPU: no less true than the tracer's own).
// At most kMostCpuidAnswers are kept; the others are asked each time.
using CpuidAnswers = std::map<std::pair<uint32_t, uint32_t>, std::array<uint32_t, 4>>;
inline constexpr size_t kMostCpuidAnswers = 4096;

// What the instruction gives on the tracer's CPU (cpuid: as first asked).
void run_natively(InstructionTrap& trap, CpuidAnswers& answers);
// Puts the trap's values in the task's registers, as the instruction would
// have set them, and steps over it. False when the task is gone.
bool complete(const InstructionTrap& trap);

// At the syscall-exit stop of a successful execve (the new program's first
// instruction at its IP, not run yet): turns cpuid faulting on for the task
// by running `call` (cpuid_faulting_call) in it, through a syscall
// instruction written over that first instruction for the time of the call.
// Its result, or, when it did not run, the wait status of a stop that came
// first (or 0: the task is gone), for the engine to handle as an event.
syscalls::Call cpuid_faulting_call();
Injection enable_cpuid_faulting(pid_t tid);

}  // namespace hytrace::tracer
