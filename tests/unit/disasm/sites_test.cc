// Finding syscall, rdtsc and rdtscp sites by linear sweep.
#include "disasm/sites.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace hytrace::disasm {
namespace {

using Bytes = std::vector<uint8_t>;
constexpr uint64_t kAt = 0x7f0000001000;

struct Expected {
  uint64_t offset;
  SiteKind kind;
  std::optional<uint32_t> number;
};

struct SitesCase {
  const char* name;
  Bytes bytes;
  std::vector<Expected> sites;
  uint64_t skipped = 0;
};

class SitesTable : public testing::TestWithParam<SitesCase> {};

TEST_P(SitesTable, FindsTheSites) {
  const SitesCase& c = GetParam();
  Decoder decoder;
  const SiteScan scan = find_sites(decoder, Code{kAt, c.bytes});
  ASSERT_EQ(scan.sites.size(), c.sites.size());
  for (size_t i = 0; i < c.sites.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(scan.sites[i].address, kAt + c.sites[i].offset);
    EXPECT_EQ(to_string(scan.sites[i].kind), to_string(c.sites[i].kind));
    EXPECT_EQ(scan.sites[i].number, c.sites[i].number);
  }
  EXPECT_EQ(scan.skipped_bytes, c.skipped);
}

INSTANTIATE_TEST_SUITE_P(
    Sites, SitesTable,
    testing::Values(
        // mov $39, %eax; syscall; ret
        SitesCase{"getpid", {0xb8, 0x27, 0, 0, 0, 0x0f, 0x05, 0xc3}, {{5, SiteKind::syscall, 39}}},
        // mov $15, %rax; syscall (the sigreturn trampoline)
        SitesCase{
            "mov_rax", {0x48, 0xc7, 0xc0, 0x0f, 0, 0, 0, 0x0f, 0x05}, {{7, SiteKind::syscall, 15}}},
        // xor %eax, %eax; syscall: no number known
        SitesCase{"no_number", {0x31, 0xc0, 0x0f, 0x05}, {{2, SiteKind::syscall, std::nullopt}}},
        SitesCase{"time_stamps",
                  {0x0f, 0x31, 0x90, 0x0f, 0x01, 0xf9},
                  {{0, SiteKind::rdtsc, std::nullopt}, {3, SiteKind::rdtscp, std::nullopt}}},
        // 0f 05 inside an immediate is not a site: mov $0x050f, %eax
        SitesCase{"inside_immediate", {0xb8, 0x0f, 0x05, 0, 0, 0xc3}, {}},
        // int $0x80 and sysenter are not sites (the i386 ABI is traced, not patched)
        SitesCase{"foreign_abis", {0xcd, 0x80, 0x0f, 0x34}, {}},
        // An undecodable byte is skipped; the sweep resynchronises after it.
        SitesCase{"resync",
                  {0x90, 0x06, 0x0f, 0x05, 0x06, 0x06, 0x0f, 0x31},
                  {{2, SiteKind::syscall, std::nullopt}, {6, SiteKind::rdtsc, std::nullopt}},
                  3},
        // The number is not carried across a skipped byte.
        SitesCase{"number_not_across_skip",
                  {0xb8, 0x27, 0, 0, 0, 0x06, 0x0f, 0x05},
                  {{6, SiteKind::syscall, std::nullopt}},
                  1},
        SitesCase{"empty", {}, {}}),
    [](const testing::TestParamInfo<SitesCase>& p) { return std::string(p.param.name); });

// The limit of a linear sweep, shown: data in a code range invents a site
// (here the bytes 0f 05 of a constant that follows a ret).
TEST(Sites, DataInTextCanInventASite) {
  const Bytes code = {0xc3, 0x0f, 0x05, 0x00, 0x00};
  Decoder decoder;
  const SiteScan scan = find_sites(decoder, Code{kAt, code});
  ASSERT_EQ(scan.sites.size(), 1u);
  EXPECT_EQ(scan.sites[0].address, kAt + 1);
}

TEST(Sites, SiteKindOfInstructionKinds) {
  EXPECT_EQ(site_kind(Kind::syscall), SiteKind::syscall);
  EXPECT_EQ(site_kind(Kind::rdtsc), SiteKind::rdtsc);
  EXPECT_EQ(site_kind(Kind::rdtscp), SiteKind::rdtscp);
  EXPECT_EQ(site_kind(Kind::int80), std::nullopt);
  EXPECT_EQ(site_kind(Kind::other), std::nullopt);
}

}  // namespace
}  // namespace hytrace::disasm
