// Typed decoding of a call's paths, socket addresses and flag sets.
#include "syscalls/decode.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <cstring>
#include <string_view>

#include <nlohmann/json.hpp>

#include "syscalls/catalogue.hpp"
#include "syscalls/detail.hpp"
#include "syscalls/flags.hpp"
#include "syscalls/render.hpp"

namespace hytrace::syscalls {
namespace {

using detail::Ext;

constexpr size_t kPathMax = 4096;

// Calls that act on the last component itself: a symlink there is not
// followed (unless a flag says so, as linkat's AT_SYMLINK_FOLLOW).
constexpr std::string_view kNoFollow[] = {
    "lstat", "lchown", "lsetxattr", "lgetxattr", "llistxattr", "lremovexattr", "readlink",
    "readlinkat", "unlink", "unlinkat", "rmdir", "rename", "renameat", "renameat2", "link",
    "linkat", "symlink", "symlinkat", "mkdir", "mkdirat", "mknod", "mknodat",
};

bool no_follow_call(std::string_view name) {
  return std::find(std::begin(kNoFollow), std::end(kNoFollow), name) != std::end(kNoFollow);
}

Path read_path(MemoryReader& mem, uint64_t addr) {
  Path p;
  char chunk[256];
  while (p.text.size() < kPathMax) {
    const size_t got = mem.read(addr + p.text.size(), chunk, sizeof chunk);
    const char* nul = static_cast<const char*>(std::memchr(chunk, 0, got));
    p.text.append(chunk, nul ? static_cast<size_t>(nul - chunk) : got);
    if (nul) return p;
    if (got < sizeof chunk) break;
  }
  p.complete = false;
  return p;
}

// The flags argument of a call that takes AT_* flags, if any.
std::optional<uint64_t> at_flags_of(const Call& call, const SyscallInfo& info, const detail::ArgDetail& d) {
  for (uint8_t i = 0; i < info.nargs; ++i) {
    if (info.args[i] == ArgKind::kAtFlags || d.ext[i] == Ext::kStatxFlags) return call.args[i];
  }
  return std::nullopt;
}

// How a path argument resolves: its directory and the flags of the call.
void resolve_context(Path& p, uint8_t index, const Call& call, const SyscallInfo& info,
                     const detail::ArgDetail& d, MemoryReader& mem) {
  if (index > 0 && info.args[index - 1] == ArgKind::kDirFd) {
    p.dirfd = static_cast<int32_t>(call.args[index - 1]);
  }
  p.follow = !no_follow_call(info.name);
  if (const auto flags = at_flags_of(call, info, d)) {
    if (*flags & AT_SYMLINK_NOFOLLOW) p.follow = false;
    if (*flags & AT_SYMLINK_FOLLOW) p.follow = true;
    p.empty_path = (*flags & AT_EMPTY_PATH) != 0;
  }
  for (uint8_t i = 0; i < info.nargs; ++i) {
    if (info.args[i] == ArgKind::kOpenFlags && (call.args[i] & O_NOFOLLOW)) p.follow = false;
    if (d.ext[i] == Ext::kOpenHow) {
      struct open_how how {};
      if (detail::read_exact(mem, call.args[i], &how, std::min<uint64_t>(call.args[i + 1], sizeof how))) {
        if (how.flags & O_NOFOLLOW) p.follow = false;
        p.resolve = how.resolve;
      }
    }
  }
}

SockAddr read_sockaddr(MemoryReader& mem, uint64_t addr, uint64_t len) {
  SockAddr a;
  sockaddr_storage ss{};
  const size_t size = static_cast<size_t>(std::min<uint64_t>(len, sizeof ss));
  if (size < sizeof(sa_family_t) || !detail::read_exact(mem, addr, &ss, size)) {
    a.complete = false;
    return a;
  }
  a.family = ss.ss_family;
  char text[INET6_ADDRSTRLEN] = {};
  if (a.family == AF_INET) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(ss);
    a.complete = size >= sizeof in;
    if (!a.complete) return a;
    inet_ntop(AF_INET, &in.sin_addr, text, sizeof text);
    a.address = text;
    a.port = ntohs(in.sin_port);
  } else if (a.family == AF_INET6) {
    const auto& in6 = reinterpret_cast<const sockaddr_in6&>(ss);
    a.complete = size >= sizeof in6;
    if (!a.complete) return a;
    inet_ntop(AF_INET6, &in6.sin6_addr, text, sizeof text);
    a.address = text;
    a.port = ntohs(in6.sin6_port);
  } else if (a.family == AF_UNIX) {
    const auto& un = reinterpret_cast<const sockaddr_un&>(ss);
    const size_t path_len = std::min(size - sizeof(sa_family_t), sizeof un.sun_path);
    if (path_len > 0 && un.sun_path[0] == '\0') {
      a.abstract = true;
      a.address.assign(un.sun_path + 1, path_len - 1);
    } else {
      a.address.assign(un.sun_path, strnlen(un.sun_path, path_len));
    }
  }
  return a;
}

bool is_flag_set(ArgKind kind, Ext ext) {
  if (ext >= Ext::kOFlags && ext <= Ext::kXattrFlags) return true;
  switch (kind) {
    case ArgKind::kOpenFlags: case ArgKind::kAtFlags: case ArgKind::kProtFlags:
    case ArgKind::kMmapFlags: case ArgKind::kCloneFlags: case ArgKind::kWaitOptions:
    case ArgKind::kAccessMode: case ArgKind::kSockType:
      return ext == Ext::kNone;
    default:
      return false;
  }
}

// The names of a flag set, as the strace-style text names them (one table
// of names, in syscalls/flags_*.cc).
FlagSet flag_set(uint8_t index, const detail::Ctx& ctx) {
  std::string text;
  detail::put_arg(text, index, false, ctx);
  FlagSet f;
  f.value = ctx.call.args[index];
  if (const size_t comment = text.find(" /*"); comment != std::string::npos) text.resize(comment);
  size_t start = 0;
  while (start <= text.size()) {
    const size_t bar = std::min(text.find('|', start), text.size());
    if (bar > start) f.names.push_back(text.substr(start, bar - start));
    start = bar + 1;
  }
  return f;
}

const SyscallInfo* described(const Call& call) {
  if (call.abi != Abi::kX86_64) return nullptr;
  const SyscallInfo* info = lookup(call.nr);
  return info && info->decoded ? info : nullptr;
}

}  // namespace

Decoded decode_entry(const Call& call, MemoryReader& mem) {
  Decoded out;
  const SyscallInfo* info = described(call);
  if (!info) return out;
  const detail::ArgDetail& d = detail::details_of(*info);
  const FormatOptions opts;
  const detail::Ctx ctx{.call = call, .info = *info, .detail = d, .mem = mem, .opts = opts};
  for (uint8_t i = 0; i < info->nargs; ++i) {
    const uint64_t v = call.args[i];
    if (info->args[i] == ArgKind::kPath && v != 0) {
      Path p = read_path(mem, v);
      resolve_context(p, i, call, *info, d, mem);
      out.fields.push_back({i, std::move(p)});
    } else if (info->args[i] == ArgKind::kSockAddr && d.ext[i] == Ext::kNone && v != 0 && i + 1 < 6) {
      out.fields.push_back({i, read_sockaddr(mem, v, call.args[i + 1])});
    } else if (is_flag_set(info->args[i], d.ext[i])) {
      out.fields.push_back({i, flag_set(i, ctx)});
    }
  }
  return out;
}

void decode_exit(Decoded& decoded, const Call& call, long result, MemoryReader& mem) {
  const SyscallInfo* info = described(call);
  if (!info || (result < 0 && result >= -detail::kMaxErrno)) return;
  const detail::ArgDetail& d = detail::details_of(*info);
  for (uint8_t i = 0; i + 1 < info->nargs; ++i) {
    if (d.ext[i] != Ext::kSockAddrOut || call.args[i] == 0 || call.args[i + 1] == 0) continue;
    uint32_t len = 0;
    if (!detail::read_value(mem, call.args[i + 1], len)) continue;
    decoded.fields.push_back({i, read_sockaddr(mem, call.args[i], len)});
  }
}

namespace {

nlohmann::json path_json(const Path& p) {
  nlohmann::json j = {{"path", p.text}, {"dirfd", p.dirfd}, {"follow", p.follow}};
  if (!p.complete) j["complete"] = false;
  if (p.empty_path) j["empty_path"] = true;
  if (p.resolve) j["resolve"] = p.resolve;
  return j;
}

nlohmann::json sockaddr_json(const SockAddr& a) {
  std::string family;
  detail::put_enum(family, detail::address_families(), static_cast<uint64_t>(a.family), "AF_???");
  nlohmann::json j = {{"family", family}, {"address", a.address}};
  if (a.port >= 0) j["port"] = a.port;
  if (a.abstract) j["abstract"] = true;
  if (!a.complete) j["complete"] = false;
  return j;
}

}  // namespace

nlohmann::json to_json(const Decoded& decoded) {
  nlohmann::json fields = nlohmann::json::array();
  for (const Field& f : decoded.fields) {
    nlohmann::json j = {{"arg", f.arg}};
    if (const auto* p = std::get_if<Path>(&f.value)) j["path"] = path_json(*p);
    if (const auto* a = std::get_if<SockAddr>(&f.value)) j["sockaddr"] = sockaddr_json(*a);
    if (const auto* s = std::get_if<FlagSet>(&f.value)) j["flags"] = {{"value", s->value}, {"names", s->names}};
    fields.push_back(std::move(j));
  }
  return fields;
}

}  // namespace hytrace::syscalls
