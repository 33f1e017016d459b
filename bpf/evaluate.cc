// A classic-BPF interpreter for seccomp programs: what the kernel would
// return for one call, computed in the tracer. audit decides each stop by
// running its own policy program on the call, so a program's filter of its
// own (whose SECCOMP_RET_DATA can win over the policy's) cannot change
// what the policy decides.
#include <linux/filter.h>
#include <linux/seccomp.h>

#include <cstring>

#include "bpf/filter.hpp"

namespace hytrace::bpf {
namespace {

std::optional<uint32_t> alu(uint16_t op, uint32_t a, uint32_t operand) {
  switch (op) {
    case BPF_ADD: return a + operand;
    case BPF_SUB: return a - operand;
    case BPF_MUL: return a * operand;
    case BPF_DIV: return operand ? a / operand : 0;
    case BPF_MOD: return operand ? a % operand : 0;
    case BPF_AND: return a & operand;
    case BPF_OR: return a | operand;
    case BPF_XOR: return a ^ operand;
    case BPF_LSH: return operand < 32 ? a << operand : 0;
    case BPF_RSH: return operand < 32 ? a >> operand : 0;
    case BPF_NEG: return -a;
    default: return std::nullopt;
  }
}

std::optional<bool> condition(uint16_t op, uint32_t a, uint32_t operand) {
  switch (op) {
    case BPF_JEQ: return a == operand;
    case BPF_JGT: return a > operand;
    case BPF_JGE: return a >= operand;
    case BPF_JSET: return (a & operand) != 0;
    default: return std::nullopt;
  }
}

}  // namespace

std::optional<uint32_t> evaluate(const Program& program, const SeccompInput& input) {
  seccomp_data data{};
  data.nr = input.nr;
  data.arch = input.arch;
  data.instruction_pointer = input.ip;
  for (size_t i = 0; i < 6; ++i) data.args[i] = input.args[i];
  uint32_t a = 0, x = 0;
  uint32_t mem[BPF_MEMWORDS] = {};
  // Jumps only go forward, so this ends within program.size() steps.
  for (size_t pc = 0; pc < program.size(); ++pc) {
    const Instruction& in = program[pc];
    const uint16_t cls = BPF_CLASS(in.code);
    if (cls == BPF_RET) return BPF_RVAL(in.code) == BPF_A ? a : in.k;
    if (cls == BPF_LD || cls == BPF_LDX) {
      uint32_t value = 0;
      if (BPF_MODE(in.code) == BPF_ABS && BPF_SIZE(in.code) == BPF_W && cls == BPF_LD) {
        if (in.k % 4 != 0 || in.k + 4 > sizeof(data)) return std::nullopt;
        std::memcpy(&value, reinterpret_cast<const char*>(&data) + in.k, 4);
      } else if (BPF_MODE(in.code) == BPF_IMM) {
        value = in.k;
      } else if (BPF_MODE(in.code) == BPF_MEM && in.k < BPF_MEMWORDS) {
        value = mem[in.k];
      } else if (BPF_MODE(in.code) == BPF_LEN) {
        value = sizeof(data);
      } else {
        return std::nullopt;
      }
      (cls == BPF_LD ? a : x) = value;
    } else if (cls == BPF_ST || cls == BPF_STX) {
      if (in.k >= BPF_MEMWORDS) return std::nullopt;
      mem[in.k] = cls == BPF_ST ? a : x;
    } else if (cls == BPF_ALU) {
      const auto result = alu(BPF_OP(in.code), a, BPF_SRC(in.code) == BPF_X ? x : in.k);
      if (!result) return std::nullopt;
      a = *result;
    } else if (cls == BPF_JMP) {
      if (BPF_OP(in.code) == BPF_JA) {
        pc += in.k;
        continue;
      }
      const auto taken = condition(BPF_OP(in.code), a, BPF_SRC(in.code) == BPF_X ? x : in.k);
      if (!taken) return std::nullopt;
      pc += *taken ? in.jt : in.jf;
    } else if (cls == BPF_MISC) {
      if (BPF_MISCOP(in.code) == BPF_TAX) x = a;
      else a = x;
    } else {
      return std::nullopt;
    }
  }
  return std::nullopt;  // ran past its end: the kernel would not have loaded it
}

}  // namespace hytrace::bpf
