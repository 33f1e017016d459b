// A readable listing of a seccomp program, in the spirit of seccomp-tools.
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include <string>

#include <fmt/format.h>

#include "bpf/filter.hpp"
#include "bpf/layout.hpp"
#include "syscalls/catalogue.hpp"

namespace hytrace::bpf {
namespace {

std::string field_name(uint32_t offset) {
  if (offset == kNrOffset) return "nr";
  if (offset == kArchOffset) return "arch";
  if (offset == kIpOffset) return "instruction_pointer";
  if (offset == kIpOffset + 4) return "instruction_pointer >> 32";
  if (offset >= kArgsOffset && offset < kArgsOffset + 48) {
    const uint32_t rel = offset - kArgsOffset;
    return fmt::format("args[{}]{}", rel / 8, rel % 8 ? " >> 32" : "");
  }
  return fmt::format("data[{}]", offset);
}

std::string action_name(uint32_t k) {
  const uint32_t data = k & SECCOMP_RET_DATA;
  switch (k & SECCOMP_RET_ACTION_FULL) {
    case SECCOMP_RET_ALLOW: return "ALLOW";
    case SECCOMP_RET_KILL_PROCESS: return "KILL_PROCESS";
    case SECCOMP_RET_KILL_THREAD: return "KILL_THREAD";
    case SECCOMP_RET_LOG: return "LOG";
    case SECCOMP_RET_TRAP: return fmt::format("TRAP({})", data);
    case SECCOMP_RET_ERRNO: return fmt::format("ERRNO({})", data);
    case SECCOMP_RET_USER_NOTIF: return "USER_NOTIF";
    case SECCOMP_RET_TRACE:
      return data == kForeignAbi ? "TRACE (foreign ABI)" : fmt::format("TRACE({})", data);
  }
  return fmt::format("0x{:08x}", k);
}

// The constant of a comparison, with a name when the accumulator holds a
// syscall number or an architecture.
std::string operand(uint32_t k, uint32_t loaded) {
  if (loaded == kArchOffset && k == AUDIT_ARCH_X86_64) return "AUDIT_ARCH_X86_64";
  if (loaded == kArchOffset && k == AUDIT_ARCH_I386) return "AUDIT_ARCH_I386";
  if (loaded == kNrOffset) {
    if (const auto* info = syscalls::lookup(k)) return fmt::format("{} /* {} */", k, info->name);
  }
  return fmt::format("0x{:x}", k);
}

const char* comparison(uint16_t code) {
  switch (BPF_OP(code)) {
    case BPF_JEQ: return "==";
    case BPF_JGT: return ">";
    case BPF_JGE: return ">=";
    case BPF_JSET: return "&";
  }
  return "?";
}

std::string describe(const Instruction& ins, size_t at, uint32_t& loaded) {
  switch (BPF_CLASS(ins.code)) {
    case BPF_LD:
      if (BPF_MODE(ins.code) == BPF_ABS) {
        loaded = ins.k;
        return fmt::format("A = {}", field_name(ins.k));
      }
      if (BPF_MODE(ins.code) == BPF_IMM) return fmt::format("A = 0x{:x}", ins.k);
      break;
    case BPF_RET:
      if (BPF_RVAL(ins.code) == BPF_K) return fmt::format("return {}", action_name(ins.k));
      return "return A";
    case BPF_ALU:
      if (BPF_OP(ins.code) == BPF_AND) return fmt::format("A &= 0x{:x}", ins.k);
      break;
    case BPF_JMP:
      if (BPF_OP(ins.code) == BPF_JA) return fmt::format("goto {:04}", at + 1 + ins.k);
      return fmt::format("if (A {} {}) goto {:04} else goto {:04}", comparison(ins.code),
                         operand(ins.k, loaded), at + 1 + ins.jt, at + 1 + ins.jf);
  }
  return fmt::format("code=0x{:04x} jt={} jf={} k=0x{:x}", ins.code, ins.jt, ins.jf, ins.k);
}

}  // namespace

std::string dump(const Program& program) {
  std::string out;
  uint32_t loaded = ~0u;
  for (size_t i = 0; i < program.size(); ++i) {
    fmt::format_to(std::back_inserter(out), "{:04}: {}\n", i, describe(program[i], i, loaded));
  }
  return out;
}

}  // namespace hytrace::bpf
