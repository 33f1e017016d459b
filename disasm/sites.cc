#include "disasm/sites.hpp"

namespace hytrace::disasm {
namespace {

// The immediate of `mov $imm32, %eax` or `mov $imm32, %rax`, if that is
// what `insn` is.
std::optional<uint32_t> eax_immediate(const Instruction& insn) {
  const uint8_t* b = insn.bytes.data();
  uint32_t value = 0;
  if (insn.size == 5 && b[0] == 0xb8) {
    value = b[1] | b[2] << 8 | b[3] << 16 | static_cast<uint32_t>(b[4]) << 24;
    return value;
  }
  if (insn.size == 7 && b[0] == 0x48 && b[1] == 0xc7 && b[2] == 0xc0) {
    value = b[3] | b[4] << 8 | b[5] << 16 | static_cast<uint32_t>(b[6]) << 24;
    return value;
  }
  return std::nullopt;
}

}  // namespace

std::string_view to_string(SiteKind kind) {
  switch (kind) {
    case SiteKind::syscall:
      return "syscall";
    case SiteKind::rdtsc:
      return "rdtsc";
    case SiteKind::rdtscp:
      return "rdtscp";
  }
  return "?";
}

std::optional<SiteKind> site_kind(Kind kind) {
  switch (kind) {
    case Kind::syscall:
      return SiteKind::syscall;
    case Kind::rdtsc:
      return SiteKind::rdtsc;
    case Kind::rdtscp:
      return SiteKind::rdtscp;
    default:
      return std::nullopt;
  }
}

SiteScan find_sites(Decoder& decoder, const Code& code) {
  SiteScan scan;
  Sweep sweep(decoder, code);
  std::optional<uint32_t> previous_eax;
  uint64_t previous_end = 0;
  while (const Instruction* insn = sweep.next()) {
    const bool follows_previous = insn->address == previous_end;
    if (std::optional<SiteKind> kind = site_kind(insn->kind)) {
      Site site{insn->address, *kind, insn->size, std::nullopt};
      if (*kind == SiteKind::syscall && follows_previous) site.number = previous_eax;
      scan.sites.push_back(site);
    }
    previous_eax = eax_immediate(*insn);
    previous_end = insn->end();
  }
  scan.skipped_bytes = sweep.skipped_bytes();
  return scan;
}

}  // namespace hytrace::disasm
