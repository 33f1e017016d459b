// Function bounds from ELF symbols: the table's lookups, and read_elf on this
// test binary (which has a .symtab) and on files that are not ELF.
#include "disasm/elf_symbols.hpp"

#include "disasm/decoder.hpp"
#include "disasm/sites.hpp"

#include <gtest/gtest.h>
#include <link.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

extern "C" __attribute__((noinline, used)) int hytrace_disasm_probe(int x) {
  asm volatile("" : "+r"(x));
  return x * 3 + 1;
}

namespace hytrace::disasm {
namespace {

TEST(FunctionTable, MergesAliasesKeepingThePlainestName) {
  const FunctionTable table({{0x100, 0x20, "__libc_read", {}},
                             {0x100, 0x20, "read", {}},
                             {0x100, 0x20, "__read", {}},
                             {0x200, 0x10, "write", {}}});
  ASSERT_EQ(table.all().size(), 2u);
  const Function& read = table.all()[0];
  EXPECT_EQ(read.name, "read");
  EXPECT_EQ(read.aliases.size(), 2u);
  EXPECT_TRUE(read.has_name("__libc_read"));
  EXPECT_TRUE(read.has_name("__read"));
  EXPECT_EQ(table.named("__read"), &read);
  EXPECT_EQ(table.named("missing"), nullptr);
}

TEST(FunctionTable, ContainingPrefersTheInnermost) {
  // "outer" [0x100,0x200) holds "inner" [0x140,0x150) (hand-written asm has
  // such entry points).
  const FunctionTable table(
      {{0x100, 0x100, "outer", {}}, {0x140, 0x10, "inner", {}}, {0x300, 0x10, "far", {}}});
  EXPECT_EQ(table.containing(0x100)->name, "outer");
  EXPECT_EQ(table.containing(0x148)->name, "inner");
  EXPECT_EQ(table.containing(0x150)->name, "outer");
  EXPECT_EQ(table.containing(0x1ff)->name, "outer");
  EXPECT_EQ(table.containing(0x200), nullptr);
  EXPECT_EQ(table.containing(0x0ff), nullptr);
  EXPECT_EQ(table.containing(0x30f)->name, "far");
  EXPECT_EQ(table.containing(0x310), nullptr);
}

TEST(FunctionTable, NeighbouringBounds) {
  const FunctionTable table(
      {{0x100, 0x100, "outer", {}}, {0x140, 0x10, "inner", {}}, {0x300, 0x10, "far", {}}});
  EXPECT_EQ(table.end_before(0x250), 0x200u);
  EXPECT_EQ(table.start_after(0x250), 0x300u);
  EXPECT_EQ(table.end_before(0x080), 0u);
  EXPECT_EQ(table.start_after(0x400), UINT64_MAX);
  EXPECT_EQ(table.end_before(0x310), 0x310u);
}

uint64_t main_program_bias() {
  uint64_t bias = 0;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* out) {
        *static_cast<uint64_t*>(out) = info->dlpi_addr;  // the first entry: the program
        return 1;
      },
      &bias);
  return bias;
}

TEST(ReadElf, FindsAFunctionOfThisBinary) {
  const ElfInfo info = read_elf("/proc/self/exe");
  EXPECT_EQ(info.source, SymbolSource::symtab);
  ASSERT_FALSE(info.executable_segments.empty());
  const uint64_t probe = reinterpret_cast<uint64_t>(&hytrace_disasm_probe) - main_program_bias();
  const Function* f = info.functions.containing(probe);
  ASSERT_NE(f, nullptr);
  EXPECT_TRUE(f->has_name("hytrace_disasm_probe"));
  EXPECT_EQ(f->start, probe);
  EXPECT_GT(f->size, 0u);
  bool in_segment = false;
  for (const Segment& s : info.executable_segments) {
    in_segment |= probe >= s.address && probe < s.address + s.memory_size;
  }
  EXPECT_TRUE(in_segment);
  EXPECT_EQ(hytrace_disasm_probe(1), 4);
}

std::string loader_path() {
  std::string path;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* out) {
        const std::string name = info->dlpi_name ? info->dlpi_name : "";
        if (name.find("ld-linux") != std::string::npos) *static_cast<std::string*>(out) = name;
        return 0;
      },
      &path);
  return path;
}

// The dynamic loader is stripped: its .dynsym names a handful of functions,
// and its syscall sites lie between them. The call-frame information bounds
// every function, so each site has one.
TEST(ReadElf, CallFrameInformationBoundsUnnamedFunctions) {
  const std::string path = loader_path();
  if (path.empty()) GTEST_SKIP() << "no ld-linux loaded in this process";
  const ElfInfo info = read_elf(path);
  std::ifstream in(path, std::ios::binary);
  const std::vector<uint8_t> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  Decoder decoder;
  size_t sites = 0, unnamed = 0;
  for (const Segment& seg : info.executable_segments) {
    ASSERT_LE(seg.file_offset + seg.file_size, bytes.size());
    const Code code{seg.address, {bytes.data() + seg.file_offset, seg.file_size}};
    for (const Site& site : find_sites(decoder, code).sites) {
      if (site.kind != SiteKind::syscall) continue;
      ++sites;
      const Function* f = info.functions.containing(site.address);
      ASSERT_NE(f, nullptr) << path << ": no function holds the syscall at " << std::hex << site.address;
      unnamed += f->name.empty();
    }
  }
  EXPECT_GT(sites, 10u);
  if (info.source != SymbolSource::symtab) {
    EXPECT_GT(unnamed, 0u) << "every site had a symbol";
  }
}

TEST(ReadElf, MissingFileNamesThePath) {
  try {
    read_elf("/nonexistent/hytrace-disasm");
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/hytrace-disasm"), std::string::npos);
  }
}

TEST(ReadElf, NotAnElfFile) {
  char path[] = "/tmp/hytrace-disasm-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "not an elf file\n", 16), 16);
  close(fd);
  try {
    read_elf(path);
    ADD_FAILURE() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("not an ELF file"), std::string::npos) << e.what();
  }
  unlink(path);
}

TEST(SymbolSource, Names) {
  EXPECT_EQ(to_string(SymbolSource::symtab), "symtab");
  EXPECT_EQ(to_string(SymbolSource::dynsym), "dynsym");
  EXPECT_EQ(to_string(SymbolSource::none), "none");
}

}  // namespace
}  // namespace hytrace::disasm
