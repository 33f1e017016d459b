#include "disasm/elf_symbols.hpp"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <utility>

namespace hytrace::disasm {
namespace {

size_t leading_underscores(const std::string& name) {
  const size_t n = name.find_first_not_of('_');
  return n == std::string::npos ? name.size() : n;
}

bool preferred_name(const std::string& a, const std::string& b) {
  const size_t ua = leading_underscores(a), ub = leading_underscores(b);
  if (ua != ub) return ua < ub;
  if (a.size() != b.size()) return a.size() < b.size();
  return a < b;
}

// Sorts by (start, size) and folds functions with equal start and size into
// one, keeping the preferred name and the others as aliases.
std::vector<Function> merge_aliases(std::vector<Function> in) {
  std::sort(in.begin(), in.end(), [](const Function& a, const Function& b) {
    return a.start != b.start ? a.start < b.start : a.size < b.size;
  });
  std::vector<Function> out;
  for (Function& f : in) {
    if (!out.empty() && out.back().start == f.start && out.back().size == f.size) {
      Function& kept = out.back();
      if (preferred_name(f.name, kept.name)) std::swap(f.name, kept.name);
      if (f.name != kept.name &&
          std::find(kept.aliases.begin(), kept.aliases.end(), f.name) == kept.aliases.end()) {
        kept.aliases.push_back(std::move(f.name));
      }
      continue;
    }
    out.push_back(std::move(f));
  }
  return out;
}

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw std::runtime_error(path + ": " + what);
}

[[noreturn]] void fail_elf(const std::string& path, const char* call) {
  fail(path, std::string(call) + ": " + elf_errmsg(-1));
}

class ElfHandle {
 public:
  explicit ElfHandle(const std::string& path) : path_(path) {
    if (elf_version(EV_CURRENT) == EV_NONE) fail_elf(path, "elf_version");
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) fail(path, std::strerror(errno));
    elf_ = elf_begin(fd_, ELF_C_READ_MMAP, nullptr);
    if (elf_ == nullptr) {
      ::close(fd_);
      fail_elf(path, "elf_begin");
    }
  }
  ~ElfHandle() {
    elf_end(elf_);
    ::close(fd_);
  }
  ElfHandle(const ElfHandle&) = delete;
  ElfHandle& operator=(const ElfHandle&) = delete;

  Elf* get() const { return elf_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
  Elf* elf_ = nullptr;
};

void check_header(const ElfHandle& elf) {
  if (elf_kind(elf.get()) != ELF_K_ELF) fail(elf.path(), "not an ELF file");
  GElf_Ehdr ehdr;
  if (gelf_getehdr(elf.get(), &ehdr) == nullptr) fail_elf(elf.path(), "gelf_getehdr");
  if (ehdr.e_ident[EI_CLASS] != ELFCLASS64 || ehdr.e_machine != EM_X86_64) {
    fail(elf.path(), "not an x86-64 ELF file");
  }
}

std::vector<Segment> executable_segments(const ElfHandle& elf) {
  size_t count = 0;
  if (elf_getphdrnum(elf.get(), &count) != 0) fail_elf(elf.path(), "elf_getphdrnum");
  std::vector<Segment> out;
  for (size_t i = 0; i < count; ++i) {
    GElf_Phdr phdr;
    if (gelf_getphdr(elf.get(), static_cast<int>(i), &phdr) == nullptr) {
      fail_elf(elf.path(), "gelf_getphdr");
    }
    if (phdr.p_type != PT_LOAD || (phdr.p_flags & PF_X) == 0) continue;
    out.push_back(Segment{phdr.p_vaddr, phdr.p_offset, phdr.p_filesz, phdr.p_memsz});
  }
  return out;
}

bool is_function(const GElf_Sym& sym) {
  const int type = GELF_ST_TYPE(sym.st_info);
  return (type == STT_FUNC || type == STT_GNU_IFUNC) && sym.st_size > 0 &&
         sym.st_shndx != SHN_UNDEF;
}

// The function symbols of the first section of `type`; none when absent.
std::vector<Function> functions_in(const ElfHandle& elf, uint32_t type) {
  std::vector<Function> out;
  for (Elf_Scn* scn = elf_nextscn(elf.get(), nullptr); scn != nullptr;
       scn = elf_nextscn(elf.get(), scn)) {
    GElf_Shdr shdr;
    if (gelf_getshdr(scn, &shdr) == nullptr) fail_elf(elf.path(), "gelf_getshdr");
    if (shdr.sh_type != type || shdr.sh_entsize == 0) continue;
    Elf_Data* data = elf_getdata(scn, nullptr);
    if (data == nullptr) fail_elf(elf.path(), "elf_getdata");
    const size_t count = shdr.sh_size / shdr.sh_entsize;
    for (size_t i = 0; i < count; ++i) {
      GElf_Sym sym;
      if (gelf_getsym(data, static_cast<int>(i), &sym) == nullptr || !is_function(sym)) continue;
      const char* name = elf_strptr(elf.get(), shdr.sh_link, sym.st_name);
      out.push_back(Function{sym.st_value, sym.st_size, name != nullptr ? name : "", {}});
    }
    break;
  }
  return out;
}

// The section named `name`, or nullptr.
Elf_Scn* section_named(const ElfHandle& elf, std::string_view name, GElf_Shdr& shdr) {
  size_t names = 0;
  if (elf_getshdrstrndx(elf.get(), &names) != 0) return nullptr;
  for (Elf_Scn* scn = elf_nextscn(elf.get(), nullptr); scn != nullptr; scn = elf_nextscn(elf.get(), scn)) {
    if (gelf_getshdr(scn, &shdr) == nullptr) continue;
    const char* n = elf_strptr(elf.get(), names, shdr.sh_name);
    if (n != nullptr && name == n) return scn;
  }
  return nullptr;
}

// The start address of every FDE, from .eh_frame_hdr's sorted search table,
// in the encoding every x86-64 toolchain writes (4-byte count, 4-byte
// entries relative to the section); empty for any other.
std::vector<uint64_t> fde_starts(const ElfHandle& elf) {
  GElf_Shdr shdr;
  Elf_Scn* scn = section_named(elf, ".eh_frame_hdr", shdr);
  Elf_Data* data = scn != nullptr ? elf_getdata(scn, nullptr) : nullptr;
  if (data == nullptr || data->d_buf == nullptr || data->d_size < 12) return {};
  const auto* bytes = static_cast<const uint8_t*>(data->d_buf);
  const uint8_t version = bytes[0], ptr_enc = bytes[1], count_enc = bytes[2], table_enc = bytes[3];
  // DWARF pointer encodings (DW_EH_PE_*): udata4 3, sdata4 0x0b, datarel 0x30.
  const bool four_byte_ptr = (ptr_enc & 0x0f) == 0x0b || (ptr_enc & 0x0f) == 0x03;
  if (version != 1 || !four_byte_ptr || count_enc != 0x03 || table_enc != 0x3b) {
    return {};
  }
  uint32_t count = 0;
  std::memcpy(&count, bytes + 8, sizeof count);
  if (12 + uint64_t{count} * 8 > data->d_size) return {};
  std::vector<uint64_t> out;
  out.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    int32_t start = 0;
    std::memcpy(&start, bytes + 12 + uint64_t{i} * 8, sizeof start);
    out.push_back(shdr.sh_addr + static_cast<uint64_t>(int64_t{start}));
  }
  return out;
}

// Functions as the call-frame information bounds them: every function the
// compiler emitted unwind data for, with or without a symbol. A stripped
// object (ld.so, most of libc's internals) has no other bounds. Each one
// ends where the next begins: the padding between them is part of it, which
// only makes its region (and the branches checked in it) larger.
std::vector<Function> functions_from_cfi(const ElfHandle& elf, const std::vector<Segment>& segments) {
  std::vector<uint64_t> starts = fde_starts(elf);
  std::sort(starts.begin(), starts.end());
  starts.erase(std::unique(starts.begin(), starts.end()), starts.end());
  std::vector<Function> out;
  for (size_t i = 0; i < starts.size(); ++i) {
    for (const Segment& seg : segments) {
      if (starts[i] < seg.address || starts[i] >= seg.address + seg.file_size) continue;
      const uint64_t segment_end = seg.address + seg.file_size;
      const uint64_t end = i + 1 < starts.size() ? std::min(starts[i + 1], segment_end) : segment_end;
      out.push_back(Function{starts[i], end - starts[i], "", {}});
    }
  }
  return out;
}

// Symbols, plus the CFI ranges that start where no symbol does.
std::vector<Function> with_cfi_functions(std::vector<Function> symbols, const ElfHandle& elf,
                                         const std::vector<Segment>& segments) {
  std::vector<uint64_t> starts;
  for (const Function& f : symbols) starts.push_back(f.start);
  std::sort(starts.begin(), starts.end());
  for (Function& f : functions_from_cfi(elf, segments)) {
    if (!std::binary_search(starts.begin(), starts.end(), f.start)) symbols.push_back(std::move(f));
  }
  return symbols;
}

}  // namespace

bool Function::has_name(std::string_view n) const {
  return name == n || std::find(aliases.begin(), aliases.end(), n) != aliases.end();
}

FunctionTable::FunctionTable(std::vector<Function> functions)
    : functions_(merge_aliases(std::move(functions))) {
  for (const Function& f : functions_) max_size_ = std::max(max_size_, f.size);
}

const Function* FunctionTable::containing(uint64_t a) const {
  auto it = std::upper_bound(functions_.begin(), functions_.end(), a,
                             [](uint64_t x, const Function& f) { return x < f.start; });
  while (it != functions_.begin()) {
    --it;
    if (it->contains(a)) return &*it;
    if (a - it->start >= max_size_) break;  // no earlier function reaches `a`
  }
  return nullptr;
}

const Function* FunctionTable::named(std::string_view name) const {
  for (const Function& f : functions_) {
    if (f.has_name(name)) return &f;
  }
  return nullptr;
}

uint64_t FunctionTable::end_before(uint64_t a) const {
  auto it = std::lower_bound(functions_.begin(), functions_.end(), a,
                             [](const Function& f, uint64_t x) { return f.start < x; });
  uint64_t best = 0;
  while (it != functions_.begin()) {
    --it;
    if (it->end() <= a) best = std::max(best, it->end());
    if (it->start + max_size_ <= best) break;  // no earlier function ends later
  }
  return best;
}

uint64_t FunctionTable::start_after(uint64_t a) const {
  auto it = std::upper_bound(functions_.begin(), functions_.end(), a,
                             [](uint64_t x, const Function& f) { return x < f.start; });
  return it == functions_.end() ? std::numeric_limits<uint64_t>::max() : it->start;
}

std::string_view to_string(SymbolSource source) {
  switch (source) {
    case SymbolSource::symtab:
      return "symtab";
    case SymbolSource::dynsym:
      return "dynsym";
    case SymbolSource::none:
      return "none";
  }
  return "?";
}

ElfInfo read_elf(const std::string& path) {
  ElfHandle elf(path);
  check_header(elf);
  ElfInfo info;
  info.executable_segments = executable_segments(elf);
  std::vector<Function> functions = functions_in(elf, SHT_SYMTAB);
  info.source = SymbolSource::symtab;
  if (functions.empty()) {
    functions = functions_in(elf, SHT_DYNSYM);
    info.source = functions.empty() ? SymbolSource::none : SymbolSource::dynsym;
  }
  info.functions = FunctionTable(with_cfi_functions(std::move(functions), elf, info.executable_segments));
  return info;
}

}  // namespace hytrace::disasm
