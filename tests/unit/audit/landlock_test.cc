// Which path rules Landlock can enforce: "allow beneath these, deny /" per
// access right, and nothing else.
#include "tracer/audit/landlock.hpp"

#include <linux/landlock.h>

#include <gtest/gtest.h>

namespace hytrace::audit {
namespace {

PathRule rule(size_t index, Verdict action, uint32_t access, std::string pattern, bool glob = false) {
  PathRule r;
  r.index = index;
  r.action = action;
  r.access = access;
  r.pattern = std::move(pattern);
  r.is_glob = glob;
  return r;
}

bool has_note(const LandlockPlan& plan, std::string_view part) {
  for (const std::string& note : plan.notes) {
    if (note.find(part) != std::string::npos) return true;
  }
  return false;
}

TEST(Landlock, AllowsBeneathPrefixesThenDenyEverywhereIsEnforced) {
  const LandlockPlan plan = plan_landlock({rule(0, Verdict::kAllow, kAccessWrite, "/tmp"),
                                           rule(1, Verdict::kLog, kAccessWrite | kAccessCreate, "/work"),
                                           rule(2, Verdict::kDeny, kAccessWrite, "/")},
                                          7);
  EXPECT_EQ(plan.handled, uint64_t{LANDLOCK_ACCESS_FS_WRITE_FILE});
  ASSERT_EQ(plan.grants.size(), 2u);
  EXPECT_EQ(plan.grants[0].path, "/tmp");
  EXPECT_EQ(plan.grants[1].path, "/work");
  EXPECT_TRUE(has_note(plan, "write: enforced by Landlock"));
  EXPECT_FALSE(has_note(plan, "create"));  // nothing denies it: not handled, no note
}

TEST(Landlock, ADenyBeneathOneDirectoryStaysWithTheChecks) {
  const LandlockPlan plan = plan_landlock({rule(0, Verdict::kDeny, kAccessWrite, "/etc")}, 7);
  EXPECT_EQ(plan.handled, 0u);
  EXPECT_TRUE(has_note(plan, "hytrace.paths[0] denies beneath /etc"));
}

TEST(Landlock, GlobsAndRenamesAndOldKernelsStayWithTheChecks) {
  LandlockPlan plan = plan_landlock({rule(0, Verdict::kAllow, kAccessRead, "/home/*/x", true),
                                     rule(1, Verdict::kDeny, kAccessRead | kAccessRename, "/")},
                                    7);
  EXPECT_EQ(plan.handled, 0u);
  EXPECT_TRUE(has_note(plan, "is a glob"));
  plan = plan_landlock({rule(0, Verdict::kDeny, kAccessTruncate, "/")}, 2);
  EXPECT_EQ(plan.handled, 0u);
  EXPECT_TRUE(has_note(plan, "needs 3"));
}

TEST(Landlock, RulesAfterTheDenyOfRootNeverDecide) {
  const LandlockPlan plan = plan_landlock({rule(0, Verdict::kDeny, kAccessExec, "/"),
                                           rule(1, Verdict::kAllow, kAccessExec, "/usr/bin")},
                                          1);
  EXPECT_EQ(plan.handled, uint64_t{LANDLOCK_ACCESS_FS_EXECUTE});
  EXPECT_TRUE(plan.grants.empty());
}

}  // namespace
}  // namespace hytrace::audit

namespace hytrace::audit {
namespace {

NetworkRule net(size_t index, Verdict action, NetOp op, uint16_t low = 0, uint16_t high = 65535) {
  NetworkRule r;
  r.index = index;
  r.action = action;
  r.op = op;
  r.port_low = low;
  r.port_high = high;
  return r;
}

TEST(LandlockNetwork, OnlyThesePortsIsEnforced) {
  LandlockPlan plan;
  plan_landlock_network({net(0, Verdict::kAllow, NetOp::kConnect, 443, 443),
                         net(1, Verdict::kAllow, NetOp::kConnect, 8000, 8001), net(2, Verdict::kDeny, NetOp::kConnect),
                         net(3, Verdict::kDeny, NetOp::kBind, 1, 1023)},
                        7, plan);
  EXPECT_EQ(plan.handled_net, 2u);  // connect only: bind denies some ports, not all
  ASSERT_EQ(plan.ports.size(), 3u);
  EXPECT_EQ(plan.ports[0].port, 443);
  EXPECT_EQ(plan.ports[2].port, 8001);
  EXPECT_TRUE(has_note(plan, "bind: not by Landlock (hytrace.network[3] denies some ports)"));
}

TEST(LandlockNetwork, AddressesAndOldKernelsStayWithTheChecks) {
  LandlockPlan plan;
  NetworkRule with_address = net(0, Verdict::kAllow, NetOp::kConnect, 80, 80);
  with_address.address = IpPrefix{};
  plan_landlock_network({with_address, net(1, Verdict::kDeny, NetOp::kConnect)}, 7, plan);
  EXPECT_EQ(plan.handled_net, 0u);
  EXPECT_TRUE(has_note(plan, "names an address"));
  plan = {};
  plan_landlock_network({net(0, Verdict::kDeny, NetOp::kBind)}, 3, plan);
  EXPECT_EQ(plan.handled_net, 0u);
  EXPECT_TRUE(has_note(plan, "TCP ports need 4"));
}

}  // namespace
}  // namespace hytrace::audit
