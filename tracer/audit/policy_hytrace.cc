// The policy's "hytrace" section: path and network rules, which the OCI
// format cannot say. Read and validated here; enforced elsewhere.
#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>

#include "tracer/audit/policy_detail.hpp"

namespace hytrace::audit {
namespace {

using detail::Node;
using detail::in_quotes;

constexpr std::pair<std::string_view, Verdict> kVerdicts[] = {
    {"allow", Verdict::kAllow},
    {"deny", Verdict::kDeny},
    {"log", Verdict::kLog},
};

constexpr std::pair<std::string_view, PathAccess> kAccesses[] = {
    {"read", kAccessRead},     {"write", kAccessWrite},   {"exec", kAccessExec},
    {"create", kAccessCreate}, {"unlink", kAccessUnlink}, {"rename", kAccessRename},
    {"truncate", kAccessTruncate},
};

constexpr size_t kMaxAddressBytes = 64;  // "ffff:...:ffff/128" is 43

Verdict parse_verdict(const Node& node) {
  const std::string name = node.string();
  for (const auto& [text, verdict] : kVerdicts) {
    if (text == name) return verdict;
  }
  node.fail("unknown action " + in_quotes(name) + " (allow, deny or log)");
}

uint32_t parse_access(const Node& node) {
  uint32_t access = 0;
  for (const Node& item : node.items(std::size(kAccesses), "access names")) {
    const std::string name = item.string();
    const std::optional<PathAccess> bit = access_from_name(name);
    if (!bit) {
      item.fail("unknown access " + in_quotes(name) +
                " (read, write, exec, create, unlink, rename or truncate)");
    }
    if (access & *bit) item.fail(in_quotes(name) + " is already listed");
    access |= *bit;
  }
  if (access == 0) node.fail("expected at least one access");
  return access;
}

std::vector<std::string_view> components_of(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    parts.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

// An absolute path as the kernel resolves it: no empty, "." or ".."
// component (a rule with one could never match). A prefix may end in one
// '/', which is dropped; it may not hold wildcards. In a glob, "**" is a
// whole component.
std::string parse_path_pattern(const Node& node, bool glob) {
  std::string path = node.string();
  if (path.empty() || path[0] != '/') node.fail("expected an absolute path");
  if (path.size() > kMaxPathBytes) node.fail("longer than 4095 bytes");
  if (path.find('\0') != std::string::npos) node.fail("holds a NUL byte");
  if (!glob && path.size() > 1 && path.back() == '/') path.pop_back();
  if (path == "/") return path;
  for (std::string_view part : components_of(path)) {
    if (part.empty()) node.fail("empty path component in " + in_quotes(path));
    if (part == "." || part == "..") {
      node.fail("\".\" or \"..\" in " + in_quotes(path) + ": rules match resolved paths");
    }
    if (!glob && part.find_first_of("*?") != std::string_view::npos) {
      node.fail("wildcard in a prefix " + in_quotes(path) + ": use \"glob\"");
    }
    if (glob && part != "**" && part.find("**") != std::string_view::npos) {
      node.fail("\"**\" must be a whole path component in " + in_quotes(path));
    }
  }
  return path;
}

PathRule parse_path_rule(const Node& node, size_t index) {
  node.expect_keys({"action", "access", "prefix", "glob", "comment"});
  PathRule rule;
  rule.index = index;
  rule.action = parse_verdict(node.required("action"));
  rule.access = parse_access(node.required("access"));
  const std::optional<Node> prefix = node.field("prefix");
  const std::optional<Node> glob = node.field("glob");
  if (prefix && glob) glob->fail("give \"prefix\" or \"glob\", not both");
  if (!prefix && !glob) node.fail("expected \"prefix\" or \"glob\"");
  rule.is_glob = glob.has_value();
  rule.pattern = parse_path_pattern(glob ? *glob : *prefix, rule.is_glob);
  if (auto comment = node.field("comment")) rule.comment = comment->string();
  return rule;
}

NetOp parse_net_op(const Node& node) {
  const std::string name = node.string();
  if (name == "connect") return NetOp::kConnect;
  if (name == "bind") return NetOp::kBind;
  node.fail("unknown operation " + in_quotes(name) + " (connect or bind)");
}

uint16_t parse_port(const Node& node) {
  if (!node.json().is_number_unsigned() || node.json().get<uint64_t>() > 65535) {
    node.fail("expected a port from 0 to 65535");
  }
  return static_cast<uint16_t>(node.json().get<uint64_t>());
}

bool host_bits_clear(const IpPrefix& prefix) {
  const size_t bytes = prefix.family == AF_INET ? 4 : 16;
  for (size_t bit = prefix.length; bit < bytes * 8; ++bit) {
    if (prefix.bytes[bit / 8] & (0x80u >> (bit % 8))) return false;
  }
  return true;
}

// "10.0.0.0/8", "::1", "fd00::/8": an address with an optional prefix
// length (the whole address when absent); host bits must be zero.
IpPrefix parse_address(const Node& node) {
  const std::string text = node.string();
  const std::string_view kExpected = "expected an IPv4 or IPv6 address with an optional /length, not ";
  if (text.size() > kMaxAddressBytes) node.fail(std::string(kExpected) + in_quotes(text));
  const size_t slash = text.find('/');
  const std::string address = text.substr(0, slash);
  IpPrefix prefix;
  if (inet_pton(AF_INET, address.c_str(), prefix.bytes.data()) == 1) {
    prefix.family = AF_INET;
  } else if (inet_pton(AF_INET6, address.c_str(), prefix.bytes.data()) == 1) {
    prefix.family = AF_INET6;
  } else {
    node.fail(std::string(kExpected) + in_quotes(text));
  }
  const unsigned max = prefix.family == AF_INET ? 32 : 128;
  unsigned length = max;
  if (slash != std::string::npos) {
    const char* first = text.data() + slash + 1;
    const char* last = text.data() + text.size();
    auto [end, error] = std::from_chars(first, last, length);
    if (error != std::errc() || end != last || first == last || length > max) {
      node.fail("expected a prefix length from 0 to " + std::to_string(max) + " in " + in_quotes(text));
    }
  }
  prefix.length = static_cast<uint8_t>(length);
  if (!host_bits_clear(prefix)) node.fail("host bits set past /" + std::to_string(length) + " in " + in_quotes(text));
  return prefix;
}

NetworkRule parse_network_rule(const Node& node, size_t index) {
  node.expect_keys({"action", "op", "port", "ports", "address", "comment"});
  NetworkRule rule;
  rule.index = index;
  rule.action = parse_verdict(node.required("action"));
  rule.op = parse_net_op(node.required("op"));
  const std::optional<Node> port = node.field("port");
  const std::optional<Node> ports = node.field("ports");
  if (port && ports) ports->fail("give \"port\" or \"ports\", not both");
  if (port) rule.port_low = rule.port_high = parse_port(*port);
  if (ports) {
    const std::vector<Node> range = ports->items(2, "ports");
    if (range.size() != 2) ports->fail("expected [low, high]");
    rule.port_low = parse_port(range[0]);
    rule.port_high = parse_port(range[1]);
    if (rule.port_low > rule.port_high) ports->fail("low port above high port");
  }
  if (auto address = node.field("address")) rule.address = parse_address(*address);
  if (auto comment = node.field("comment")) rule.comment = comment->string();
  return rule;
}

}  // namespace

std::string_view verdict_name(Verdict verdict) {
  for (const auto& [text, v] : kVerdicts) {
    if (v == verdict) return text;
  }
  return "?";
}

std::optional<PathAccess> access_from_name(std::string_view name) {
  for (const auto& [text, bit] : kAccesses) {
    if (text == name) return bit;
  }
  return std::nullopt;
}

namespace detail {

HytraceSection parse_hytrace_section(const Node& node) {
  node.expect_keys({"paths", "network"});
  HytraceSection section;
  section.present = true;
  if (auto paths = node.field("paths")) {
    const std::vector<Node> items = paths->items(kMaxPathRules, "path rules");
    for (size_t i = 0; i < items.size(); ++i) section.paths.push_back(parse_path_rule(items[i], i));
  }
  if (auto network = node.field("network")) {
    const std::vector<Node> items = network->items(kMaxNetworkRules, "network rules");
    for (size_t i = 0; i < items.size(); ++i) {
      section.network.push_back(parse_network_rule(items[i], i));
    }
  }
  return section;
}

}  // namespace detail
}  // namespace hytrace::audit
