#include "tracer/audit/landlock.hpp"

#include <fcntl.h>
#include <linux/landlock.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <tuple>

#include <fmt/format.h>

namespace hytrace::audit {
namespace {

// Newer than some build hosts' headers (Landlock ABI 3 and 4).
constexpr uint64_t kTruncate = 1ull << 14;
constexpr uint64_t kNetBindTcp = 1ull << 0;
constexpr uint64_t kNetConnectTcp = 1ull << 1;
constexpr int kRuleNetPort = 2;
struct RulesetAttr {
  uint64_t handled_access_fs;
  uint64_t handled_access_net;
};
struct NetPortAttr {
  uint64_t allowed_access;
  uint64_t port;
};
// More ports than this and the grant list is not worth it.
constexpr size_t kMostPorts = 1024;

constexpr uint64_t kFileRights =
    LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE | kTruncate;
constexpr uint64_t kMakeRights = LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |
                                 LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |
                                 LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
                                 LANDLOCK_ACCESS_FS_MAKE_SYM;

struct Right {
  PathAccess access;
  const char* name;
  uint64_t landlock;
  int abi;  // the first Landlock ABI with it
};

// rename is not here: Landlock decides a rename by the make and remove
// rights of both directories and REFER, which a rename rule does not say.
constexpr Right kRights[] = {
    {kAccessRead, "read", LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR, 1},
    {kAccessWrite, "write", LANDLOCK_ACCESS_FS_WRITE_FILE, 1},
    {kAccessExec, "exec", LANDLOCK_ACCESS_FS_EXECUTE, 1},
    {kAccessCreate, "create", kMakeRights, 1},
    {kAccessUnlink, "unlink", LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR, 1},
    {kAccessTruncate, "truncate", kTruncate, 3},
};

// Why the rules about `access` are not "allows on prefixes, then a deny of
// /"; empty when they are (or when none denies it: nothing to enforce).
std::string not_expressible(const std::vector<PathRule>& rules, PathAccess access) {
  for (const PathRule& r : rules) {
    if (!(r.access & access)) continue;
    if (r.is_glob) return fmt::format("hytrace.paths[{}] is a glob", r.index);
    if (r.action != Verdict::kDeny) continue;
    if (r.pattern == "/") return "";
    return fmt::format("hytrace.paths[{}] denies beneath {}, not everywhere but the allowed prefixes", r.index,
                       r.pattern);
  }
  return "";
}

bool denies(const std::vector<PathRule>& rules, PathAccess access) {
  for (const PathRule& r : rules) {
    if ((r.access & access) && r.action == Verdict::kDeny) return true;
  }
  return false;
}

}  // namespace

int landlock_abi() {
  const long abi = syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  return abi > 0 ? static_cast<int>(abi) : 0;
}

LandlockPlan plan_landlock(const std::vector<PathRule>& rules, int abi) {
  LandlockPlan plan;
  std::map<std::string, uint64_t> grants;
  for (const Right& right : kRights) {
    if (!denies(rules, right.access)) continue;
    if (abi < right.abi) {
      plan.notes.push_back(fmt::format("{}: Landlock ABI {} here, {} needs {}: checked at each call only",
                                       right.name, abi, right.name, right.abi));
      continue;
    }
    if (const std::string why = not_expressible(rules, right.access); !why.empty()) {
      plan.notes.push_back(fmt::format("{}: not by Landlock ({}): checked at each call only", right.name, why));
      continue;
    }
    plan.handled |= right.landlock;
    for (const PathRule& r : rules) {
      if (!(r.access & right.access)) continue;
      if (r.action == Verdict::kDeny) break;  // the deny of "/": the rest never decide
      grants[r.pattern] |= right.landlock;
    }
    plan.notes.push_back(fmt::format("{}: enforced by Landlock in the kernel", right.name));
  }
  for (auto& [path, rights] : grants) plan.grants.push_back({path, rights});
  return plan;
}

void plan_landlock_network(const std::vector<NetworkRule>& rules, int abi, LandlockPlan& plan) {
  for (const auto& [op, name, right] : {std::tuple{NetOp::kConnect, "connect", kNetConnectTcp},
                                        std::tuple{NetOp::kBind, "bind", kNetBindTcp}}) {
    std::vector<uint16_t> ports;
    std::string why;
    bool denied = false;
    for (const NetworkRule& r : rules) {
      if (r.op != op) continue;
      if (r.address) {
        why = fmt::format("hytrace.network[{}] names an address", r.index);
        break;
      }
      if (r.action == Verdict::kDeny) {
        denied = true;
        if (r.port_low != 0 || r.port_high != 65535) why = fmt::format("hytrace.network[{}] denies some ports", r.index);
        break;
      }
      for (uint32_t p = r.port_low; p <= r.port_high && ports.size() <= kMostPorts; ++p) {
        ports.push_back(static_cast<uint16_t>(p));
      }
      if (ports.size() > kMostPorts) why = fmt::format("more than {} ports allowed", kMostPorts);
    }
    if (!denied && why.empty()) continue;  // nothing denied: nothing to enforce
    if (why.empty() && abi < 4) why = fmt::format("Landlock ABI {} here, TCP ports need 4", abi);
    if (!why.empty()) {
      plan.notes.push_back(fmt::format("{}: not by Landlock ({}): checked at each call only", name, why));
      continue;
    }
    plan.handled_net |= right;
    for (uint16_t p : ports) plan.ports.push_back({p, right});
    plan.notes.push_back(fmt::format("{}: TCP ports enforced by Landlock in the kernel", name));
  }
}

int make_ruleset(const LandlockPlan& plan, std::string& error, std::vector<std::string>& notes) {
  RulesetAttr attr{plan.handled, plan.handled_net};
  // The older, shorter struct when no network right is handled (ABI < 4).
  const size_t size = plan.handled_net ? sizeof attr : sizeof attr.handled_access_fs;
  const int ruleset = static_cast<int>(syscall(SYS_landlock_create_ruleset, &attr, size, 0));
  if (ruleset < 0) {
    error = fmt::format("cannot create the Landlock ruleset: {}", std::strerror(errno));
    return -1;
  }
  for (const LandlockPlan::Grant& g : plan.grants) {
    const int fd = open(g.path.c_str(), O_PATH | O_CLOEXEC);
    if (fd < 0) {
      notes.push_back(fmt::format("{}: {}: left out of the Landlock ruleset", g.path, std::strerror(errno)));
      continue;
    }
    struct stat st {};
    const bool dir = fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
    landlock_path_beneath_attr beneath{};
    beneath.allowed_access = g.rights & plan.handled & (dir ? ~uint64_t{0} : kFileRights);
    beneath.parent_fd = fd;
    const long added = beneath.allowed_access == 0
                           ? 0
                           : syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &beneath, 0);
    const int add_error = errno;
    close(fd);
    if (added != 0) {
      close(ruleset);
      error = fmt::format("cannot add {} to the Landlock ruleset: {}", g.path, std::strerror(add_error));
      return -1;
    }
  }
  for (const LandlockPlan::PortGrant& g : plan.ports) {
    NetPortAttr port{g.rights, g.port};
    if (syscall(SYS_landlock_add_rule, ruleset, kRuleNetPort, &port, 0) != 0) {
      const int add_error = errno;
      close(ruleset);
      error = fmt::format("cannot add port {} to the Landlock ruleset: {}", g.port, std::strerror(add_error));
      return -1;
    }
  }
  return ruleset;
}

}  // namespace hytrace::audit
