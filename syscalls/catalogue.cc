// Lookups over the generated syscall table.
#include "syscalls/catalogue.hpp"

#include <algorithm>

#include "syscalls/detail.hpp"

namespace hytrace::syscalls {
namespace {

struct ClassName {
  std::string_view name;
  uint32_t bits;
};

constexpr ClassName kClassNames[] = {
    {"file", kFile},     {"desc", kDesc},       {"network", kNetwork}, {"net", kNetwork},
    {"process", kProcess}, {"signal", kSignal}, {"memory", kMemory},   {"ipc", kIpc},
    {"creds", kCreds},   {"clock", kClock},     {"stat", kStat},
};

}  // namespace

const SyscallInfo* lookup(long nr) {
  auto slots = detail::generated_slot_by_nr();
  if (nr < 0 || static_cast<size_t>(nr) >= slots.size()) return nullptr;
  int16_t slot = slots[static_cast<size_t>(nr)];
  return slot < 0 ? nullptr : &detail::generated_table()[static_cast<size_t>(slot)];
}

std::optional<long> number_of(std::string_view name) {
  auto table = detail::generated_table();
  auto order = detail::generated_name_order();
  auto it = std::lower_bound(order.begin(), order.end(), name,
                             [&](uint16_t i, std::string_view n) { return table[i].name < n; });
  if (it == order.end() || table[*it].name != name) return std::nullopt;
  return table[*it].nr;
}

std::span<const SyscallInfo> all() { return detail::generated_table(); }

std::optional<uint32_t> class_from_name(std::string_view name) {
  if (name.starts_with('%')) name.remove_prefix(1);
  for (const ClassName& c : kClassNames) {
    if (c.name == name) return c.bits;
  }
  return std::nullopt;
}

namespace detail {

const ArgDetail& details_of(const SyscallInfo& info) {
  auto table = generated_table();
  return generated_details()[static_cast<size_t>(&info - table.data())];
}

}  // namespace detail
}  // namespace hytrace::syscalls
