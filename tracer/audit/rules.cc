// Deciding path and network rules for one call. Everything a traced
// program hands in (flags, paths, socket addresses and their lengths) is
// hostile: sizes are checked before every read, matching is bounded by the
// pattern's and the path's lengths, and nothing here can throw but
// std::bad_alloc.
#include "tracer/audit/rules.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace hytrace::audit {
namespace {

// --- path accesses ----------------------------------------------------------

// Changing a file's mode, owner, timestamps or extended attributes counts as
// writing it: a rule that keeps a file from being written should keep it
// from being made world-writable (chmod), given away (chown) or given file
// capabilities (setxattr "security.capability") too.
constexpr uint32_t kMetadataAccess = kAccessWrite;

// An openat2 whose struct open_how the caller could not read: every access
// opening may have, so that a rule about any of them applies.
constexpr uint32_t kAnyOpenAccess = kAccessRead | kAccessWrite | kAccessCreate | kAccessTruncate;

uint32_t low_flags(uint64_t arg) { return static_cast<uint32_t>(arg); }  // the kernel's `int flags`

}  // namespace

uint32_t open_access(uint64_t flags) {
  // O_PATH opens neither for reading nor for writing; open and openat drop
  // the other flags with it (O_CREAT, O_TRUNC), openat2 refuses them.
  if (flags & O_PATH) return 0;
  uint32_t access = 0;
  switch (flags & O_ACCMODE) {
    case O_RDONLY: access = kAccessRead; break;
    case O_WRONLY: access = kAccessWrite; break;
    default: access = kAccessRead | kAccessWrite; break;  // O_RDWR, and 3: Linux checks both
  }
  // O_CREAT may only open an existing file; whether it exists is not known
  // at the call's entry, so it counts as creating.
  if (flags & O_CREAT) access |= kAccessCreate;
  // O_TMPFILE makes an unnamed file in the directory, which linkat can name.
  if ((flags & O_TMPFILE) == O_TMPFILE) access |= kAccessCreate;
  if (flags & O_TRUNC) access |= kAccessTruncate;
  return access;
}

std::vector<uint32_t> path_accesses(long nr, std::span<const uint64_t, 6> args,
                                    std::optional<uint64_t> open_how_flags) {
  switch (nr) {
    case SYS_open: return {open_access(low_flags(args[1]))};
    case SYS_openat: return {open_access(low_flags(args[2]))};
    case SYS_openat2: return {open_how_flags ? open_access(*open_how_flags) : kAnyOpenAccess};
    case SYS_creat: return {open_access(O_CREAT | O_WRONLY | O_TRUNC)};  // what creat(2) is

    case SYS_execve:
    case SYS_execveat: return {kAccessExec};

    case SYS_unlink:
    case SYS_rmdir:
    case SYS_unlinkat: return {kAccessUnlink};  // with or without AT_REMOVEDIR

    case SYS_rename:
    case SYS_renameat:
    case SYS_renameat2: return {kAccessRename, kAccessRename};  // RENAME_EXCHANGE too

    // A hard link is a second name for the same file: leaving with that
    // name is moving the file away from its rules, so the old path counts
    // as renamed, as the design says.
    case SYS_link:
    case SYS_linkat: return {kAccessRename, kAccessCreate};

    // The target is any string, stored in the link; the kernel does not
    // resolve it here (and absolute_paths' form of a relative one, joined
    // to the cwd, is not where the link will point). Only the new link is.
    case SYS_symlink:
    case SYS_symlinkat: return {0, kAccessCreate};

    case SYS_mkdir:
    case SYS_mkdirat:
    case SYS_mknod:
    case SYS_mknodat: return {kAccessCreate};

    case SYS_truncate: return {kAccessTruncate};

    case SYS_chmod:
    case SYS_fchmodat:
    case SYS_chown:
    case SYS_lchown:
    case SYS_fchownat:
    case SYS_utime:
    case SYS_utimes:
    case SYS_futimesat:
    case SYS_utimensat:  // a NULL path: the file of its dirfd (futimens; tracer::path_arguments)
    case SYS_setxattr:
    case SYS_lsetxattr:
    case SYS_removexattr:
    case SYS_lremovexattr: return {kMetadataAccess};

    // The kernel opens these files itself: acct to append records, swapon
    // to read and write pages.
    case SYS_acct: return {kAccessWrite};
    case SYS_swapon: return {kAccessRead | kAccessWrite};

    default: return {};
  }
}

// --- path rules ---------------------------------------------------------------

namespace {

std::vector<std::string_view> components_of(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (start < path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (end > start) parts.push_back(path.substr(start, end - start));  // "//" holds no component
    start = end + 1;
  }
  return parts;
}

// One component against one component of a glob: '*' any bytes, '?' one
// byte. The greedy match with one resume point: at most pattern x text
// steps, however many '*' a pattern has (no exponential backtracking).
bool component_matches(std::string_view pattern, std::string_view text) {
  size_t p = 0;
  size_t t = 0;
  size_t star = std::string_view::npos;  // the last '*' seen
  size_t resume = 0;                     // where the text resumes when that '*' takes one more byte
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

// The same greedy match one level up: a "**" component takes any number of
// path components, any other one exactly one. Taking the earliest match
// after each "**" is enough, since the next "**" can absorb what a later
// one would have.
bool glob_matches(const std::vector<std::string_view>& pattern,
                  const std::vector<std::string_view>& path) {
  size_t p = 0;
  size_t t = 0;
  size_t star = SIZE_MAX;
  size_t resume = 0;
  while (t < path.size()) {
    if (p < pattern.size() && pattern[p] == "**") {
      star = p++;
      resume = t;
    } else if (p < pattern.size() && component_matches(pattern[p], path[t])) {
      ++p;
      ++t;
    } else if (star != SIZE_MAX) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == "**") ++p;
  return p == pattern.size();
}

// A prefix matches itself and what is under it, by whole components: the
// byte after it in the path must be '/'. "/" is under nothing, and over all.
bool prefix_matches(std::string_view prefix, std::string_view path) {
  while (prefix.size() > 1 && prefix.back() == '/') prefix.remove_suffix(1);  // a rule made by hand
  if (prefix == "/") return true;
  return path.starts_with(prefix) && (path.size() == prefix.size() || path[prefix.size()] == '/');
}

// `path` is normal already; `parts` its components.
bool matches_normal(const PathRule& rule, std::string_view path,
                    const std::vector<std::string_view>& parts) {
  if (!rule.is_glob) return prefix_matches(rule.pattern, path);
  return glob_matches(components_of(rule.pattern), parts);
}

}  // namespace

std::optional<std::string> normalized_path(std::string_view path) {
  if (path.empty() || path[0] != '/') return std::nullopt;
  std::vector<std::string_view> kept;
  for (std::string_view part : components_of(path)) {
    if (part == ".") continue;
    if (part == "..") {
      if (!kept.empty()) kept.pop_back();  // "/.." is "/", as for the kernel
      continue;
    }
    kept.push_back(part);
  }
  if (kept.empty()) return "/";
  std::string out;
  out.reserve(path.size());
  for (std::string_view part : kept) {
    out += '/';
    out += part;
  }
  return out;
}

bool path_matches(const PathRule& rule, std::string_view path) {
  const std::optional<std::string> normal = normalized_path(path);
  return normal && matches_normal(rule, *normal, components_of(*normal));
}

std::optional<PathDecision> decide_path(const std::vector<PathRule>& rules, std::string_view path,
                                        uint32_t access) {
  if (access == 0) return std::nullopt;
  const std::optional<std::string> normal = normalized_path(path);
  if (!normal) return std::nullopt;
  const std::vector<std::string_view> parts = components_of(*normal);
  for (const PathRule& rule : rules) {
    if ((rule.access & access) != 0 && matches_normal(rule, *normal, parts)) {
      return PathDecision{rule.action, rule.index};
    }
  }
  return std::nullopt;
}

// --- network rules ------------------------------------------------------------

namespace {

// The kernel's shortest addresses: connect and bind refuse shorter ones
// with EINVAL. For IPv6 that is the RFC 2133 sockaddr_in6, without
// sin6_scope_id (SIN6_LEN_RFC2133).
constexpr size_t kInetLength = sizeof(sockaddr_in);  // 16
constexpr size_t kInet6Length = 24;
constexpr size_t kMaxForms = 3;

// The destination of a call: its port and its address in each form a rule
// may name it by (an IpPrefix of full length).
struct Destination {
  uint16_t port = 0;
  std::array<IpPrefix, kMaxForms> forms{};
  size_t count = 0;
  void add(const IpPrefix& form) {
    if (count < kMaxForms) forms[count++] = form;
  }
};

IpPrefix ipv4(const uint8_t* bytes) {
  IpPrefix a;
  a.family = AF_INET;
  std::copy(bytes, bytes + 4, a.bytes.begin());
  a.length = 32;
  return a;
}

IpPrefix ipv6(const uint8_t* bytes) {
  IpPrefix a;
  a.family = AF_INET6;
  std::copy(bytes, bytes + 16, a.bytes.begin());
  a.length = 128;
  return a;
}

bool all_zero(const uint8_t* bytes, size_t n) {
  return std::all_of(bytes, bytes + n, [](uint8_t b) { return b == 0; });
}

bool is_v4_mapped(const uint8_t* bytes) {  // ::ffff:a.b.c.d
  return all_zero(bytes, 10) && bytes[10] == 0xff && bytes[11] == 0xff;
}

// An IPv4 address and what the kernel makes of it: connecting to 0.0.0.0
// reaches this host (Linux routes it to the loopback), so a rule about
// 127.0.0.1 must see it.
void add_ipv4(Destination& d, NetOp op, const uint8_t* bytes) {
  d.add(ipv4(bytes));
  if (op == NetOp::kConnect && all_zero(bytes, 4)) {
    const uint8_t loopback[4] = {127, 0, 0, 1};
    d.add(ipv4(loopback));
  }
}

std::optional<Destination> destination_of(NetOp op, std::span<const uint8_t> addr) {
  sa_family_t family = 0;
  if (addr.size() < sizeof family) return std::nullopt;
  std::memcpy(&family, addr.data(), sizeof family);  // host order, maybe unaligned
  // bind on an IPv4 socket takes AF_UNSPEC for AF_INET when the address is
  // INADDR_ANY (an old compatibility of inet_bind): the same bind.
  const bool unspec_bind = family == AF_UNSPEC && op == NetOp::kBind &&
                           addr.size() >= kInetLength && all_zero(addr.data() + 4, 4);
  Destination d;
  if (family == AF_INET || unspec_bind) {
    if (addr.size() < kInetLength) return std::nullopt;
    d.port = static_cast<uint16_t>(addr[2] << 8 | addr[3]);  // sin_port, network order
    add_ipv4(d, op, addr.data() + 4);                         // sin_addr
    return d;
  }
  if (family == AF_INET6) {
    if (addr.size() < kInet6Length) return std::nullopt;
    d.port = static_cast<uint16_t>(addr[2] << 8 | addr[3]);  // sin6_port
    const uint8_t* bytes = addr.data() + 8;                   // sin6_addr, after sin6_flowinfo
    d.add(ipv6(bytes));
    // A dual-stack socket sends a mapped address over IPv4: IPv4 rules see it.
    if (is_v4_mapped(bytes)) add_ipv4(d, op, bytes + 12);
    if (op == NetOp::kConnect && all_zero(bytes, 16)) {
      uint8_t loopback[16] = {};
      loopback[15] = 1;
      d.add(ipv6(loopback));
    }
    return d;
  }
  return std::nullopt;  // AF_UNIX, AF_NETLINK...: no rule is about them
}

// Whether `prefix` holds the address `a` (of full length). A prefix made by
// hand with a bad family or length holds nothing.
bool prefix_holds(const IpPrefix& prefix, const IpPrefix& a) {
  if (prefix.family != a.family) return false;
  const unsigned max = prefix.family == AF_INET ? 32 : prefix.family == AF_INET6 ? 128 : 0;
  if (max == 0 || prefix.length > max) return false;
  const size_t whole = prefix.length / 8;
  const auto first = prefix.bytes.begin();
  if (!std::equal(first, first + whole, a.bytes.begin())) return false;
  const unsigned rest = prefix.length % 8;
  if (rest == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xff00u >> rest);
  return (prefix.bytes[whole] & mask) == (a.bytes[whole] & mask);
}

bool rule_matches(const NetworkRule& rule, NetOp op, const Destination& d) {
  if (rule.op != op || d.port < rule.port_low || d.port > rule.port_high) return false;
  if (!rule.address) return true;
  for (size_t i = 0; i < d.count; ++i) {
    if (prefix_holds(*rule.address, d.forms[i])) return true;
  }
  return false;
}

}  // namespace

std::optional<NetDecision> decide_network(const std::vector<NetworkRule>& rules, NetOp op,
                                          std::span<const uint8_t> sockaddr) {
  const std::optional<Destination> d = destination_of(op, sockaddr);
  if (!d) return std::nullopt;
  for (const NetworkRule& rule : rules) {
    if (rule_matches(rule, op, *d)) return NetDecision{rule.action, rule.index};
  }
  return std::nullopt;
}

}  // namespace hytrace::audit
