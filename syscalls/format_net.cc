// Socket addresses and socket options.
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <array>
#include <cstring>
#include <iterator>

#include <fmt/format.h>

#include "syscalls/flags.hpp"
#include "syscalls/render.hpp"

namespace hytrace::syscalls::detail {
namespace {

template <class... Args>
void put(std::string& out, fmt::format_string<Args...> f, Args&&... args) {
  fmt::format_to(std::back_inserter(out), f, std::forward<Args>(args)...);
}

template <class T>
T as(const sockaddr_storage& ss) {
  T value;
  std::memcpy(&value, &ss, sizeof value);
  return value;
}

void put_unix(std::string& out, const sockaddr_storage& ss, size_t len) {
  constexpr size_t kPathOffset = offsetof(sockaddr_un, sun_path);
  if (len <= kPathOffset) return;
  const auto* path = reinterpret_cast<const unsigned char*>(&ss) + kPathOffset;
  size_t size = std::min(len - kPathOffset, sizeof(sockaddr_un::sun_path));
  out += ", sun_path=";
  if (path[0] == '\0') {
    out += '@';  // abstract: the whole length is the name
    put_quoted(out, path + 1, size - 1, size, false, false);
    return;
  }
  size_t n = strnlen(reinterpret_cast<const char*>(path), size);
  put_quoted(out, path, n, size, false, false);
}

void put_inet(std::string& out, const sockaddr_storage& ss) {
  auto sin = as<sockaddr_in>(ss);
  std::array<char, INET_ADDRSTRLEN> text{};
  inet_ntop(AF_INET, &sin.sin_addr, text.data(), text.size());
  put(out, ", sin_port=htons({}), sin_addr=inet_addr(\"{}\")", ntohs(sin.sin_port), text.data());
}

void put_inet6(std::string& out, const sockaddr_storage& ss) {
  auto sin6 = as<sockaddr_in6>(ss);
  std::array<char, INET6_ADDRSTRLEN> text{};
  inet_ntop(AF_INET6, &sin6.sin6_addr, text.data(), text.size());
  put(out, ", sin6_port=htons({}), sin6_flowinfo=htonl({}), inet_pton(AF_INET6, \"{}\", &sin6_addr), sin6_scope_id={}",
      ntohs(sin6.sin6_port), ntohl(sin6.sin6_flowinfo), text.data(), sin6.sin6_scope_id);
}

void put_netlink(std::string& out, const sockaddr_storage& ss) {
  auto nl = as<sockaddr_nl>(ss);
  put(out, ", nl_pid={}, nl_groups={:08x}", nl.nl_pid, nl.nl_groups);
}

}  // namespace

void put_sockaddr(std::string& out, MemoryReader& mem, uint64_t addr, uint64_t len) {
  if (addr == 0) {
    out += "NULL";
    return;
  }
  sockaddr_storage ss{};
  size_t size = static_cast<size_t>(std::min<uint64_t>(len, sizeof ss));
  if (size < sizeof(sa_family_t) || !read_exact(mem, addr, &ss, size)) {
    put_hex(out, addr);
    return;
  }
  out += "{sa_family=";
  put_enum(out, address_families(), ss.ss_family, "AF_???");
  if (ss.ss_family == AF_UNIX) {
    put_unix(out, ss, size);
  } else if (ss.ss_family == AF_INET && size >= sizeof(sockaddr_in)) {
    put_inet(out, ss);
  } else if (ss.ss_family == AF_INET6 && size >= sizeof(sockaddr_in6)) {
    put_inet6(out, ss);
  } else if (ss.ss_family == AF_NETLINK && size >= sizeof(sockaddr_nl)) {
    put_netlink(out, ss);
  } else if (size > sizeof(sa_family_t)) {
    out += ", sa_data=";
    const auto* data = reinterpret_cast<const unsigned char*>(&ss) + sizeof(sa_family_t);
    size_t n = size - sizeof(sa_family_t);
    put_quoted(out, data, n, n, false, false);
  }
  out += '}';
}

void put_sock_type(std::string& out, uint64_t type) {
  uint64_t mask = socket_type_mask();
  put_enum(out, socket_types(), type & mask, "SOCK_???");
  if ((type & ~mask) != 0) {
    out += '|';
    put_flags(out, socket_flags(), type & ~mask);
  }
}

void put_sock_proto(std::string& out, int family, int protocol) {
  if (family == AF_INET || family == AF_INET6) {
    put_enum(out, ip_protocols(), static_cast<uint64_t>(protocol), "IPPROTO_???");
  } else {
    put_dec(out, protocol);
  }
}

void put_sockopt_name(std::string& out, int level, int name) {
  FlagTable options = socket_options(level);
  if (options.empty()) {
    put_dec(out, name);
  } else {
    put_enum(out, options, static_cast<uint64_t>(name), nullptr);
  }
}

void put_sockopt_value(std::string& out, MemoryReader& mem, uint64_t addr, uint64_t len) {
  if (len == sizeof(int)) {
    put_int_at(out, mem, addr);
  } else {
    put_ptr(out, addr);
  }
}

}  // namespace hytrace::syscalls::detail
