#include "disasm/references.hpp"

#include <algorithm>
#include <string_view>
#include <utility>

namespace hytrace::disasm {
namespace {

bool by_target(const Reference& a, const Reference& b) {
  return a.target < b.target;
}

}  // namespace

std::optional<Reference> reference_of(const Instruction& insn) {
  if (insn.branch != Branch::none) return Reference{insn.target, insn.address};
  if (insn.rip_relative && std::string_view(insn.mnemonic).starts_with("lea")) {
    return Reference{insn.memory_target(), insn.address};
  }
  return std::nullopt;
}

References::References(std::vector<Reference> refs) : refs_(std::move(refs)) {
  std::stable_sort(refs_.begin(), refs_.end(), by_target);
}

References References::collect(Decoder& decoder, const Code& code) {
  std::vector<Reference> refs;
  Sweep sweep(decoder, code);
  while (const Instruction* insn = sweep.next()) {
    if (std::optional<Reference> ref = reference_of(*insn)) refs.push_back(*ref);
  }
  return References(std::move(refs));
}

std::optional<Reference> References::first_in(uint64_t begin, uint64_t end) const {
  auto it = std::lower_bound(refs_.begin(), refs_.end(), begin,
                             [](const Reference& r, uint64_t a) { return r.target < a; });
  if (it == refs_.end() || it->target >= end) return std::nullopt;
  return *it;
}

}  // namespace hytrace::disasm
