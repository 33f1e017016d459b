// Lookups over the generated syscall table.
#include "syscalls/catalogue.hpp"

#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>

#include "syscalls/detail.hpp"
#include "syscalls/effects.hpp"
#include "syscalls/effects_rules.hpp"

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

namespace {

std::span<const std::string_view> foreign_names(Abi abi) {
  return abi == Abi::kX32 ? detail::generated_x32_names() : detail::generated_i386_names();
}

}  // namespace

std::string_view name_of(Abi abi, long nr) {
  if (abi == Abi::kX86_64) {
    const SyscallInfo* info = lookup(nr);
    return info ? info->name : std::string_view();
  }
  auto names = foreign_names(abi);
  if (nr < 0 || static_cast<size_t>(nr) >= names.size()) return {};
  return names[static_cast<size_t>(nr)];
}

std::optional<long> number_of(Abi abi, std::string_view name) {
  if (abi == Abi::kX86_64) return number_of(name);
  if (name.empty()) return std::nullopt;
  auto names = foreign_names(abi);
  auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end()) return std::nullopt;
  return it - names.begin();
}

namespace {

// role_of's answers by ABI and number, built once from the names.
std::vector<Role> roles_of(Abi abi) {
  struct Entry {
    std::string_view name;
    Role role;
  };
  static constexpr Entry kRoles[] = {
      {"fork", Role::kFork},       {"vfork", Role::kVfork},
      {"clone", Role::kClone},     {"clone3", Role::kClone3},
      {"execve", Role::kExec},     {"execveat", Role::kExec},
      {"rt_sigreturn", Role::kSigreturn}, {"sigreturn", Role::kSigreturn},
      {"exit", Role::kExit},       {"exit_group", Role::kExit},
      {"prctl", Role::kPrctl},     {"seccomp", Role::kSeccomp},
      {"ptrace", Role::kPtrace},   {"wait4", Role::kWait4},
      {"waitid", Role::kWait4},
  };
  std::vector<Role> roles;
  for (const Entry& e : kRoles) {
    const std::optional<long> nr = number_of(abi, e.name);
    if (!nr) continue;
    if (roles.size() <= static_cast<size_t>(*nr)) roles.resize(static_cast<size_t>(*nr) + 1, Role::kNone);
    roles[static_cast<size_t>(*nr)] = e.role;
  }
  return roles;
}

}  // namespace

Role role_of(Abi abi, long nr) {
  static const std::vector<Role> kByAbi[] = {roles_of(Abi::kX86_64), roles_of(Abi::kI386),
                                             roles_of(Abi::kX32)};
  const std::vector<Role>& roles = kByAbi[static_cast<size_t>(abi)];
  if (nr < 0 || static_cast<size_t>(nr) >= roles.size()) return Role::kNone;
  return roles[static_cast<size_t>(nr)];
}

std::optional<uint32_t> class_from_name(std::string_view name) {
  if (name.starts_with('%')) name.remove_prefix(1);
  for (const ClassName& c : kClassNames) {
    if (c.name == name) return c.bits;
  }
  return std::nullopt;
}

namespace {

using detail::Count;
using detail::Dir;
using detail::Ext;
using detail::Shape;
using detail::Term;

// How many bytes of argument i the formatter can show: it reads no more of
// what the kernel read or wrote there (0: it shows the value alone). -s
// caps strings and buffers, never structures.
uint32_t shown_bytes(const SyscallInfo& info, const detail::ArgDetail& details, uint8_t i,
                     size_t string_limit) {
  const auto capped = static_cast<uint32_t>(string_limit + 1);  // one more shows "..."
  const Ext ext = details.ext[i];
  if (ext != Ext::kNone) {
    if (ext >= Ext::kOff) return 0;  // numbers, flags and enumerations
    if (ext == Ext::kHexBuf || ext == Ext::kCString) return capped;
    if (ext == Ext::kSockAddrOut) return sizeof(struct sockaddr_storage);
    if (const size_t bytes = detail::fixed_struct_bytes(ext)) return static_cast<uint32_t>(bytes);
    return detail::kMaxStructBytes;
  }
  switch (info.args[i]) {
    case ArgKind::kPath: return 4096;
    case ArgKind::kString:
    case ArgKind::kBufIn:
    case ArgKind::kBufOut: return capped;
    case ArgKind::kSockAddr: return sizeof(struct sockaddr_storage);
    case ArgKind::kStatOut: return sizeof(struct stat);
    case ArgKind::kTimespec: return sizeof(struct timespec);
    case ArgKind::kSigSet: return sizeof(uint64_t);  // the kernel's sigset_t
    default: return 0;
  }
}

bool plain_count(const Count& c, Count::Kind kind) { return c.kind == kind && c.elem == 1; }

// One term of the description as the stub's capture rules, at most `shown`
// bytes; false when the stub cannot evaluate it.
bool add_captures(const Term& t, uint32_t shown, std::vector<MemoryArg>& out) {
  using Size = MemoryArg::Size;
  if (t.fixed_addr != 0) return false;
  const bool in = static_cast<uint8_t>(t.dir) & static_cast<uint8_t>(Dir::kIn);
  const bool written = static_cast<uint8_t>(t.dir) & static_cast<uint8_t>(Dir::kOut);
  if (t.shape == Shape::kCString) {
    out.push_back(MemoryArg{t.arg, false, Size::kCString, 0, shown});
    return true;
  }
  if (t.shape != Shape::kBytes) return false;
  if (t.size.kind == Count::Kind::kLiteral && t.cap.kind == Count::Kind::kNone) {
    const auto bytes = std::min<uint64_t>(uint64_t{t.size.literal} * t.size.elem, shown);
    if (in) out.push_back(MemoryArg{t.arg, false, Size::kFixed, 0, static_cast<uint32_t>(bytes)});
    if (written) out.push_back(MemoryArg{t.arg, true, Size::kFixed, 0, static_cast<uint32_t>(bytes)});
    return true;
  }
  if (t.dir == Dir::kIn && plain_count(t.size, Count::Kind::kArg) && t.cap.kind == Count::Kind::kNone) {
    out.push_back(MemoryArg{t.arg, false, Size::kFromArg, t.size.arg, shown});
    return true;
  }
  if (t.dir == Dir::kOut && plain_count(t.size, Count::Kind::kResult) && plain_count(t.cap, Count::Kind::kArg)) {
    out.push_back(MemoryArg{t.arg, true, Size::kFromResult, t.cap.arg, shown});
    return true;
  }
  return false;
}

// ioctl's third argument is shown as at most a struct winsize, in or out by
// command. The stub cannot evaluate the command rules of effects.tbl, so
// this display-only capture stays (both ways, clipped to what is shown).
std::vector<MemoryArg> ioctl_captures() {
  constexpr auto kWinsize = static_cast<uint32_t>(sizeof(struct winsize));
  return {MemoryArg{2, false, MemoryArg::Size::kFixed, 0, kWinsize},
          MemoryArg{2, true, MemoryArg::Size::kFixed, 0, kWinsize}};
}

}  // namespace

std::optional<std::vector<MemoryArg>> memory_args(long nr, size_t string_limit) {
  const SyscallInfo* info = lookup(nr);
  if (!info) return std::nullopt;
  const auto index = static_cast<size_t>(info - detail::generated_table().data());
  const detail::EffectsRow& row = detail::generated_effects()[index];
  if (row.coverage == Coverage::kUnknown) return std::nullopt;  // fail closed
  if (row.handler == detail::Handler::kIoctl) return ioctl_captures();
  if (row.handler != detail::Handler::kNone) return std::nullopt;
  std::vector<MemoryArg> out;
  if (!info->decoded) return out;  // shown as raw numbers
  const detail::ArgDetail& details = detail::details_of(*info);
  for (uint8_t i = 0; i < row.nterms; ++i) {
    const Term& t = row.terms[i];
    if (t.arg >= info->nargs) continue;
    const uint32_t shown = shown_bytes(*info, details, t.arg, string_limit);
    if (shown == 0) continue;
    if (!add_captures(t, shown, out)) return std::nullopt;
  }
  return out;
}

std::optional<PlainCommands> plain_commands(long nr) {
  const SyscallInfo* info = lookup(nr);
  if (!info) return std::nullopt;
  const auto index = static_cast<size_t>(info - detail::generated_table().data());
  const detail::EffectsRow& row = detail::generated_effects()[index];
  if (row.coverage == Coverage::kUnknown) return std::nullopt;
  const detail::PlainCommandList list = detail::plain_commands_of(row.handler);
  if (list.values.empty()) return std::nullopt;
  return PlainCommands{list.arg, {list.values.begin(), list.values.end()}};
}

namespace {

// One output term as an exact capture; false when the stub cannot make it.
bool add_exact_output(const Term& t, uint32_t most_output, std::vector<MemoryArg>& out) {
  using Size = MemoryArg::Size;
  if (t.fixed_addr != 0 || t.shape != Shape::kBytes) return false;
  const bool only_out = t.dir == Dir::kOut;
  if (t.size.kind == Count::Kind::kLiteral && t.cap.kind == Count::Kind::kNone) {
    const uint64_t bytes = uint64_t{t.size.literal} * t.size.elem;
    if (bytes > most_output) return false;
    out.push_back(MemoryArg{t.arg, true, Size::kFixed, 0, static_cast<uint32_t>(bytes), true, false});
    return true;
  }
  if (only_out && plain_count(t.size, Count::Kind::kResult) && plain_count(t.cap, Count::Kind::kArg)) {
    out.push_back(MemoryArg{t.arg, true, Size::kFromResult, t.cap.arg, most_output, true, true});
    return true;
  }
  return false;
}

}  // namespace

std::optional<std::vector<MemoryArg>> recorded_args(long nr, size_t string_limit, uint32_t most_output) {
  const SyscallInfo* info = lookup(nr);
  if (!info) return std::nullopt;
  const auto index = static_cast<size_t>(info - detail::generated_table().data());
  const detail::EffectsRow& row = detail::generated_effects()[index];
  if (row.coverage == Coverage::kUnknown || row.handler != detail::Handler::kNone) return std::nullopt;
  std::vector<MemoryArg> out;
  const detail::ArgDetail& details = detail::details_of(*info);
  for (uint8_t i = 0; i < row.nterms; ++i) {
    const Term& t = row.terms[i];
    if (t.arg >= info->nargs) return std::nullopt;  // the table and the catalogue disagree
    if (static_cast<uint8_t>(t.dir) & static_cast<uint8_t>(Dir::kOut)) {
      if (!add_exact_output(t, most_output, out)) return std::nullopt;
      continue;
    }
    // What the kernel reads is for dump only: a term the stub cannot
    // evaluate is not captured, and the call is served all the same.
    const uint32_t shown = info->decoded ? shown_bytes(*info, details, t.arg, string_limit) : 0;
    if (shown != 0) add_captures(t, shown, out);
  }
  // The stub lays an exit record's captures out back to back, so only the
  // last of them can be the one the kernel writes into directly.
  auto redirect = std::find_if(out.begin(), out.end(), [](const MemoryArg& m) { return m.redirect; });
  if (redirect != out.end()) {
    const MemoryArg last = *redirect;
    out.erase(redirect);
    for (MemoryArg& m : out) m.redirect = false;
    out.push_back(last);
  }
  return out;
}

namespace detail {

const ArgDetail& details_of(const SyscallInfo& info) {
  auto table = generated_table();
  return generated_details()[static_cast<size_t>(&info - table.data())];
}

}  // namespace detail
}  // namespace hytrace::syscalls
