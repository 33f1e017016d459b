// The analyser over the real libc of this machine: every syscall site gets a
// window or a named refusal, nothing crashes, and the statistics are printed.
#include <gtest/gtest.h>
#include <link.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "disasm/decoder.hpp"
#include "disasm/elf_symbols.hpp"
#include "disasm/references.hpp"
#include "disasm/relocate.hpp"
#include "disasm/sites.hpp"
#include "disasm/window.hpp"

namespace hytrace::disasm {
namespace {

std::string libc_path() {
  std::string path;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* out) {
        if (info->dlpi_name != nullptr && std::strstr(info->dlpi_name, "/libc.so.6") != nullptr) {
          *static_cast<std::string*>(out) = info->dlpi_name;
          return 1;
        }
        return 0;
      },
      &path);
  return path;
}

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct SiteOutcome {
  Site site;
  const Function* function = nullptr;
  Bounds bounds = Bounds::symbol;
  WindowChoice choice;
};

struct LibcAnalysis {
  std::string path;
  ElfInfo elf;
  std::vector<uint8_t> file;
  Code text;
  SiteScan scan;
  std::vector<SiteOutcome> outcomes;
  uint64_t stub_address = 0;
};

// Analyses once for all tests (a few hundred milliseconds).
const LibcAnalysis& analysis() {
  static const LibcAnalysis result = [] {
    LibcAnalysis a;
    a.path = libc_path();
    if (a.path.empty()) return a;
    a.elf = read_elf(a.path);
    a.file = read_file(a.path);
    if (a.elf.executable_segments.empty()) return a;
    const Segment& seg = a.elf.executable_segments.front();
    a.text =
        Code{seg.address, std::span<const uint8_t>(a.file).subspan(seg.file_offset, seg.file_size)};
    // A stub page 256 MiB past the text: far enough to change every
    // displacement, near enough for rel32.
    a.stub_address = (a.text.end() + (256ull << 20)) & ~0xfffull;
    Decoder decoder;
    a.scan = find_sites(decoder, a.text);
    const References segment_refs = References::collect(decoder, a.text);
    for (const Site& site : a.scan.sites) {
      SiteOutcome out{site};
      std::optional<Region> region = region_for_site(a.text, a.elf.functions, site.address);
      WindowOptions options;
      options.stub_address = a.stub_address;
      options.segment_references = &segment_refs;
      options.bounds = region->bounds;
      out.function = region->function;
      out.bounds = region->bounds;
      out.choice = choose_window(decoder, region->code, site.address, options);
      a.outcomes.push_back(std::move(out));
    }
    return a;
  }();
  return result;
}

TEST(Libc, EverySyscallSiteGetsAWindowOrAReason) {
  const LibcAnalysis& a = analysis();
  if (a.path.empty()) GTEST_SKIP() << "no libc.so.6 loaded";
  ASSERT_FALSE(a.elf.executable_segments.empty());
  std::map<std::string, int> sites, windows, refusals;
  int ending_at_site = 0, in_gaps = 0, gap_windows = 0;
  for (const SiteOutcome& o : a.outcomes) {
    const std::string kind(to_string(o.site.kind));
    ++sites[kind];
    if (o.bounds == Bounds::gap) ++in_gaps;
    if (o.choice.ok()) {
      ++windows[kind];
      if (o.bounds == Bounds::gap) ++gap_windows;
      if (o.choice.window->site_index + 1 == o.choice.window->instructions.size()) ++ending_at_site;
    } else {
      ++refusals[kind + " refused " + o.choice.refusal.key()];
    }
  }
  std::cout << a.path << ": symbols from " << to_string(a.elf.source) << ", "
            << a.elf.functions.all().size() << " functions, text " << std::hex << a.text.address
            << ".." << a.text.end() << std::dec << ", " << a.scan.skipped_bytes
            << " bytes skipped by the sweep\n";
  for (const auto& [kind, n] : sites) {
    std::cout << "  " << kind << " sites: " << n << ", windows: " << windows[kind] << "\n";
  }
  std::cout << "  windows ending at the site: " << ending_at_site << ", reaching past it: "
            << windows["syscall"] + windows["rdtsc"] + windows["rdtscp"] - ending_at_site << "\n";
  std::cout << "  sites outside every function symbol: " << in_gaps << " (windows: " << gap_windows
            << ")\n";
  for (const auto& [key, n] : refusals) std::cout << "  " << key << ": " << n << "\n";

  EXPECT_EQ(a.outcomes.size(), a.scan.sites.size());
  EXPECT_GT(sites["syscall"], 100);
  EXPECT_GT(windows["syscall"], sites["syscall"] / 2);
}

TEST(Libc, WindowsAreWellFormed) {
  const LibcAnalysis& a = analysis();
  if (a.path.empty()) GTEST_SKIP() << "no libc.so.6 loaded";
  for (const SiteOutcome& o : a.outcomes) {
    if (!o.choice.ok()) continue;
    const Window& w = *o.choice.window;
    SCOPED_TRACE(testing::Message() << std::hex << "site 0x" << o.site.address);
    EXPECT_GE(w.size(), 5u);
    EXPECT_EQ(w.site().address, o.site.address);
    EXPECT_EQ(w.instructions.front().address, w.start);
    EXPECT_EQ(w.instructions.back().end(), w.end);
    if (o.function != nullptr) {
      EXPECT_GE(w.start, o.function->start);
      EXPECT_LE(w.end, o.function->end());
    }
    for (size_t i = 0; i < w.instructions.size(); ++i) {
      if (i + 1 < w.instructions.size()) {
        EXPECT_EQ(w.instructions[i].end(), w.instructions[i + 1].address);
      }
      if (i != w.site_index) {
        EXPECT_TRUE(relocate(w.instructions[i], a.stub_address).ok());
      }
    }
  }
}

TEST(Libc, ExportedWrappersGetWindows) {
  const LibcAnalysis& a = analysis();
  if (a.path.empty()) GTEST_SKIP() << "no libc.so.6 loaded";
  for (const char* name : {"read", "write", "getpid", "close", "openat", "kill"}) {
    SCOPED_TRACE(name);
    const Function* f = a.elf.functions.named(name);
    ASSERT_NE(f, nullptr);
    int sites = 0, windows = 0;
    for (const SiteOutcome& o : a.outcomes) {
      if (o.function != f) continue;
      ++sites;
      if (o.choice.ok()) ++windows;
    }
    EXPECT_GT(sites, 0);
    EXPECT_GT(windows, 0);
  }
}

// Every RIP-relative instruction of libc: its displacement was located, and
// relocated to the stub it names the same absolute address when decoded there.
TEST(Libc, EveryRipRelativeInstructionRelocates) {
  const LibcAnalysis& a = analysis();
  if (a.path.empty()) GTEST_SKIP() << "no libc.so.6 loaded";
  Decoder decoder;
  Sweep sweep(decoder, a.text);
  int rip = 0, unknown = 0, out_of_range = 0, mismatched = 0;
  while (const Instruction* insn = sweep.next()) {
    if (!insn->rip_relative) continue;
    ++rip;
    const uint64_t target = insn->memory_target();
    const Relocation moved = relocate(*insn, a.stub_address);
    if (!moved.ok()) {
      // Out of range only for bytes that are not really code (a sweep over
      // padding or data can decode an operand pointing anywhere).
      const int64_t reach = static_cast<int64_t>(target - (a.stub_address + insn->size));
      EXPECT_TRUE(*moved.error == RelocationError::rip_out_of_range &&
                  (reach > INT32_MAX || reach < INT32_MIN))
          << insn->text() << " " << to_string(*moved.error);
      ++(*moved.error == RelocationError::rip_out_of_range ? out_of_range : unknown);
      continue;
    }
    Instruction again;
    const Code there{a.stub_address, moved.bytes};
    if (!decoder.decode(there, a.stub_address, again) || !again.rip_relative ||
        again.memory_target() != target || again.text().substr(0, 3) != insn->text().substr(0, 3)) {
      ++mismatched;
    }
  }
  std::cout << "  RIP-relative instructions: " << rip << ", displacement not located: " << unknown
            << ", out of reach of the stub: " << out_of_range
            << ", relocated wrongly: " << mismatched << "\n";
  EXPECT_GT(rip, 1000);
  EXPECT_EQ(unknown, 0);
  EXPECT_EQ(mismatched, 0);
}

}  // namespace
}  // namespace hytrace::disasm

namespace hytrace::disasm {
namespace {

// The two-byte patch: how many of libc's syscall sites find a slot of
// padding within a jmp rel8 (read's and write's among them), and every slot
// is padding that nothing references.
TEST(Libc, TwoBytePatchSlots) {
  const LibcAnalysis& a = analysis();
  if (a.path.empty()) GTEST_SKIP() << "no libc.so.6 loaded";
  Decoder decoder;
  const References refs = References::collect(decoder, a.text);
  std::vector<uint64_t> slots;
  const auto taken = [&](uint64_t at) {
    return std::any_of(slots.begin(), slots.end(), [&](uint64_t s) { return at < s + 5 && s < at + 5; });
  };
  int syscalls = 0, checked = 0, found = 0;
  for (const SiteOutcome& o : a.outcomes) {
    if (o.site.kind != SiteKind::syscall) continue;
    ++syscalls;
    const std::optional<Region> region = region_for_site(a.text, a.elf.functions, o.site.address);
    if (!region || check_syscall_site(decoder, region->code, o.site.address)) continue;
    ++checked;
    const std::optional<uint64_t> slot = find_slot(decoder, a.text, a.elf.functions, refs, o.site.address, taken);
    const Function* fn = a.elf.functions.containing(o.site.address);
    if (fn && (fn->has_name("read") || fn->has_name("write"))) {
      EXPECT_TRUE(slot.has_value()) << fn->name << " site " << std::hex << o.site.address;
    }
    if (!slot) continue;
    ++found;
    slots.push_back(*slot);
    const int64_t rel = static_cast<int64_t>(*slot) - static_cast<int64_t>(o.site.address + 2);
    EXPECT_GE(rel, -128);
    EXPECT_LE(rel, 127);
    for (uint64_t b = *slot; b < *slot + 5; ++b) {
      EXPECT_FALSE(refs.first_in(b, b + 1).has_value()) << std::hex << b;
      // Bytes of nops (90, 66 2e 0f 1f 84 00...) or int3.
      const uint8_t byte = a.text.from(b)[0];
      EXPECT_TRUE(byte == 0x90 || byte == 0xcc || byte == 0x66 || byte == 0x2e || byte == 0x0f ||
                  byte == 0x1f || byte == 0x00 || byte == 0x40 || byte == 0x44 || byte == 0x80 ||
                  byte == 0x84)
          << std::hex << b << ": " << int(byte);
    }
  }
  std::cout << "  syscall sites: " << syscalls << ", site checks passed: " << checked
            << ", with a two-byte slot: " << found << "\n";
  EXPECT_GT(found, checked / 2);
}

}  // namespace
}  // namespace hytrace::disasm
