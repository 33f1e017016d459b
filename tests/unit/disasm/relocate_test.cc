// Re-encoding instructions for the trampoline's address.
#include "disasm/relocate.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace hytrace::disasm {
namespace {

using Bytes = std::vector<uint8_t>;
constexpr uint64_t kFrom = 0x7f1234560000;
constexpr uint64_t kStub = kFrom + 0x40000000;  // 1 GiB higher

Instruction decode(const Bytes& bytes, uint64_t at = kFrom) {
  Decoder decoder;
  Instruction insn;
  EXPECT_TRUE(decoder.decode(Code{at, bytes}, at, insn));
  return insn;
}

int32_t le32_at(const Bytes& b, size_t offset) {
  int32_t v = 0;
  std::memcpy(&v, b.data() + offset, sizeof v);
  return v;
}

struct RipCase {
  const char* name;
  Bytes bytes;
};

class RipTable : public testing::TestWithParam<RipCase> {};

// The relocated instruction, decoded where it will run, names the same
// absolute memory operand, with the same text apart from the displacement.
TEST_P(RipTable, SameAbsoluteOperandAtTheStub) {
  const Instruction insn = decode(GetParam().bytes);
  ASSERT_TRUE(insn.rip_relative);
  const Relocation moved = relocate(insn, kStub);
  ASSERT_TRUE(moved.ok());
  ASSERT_EQ(moved.bytes.size(), insn.size);
  const int64_t expected_disp = static_cast<int64_t>(insn.memory_target() - (kStub + insn.size));
  EXPECT_EQ(le32_at(moved.bytes, insn.disp_offset), expected_disp);
  const Instruction there = decode(moved.bytes, kStub);
  EXPECT_TRUE(there.rip_relative);
  EXPECT_EQ(there.memory_target(), insn.memory_target());
  EXPECT_STREQ(there.mnemonic, insn.mnemonic);
  // Only the four displacement bytes changed.
  for (size_t i = 0; i < insn.size; ++i) {
    if (i < insn.disp_offset || i >= insn.disp_offset + 4u) {
      EXPECT_EQ(moved.bytes[i], insn.bytes[i]) << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Relocate, RipTable,
    testing::Values(
        RipCase{"lea", {0x48, 0x8d, 0x05, 0x10, 0x20, 0x30, 0x00}},
        RipCase{"mov_load", {0x48, 0x8b, 0x15, 0xc9, 0xaa, 0x0d, 0x00}},
        RipCase{"cmp_imm8", {0x83, 0x3d, 0x10, 0x20, 0x30, 0x00, 0x05}},
        RipCase{"mov_imm32", {0xc7, 0x05, 0x10, 0x20, 0x30, 0x00, 0x11, 0x22, 0x33, 0x44}},
        RipCase{"negative", {0x48, 0x8b, 0x05, 0x00, 0x00, 0x00, 0xf0}},
        RipCase{"vex", {0xc5, 0xfe, 0x6f, 0x05, 0x10, 0x20, 0x30, 0x00}},
        RipCase{"evex", {0x62, 0xf1, 0x7c, 0x48, 0x10, 0x05, 0x10, 0x20, 0x30, 0x00}},
        RipCase{"palignr", {0x66, 0x0f, 0x3a, 0x0f, 0x05, 0x10, 0x20, 0x30, 0x00, 0x08}},
        RipCase{"jmp_got", {0xff, 0x25, 0x10, 0x20, 0x30, 0x00}}),
    [](const testing::TestParamInfo<RipCase>& p) { return std::string(p.param.name); });

TEST(Relocate, RipRelativeOutOfRangeIsRefused) {
  // mov 0x10(%rip), %rax: its operand is 3 GiB below a stub 3 GiB higher.
  const Instruction insn = decode({0x48, 0x8b, 0x05, 0x10, 0x00, 0x00, 0x00});
  const Relocation moved = relocate(insn, kFrom + (3ull << 30));
  EXPECT_FALSE(moved.ok());
  EXPECT_EQ(moved.error, RelocationError::rip_out_of_range);
  EXPECT_TRUE(moved.bytes.empty());
  // Just within reach: the new displacement is exactly INT32_MIN.
  const uint64_t edge = insn.memory_target() - static_cast<uint64_t>(INT32_MIN) - insn.size;
  EXPECT_TRUE(relocate(insn, edge).ok());
  EXPECT_FALSE(relocate(insn, edge + 1).ok());
}

struct BranchCase {
  const char* name;
  Bytes bytes;
  Bytes opcode;  // of the rel32 form
};

class BranchTable : public testing::TestWithParam<BranchCase> {};

// Relative branches become rel32 forms aimed at the same absolute target.
TEST_P(BranchTable, WidenedToRel32SameTarget) {
  const BranchCase& c = GetParam();
  const Instruction insn = decode(c.bytes);
  const Relocation moved = relocate(insn, kStub);
  ASSERT_TRUE(moved.ok()) << to_string(*moved.error);
  ASSERT_EQ(moved.bytes.size(), c.opcode.size() + 4);
  EXPECT_EQ(Bytes(moved.bytes.begin(), moved.bytes.begin() + static_cast<long>(c.opcode.size())),
            c.opcode);
  const Instruction there = decode(moved.bytes, kStub);
  EXPECT_EQ(there.target, insn.target);
  EXPECT_EQ(there.kind, insn.kind);
  EXPECT_EQ(there.branch, insn.branch);
  EXPECT_EQ(there.condition, insn.condition);
  EXPECT_FALSE(there.has_prefixes);  // bnd and branch hints are dropped
  EXPECT_EQ(there.relative_size, 4);
}

INSTANTIATE_TEST_SUITE_P(
    Relocate, BranchTable,
    testing::Values(BranchCase{"jmp_rel8", {0xeb, 0x10}, {0xe9}},
                    BranchCase{"jmp_rel8_back", {0xeb, 0x80}, {0xe9}},
                    BranchCase{"jmp_rel32", {0xe9, 0x00, 0x01, 0x00, 0x00}, {0xe9}},
                    BranchCase{"je_rel8", {0x74, 0x17}, {0x0f, 0x84}},
                    BranchCase{"jne_rel8", {0x75, 0xf0}, {0x0f, 0x85}},
                    BranchCase{"jg_rel8", {0x7f, 0x05}, {0x0f, 0x8f}},
                    BranchCase{"jo_rel8", {0x70, 0x05}, {0x0f, 0x80}},
                    BranchCase{"ja_rel32", {0x0f, 0x87, 0x10, 0x00, 0x00, 0x00}, {0x0f, 0x87}},
                    BranchCase{"call_rel32", {0xe8, 0x00, 0x01, 0x00, 0x00}, {0xe8}},
                    BranchCase{"bnd_jmp", {0xf2, 0xe9, 0x00, 0x01, 0x00, 0x00}, {0xe9}},
                    BranchCase{"hinted_je", {0x3e, 0x74, 0x10}, {0x0f, 0x84}}),
    [](const testing::TestParamInfo<BranchCase>& p) { return std::string(p.param.name); });

TEST(Relocate, JccRel8WidenedBytes) {
  // je +0x17 at kFrom: target kFrom+0x19; at kStub: 0f 84 rel32 with
  // rel32 = target - (kStub + 6).
  const Instruction insn = decode({0x74, 0x17});
  const Relocation moved = relocate(insn, kStub);
  ASSERT_TRUE(moved.ok());
  const int64_t rel = static_cast<int64_t>(kFrom + 0x19 - (kStub + 6));
  EXPECT_EQ(moved.bytes[0], 0x0f);
  EXPECT_EQ(moved.bytes[1], 0x84);
  EXPECT_EQ(le32_at(moved.bytes, 2), rel);
}

struct RefusedCase {
  const char* name;
  Bytes bytes;
  uint64_t to;
  RelocationError error;
};

class RefusedTable : public testing::TestWithParam<RefusedCase> {};

TEST_P(RefusedTable, Refused) {
  const RefusedCase& c = GetParam();
  const Relocation moved = relocate(decode(c.bytes), c.to);
  ASSERT_FALSE(moved.ok());
  EXPECT_EQ(to_string(*moved.error), to_string(c.error));
}

INSTANTIATE_TEST_SUITE_P(
    Relocate, RefusedTable,
    testing::Values(
        RefusedCase{"syscall", {0x0f, 0x05}, kStub, RelocationError::system_call},
        RefusedCase{"sysenter", {0x0f, 0x34}, kStub, RelocationError::system_call},
        RefusedCase{"int80", {0xcd, 0x80}, kStub, RelocationError::system_call},
        RefusedCase{"jrcxz", {0xe3, 0x10}, kStub, RelocationError::short_only_branch},
        RefusedCase{"jecxz", {0x67, 0xe3, 0x10}, kStub, RelocationError::short_only_branch},
        RefusedCase{"loop", {0xe2, 0x10}, kStub, RelocationError::short_only_branch},
        RefusedCase{"loope", {0xe1, 0x10}, kStub, RelocationError::short_only_branch},
        RefusedCase{
            "jmp_rel16", {0x66, 0xe9, 0x00, 0x01}, kStub, RelocationError::unsupported_branch},
        RefusedCase{"xbegin",
                    {0xc7, 0xf8, 0x10, 0x00, 0x00, 0x00},
                    kStub,
                    RelocationError::unsupported_branch},
        RefusedCase{"jmp_too_far",
                    {0xeb, 0x10},
                    kFrom + (4ull << 30),
                    RelocationError::branch_out_of_range},
        RefusedCase{"call_too_far",
                    {0xe8, 0x00, 0x00, 0x00, 0x00},
                    kFrom - (3ull << 30),
                    RelocationError::branch_out_of_range}),
    [](const testing::TestParamInfo<RefusedCase>& p) { return std::string(p.param.name); });

TEST(Relocate, OtherInstructionsAreCopied) {
  for (const Bytes& bytes : {Bytes{0xb8, 0x27, 0x00, 0x00, 0x00}, Bytes{0x31, 0xc0},
                             Bytes{0x64, 0x48, 0x8b, 0x04, 0x25, 0x28, 0x00, 0x00, 0x00},
                             Bytes{0x0f, 0x31}, Bytes{0xff, 0xe0}, Bytes{0xc3}}) {
    const Relocation moved = relocate(decode(bytes), kStub);
    ASSERT_TRUE(moved.ok());
    EXPECT_EQ(moved.bytes, bytes);
  }
}

TEST(Relocate, ReasonNames) {
  EXPECT_EQ(to_string(RelocationError::rip_out_of_range), "rip_out_of_range");
  EXPECT_EQ(to_string(RelocationError::short_only_branch), "short_only_branch");
}

}  // namespace
}  // namespace hytrace::disasm
