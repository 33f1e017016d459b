// `hytrace profile --paths`: the path rules made from a recording's events.
#include "tracer/audit/profile_paths.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/syscall.h>

#include <cerrno>
#include <filesystem>
#include <string>
#include <vector>

namespace hytrace::audit {
namespace {

using tracefile::ExecEvent;
using tracefile::ProcessEvent;
using tracefile::SyscallEvent;

constexpr uint64_t kPathAt = 0x1000;   // where the calls' first path is
constexpr uint64_t kPathAt2 = 0x2000;  // and their second

SyscallEvent call(long nr, std::array<uint64_t, 6> args, int64_t result, std::vector<std::string> paths = {},
                  int32_t tid = 100) {
  SyscallEvent e;
  e.entry_seq = 1;
  e.exit_seq = 2;
  e.tid = tid;
  e.nr = nr;
  e.args = args;
  e.result = result;
  for (size_t i = 0; i < paths.size(); ++i) {
    e.reads.push_back({i == 0 ? kPathAt : kPathAt2, paths[i] + '\0'});
  }
  return e;
}

SyscallEvent openat(int dirfd, const std::string& path, uint64_t flags, int64_t result, int32_t tid = 100) {
  return call(SYS_openat, {static_cast<uint64_t>(dirfd), kPathAt, flags}, result, {path}, tid);
}

ExecEvent exec_in(const std::string& cwd, int32_t tid = 100) {
  ExecEvent x;
  x.tid = x.former_tid = tid;
  x.path = "/usr/bin/true";
  x.cwd = cwd;
  return x;
}

// (prefix, access names) of every allow rule, and whether the last denies everything.
std::vector<std::pair<std::string, std::string>> allows(const PathProfile& p) {
  std::vector<std::pair<std::string, std::string>> out;
  const auto rules = p.rules();
  EXPECT_EQ(rules.back()["action"], "deny");
  EXPECT_EQ(rules.back()["prefix"], "/");
  for (size_t i = 0; i + 1 < rules.size(); ++i) {
    std::string access;
    for (const auto& a : rules[i]["access"]) access += (access.empty() ? "" : ",") + a.get<std::string>();
    out.emplace_back(rules[i]["prefix"], access);
  }
  return out;
}

bool has(const std::vector<std::pair<std::string, std::string>>& rules, const std::string& prefix,
         const std::string& access) {
  return std::find(rules.begin(), rules.end(), std::make_pair(prefix, access)) != rules.end();
}

TEST(PathProfile, RelativePathsFollowTheCwdAndTheDescriptors) {
  PathProfile p;
  p.add(exec_in("/usr"));
  p.add(call(SYS_chdir, {kPathAt}, 0, {"share"}));
  p.add(openat(AT_FDCWD, "doc/README", O_RDONLY, 3));
  p.add(openat(AT_FDCWD, "/etc", O_RDONLY | O_DIRECTORY, 4));
  p.add(call(SYS_dup2, {4, 9}, 9));
  p.add(openat(9, "hostname", O_RDONLY, 5));
  p.add(call(SYS_close, {9}, 0));
  p.add(openat(9, "passwd", O_RDONLY, 5));  // 9 is closed: nowhere to place it
  const auto rules = allows(p);
  EXPECT_TRUE(has(rules, "/usr/share/doc/README", "read"));
  EXPECT_TRUE(has(rules, "/etc", "read"));
  EXPECT_EQ(p.unplaced(), 1u);
  EXPECT_TRUE(has(rules, "/usr/bin/true", "read,exec"));
}

TEST(PathProfile, AForkChildKeepsItsOwnCwdAndAThreadSharesIt) {
  PathProfile p;
  p.add(exec_in("/"));
  ProcessEvent fork;
  fork.kind = ProcessEvent::Kind::kFork;
  fork.tid = 100;
  fork.child = 200;
  p.add(fork);
  ProcessEvent thread = fork;
  thread.kind = ProcessEvent::Kind::kClone;
  thread.child = 300;
  thread.flags = CLONE_FS | CLONE_FILES | CLONE_VM | CLONE_THREAD;
  p.add(thread);
  p.add(call(SYS_chdir, {kPathAt}, 0, {"/srv"}, 200));  // the child's own
  p.add(call(SYS_chdir, {kPathAt}, 0, {"/opt"}, 300));  // the thread's, and so its parent's
  p.add(openat(AT_FDCWD, "a", O_RDONLY, 3, 200));
  p.add(openat(AT_FDCWD, "b", O_RDONLY, 3, 100));
  const auto rules = allows(p);
  EXPECT_TRUE(has(rules, "/srv/a", "read"));
  EXPECT_TRUE(has(rules, "/opt/b", "read"));
}

TEST(PathProfile, NewNamesAreAllowedInTheirDirectory) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "hytrace-profile-paths-test";
  std::filesystem::create_directories(dir);
  PathProfile p;
  p.add(exec_in("/"));
  p.add(openat(AT_FDCWD, (dir / "tmpXYZ").string(), O_RDWR | O_CREAT | O_EXCL, 3));  // mkstemp
  p.add(openat(AT_FDCWD, (dir / "gone.log").string(), O_WRONLY | O_CREAT | O_TRUNC, 4));
  p.add(openat(AT_FDCWD, "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 5));  // `> /dev/null`
  p.add(call(SYS_unlink, {kPathAt}, 0, {(dir / "tmpXYZ").string()}));
  const auto rules = allows(p);
  EXPECT_TRUE(has(rules, dir.string(), "read,write,create,unlink,truncate")) << rules.size();
  EXPECT_TRUE(has(rules, "/dev/null", "write,truncate"));
  for (const auto& [prefix, access] : rules) EXPECT_NE(prefix, "/dev") << access;  // no creating devices
  std::filesystem::remove_all(dir);
}

TEST(PathProfile, LookupsInVainAreAllowedAsTheyWereAndOtherFailuresNot) {
  PathProfile p;
  p.add(exec_in("/"));
  p.add(openat(AT_FDCWD, "/usr/lib/locale/no-such-archive", O_RDONLY, -ENOENT));
  p.add(openat(AT_FDCWD, "/etc/shadow", O_RDONLY, -EACCES));
  const auto rules = allows(p);
  EXPECT_TRUE(has(rules, "/usr/lib/locale/no-such-archive", "read"));
  for (const auto& [prefix, access] : rules) EXPECT_NE(prefix, "/etc/shadow");
}

TEST(PathProfile, ManyEntriesOfADirectoryBecomeTheDirectoryAndCoveredRulesGo) {
  PathProfile p;
  p.add(exec_in("/"));
  for (int i = 0; i <= static_cast<int>(PathProfile::kMostEntries); ++i) {
    p.add(openat(AT_FDCWD, "/usr/share/x/f" + std::to_string(i), O_RDONLY, 3));
  }
  p.add(openat(AT_FDCWD, "/usr/share/y", O_RDONLY, 3));
  const auto rules = allows(p);
  EXPECT_TRUE(has(rules, "/usr/share/x", "read"));
  EXPECT_TRUE(has(rules, "/usr/share/y", "read"));
  for (const auto& [prefix, access] : rules) EXPECT_NE(prefix.rfind("/usr/share/x/", 0), 0u) << prefix;
}

// Paths in as many directories of their own: nothing groups them, and the
// rules are still written in steps linear in their number (this test would
// take hours the quadratic way).
TEST(PathProfile, ManyPathsInManyDirectories) {
  PathProfile p;
  p.add(exec_in("/"));
  constexpr int kPaths = 100000;
  for (int i = 0; i < kPaths; ++i) p.add(openat(AT_FDCWD, "/d" + std::to_string(i) + "/f", O_RDONLY, 3));
  EXPECT_EQ(p.rules().size(), static_cast<size_t>(kPaths) + 2);  // and /usr/bin/true, and the deny
}

}  // namespace
}  // namespace hytrace::audit
