// Decoding hand-assembled instructions: kind, text, branch targets and the
// place of the RIP-relative displacement.
#include "disasm/decoder.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace hytrace::disasm {
namespace {

using Bytes = std::vector<uint8_t>;
constexpr uint64_t kAt = 0x401000;

struct DecodeCase {
  const char* name;
  Bytes bytes;
  Kind kind;
  const char* text;
  uint64_t target = 0;      // relative branches: the absolute target
  uint8_t disp_offset = 0;  // RIP-relative: where the displacement sits
};

class DecodeTable : public testing::TestWithParam<DecodeCase> {};

TEST_P(DecodeTable, KindTextTargetDisplacement) {
  const DecodeCase& c = GetParam();
  Decoder decoder;
  Instruction insn;
  ASSERT_TRUE(decoder.decode(Code{kAt, c.bytes}, kAt, insn));
  EXPECT_EQ(insn.address, kAt);
  EXPECT_EQ(insn.size, c.bytes.size());
  EXPECT_EQ(Bytes(insn.encoding().begin(), insn.encoding().end()), c.bytes);
  EXPECT_EQ(to_string(insn.kind), to_string(c.kind));
  EXPECT_EQ(insn.text(), c.text);
  if (c.target != 0) {
    EXPECT_EQ(insn.target, c.target);
  }
  EXPECT_EQ(insn.rip_relative, c.disp_offset != 0);
  EXPECT_EQ(insn.disp_offset, c.disp_offset);
}

// Targets: kAt + size + rel. Displacements are 0x00302010.
INSTANTIATE_TEST_SUITE_P(
    Decoder, DecodeTable,
    testing::Values(
        DecodeCase{"syscall", {0x0f, 0x05}, Kind::syscall, "syscall"},
        DecodeCase{"sysenter", {0x0f, 0x34}, Kind::sysenter, "sysenter"},
        DecodeCase{"int80", {0xcd, 0x80}, Kind::int80, "int $0x80"},
        DecodeCase{"int3", {0xcc}, Kind::trap, "int3"},
        DecodeCase{"int_21", {0xcd, 0x21}, Kind::trap, "int $0x21"},
        DecodeCase{"ud2", {0x0f, 0x0b}, Kind::trap, "ud2"},
        DecodeCase{"hlt", {0xf4}, Kind::trap, "hlt"},
        DecodeCase{"rdtsc", {0x0f, 0x31}, Kind::rdtsc, "rdtsc"},
        DecodeCase{"rdtscp", {0x0f, 0x01, 0xf9}, Kind::rdtscp, "rdtscp"},
        DecodeCase{"jmp_rel8", {0xeb, 0x10}, Kind::relative_jump, "jmp 0x401012", 0x401012},
        DecodeCase{"jmp_rel8_back", {0xeb, 0xfe}, Kind::relative_jump, "jmp 0x401000", 0x401000},
        DecodeCase{"jmp_rel32",
                   {0xe9, 0x00, 0x01, 0x00, 0x00},
                   Kind::relative_jump,
                   "jmp 0x401105",
                   0x401105},
        DecodeCase{"je_rel8", {0x74, 0x17}, Kind::relative_jump, "je 0x401019", 0x401019},
        DecodeCase{"ja_rel32",
                   {0x0f, 0x87, 0x10, 0x00, 0x00, 0x00},
                   Kind::relative_jump,
                   "ja 0x401016",
                   0x401016},
        DecodeCase{"jrcxz", {0xe3, 0x10}, Kind::relative_jump, "jrcxz 0x401012", 0x401012},
        DecodeCase{"loop", {0xe2, 0x10}, Kind::relative_jump, "loop 0x401012", 0x401012},
        DecodeCase{"loopne", {0xe0, 0x10}, Kind::relative_jump, "loopne 0x401012", 0x401012},
        DecodeCase{"call_rel32",
                   {0xe8, 0x00, 0x01, 0x00, 0x00},
                   Kind::relative_call,
                   "callq 0x401105",
                   0x401105},
        DecodeCase{"jmp_reg", {0xff, 0xe0}, Kind::indirect_jump, "jmpq *%rax"},
        DecodeCase{"call_reg", {0xff, 0xd0}, Kind::indirect_call, "callq *%rax"},
        DecodeCase{"jmp_got",
                   {0xff, 0x25, 0x10, 0x20, 0x30, 0x00},
                   Kind::indirect_jump,
                   "jmpq *0x302010(%rip)",
                   0,
                   2},
        DecodeCase{"ret", {0xc3}, Kind::ret, "retq"},
        DecodeCase{"ret_imm", {0xc2, 0x08, 0x00}, Kind::ret, "retq $8"},
        DecodeCase{"mov_eax", {0xb8, 0x27, 0x00, 0x00, 0x00}, Kind::other, "movl $0x27, %eax"},
        DecodeCase{"lea_rip",
                   {0x48, 0x8d, 0x05, 0x10, 0x20, 0x30, 0x00},
                   Kind::other,
                   "leaq 0x302010(%rip), %rax",
                   0,
                   3},
        // An immediate after the displacement: the displacement is not the tail.
        DecodeCase{"cmp_imm8_rip",
                   {0x83, 0x3d, 0x10, 0x20, 0x30, 0x00, 0x05},
                   Kind::other,
                   "cmpl $5, 0x302010(%rip)",
                   0,
                   2},
        DecodeCase{"mov_imm32_rip",
                   {0xc7, 0x05, 0x10, 0x20, 0x30, 0x00, 0x11, 0x22, 0x33, 0x44},
                   Kind::other,
                   "movl $0x44332211, 0x302010(%rip)",
                   0,
                   2},
        DecodeCase{"vex_rip",
                   {0xc5, 0xfe, 0x6f, 0x05, 0x10, 0x20, 0x30, 0x00},
                   Kind::other,
                   "vmovdqu 0x302010(%rip), %ymm0",
                   0,
                   4},
        DecodeCase{"evex_rip",
                   {0x62, 0xf1, 0x7c, 0x48, 0x10, 0x05, 0x10, 0x20, 0x30, 0x00},
                   Kind::other,
                   "vmovups 0x302010(%rip), %zmm0",
                   0,
                   6},
        // Capstone 4 reports disp_size 2 here; the decoder does not trust it.
        DecodeCase{"palignr_rip",
                   {0x66, 0x0f, 0x3a, 0x0f, 0x05, 0x10, 0x20, 0x30, 0x00, 0x08},
                   Kind::other,
                   "palignr $8, 0x302010(%rip), %xmm0",
                   0,
                   5},
        // Two places look like ModRM(mod=00 rm=101) + the displacement (offsets
        // 2 and 3); only re-decoding tells them apart.
        DecodeCase{"rip_self_similar",
                   {0x83, 0x3d, 0x05, 0x05, 0x05, 0x05, 0x05},
                   Kind::other,
                   "cmpl $5, 0x5050505(%rip)",
                   0,
                   2},
        DecodeCase{"fs_absolute",
                   {0x64, 0x48, 0x8b, 0x04, 0x25, 0x28, 0x00, 0x00, 0x00},
                   Kind::other,
                   "movq %fs:0x28, %rax"}),
    [](const testing::TestParamInfo<DecodeCase>& p) { return std::string(p.param.name); });

TEST(Decoder, RipRelativeMemoryTargetIsAbsolute) {
  Decoder decoder;
  Instruction insn;
  const Bytes lea = {0x48, 0x8d, 0x05, 0xf9, 0xff, 0xff, 0xff};  // lea -7(%rip), %rax
  ASSERT_TRUE(decoder.decode(Code{kAt, lea}, kAt, insn));
  EXPECT_EQ(insn.disp, -7);
  EXPECT_EQ(insn.memory_target(), kAt);
}

TEST(Decoder, BranchEncodingDetails) {
  Decoder decoder;
  Instruction insn;
  const Bytes jne = {0x75, 0x02};
  ASSERT_TRUE(decoder.decode(Code{kAt, jne}, kAt, insn));
  EXPECT_EQ(insn.branch, Branch::jcc);
  EXPECT_EQ(insn.condition, 5);
  EXPECT_EQ(insn.relative_size, 1);
  const Bytes bnd_jmp = {0xf2, 0xe9, 0x00, 0x00, 0x00, 0x00};
  ASSERT_TRUE(decoder.decode(Code{kAt, bnd_jmp}, kAt, insn));
  EXPECT_EQ(insn.branch, Branch::jmp);
  EXPECT_EQ(insn.relative_size, 4);
  EXPECT_TRUE(insn.has_prefixes);
  EXPECT_FALSE(insn.operand_size_prefix);
  const Bytes jmp16 = {0x66, 0xe9, 0x00, 0x01};
  ASSERT_TRUE(decoder.decode(Code{kAt, jmp16}, kAt, insn));
  EXPECT_TRUE(insn.operand_size_prefix);
  const Bytes xbegin = {0xc7, 0xf8, 0x10, 0x00, 0x00, 0x00};
  ASSERT_TRUE(decoder.decode(Code{kAt, xbegin}, kAt, insn));
  EXPECT_EQ(insn.kind, Kind::other);
  EXPECT_EQ(insn.branch, Branch::xbegin);
  EXPECT_EQ(insn.target, kAt + 6 + 0x10);
}

TEST(Decoder, RefusesInvalidTruncatedAndOutside) {
  Decoder decoder;
  Instruction insn;
  const Bytes invalid = {0x06};  // push %es does not exist in 64-bit mode
  EXPECT_FALSE(decoder.decode(Code{kAt, invalid}, kAt, insn));
  const Bytes truncated = {0xb8, 0x27, 0x00};  // mov $imm32 cut short
  EXPECT_FALSE(decoder.decode(Code{kAt, truncated}, kAt, insn));
  const Bytes ok = {0x90};
  EXPECT_FALSE(decoder.decode(Code{kAt, ok}, kAt + 1, insn));
  EXPECT_FALSE(decoder.decode(Code{kAt, ok}, kAt - 1, insn));
}

TEST(Decoder, DecodesAtAnAddressInsideTheRange) {
  Decoder decoder;
  Instruction insn;
  const Bytes code = {0x90, 0x0f, 0x05};
  ASSERT_TRUE(decoder.decode(Code{kAt, code}, kAt + 1, insn));
  EXPECT_EQ(insn.kind, Kind::syscall);
  EXPECT_EQ(insn.address, kAt + 1);
}

TEST(Sweep, SkipsAnUndecodableByteAndResynchronises) {
  Decoder decoder;
  const Bytes code = {0x90, 0x06, 0x0f, 0x05, 0xc3};
  Sweep sweep(decoder, Code{kAt, code});
  std::vector<std::pair<uint64_t, Kind>> seen;
  while (const Instruction* insn = sweep.next()) seen.emplace_back(insn->address, insn->kind);
  const std::vector<std::pair<uint64_t, Kind>> expected = {
      {kAt, Kind::other}, {kAt + 2, Kind::syscall}, {kAt + 4, Kind::ret}};
  EXPECT_EQ(seen, expected);
  EXPECT_EQ(sweep.skipped_bytes(), 1u);
  EXPECT_EQ(sweep.first_skipped(), kAt + 1);
}

TEST(Sweep, EmptyRange) {
  Decoder decoder;
  Sweep sweep(decoder, Code{kAt, {}});
  EXPECT_EQ(sweep.next(), nullptr);
}

TEST(Code, SliceClipsToTheRange) {
  const Bytes bytes = {1, 2, 3, 4, 5};
  const Code code{0x1000, bytes};
  const Code inner = code.slice(0x1001, 0x1003);
  EXPECT_EQ(inner.address, 0x1001u);
  EXPECT_EQ(inner.bytes.size(), 2u);
  EXPECT_EQ(inner.bytes[0], 2);
  const Code clipped = code.slice(0x0800, 0x2000);
  EXPECT_EQ(clipped.address, 0x1000u);
  EXPECT_EQ(clipped.bytes.size(), 5u);
  EXPECT_TRUE(code.slice(0x2000, 0x3000).bytes.empty());
  EXPECT_EQ(code.from(0x1004).size(), 1u);
  EXPECT_TRUE(code.from(0x1005).empty());
}

}  // namespace
}  // namespace hytrace::disasm
