// Function bounds from an ELF file's symbols (through libelf), in the file's
// virtual addresses (add the load bias for a mapped shared object).
//
// Function symbols are STT_FUNC and STT_GNU_IFUNC with a size. They come from
// `.symtab` when the file has one, else from `.dynsym`. A stripped library
// (Debian's libc.so.6) has only `.dynsym`: exported functions. Its internal
// functions and `.cold` parts have no symbol, so a syscall site there has no
// function; window.hpp's region_for_site() decides what to do about it.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hytrace::disasm {

struct Function {
  uint64_t start = 0;
  uint64_t size = 0;
  std::string name;                  // one name (the one with fewest leading '_')
  std::vector<std::string> aliases;  // the other names at the same start and size

  uint64_t end() const { return start + size; }
  bool contains(uint64_t a) const { return a >= start && a < end(); }
  bool has_name(std::string_view n) const;
};

// Functions sorted by start, aliases merged.
class FunctionTable {
 public:
  FunctionTable() = default;
  explicit FunctionTable(std::vector<Function> functions);

  std::span<const Function> all() const { return functions_; }
  bool empty() const { return functions_.empty(); }
  // The innermost function containing `a` (the one with the highest start,
  // when symbols overlap), or nullptr.
  const Function* containing(uint64_t a) const;
  // The first function with the name (or alias) `name`, or nullptr.
  const Function* named(std::string_view name) const;
  // The highest end <= a of a function starting before `a`, or 0.
  uint64_t end_before(uint64_t a) const;
  // The lowest start > a, or UINT64_MAX.
  uint64_t start_after(uint64_t a) const;

 private:
  std::vector<Function> functions_;
  uint64_t max_size_ = 0;
};

enum class SymbolSource : uint8_t { symtab, dynsym, none };
std::string_view to_string(SymbolSource source);

struct Segment {
  uint64_t address = 0;      // p_vaddr
  uint64_t file_offset = 0;  // p_offset
  uint64_t file_size = 0;    // p_filesz: the bytes the file holds
  uint64_t memory_size = 0;  // p_memsz
};

struct ElfInfo {
  std::vector<Segment> executable_segments;  // PT_LOAD with PF_X
  FunctionTable functions;
  SymbolSource source = SymbolSource::none;
};

// Reads an x86-64 ELF file. Throws std::runtime_error naming the file and
// the problem (cannot open, not ELF, not x86-64, libelf error).
ElfInfo read_elf(const std::string& path);

}  // namespace hytrace::disasm
