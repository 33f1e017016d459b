// Re-encoding one instruction to run at another address (the trampoline).
//
//  - A RIP-relative memory operand gets a new displacement so that it names
//    the same absolute address; refused when that does not fit in 32 bits.
//  - A relative jmp, jcc or call is re-encoded in its rel32 form (e9, 0f 8x,
//    e8) aimed at the same absolute target; jmp rel8 and jcc rel8 grow.
//    Branch-hint, bnd and REX prefixes are dropped (they do not change a
//    direct branch in 64-bit mode).
//  - Everything else is copied.
//
// Copying is only "correct" for the bytes; what an instruction means at
// another address (a trap reports the trampoline's address, a call pushes a
// return address inside the trampoline) is the window policy's business
// (window.hpp), not this file's.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "disasm/decoder.hpp"

namespace hytrace::disasm {

enum class RelocationError : uint8_t {
  system_call,               // syscall, sysenter, int $0x80: never run one from the stub page
  short_only_branch,         // jcxz/jecxz/jrcxz, loop*: no rel32 form to widen to
  unsupported_branch,        // a 0x66-prefixed branch (rel16 on AMD), or xbegin
  branch_out_of_range,       // the target is not within rel32 reach of the new address
  rip_out_of_range,          // the new displacement does not fit in 32 bits
  rip_displacement_unknown,  // where the displacement sits in the bytes was not proven
};
std::string_view to_string(RelocationError error);

struct Relocation {
  std::vector<uint8_t> bytes;  // the new encoding, when ok()
  std::optional<RelocationError> error;

  bool ok() const { return !error.has_value(); }
};

Relocation relocate(const Instruction& insn, uint64_t new_address);

}  // namespace hytrace::disasm
