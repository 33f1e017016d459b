// Lookups over the generated syscall table.
#include "syscalls/catalogue.hpp"

#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

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

// The memory one argument of a decoded call shows; nullopt when it cannot be
// described; an empty MemoryArg (max 0) when it shows no memory.
std::optional<MemoryArg> memory_arg(ArgKind kind, detail::Ext ext, bool out, uint8_t i, size_t limit) {
  using Size = MemoryArg::Size;
  using detail::Ext;
  const auto capped = static_cast<uint32_t>(limit + 1);  // one more shows "..."
  const auto fixed = [&](size_t bytes) { return MemoryArg{i, out, Size::kFixed, 0, static_cast<uint32_t>(bytes)}; };
  if (ext != Ext::kNone) {
    // Numbers, flags and enumerations decoded by value read no memory.
    if (ext >= Ext::kOff) return MemoryArg{};
    if (const size_t bytes = detail::fixed_struct_bytes(ext)) return fixed(bytes);
    const auto next = static_cast<uint8_t>(i + 1);  // the buffer's size follows it
    if (ext == Ext::kDirents) return MemoryArg{i, true, Size::kFromResult, next, detail::kMaxStructBytes};
    if (ext == Ext::kCString) return MemoryArg{i, true, Size::kFromResult, next, capped};  // getcwd: length with NUL
    return std::nullopt;
  }
  switch (kind) {
    case ArgKind::kPath: return MemoryArg{i, false, Size::kCString, 0, 4096};
    case ArgKind::kString: return MemoryArg{i, false, Size::kCString, 0, capped};
    case ArgKind::kBufIn: return MemoryArg{i, false, Size::kFromArg, static_cast<uint8_t>(i + 1), capped};
    case ArgKind::kBufOut: return MemoryArg{i, true, Size::kFromResult, static_cast<uint8_t>(i + 1), capped};
    case ArgKind::kStatOut: return MemoryArg{i, true, Size::kFixed, 0, sizeof(struct stat)};
    case ArgKind::kSigSet: return fixed(sizeof(uint64_t));  // the kernel's sigset_t
    case ArgKind::kTimespec: return fixed(sizeof(struct timespec));
    case ArgKind::kSockAddr:
      return MemoryArg{i, false, Size::kFromArg, static_cast<uint8_t>(i + 1), sizeof(struct sockaddr_storage)};
    case ArgKind::kStrArray:
    case ArgKind::kFcntlCmd:
    case ArgKind::kPrctlOp:
    case ArgKind::kFutexOp:
    case ArgKind::kArchPrctlOp:
      return std::nullopt;
    default:
      return MemoryArg{};
  }
}

}  // namespace

std::optional<std::vector<MemoryArg>> memory_args(long nr, size_t string_limit) {
  const SyscallInfo* info = lookup(nr);
  if (!info) return std::nullopt;
  std::vector<MemoryArg> out;
  if (!info->decoded) return out;  // shown as raw numbers
  const detail::ArgDetail& details = detail::details_of(*info);
  for (uint8_t i = 0; i < info->nargs; ++i) {
    if (info->args[i] == ArgKind::kIoctlCmd) {
      // The command's argument (the next one) is shown as at most a
      // struct winsize, read before the call or after it by command.
      const auto arg = static_cast<uint8_t>(i + 1);
      out.push_back(MemoryArg{arg, false, MemoryArg::Size::kFixed, 0, sizeof(struct winsize)});
      out.push_back(MemoryArg{arg, true, MemoryArg::Size::kFixed, 0, sizeof(struct winsize)});
      continue;
    }
    const bool out_arg = (details.out_mask >> i) & 1;
    const auto arg = memory_arg(info->args[i], details.ext[i], out_arg, i, string_limit);
    if (!arg) return std::nullopt;
    if (arg->max) out.push_back(*arg);
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
