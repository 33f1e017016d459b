// Finding the instructions the patcher rewrites: `syscall`, and `rdtsc` /
// `rdtscp` (recording patches them with the same machinery).
//
// Sites are found by a linear sweep from the start of the range. Where a byte
// cannot be decoded, the sweep skips it and resynchronises. A linear sweep
// over data that happens to sit in a code range can invent sites (the bytes
// 0f 05 inside a constant) and, after a resynchronisation, miss real ones;
// sites found here are candidates. What keeps the patcher safe is the window
// choice (window.hpp): it decodes the enclosing function from its symbol's
// start and refuses a site the function's own sweep does not land on.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "disasm/decoder.hpp"

namespace hytrace::disasm {

enum class SiteKind : uint8_t { syscall, rdtsc, rdtscp };
std::string_view to_string(SiteKind kind);

struct Site {
  uint64_t address = 0;
  SiteKind kind = SiteKind::syscall;
  uint8_t size = 0;  // 2 for syscall and rdtsc, 3 for rdtscp
  // For a syscall right after `mov $imm32, %eax` (b8 imm32) or
  // `mov $imm32, %rax` (48 c7 c0 imm32): the syscall number. A hint for the
  // patcher (clone, vfork and rt_sigreturn sites need care), not a proof:
  // a branch may enter between the mov and the syscall.
  std::optional<uint32_t> number;
};

struct SiteScan {
  std::vector<Site> sites;     // in address order
  uint64_t skipped_bytes = 0;  // bytes the sweep could not decode
};

// The site kind of an instruction kind, if it is one.
std::optional<SiteKind> site_kind(Kind kind);

SiteScan find_sites(Decoder& decoder, const Code& code);

}  // namespace hytrace::disasm
