#include "tracer/syscall_set.hpp"

#include <string>

#include "syscalls/catalogue.hpp"

namespace hytrace::tracer {
namespace {

size_t table_size() { return static_cast<size_t>(syscalls::all().back().nr) + 1; }

void add_class(std::vector<bool>& bits, uint32_t cls) {
  for (const auto& info : syscalls::all()) {
    if (info.classes & cls) bits[info.nr] = true;
  }
}

void add_term(std::vector<bool>& bits, std::string_view term) {
  if (term == "all") {
    bits.assign(bits.size(), true);
  } else if (term == "none") {
    // adds nothing
  } else if (term.starts_with('%')) {
    const auto cls = syscalls::class_from_name(term);
    if (!cls) throw std::invalid_argument("invalid system call class '" + std::string(term) + "'");
    add_class(bits, *cls);
  } else if (const auto nr = syscalls::number_of(term)) {
    bits[*nr] = true;
  } else {
    throw std::invalid_argument("invalid system call '" + std::string(term) + "'");
  }
}

}  // namespace

SyscallSet::SyscallSet() : bits_(table_size(), true) {}

SyscallSet SyscallSet::parse(std::string_view expr) {
  if (expr.starts_with("trace=")) expr.remove_prefix(6);
  const bool negate = expr.starts_with('!');
  if (negate) expr.remove_prefix(1);
  if (expr.empty()) throw std::invalid_argument("empty system call set");
  SyscallSet set;
  set.bits_.assign(table_size(), false);
  while (!expr.empty()) {
    const size_t comma = expr.find(',');
    const std::string_view term = expr.substr(0, comma);
    if (term.empty()) throw std::invalid_argument("empty name in system call set");
    add_term(set.bits_, term);
    expr = comma == std::string_view::npos ? std::string_view{} : expr.substr(comma + 1);
  }
  if (negate) set.bits_.flip();
  return set;
}

}  // namespace hytrace::tracer
