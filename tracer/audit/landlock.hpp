// The hytrace section's path rules that Landlock can say, enforced by the
// kernel with no time-of-check race. Landlock allows: once a ruleset
// handles an access right, the right is refused everywhere but beneath the
// directories its rules grant it on. So a right is enforced by Landlock
// when the policy's rules for it, in file order, are allow (or log) rules
// on prefixes followed by a deny of "/": exactly "only beneath these". The
// other rights stay with the checks at each call's stop (audit_mode.cc).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tracer/audit/policy.hpp"

namespace hytrace::audit {

struct LandlockPlan {
  uint64_t handled = 0;  // LANDLOCK_ACCESS_FS_* bits the ruleset handles
  struct Grant {
    std::string path;     // a prefix of an allow or log rule
    uint64_t rights = 0;  // LANDLOCK_ACCESS_FS_* granted beneath it
  };
  std::vector<Grant> grants;
  uint64_t handled_net = 0;  // LANDLOCK_ACCESS_NET_* bits
  struct PortGrant {
    uint16_t port;
    uint64_t rights;
  };
  std::vector<PortGrant> ports;
  // One line each: which rights Landlock enforces, and why the others not.
  std::vector<std::string> notes;
};

// The Landlock ABI of the running kernel; 0 when Landlock is off.
int landlock_abi();

// What of `rules` Landlock can enforce under `abi` (0: nothing).
LandlockPlan plan_landlock(const std::vector<PathRule>& rules, int abi);

// The same for network rules (Landlock ABI 4: TCP bind and connect by
// port): per operation, allows of ports without an address, then a deny of
// every port and address. Added to `plan`.
void plan_landlock_network(const std::vector<NetworkRule>& rules, int abi, LandlockPlan& plan);

// The ruleset as a file descriptor (close-on-exec is not set: the spawned
// child restricts itself with it before exec), or -1 with `error` set. A
// granted path that does not exist is left out, with a note.
int make_ruleset(const LandlockPlan& plan, std::string& error, std::vector<std::string>& notes);

}  // namespace hytrace::audit
