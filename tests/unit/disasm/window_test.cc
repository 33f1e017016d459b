// Window choice on hand-assembled functions: the preferred shapes, a branch
// into the window, a window that must reach past the syscall, and every
// refusal reason.
#include "disasm/window.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace hytrace::disasm {
namespace {

using Bytes = std::vector<uint8_t>;
constexpr uint64_t kAt = 0x401000;

Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}
Bytes le32(int32_t v) {
  const auto u = static_cast<uint32_t>(v);
  return {static_cast<uint8_t>(u), static_cast<uint8_t>(u >> 8), static_cast<uint8_t>(u >> 16),
          static_cast<uint8_t>(u >> 24)};
}
Bytes rel8(uint8_t opcode, int8_t rel) {
  return {opcode, static_cast<uint8_t>(rel)};
}

const Bytes kSyscall = {0x0f, 0x05};
const Bytes kRdtsc = {0x0f, 0x31};
const Bytes kRdtscp = {0x0f, 0x01, 0xf9};
const Bytes kRet = {0xc3};
const Bytes kNop = {0x90};
const Bytes kNop4 = {0x0f, 0x1f, 0x40, 0x00};
const Bytes kXorEax = {0x31, 0xc0};
const Bytes kInt3 = {0xcc};
const Bytes kEndbr64 = {0xf3, 0x0f, 0x1e, 0xfa};
const Bytes kJmpRax = {0xff, 0xe0};
const Bytes kCmpRax = {0x48, 0x3d, 0x00, 0xf0, 0xff, 0xff};  // cmp $-4096, %rax
const Bytes kInvalid = {0x06};
Bytes mov_eax(int32_t v) {
  return cat({{0xb8}, le32(v)});
}
Bytes mov_rax(int32_t v) {
  return cat({{0x48, 0xc7, 0xc0}, le32(v)});
}
Bytes call32(int32_t rel) {
  return cat({{0xe8}, le32(rel)});
}
Bytes jmp_rip(int32_t disp) {
  return cat({{0xff, 0x25}, le32(disp)});
}
Bytes lea_rip(int32_t disp) {
  return cat({{0x48, 0x8d, 0x05}, le32(disp)});
}
Bytes mov_rip(int32_t disp) {
  return cat({{0x48, 0x8b, 0x05}, le32(disp)});
}

struct WindowCase {
  const char* name;
  Bytes function;                                       // at kAt
  uint64_t site;                                        // offset
  std::optional<std::pair<uint64_t, uint64_t>> window;  // [start, end) offsets
  Refusal refusal = Refusal::no_function_bounds;
  std::optional<RelocationError> relocation = std::nullopt;
};

class WindowTable : public testing::TestWithParam<WindowCase> {};

TEST_P(WindowTable, ChoosesOrRefuses) {
  const WindowCase& c = GetParam();
  Decoder decoder;
  const WindowChoice choice = choose_window(decoder, Code{kAt, c.function}, kAt + c.site);
  if (c.window) {
    ASSERT_TRUE(choice.ok()) << choice.refusal.key();
    const Window& w = *choice.window;
    EXPECT_EQ(w.start, kAt + c.window->first);
    EXPECT_EQ(w.end, kAt + c.window->second);
    EXPECT_EQ(w.site().address, kAt + c.site);
    EXPECT_EQ(w.instructions.front().address, w.start);
    EXPECT_EQ(w.instructions.back().end(), w.end);
  } else {
    ASSERT_FALSE(choice.ok()) << "window " << std::hex << choice.window->start << ".."
                              << choice.window->end;
    EXPECT_EQ(to_string(choice.refusal.reason), to_string(c.refusal));
    EXPECT_EQ(choice.refusal.relocation, c.relocation);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Window, WindowTable,
    testing::Values(
        // mov $39,%eax; syscall; cmp; ret: ends with the syscall even though
        // [syscall, cmp] would do too.
        WindowCase{"mov_and_syscall", cat({mov_eax(39), kSyscall, kCmpRax, kRet}), 5, {{0, 7}}},
        // je out; xor; syscall; ret; nop; out: ret. The je moves with the
        // window (widened to rel32 in the trampoline).
        WindowCase{
            "jcc_before", cat({rel8(0x74, 6), kXorEax, kSyscall, kRet, kNop, kRet}), 4, {{0, 6}}},
        // xor at the function's start + syscall is 4 bytes: the window must
        // reach past the syscall.
        WindowCase{"must_extend_after",
                   cat({kXorEax, kSyscall, kCmpRax, rel8(0x77, 1), kRet, kRet}),
                   2,
                   {{2, 10}}},
        // A jump back to the syscall: [mov, syscall] is entered in the
        // middle, so [syscall, cmp] is taken (its first byte may be a target).
        WindowCase{"jump_to_site",
                   cat({mov_eax(39), kSyscall, kCmpRax, kRet, rel8(0xeb, -11)}),
                   5,
                   {{5, 13}}},
        // A jump to the window's first byte is fine.
        WindowCase{
            "jump_to_start", cat({mov_eax(39), kSyscall, kRet, rel8(0xeb, -10)}), 5, {{0, 7}}},
        WindowCase{"rdtsc_site", cat({kNop4, kRdtsc, kRet}), 4, {{0, 6}}},
        WindowCase{"rdtscp_site", cat({kNop, kNop, kRdtscp, kRet}), 2, {{0, 5}}},

        // Refusals, one per reason.
        WindowCase{"branch_into_window", cat({mov_eax(39), kSyscall, kRet, rel8(0xeb, -5)}), 5,
                   std::nullopt, Refusal::reference_into_window},
        WindowCase{"branch_within_window", cat({kNop, rel8(0x75, -3), kSyscall}), 3, std::nullopt,
                   Refusal::reference_into_window},
        WindowCase{"lea_into_window", cat({mov_eax(39), kSyscall, kRet, lea_rip(-10)}), 5,
                   std::nullopt, Refusal::reference_into_window},
        WindowCase{"another_site", cat({kRdtsc, kXorEax, kSyscall}), 4, std::nullopt,
                   Refusal::another_site_in_window},
        WindowCase{"another_syscall_after", cat({kXorEax, kSyscall, kSyscall, kRet}), 2,
                   std::nullopt, Refusal::another_site_in_window},
        WindowCase{"trap", cat({kInt3, kXorEax, kSyscall}), 3, std::nullopt,
                   Refusal::trap_in_window},
        WindowCase{"call", cat({call32(0x100), kSyscall}), 5, std::nullopt,
                   Refusal::call_in_window},
        WindowCase{"indirect_branch", cat({jmp_rip(0x100), kSyscall}), 6, std::nullopt,
                   Refusal::indirect_branch_in_window},
        WindowCase{"return", cat({kRet, kNop, kNop, kSyscall}), 3, std::nullopt,
                   Refusal::return_in_window},
        WindowCase{"endbr_inside", cat({kNop, kSyscall, kEndbr64, kRet}), 1, std::nullopt,
                   Refusal::indirect_target_in_window},
        WindowCase{"short_only_branch", cat({rel8(0xe3, 3), kNop, kSyscall}), 3, std::nullopt,
                   Refusal::unrelocatable, RelocationError::short_only_branch},
        WindowCase{"too_short", cat({kXorEax, kSyscall}), 2, std::nullopt, Refusal::too_short},
        WindowCase{"signal_return", cat({mov_rax(15), kSyscall}), 7, std::nullopt,
                   Refusal::signal_return_trampoline},
        WindowCase{"jump_table_in_function", cat({mov_eax(39), kSyscall, kRet, kJmpRax}), 5,
                   std::nullopt, Refusal::indirect_jump_in_function},
        // mov $0x050f, %eax: the bytes 0f 05 are inside an instruction.
        WindowCase{"not_on_boundary", cat({mov_eax(0x050f), kRet}), 1, std::nullopt,
                   Refusal::site_not_on_instruction_boundary},
        WindowCase{"not_a_site", cat({kNop4, kNop, kRet}), 4, std::nullopt, Refusal::not_a_site},
        WindowCase{"function_not_code", cat({mov_eax(39), kSyscall, kRet, kInvalid}), 5,
                   std::nullopt, Refusal::function_not_code},
        WindowCase{"site_outside", cat({mov_eax(39), kSyscall}), 7, std::nullopt,
                   Refusal::site_outside_function}),
    [](const testing::TestParamInfo<WindowCase>& p) { return std::string(p.param.name); });

TEST(Window, HoldsTheDisplacedInstructions) {
  Decoder decoder;
  const Bytes f = cat({rel8(0x74, 6), kXorEax, kSyscall, kRet, kNop, kRet});
  const WindowChoice choice = choose_window(decoder, Code{kAt, f}, kAt + 4);
  ASSERT_TRUE(choice.ok());
  const Window& w = *choice.window;
  ASSERT_EQ(w.instructions.size(), 3u);
  EXPECT_EQ(w.site_index, 2u);
  EXPECT_EQ(w.size(), 6u);
  EXPECT_EQ(w.instructions[0].text(), "je 0x401008");
  EXPECT_EQ(w.instructions[1].text(), "xorl %eax, %eax");
  EXPECT_EQ(w.site().kind, Kind::syscall);
}

TEST(Window, ReportsWhereTheBranchComesFrom) {
  Decoder decoder;
  const Bytes f = cat({mov_eax(39), kSyscall, kRet, rel8(0xeb, -5)});
  const WindowChoice choice = choose_window(decoder, Code{kAt, f}, kAt + 5);
  ASSERT_FALSE(choice.ok());
  EXPECT_EQ(choice.refusal.at, kAt + 8);
  EXPECT_EQ(choice.refusal.key(), "reference_into_window");
}

// A jump from another function (a .cold part, say) is only seen through the
// segment's references.
TEST(Window, SegmentReferencesSeeJumpsFromOtherFunctions) {
  Decoder decoder;
  const Bytes f = cat({mov_eax(39), kSyscall, kRet});
  const Code function{kAt, f};
  EXPECT_TRUE(choose_window(decoder, function, kAt + 5).ok());
  const References segment(std::vector<Reference>{{kAt + 5, 0x409000}, {kAt, 0x409010}});
  WindowOptions options;
  options.segment_references = &segment;
  const WindowChoice choice = choose_window(decoder, function, kAt + 5, options);
  ASSERT_FALSE(choice.ok());
  EXPECT_EQ(choice.refusal.reason, Refusal::reference_into_window);
  EXPECT_EQ(choice.refusal.at, 0x409000u);
}

TEST(Window, NotCodeReportsTheFirstUndecodableByte) {
  Decoder decoder;
  const Bytes f = cat({mov_eax(39), kSyscall, kRet, kInvalid, kRet});
  const WindowChoice choice = choose_window(decoder, Code{kAt, f}, kAt + 5);
  ASSERT_FALSE(choice.ok());
  EXPECT_EQ(choice.refusal.reason, Refusal::function_not_code);
  EXPECT_EQ(choice.refusal.at, kAt + 8);
}

TEST(Window, GapNeedsTheSegmentReferences) {
  Decoder decoder;
  const Bytes f = cat({mov_eax(39), kSyscall, kRet});
  WindowOptions options;
  options.bounds = Bounds::gap;
  const WindowChoice refused = choose_window(decoder, Code{kAt, f}, kAt + 5, options);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.refusal.reason, Refusal::no_function_bounds);
  const References segment;
  options.segment_references = &segment;
  EXPECT_TRUE(choose_window(decoder, Code{kAt, f}, kAt + 5, options).ok());
}

TEST(Window, RipRelativeMustReachTheStub) {
  Decoder decoder;
  // mov 0x100(%rip), %rax; syscall; ret
  const Bytes f = cat({mov_rip(0x100), kSyscall, kRet});
  WindowOptions options;
  options.stub_address = kAt + 0x10000000;  // 256 MiB away: fine
  EXPECT_TRUE(choose_window(decoder, Code{kAt, f}, kAt + 7, options).ok());
  options.stub_address = kAt + (3ull << 30);  // 3 GiB away: too far
  const WindowChoice choice = choose_window(decoder, Code{kAt, f}, kAt + 7, options);
  ASSERT_FALSE(choice.ok());
  EXPECT_EQ(choice.refusal.reason, Refusal::unrelocatable);
  EXPECT_EQ(choice.refusal.relocation, RelocationError::rip_out_of_range);
  EXPECT_EQ(choice.refusal.key(), "unrelocatable(rip_out_of_range)");
  EXPECT_EQ(choice.refusal.at, kAt);
}

TEST(Window, MinimumSizeIsAnOption) {
  Decoder decoder;
  const Bytes f = cat({kXorEax, kXorEax, kSyscall, kRet});
  WindowOptions options;
  options.min_size = 2;
  const WindowChoice choice = choose_window(decoder, Code{kAt, f}, kAt + 4, options);
  ASSERT_TRUE(choice.ok());
  EXPECT_EQ(choice.window->start, kAt + 4);
  EXPECT_EQ(choice.window->size(), 2u);
}

TEST(Window, EveryRefusalHasItsOwnName) {
  std::set<std::string> names;
  for (int r = 0; r <= static_cast<int>(Refusal::unrelocatable); ++r) {
    const std::string name(to_string(static_cast<Refusal>(r)));
    EXPECT_NE(name, "?");
    EXPECT_TRUE(names.insert(name).second) << name;
  }
  for (int e = 0; e <= static_cast<int>(RelocationError::rip_displacement_unknown); ++e) {
    EXPECT_NE(to_string(static_cast<RelocationError>(e)), "?");
  }
}

TEST(Region, FunctionOrGapBetweenSymbols) {
  // Functions [0x1000,0x1010) "a", [0x1030,0x1040) "b"; a segment
  // [0x0f00, 0x1100).
  const FunctionTable functions({{0x1000, 0x10, "a", {}}, {0x1030, 0x10, "b", {}}});
  const Bytes bytes(0x200, 0x90);
  const Code segment{0x0f00, bytes};

  std::optional<Region> in_a = region_for_site(segment, functions, 0x1008);
  ASSERT_TRUE(in_a);
  EXPECT_EQ(in_a->bounds, Bounds::symbol);
  ASSERT_NE(in_a->function, nullptr);
  EXPECT_EQ(in_a->function->name, "a");
  EXPECT_EQ(in_a->code.address, 0x1000u);
  EXPECT_EQ(in_a->code.end(), 0x1010u);

  std::optional<Region> between = region_for_site(segment, functions, 0x1020);
  ASSERT_TRUE(between);
  EXPECT_EQ(between->bounds, Bounds::gap);
  EXPECT_EQ(between->function, nullptr);
  EXPECT_EQ(between->code.address, 0x1010u);
  EXPECT_EQ(between->code.end(), 0x1030u);

  std::optional<Region> before = region_for_site(segment, functions, 0x0f10);
  ASSERT_TRUE(before);
  EXPECT_EQ(before->code.address, 0x0f00u);
  EXPECT_EQ(before->code.end(), 0x1000u);

  std::optional<Region> after = region_for_site(segment, functions, 0x1050);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->code.address, 0x1040u);
  EXPECT_EQ(after->code.end(), 0x1100u);

  EXPECT_FALSE(region_for_site(segment, functions, 0x2000));
}

TEST(Region, NoSymbolsAtAllIsTheWholeSegment) {
  const Bytes bytes(0x100, 0x90);
  const Code segment{0x1000, bytes};
  std::optional<Region> r = region_for_site(segment, FunctionTable{}, 0x1080);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->bounds, Bounds::gap);
  EXPECT_EQ(r->code.address, 0x1000u);
  EXPECT_EQ(r->code.end(), 0x1100u);
}

}  // namespace
}  // namespace hytrace::disasm
