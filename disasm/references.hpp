// Direct references to code addresses, collected by a linear sweep: the
// targets of relative jumps, calls and xbegin, and the addresses that
// `lea x(%rip)` computes (a code address taken, perhaps for an indirect jump).
//
// The window choice refuses a window with a reference into its inside. A
// function's own sweep sees the references from the function; a sweep of the
// whole executable segment also sees those from other functions (a `.cold`
// part jumping back into its parent, shared tails). Neither sees addresses
// stored in data: jump tables, `&&label` tables, exception landing pads.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "disasm/decoder.hpp"

namespace hytrace::disasm {

struct Reference {
  uint64_t target = 0;
  uint64_t from = 0;  // the address of the referring instruction
};

// The reference an instruction makes, if any.
std::optional<Reference> reference_of(const Instruction& insn);

class References {
 public:
  References() = default;
  explicit References(std::vector<Reference> refs);  // any order
  // Sweeps `code` and keeps every reference (targets anywhere).
  static References collect(Decoder& decoder, const Code& code);

  // The reference with the lowest target in [begin, end), if any.
  std::optional<Reference> first_in(uint64_t begin, uint64_t end) const;
  size_t size() const { return refs_.size(); }
  const std::vector<Reference>& all() const { return refs_; }

 private:
  std::vector<Reference> refs_;  // sorted by target
};

}  // namespace hytrace::disasm
