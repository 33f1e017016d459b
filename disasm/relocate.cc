#include "disasm/relocate.hpp"

#include <cstring>
#include <limits>

namespace hytrace::disasm {
namespace {

bool fits_in_int32(int64_t value) {
  return value >= std::numeric_limits<int32_t>::min() &&
         value <= std::numeric_limits<int32_t>::max();
}

void append_le32(std::vector<uint8_t>& out, int32_t value) {
  uint8_t raw[4];
  std::memcpy(raw, &value, sizeof raw);
  out.insert(out.end(), raw, raw + 4);
}

Relocation refused(RelocationError error) {
  return Relocation{{}, error};
}

Relocation relocate_branch(const Instruction& insn, uint64_t new_address) {
  if (insn.branch == Branch::short_only) return refused(RelocationError::short_only_branch);
  if (insn.branch == Branch::xbegin || insn.operand_size_prefix) {
    return refused(RelocationError::unsupported_branch);
  }
  std::vector<uint8_t> out;
  switch (insn.branch) {
    case Branch::jmp:
      out = {0xe9};
      break;
    case Branch::call:
      out = {0xe8};
      break;
    case Branch::jcc:
      out = {0x0f, static_cast<uint8_t>(0x80 | insn.condition)};
      break;
    default:
      return refused(RelocationError::unsupported_branch);
  }
  const uint64_t next = new_address + out.size() + 4;
  const int64_t rel = static_cast<int64_t>(insn.target - next);
  if (!fits_in_int32(rel)) return refused(RelocationError::branch_out_of_range);
  append_le32(out, static_cast<int32_t>(rel));
  return Relocation{std::move(out), std::nullopt};
}

Relocation relocate_rip(const Instruction& insn, uint64_t new_address) {
  if (insn.disp_offset == 0) return refused(RelocationError::rip_displacement_unknown);
  const int64_t disp = static_cast<int64_t>(insn.memory_target() - (new_address + insn.size));
  if (!fits_in_int32(disp)) return refused(RelocationError::rip_out_of_range);
  std::vector<uint8_t> out(insn.bytes.begin(), insn.bytes.begin() + insn.size);
  const int32_t disp32 = static_cast<int32_t>(disp);
  std::memcpy(out.data() + insn.disp_offset, &disp32, sizeof disp32);
  return Relocation{std::move(out), std::nullopt};
}

}  // namespace

std::string_view to_string(RelocationError error) {
  switch (error) {
    case RelocationError::system_call:
      return "system_call";
    case RelocationError::short_only_branch:
      return "short_only_branch";
    case RelocationError::unsupported_branch:
      return "unsupported_branch";
    case RelocationError::branch_out_of_range:
      return "branch_out_of_range";
    case RelocationError::rip_out_of_range:
      return "rip_out_of_range";
    case RelocationError::rip_displacement_unknown:
      return "rip_displacement_unknown";
  }
  return "?";
}

Relocation relocate(const Instruction& insn, uint64_t new_address) {
  if (insn.kind == Kind::syscall || insn.kind == Kind::sysenter || insn.kind == Kind::int80) {
    return refused(RelocationError::system_call);
  }
  if (insn.branch != Branch::none) return relocate_branch(insn, new_address);
  if (insn.rip_relative) return relocate_rip(insn, new_address);
  return Relocation{std::vector<uint8_t>(insn.bytes.begin(), insn.bytes.begin() + insn.size),
                    std::nullopt};
}

}  // namespace hytrace::disasm
