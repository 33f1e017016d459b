// Seccomp programs for the tracee. With tracer/audit/policy_filter.cc (the
// audit policy's program), the only place that includes <seccomp.h>.
//
// A program is a hand-written prologue followed by a libseccomp-built body:
//   prologue: foreign ABIs (i386 via int 0x80, x32) -> TRACE, never allowed
//             silently, whatever the instruction pointer
//   body:     SECCOMP_RET_TRACE for the traced syscalls, ALLOW for the rest;
//             with an allowed_ip, each TRACE of the body becomes a jump to an
//             epilogue that allows the call when it comes from that address.
//             Untraced syscalls never read the instruction pointer, so the
//             kernel's per-number action cache still skips the filter for them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hytrace::bpf {

// Same layout as the kernel's struct sock_filter.
struct Instruction {
  uint16_t code;
  uint8_t jt;
  uint8_t jf;
  uint32_t k;
};

using Program = std::vector<Instruction>;

// A syscall that stops only when an argument matches:
// (args[arg] & mask) == value. Several for one number: any of them.
struct ArgMatch {
  int nr = 0;
  uint8_t arg = 0;
  uint64_t mask = ~uint64_t{0};
  uint64_t value = 0;
};

struct FilterSpec {
  // traced[nr] is true when syscall nr must stop in the tracer. Numbers past
  // the end are allowed.
  std::vector<bool> traced;
  // The address just after the stub's syscall instruction (what the kernel
  // reports as the instruction pointer): traced syscalls made from there run
  // without stopping. All 64 bits are compared.
  std::optional<uint64_t> allowed_ip;
  // Untraced syscalls that stop in some cases. When most syscalls stop (the
  // body allows by rule), such a syscall stops always: cBPF from libseccomp
  // has no "masked not equal" to allow the rest.
  std::vector<ArgMatch> traced_when;
};

// Throws std::runtime_error naming the libseccomp call that failed.
Program build_filter(const FilterSpec& spec);

// One line per instruction, with the syscall names resolved:
//   0003: if (nr == 0 /* read */) goto 0007 else goto 0004
std::string dump(const Program& program);

// Installs the program in the calling thread (for the spawned child, after
// fork and before exec). Sets PR_SET_NO_NEW_PRIVS first unless the caller
// has CAP_SYS_ADMIN, so setuid programs keep working under root.
// Async-signal-safe: no allocation. Returns 0 or an errno value.
int install(const Program& program, bool set_no_new_privs);

// One call as a seccomp program sees it (struct seccomp_data): for an x32
// call, nr carries __X32_SYSCALL_BIT and arch is AUDIT_ARCH_X86_64.
struct SeccompInput {
  int nr = 0;
  uint32_t arch = 0;
  uint64_t ip = 0;  // the address after the syscall instruction
  uint64_t args[6] = {};
};

// What `program` returns for `input`, as the kernel would compute it;
// nullopt for an instruction seccomp does not allow, or a program that runs
// past its end (which the kernel would not have loaded).
std::optional<uint32_t> evaluate(const Program& program, const SeccompInput& input);

// True when the calling process has CAP_SYS_ADMIN in its user namespace.
bool has_sys_admin();

}  // namespace hytrace::bpf
