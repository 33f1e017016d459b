// The syscall catalogue against the checked-in numbers it was generated from.
#include <sys/ioctl.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "syscalls/catalogue.hpp"
#include "syscalls/detail.hpp"

namespace hytrace::syscalls {
namespace {

// abi column -> name -> number, read straight from numbers.tbl.
std::map<std::string, long> table_numbers(size_t column) {
  std::ifstream in{std::string(detail::generated_numbers_path())};
  std::map<std::string, long> numbers;
  std::string line;
  while (std::getline(in, line)) {
    line = line.substr(0, line.find('#'));
    std::istringstream words(line);
    std::string name, nr[3];
    if (!(words >> name >> nr[0] >> nr[1] >> nr[2]) || nr[column] == "-") continue;
    numbers[name] = std::stol(nr[column]);
  }
  return numbers;
}

// The names with a row in syscalls.tbl.
std::set<std::string> table_rows() {
  std::ifstream in{std::string(detail::generated_table_path())};
  std::set<std::string> rows;
  std::string line;
  while (std::getline(in, line)) {
    line = line.substr(0, line.find('#'));
    std::istringstream words(line);
    std::string name;
    if (words >> name) rows.insert(name);
  }
  return rows;
}

TEST(Catalogue, EveryNumberHasItsName) {
  auto numbers = table_numbers(0);
  ASSERT_GT(numbers.size(), 300u);
  for (const auto& [name, nr] : numbers) {
    const SyscallInfo* info = lookup(nr);
    ASSERT_NE(info, nullptr) << name;
    EXPECT_EQ(info->name, name);
    EXPECT_EQ(info->nr, nr);
  }
  EXPECT_EQ(all().size(), numbers.size());
}

TEST(Catalogue, NameAndNumberRoundTrip) {
  for (const SyscallInfo& info : all()) {
    EXPECT_EQ(number_of(info.name), info.nr) << info.name;
    ASSERT_NE(lookup(info.nr), nullptr) << info.name;
    EXPECT_EQ(lookup(info.nr)->name, info.name);
  }
}

TEST(Catalogue, I386Names) {
  auto names = detail::generated_i386_names();
  ASSERT_GT(names.size(), 400u);
  EXPECT_EQ(names[0], "restart_syscall");
  EXPECT_EQ(names[1], "exit");
  EXPECT_EQ(names[11], "execve");
  EXPECT_EQ(names[252], "exit_group");
}

TEST(Catalogue, ForeignAbisRoundTrip) {
  for (size_t column : {1u, 2u}) {
    const Abi abi = column == 1 ? Abi::kX32 : Abi::kI386;
    auto numbers = table_numbers(column);
    ASSERT_GT(numbers.size(), 300u);
    for (const auto& [name, nr] : numbers) {
      EXPECT_EQ(name_of(abi, nr), name);
      EXPECT_EQ(number_of(abi, name), nr) << name;
    }
  }
}

TEST(Catalogue, NamesThatNewerKernelsAdded) {
  // Named whatever headers the build machine has (Linux 6.2 to 6.19).
  for (const char* name : {"fchmodat2", "statmount", "listmount", "setxattrat", "getxattrat",
                           "listxattrat", "removexattrat", "open_tree_attr", "mseal", "listns"}) {
    EXPECT_TRUE(number_of(name).has_value()) << name;
    EXPECT_TRUE(number_of(Abi::kI386, name).has_value()) << name;
  }
  EXPECT_EQ(number_of("mseal"), 462);
}

TEST(Catalogue, PerAbiNumbers) {
  EXPECT_EQ(name_of(Abi::kX86_64, 15), "rt_sigreturn");
  EXPECT_EQ(name_of(Abi::kI386, 15), "chmod");
  EXPECT_EQ(name_of(Abi::kI386, 120), "clone");
  EXPECT_EQ(name_of(Abi::kX32, 513), "rt_sigreturn");
  EXPECT_EQ(name_of(Abi::kX32, 13), "");  // x86-64's rt_sigaction is not an x32 call
  EXPECT_EQ(name_of(Abi::kI386, -1), "");
  EXPECT_EQ(name_of(Abi::kI386, 100000), "");
  EXPECT_EQ(number_of(Abi::kI386, ""), std::nullopt);
}

TEST(Catalogue, RolesByAbiAndNumber) {
  EXPECT_EQ(role_of(Abi::kX86_64, 15), Role::kSigreturn);
  EXPECT_EQ(role_of(Abi::kI386, 15), Role::kNone);  // chmod
  EXPECT_EQ(role_of(Abi::kI386, 119), Role::kSigreturn);
  EXPECT_EQ(role_of(Abi::kI386, 173), Role::kSigreturn);
  EXPECT_EQ(role_of(Abi::kX32, 513), Role::kSigreturn);
  EXPECT_EQ(role_of(Abi::kX32, 15), Role::kNone);
  EXPECT_EQ(role_of(Abi::kX86_64, 56), Role::kClone);
  EXPECT_EQ(role_of(Abi::kI386, 120), Role::kClone);
  EXPECT_EQ(role_of(Abi::kX86_64, 120), Role::kNone);  // getresgid
  EXPECT_EQ(role_of(Abi::kI386, 190), Role::kVfork);
  EXPECT_EQ(role_of(Abi::kI386, 2), Role::kFork);
  EXPECT_EQ(role_of(Abi::kI386, 11), Role::kExec);
  EXPECT_EQ(role_of(Abi::kX32, 520), Role::kExec);
  EXPECT_EQ(role_of(Abi::kX86_64, 435), Role::kClone3);
  EXPECT_EQ(role_of(Abi::kI386, 435), Role::kClone3);
  EXPECT_EQ(role_of(Abi::kX86_64, 231), Role::kExit);
  EXPECT_EQ(role_of(Abi::kX86_64, 0), Role::kNone);
  EXPECT_EQ(role_of(Abi::kX86_64, -1), Role::kNone);
}

TEST(Catalogue, SortedByNumber) {
  auto table = all();
  for (size_t i = 1; i < table.size(); ++i) EXPECT_LT(table[i - 1].nr, table[i].nr);
}

TEST(Catalogue, KnownPairs) {
  struct Pair {
    const char* name;
    long nr;
  };
  for (Pair p : {Pair{"read", 0}, Pair{"write", 1}, Pair{"openat", 257}, Pair{"exit_group", 231},
                 Pair{"execve", 59}, Pair{"clone3", 435}}) {
    EXPECT_EQ(number_of(p.name), p.nr) << p.name;
    ASSERT_NE(lookup(p.nr), nullptr);
    EXPECT_EQ(lookup(p.nr)->name, p.name);
  }
}

TEST(Catalogue, UnknownNamesAndNumbers) {
  EXPECT_EQ(number_of("no_such_syscall"), std::nullopt);
  EXPECT_EQ(number_of(""), std::nullopt);
  EXPECT_EQ(number_of("READ"), std::nullopt);
  EXPECT_EQ(lookup(-1), nullptr);
  EXPECT_EQ(lookup(337), nullptr);  // the gap before 424
  EXPECT_EQ(lookup(100000), nullptr);
}

TEST(Catalogue, DecodedAreExactlyTheTableRows) {
  auto rows = table_rows();
  size_t decoded = 0;
  for (const SyscallInfo& info : all()) {
    EXPECT_EQ(info.decoded, rows.count(std::string(info.name)) == 1) << info.name;
    if (info.decoded) ++decoded;
  }
  EXPECT_EQ(decoded, rows.size());
  EXPECT_GE(decoded, 100u);
}

TEST(Catalogue, UndecodedEntriesAreRaw) {
  const SyscallInfo* info = lookup(*number_of("tuxcall"));
  ASSERT_NE(info, nullptr);
  EXPECT_FALSE(info->decoded);
  EXPECT_EQ(info->nargs, 6);
  EXPECT_EQ(info->classes, 0u);
  for (ArgKind k : info->args) EXPECT_EQ(k, ArgKind::kHex);
}

TEST(Catalogue, ArgumentSpecs) {
  const SyscallInfo& openat = *lookup(257);
  EXPECT_TRUE(openat.decoded);
  EXPECT_EQ(openat.nargs, 4);
  EXPECT_EQ(openat.args[0], ArgKind::kDirFd);
  EXPECT_EQ(openat.args[1], ArgKind::kPath);
  EXPECT_EQ(openat.args[2], ArgKind::kOpenFlags);
  EXPECT_EQ(openat.args[3], ArgKind::kMode);
  EXPECT_EQ(openat.args[4], ArgKind::kUnused);
  EXPECT_EQ(openat.ret, RetKind::kFd);

  const SyscallInfo& mmap = *lookup(*number_of("mmap"));
  EXPECT_EQ(mmap.ret, RetKind::kHex);
  EXPECT_EQ(mmap.args[2], ArgKind::kProtFlags);
  EXPECT_EQ(mmap.args[3], ArgKind::kMmapFlags);
  EXPECT_EQ(lookup(*number_of("exit_group"))->ret, RetKind::kNoReturn);
  EXPECT_EQ(lookup(*number_of("execve"))->args[1], ArgKind::kStrArray);
  EXPECT_EQ(lookup(*number_of("read"))->args[1], ArgKind::kBufOut);
  EXPECT_EQ(lookup(*number_of("getpid"))->nargs, 0);
}

TEST(Catalogue, Classes) {
  struct Expect {
    const char* name;
    uint32_t classes;
  };
  for (Expect e : {Expect{"openat", kFile | kDesc}, Expect{"read", kDesc}, Expect{"open", kFile | kDesc},
                   Expect{"execve", kFile | kProcess}, Expect{"connect", kNetwork},
                   Expect{"mmap", kDesc | kMemory}, Expect{"rt_sigaction", kSignal},
                   Expect{"newfstatat", kDesc | kFile | kStat}, Expect{"shmget", kIpc},
                   Expect{"setuid", kCreds}, Expect{"clock_gettime", kClock},
                   Expect{"exit_group", kProcess}, Expect{"getpid", 0u}}) {
    EXPECT_EQ(lookup(*number_of(e.name))->classes, e.classes) << e.name;
  }
}

TEST(Catalogue, ClassFromName) {
  struct Expect {
    const char* name;
    uint32_t bits;
  };
  for (Expect e : {Expect{"%file", kFile}, Expect{"file", kFile}, Expect{"%desc", kDesc},
                   Expect{"%net", kNetwork}, Expect{"%network", kNetwork}, Expect{"network", kNetwork},
                   Expect{"%process", kProcess}, Expect{"%signal", kSignal},
                   Expect{"%memory", kMemory}, Expect{"%ipc", kIpc}, Expect{"%creds", kCreds},
                   Expect{"%clock", kClock}, Expect{"%stat", kStat}}) {
    EXPECT_EQ(class_from_name(e.name), e.bits) << e.name;
  }
  EXPECT_EQ(class_from_name("%bogus"), std::nullopt);
  EXPECT_EQ(class_from_name("%"), std::nullopt);
  EXPECT_EQ(class_from_name(""), std::nullopt);
}

TEST(Catalogue, EveryClassIsUsed) {
  uint32_t seen = 0;
  for (const SyscallInfo& info : all()) seen |= info.classes;
  EXPECT_EQ(seen, uint32_t{kFile | kDesc | kNetwork | kProcess | kSignal | kMemory | kIpc |
                           kCreds | kClock | kStat});
}

TEST(Catalogue, DecodedArgumentCountsAreConsistent) {
  for (const SyscallInfo& info : all()) {
    ASSERT_LE(info.nargs, 6) << info.name;
    for (int i = 0; i < 6; ++i) {
      if (info.decoded && i >= info.nargs) {
        EXPECT_EQ(info.args[i], ArgKind::kUnused) << info.name;
      }
      if (i < info.nargs) {
        EXPECT_NE(info.args[i], ArgKind::kUnused) << info.name;
      }
    }
  }
}

}  // namespace
}  // namespace hytrace::syscalls

namespace hytrace::syscalls {
namespace {

TEST(MemoryArgs, DescribeWhatTheFormatterReads) {
  const auto read = memory_args(__NR_read, 32);
  ASSERT_TRUE(read.has_value());
  ASSERT_EQ(read->size(), 1u);
  EXPECT_EQ((*read)[0].arg, 1);
  EXPECT_TRUE((*read)[0].at_exit);
  EXPECT_EQ((*read)[0].size, MemoryArg::Size::kFromResult);
  EXPECT_EQ((*read)[0].max, 33u);

  const auto openat = memory_args(__NR_openat, 32);
  ASSERT_TRUE(openat.has_value());
  ASSERT_EQ(openat->size(), 1u);
  EXPECT_EQ((*openat)[0].size, MemoryArg::Size::kCString);
  EXPECT_EQ((*openat)[0].max, 4096u);
  EXPECT_FALSE((*openat)[0].at_exit);

  const auto write = memory_args(__NR_write, 10);
  ASSERT_TRUE(write.has_value());
  EXPECT_EQ((*write)[0].size, MemoryArg::Size::kFromArg);
  EXPECT_EQ((*write)[0].size_arg, 2);

  EXPECT_TRUE(memory_args(__NR_getpid, 32)->empty());
  EXPECT_TRUE(memory_args(__NR_close, 32)->empty());
}

// Structures of a fixed size are copied whole, in the direction the table
// gives: rt_sigaction's new action at entry, the old one at exit.
TEST(MemoryArgs, FixedStructuresAreDescribed) {
  const auto sigaction = memory_args(__NR_rt_sigaction, 32);
  ASSERT_TRUE(sigaction.has_value());
  ASSERT_EQ(sigaction->size(), 2u);
  EXPECT_EQ((*sigaction)[0].arg, 1);
  EXPECT_FALSE((*sigaction)[0].at_exit);
  EXPECT_EQ((*sigaction)[1].arg, 2);
  EXPECT_TRUE((*sigaction)[1].at_exit);
  EXPECT_EQ((*sigaction)[1].size, MemoryArg::Size::kFixed);
  EXPECT_EQ((*sigaction)[1].max, 32u);  // the kernel's struct sigaction

  const auto wait4 = memory_args(__NR_wait4, 32);
  ASSERT_TRUE(wait4.has_value());
  ASSERT_EQ(wait4->size(), 1u);
  EXPECT_EQ((*wait4)[0].max, sizeof(int));

  // getdents64: the entries the call wrote, at most the buffer's size.
  const auto getdents = memory_args(__NR_getdents64, 32);
  ASSERT_TRUE(getdents.has_value());
  EXPECT_EQ((*getdents)[0].size, MemoryArg::Size::kFromResult);
  EXPECT_EQ((*getdents)[0].size_arg, 2);
}

// ioctl shows its third argument as at most a struct winsize, in or out
// depending on the command: both are copied.
TEST(MemoryArgs, IoctlCopiesItsArgumentBothWays) {
  const auto ioctl = memory_args(__NR_ioctl, 32);
  ASSERT_TRUE(ioctl.has_value());
  ASSERT_EQ(ioctl->size(), 2u);
  EXPECT_EQ((*ioctl)[0].arg, 2);
  EXPECT_FALSE((*ioctl)[0].at_exit);
  EXPECT_TRUE((*ioctl)[1].at_exit);
  EXPECT_EQ((*ioctl)[1].max, sizeof(struct winsize));
}

TEST(MemoryArgs, CommandsAndArraysAreNotDescribed) {
  EXPECT_FALSE(memory_args(__NR_execve, 32).has_value());
  EXPECT_FALSE(memory_args(__NR_fcntl, 32).has_value());
  EXPECT_FALSE(memory_args(__NR_readv, 32).has_value());
  EXPECT_FALSE(memory_args(-1, 32).has_value());
}

}  // namespace
}  // namespace hytrace::syscalls
