// x86-64 instruction decoding on byte buffers, through Capstone.
//
// The only file set that includes <capstone/capstone.h> is decoder.cc; the
// types here are plain. A Decoder owns one Capstone handle (detail mode,
// AT&T syntax) and one instruction buffer, so decoding allocates nothing per
// instruction. A Decoder is not thread-safe; use one per thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace hytrace::disasm {

// Bytes as they appear at `address` (in the traced program, or in an ELF
// file's virtual addresses).
struct Code {
  uint64_t address = 0;
  std::span<const uint8_t> bytes;

  uint64_t end() const { return address + bytes.size(); }
  bool contains(uint64_t a) const { return a >= address && a < end(); }
  // The bytes from `a` to the end; empty when `a` is outside.
  std::span<const uint8_t> from(uint64_t a) const;
  // The part of this range that lies in [begin, end), clipped.
  Code slice(uint64_t begin, uint64_t end_address) const;
};

enum class Kind : uint8_t {
  other,
  syscall,
  sysenter,
  int80,  // int $0x80 (the i386 ABI)
  rdtsc,
  rdtscp,
  relative_jump,  // jmp, jcc, jcxz/jecxz/jrcxz, loop/loope/loopne with a relative target
  relative_call,  // call rel32
  indirect_jump,  // jmp through a register or memory, far jumps
  indirect_call,  // call through a register or memory, far calls
  ret,            // ret, retf, iret
  trap,           // int $n (n != 0x80), int1, int3, into, ud0/ud1/ud2, hlt
};
std::string_view to_string(Kind kind);

// How a relative branch is encoded; what relocate() needs to re-encode it.
enum class Branch : uint8_t {
  none,
  jmp,         // eb rel8 / e9 rel32
  jcc,         // 7x rel8 / 0f 8x rel32; `condition` is x
  short_only,  // jcxz/jecxz/jrcxz, loop/loope/loopne: rel8 only, no rel32 form
  call,        // e8 rel32
  xbegin,      // c7 f8 rel32: a relative abort address (not a jump)
};

struct Instruction {
  static constexpr size_t max_size = 15;

  uint64_t address = 0;
  uint8_t size = 0;
  std::array<uint8_t, 16> bytes{};
  Kind kind = Kind::other;

  // Relative branches (and xbegin): the encoding and the absolute target.
  Branch branch = Branch::none;
  uint8_t condition = 0;             // Branch::jcc: the low nibble of the opcode
  uint8_t relative_size = 0;         // 1, 2 or 4: the width of the relative field
  bool has_prefixes = false;         // any legacy prefix byte before the opcode
  bool operand_size_prefix = false;  // a 0x66 prefix (rel16 branches on AMD)
  uint64_t target = 0;

  // A memory operand addressed relative to RIP: the raw 32-bit displacement
  // and where it sits in `bytes` (found by decoding, then checked by
  // re-decoding with a changed displacement). disp_offset is 0 when the
  // offset could not be proven; relocate() then refuses.
  bool rip_relative = false;
  int32_t disp = 0;
  uint8_t disp_offset = 0;

  char mnemonic[32] = {};
  char operands[160] = {};

  uint64_t end() const { return address + size; }
  std::span<const uint8_t> encoding() const { return {bytes.data(), size}; }
  // The absolute address of the RIP-relative memory operand.
  uint64_t memory_target() const { return end() + static_cast<int64_t>(disp); }
  // "mnemonic operands", as objdump would print it (AT&T syntax).
  std::string text() const;
  bool is_site() const {
    return kind == Kind::syscall || kind == Kind::rdtsc || kind == Kind::rdtscp;
  }
};

class Decoder {
 public:
  // Throws std::runtime_error when Capstone cannot be opened.
  Decoder();
  ~Decoder();
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  // Decodes the instruction that starts at `address` in `code` into `out`.
  // False when the bytes there are not a valid x86-64 instruction, or run
  // past the end of `code`, or `address` is outside it.
  bool decode(const Code& code, uint64_t address, Instruction& out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A linear sweep over a range: each call to next() decodes the instruction
// after the previous one. A byte that does not start a valid instruction is
// skipped (counted in skipped_bytes()) and decoding resumes at the next byte;
// a sweep resynchronises this way, usually within a few instructions.
class Sweep {
 public:
  Sweep(Decoder& decoder, const Code& code);
  // The next instruction, or nullptr at the end of the range. The pointer is
  // valid until the next call.
  const Instruction* next();
  uint64_t skipped_bytes() const { return skipped_; }
  // The address of the first skipped byte, or 0 when none was skipped.
  uint64_t first_skipped() const { return first_skipped_; }

 private:
  Decoder& decoder_;
  Code code_;
  uint64_t at_;
  uint64_t skipped_ = 0;
  uint64_t first_skipped_ = 0;
  Instruction current_;
};

}  // namespace hytrace::disasm
