// The flag and value printers.
#include "syscalls/flags.hpp"

#include <iterator>

#include <fmt/format.h>

namespace hytrace::syscalls::detail {
namespace {

void put_hex(std::string& out, uint64_t value) {
  fmt::format_to(std::back_inserter(out), "{:#x}", value);
}

void put_unknown(std::string& out, uint64_t value, const char* unknown) {
  put_hex(out, value);
  if (unknown != nullptr) {
    out += " /* ";
    out += unknown;
    out += " */";
  }
}

}  // namespace

const char* find_name(FlagTable table, uint64_t value) {
  for (const hytrace_flag& f : table) {
    if (f.value == value) return f.name;
  }
  return nullptr;
}

void put_flags(std::string& out, FlagTable table, uint64_t value, const char* unknown) {
  if (value == 0) {
    const char* zero = find_name(table, 0);
    out += zero != nullptr ? zero : "0";
    return;
  }
  uint64_t left = value;
  bool first = true;
  for (const hytrace_flag& f : table) {
    if (f.value == 0 || (left & f.value) != f.value) continue;
    if (!first) out += '|';
    out += f.name;
    first = false;
    left &= ~f.value;
  }
  if (left == 0) return;
  if (first) {
    put_unknown(out, left, unknown);
    return;
  }
  out += '|';
  put_hex(out, left);
}

void put_enum(std::string& out, FlagTable table, uint64_t value, const char* unknown) {
  const char* name = find_name(table, value);
  if (name != nullptr) {
    out += name;
  } else {
    put_unknown(out, value, unknown);
  }
}

}  // namespace hytrace::syscalls::detail
