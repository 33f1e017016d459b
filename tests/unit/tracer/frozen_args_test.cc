// The argument copies' region: the policy filter lets through exactly the
// calls that map and seal it, and the range a program may not poke.
#include "tracer/audit/frozen_args.hpp"

#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>

#include "bpf/filter.hpp"
#include "tracer/audit/policy.hpp"
#include "tracer/audit/policy_filter.hpp"

namespace hytrace::tracer {
namespace {

constexpr long kMseal = 462;

uint32_t verdict(const bpf::Program& program, long nr, const std::array<uint64_t, 6>& args) {
  bpf::SeccompInput in;
  in.nr = static_cast<int>(nr);
  in.arch = AUDIT_ARCH_X86_64;
  std::copy(args.begin(), args.end(), in.args);
  return bpf::evaluate(program, in).value_or(0xdeadbeef) & SECCOMP_RET_ACTION_FULL;
}

TEST(FrozenArguments, ThePolicyFilterLetsTheRegionBeMappedAndSealedWhateverItSays) {
  const audit::Policy deny_all = audit::load(R"({"defaultAction": "SCMP_ACT_KILL_PROCESS"})", {});
  const bpf::Program program =
      audit::compile_filter(deny_all, audit::FilterMode::kEnforce, FrozenArguments::own_calls()).program;
  EXPECT_EQ(verdict(program, SYS_mmap, FrozenArguments::map_args()), SECCOMP_RET_ALLOW);
  EXPECT_EQ(verdict(program, kMseal, FrozenArguments::seal_args()), SECCOMP_RET_ALLOW);
  // Anything else is the policy's: elsewhere, writable, shared.
  auto elsewhere = FrozenArguments::map_args();
  elsewhere[0] += FrozenArguments::kRegionSize;
  EXPECT_EQ(verdict(program, SYS_mmap, elsewhere), SECCOMP_RET_KILL_PROCESS);
  auto writable = FrozenArguments::map_args();
  writable[2] |= 2;
  EXPECT_EQ(verdict(program, SYS_mmap, writable), SECCOMP_RET_KILL_PROCESS);
  auto shared = FrozenArguments::map_args();
  shared[3] ^= 3;  // MAP_PRIVATE -> MAP_SHARED
  EXPECT_EQ(verdict(program, SYS_mmap, shared), SECCOMP_RET_KILL_PROCESS);
  auto part = FrozenArguments::seal_args();
  part[0] += 4096;
  EXPECT_EQ(verdict(program, kMseal, part), SECCOMP_RET_KILL_PROCESS);
  EXPECT_EQ(verdict(program, SYS_getpid, {}), SECCOMP_RET_KILL_PROCESS);
}

TEST(FrozenArguments, TouchesCoversTheRegionAndNothingElse) {
  const uint64_t base = FrozenArguments::kBase;
  const uint64_t end = base + FrozenArguments::kRegionSize;
  EXPECT_TRUE(FrozenArguments::touches(base, 8));
  EXPECT_TRUE(FrozenArguments::touches(base - 4, 8));  // straddles the start
  EXPECT_TRUE(FrozenArguments::touches(end - 1, 8));
  EXPECT_FALSE(FrozenArguments::touches(base - 8, 8));
  EXPECT_FALSE(FrozenArguments::touches(end, 8));
  EXPECT_TRUE(FrozenArguments::touches(~uint64_t{0} - 2, 8));  // wraps around
  EXPECT_FALSE(FrozenArguments::touches(0x1000, 8));
}

}  // namespace
}  // namespace hytrace::tracer
