#include "tracer/syscall_set.hpp"

#include <sys/syscall.h>

#include <gtest/gtest.h>

namespace hytrace::tracer {
namespace {

TEST(SyscallSet, DefaultIsEverything) {
  SyscallSet set;
  EXPECT_TRUE(set.contains(SYS_read));
  EXPECT_TRUE(set.contains(SYS_exit_group));
}

TEST(SyscallSet, Names) {
  const auto set = SyscallSet::parse("trace=openat,read");
  EXPECT_TRUE(set.contains(SYS_openat));
  EXPECT_TRUE(set.contains(SYS_read));
  EXPECT_FALSE(set.contains(SYS_write));
}

TEST(SyscallSet, WithoutTracePrefix) {
  EXPECT_TRUE(SyscallSet::parse("write").contains(SYS_write));
}

TEST(SyscallSet, ClassesAndNegation) {
  const auto file = SyscallSet::parse("%file");
  EXPECT_TRUE(file.contains(SYS_openat));
  EXPECT_FALSE(file.contains(SYS_read));
  const auto not_read = SyscallSet::parse("!read,write");
  EXPECT_FALSE(not_read.contains(SYS_read));
  EXPECT_FALSE(not_read.contains(SYS_write));
  EXPECT_TRUE(not_read.contains(SYS_openat));
}

TEST(SyscallSet, AllAndNone) {
  EXPECT_TRUE(SyscallSet::parse("all").contains(SYS_read));
  EXPECT_FALSE(SyscallSet::parse("none").contains(SYS_read));
  EXPECT_TRUE(SyscallSet::parse("!none").contains(SYS_read));
}

TEST(SyscallSet, ForeignAbiIsAlwaysShown) {
  const auto none = SyscallSet::parse("none");
  syscalls::Call call;
  call.nr = 20;
  call.abi = syscalls::Abi::kI386;
  EXPECT_TRUE(none.shows(call));
}

TEST(SyscallSet, RejectsUnknownNamesAndClasses) {
  EXPECT_THROW(SyscallSet::parse("nosuchcall"), std::invalid_argument);
  EXPECT_THROW(SyscallSet::parse("%nosuchclass"), std::invalid_argument);
  EXPECT_THROW(SyscallSet::parse(""), std::invalid_argument);
  EXPECT_THROW(SyscallSet::parse("read,,write"), std::invalid_argument);
  try {
    SyscallSet::parse("read,bogus");
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "invalid system call 'bogus'");
  }
}

}  // namespace
}  // namespace hytrace::tracer
