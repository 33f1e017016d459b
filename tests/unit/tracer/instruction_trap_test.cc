// The tracer's answers to a trapped cpuid: asked of the CPU once per leaf
// and subleaf, then given from what it answered (a cpuid is a VM exit).
#include "tracer/instruction_trap.hpp"

#include <cpuid.h>

#include <gtest/gtest.h>

namespace hytrace::tracer {
namespace {

InstructionTrap cpuid_trap(uint32_t leaf, uint32_t subleaf) {
  InstructionTrap trap{nullptr, InstructionTrap::Kind::kCpuid};
  trap.leaf = leaf;
  trap.subleaf = subleaf;
  return trap;
}

TEST(InstructionTrap, CpuidIsAskedOncePerLeafAndSubleaf) {
  CpuidAnswers answers;
  InstructionTrap vendor = cpuid_trap(0, 0);
  run_natively(vendor, answers);
  unsigned a = 0, b = 0, c = 0, d = 0;
  __cpuid_count(0, 0, a, b, c, d);
  EXPECT_EQ(vendor.eax, a);
  EXPECT_EQ(vendor.ebx, b);
  EXPECT_EQ(vendor.ecx, c);
  EXPECT_EQ(vendor.edx, d);
  EXPECT_EQ(answers.size(), 1u);

  InstructionTrap again = cpuid_trap(0, 0);
  run_natively(again, answers);
  EXPECT_EQ(again.ebx, vendor.ebx);
  EXPECT_EQ(answers.size(), 1u);
  InstructionTrap other_subleaf = cpuid_trap(0, 1);
  run_natively(other_subleaf, answers);
  EXPECT_EQ(answers.size(), 2u);
}

// A program may ask with any ecx (most leaves ignore it): what is kept is
// bounded, and the answers stay right past the bound.
TEST(InstructionTrap, TheAnswersKeptAreBounded) {
  CpuidAnswers answers;
  unsigned a = 0, b = 0, c = 0, d = 0;
  __cpuid_count(0, 0, a, b, c, d);
  for (uint32_t ecx = 0; ecx < kMostCpuidAnswers + 10; ++ecx) {
    InstructionTrap trap = cpuid_trap(0, ecx);
    run_natively(trap, answers);
    ASSERT_EQ(trap.ebx, b) << ecx;  // leaf 0 ignores ecx: the vendor
  }
  EXPECT_EQ(answers.size(), kMostCpuidAnswers);
}

TEST(InstructionTrap, AKnownAnswerIsGivenWithoutAskingTheCpu) {
  CpuidAnswers answers;
  answers[{0x4000'0123, 7}] = {1, 2, 3, 4};
  InstructionTrap trap = cpuid_trap(0x4000'0123, 7);
  run_natively(trap, answers);
  EXPECT_EQ(trap.eax, 1u);
  EXPECT_EQ(trap.ebx, 2u);
  EXPECT_EQ(trap.ecx, 3u);
  EXPECT_EQ(trap.edx, 4u);
}

}  // namespace
}  // namespace hytrace::tracer
