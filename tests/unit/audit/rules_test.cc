// Deciding path and network rules: what each syscall family does to its
// paths, prefix and glob matching, first rule wins, IPv4 and IPv6 prefixes
// and ports for connect and bind, and hostile socket addresses (short, odd,
// random bytes against a guard page).
#include "tracer/audit/rules.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <random>

#include "syscalls/catalogue.hpp"

namespace hytrace::audit {
namespace {

// --- building rules and calls -------------------------------------------------

PathRule prefix(std::string pattern, uint32_t access, Verdict verdict = Verdict::kDeny,
                size_t index = 0) {
  PathRule rule;
  rule.index = index;
  rule.action = verdict;
  rule.access = access;
  rule.pattern = std::move(pattern);
  return rule;
}

PathRule glob(std::string pattern, uint32_t access = kAccessRead, Verdict verdict = Verdict::kDeny,
              size_t index = 0) {
  PathRule rule = prefix(std::move(pattern), access, verdict, index);
  rule.is_glob = true;
  return rule;
}

std::vector<NetworkRule> network_rules(const std::string& rules) {
  return parse(R"({"defaultAction": "SCMP_ACT_ALLOW", "hytrace": {"network": [)" + rules + "]}}")
      .hytrace.network;
}

std::vector<uint32_t> accesses(long nr, std::array<uint64_t, 6> args = {},
                               std::optional<uint64_t> open_how_flags = std::nullopt) {
  return path_accesses(nr, args, open_how_flags);
}

using Accesses = std::vector<uint32_t>;

template <typename T>
std::vector<uint8_t> bytes_of(const T& value, size_t length = sizeof(T)) {
  std::vector<uint8_t> out(sizeof(T));
  std::memcpy(out.data(), &value, sizeof(T));
  out.resize(length);
  return out;
}

std::vector<uint8_t> inet(const char* address, uint16_t port, sa_family_t family = AF_INET) {
  sockaddr_in sin{};
  sin.sin_family = family;
  sin.sin_port = htons(port);
  EXPECT_EQ(inet_pton(AF_INET, address, &sin.sin_addr), 1) << address;
  return bytes_of(sin);
}

std::vector<uint8_t> inet6(const char* address, uint16_t port,
                           size_t length = sizeof(sockaddr_in6)) {
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  sin6.sin6_port = htons(port);
  sin6.sin6_flowinfo = htonl(0x12345);
  sin6.sin6_scope_id = 7;
  EXPECT_EQ(inet_pton(AF_INET6, address, &sin6.sin6_addr), 1) << address;
  return bytes_of(sin6, length);
}

// The rule index a call falls under, -1 for none: short to compare.
long connect_rule(const std::vector<NetworkRule>& rules, const std::vector<uint8_t>& addr) {
  const auto d = decide_network(rules, NetOp::kConnect, addr);
  return d ? static_cast<long>(d->rule_index) : -1;
}

long bind_rule(const std::vector<NetworkRule>& rules, const std::vector<uint8_t>& addr) {
  const auto d = decide_network(rules, NetOp::kBind, addr);
  return d ? static_cast<long>(d->rule_index) : -1;
}

// --- prefixes -----------------------------------------------------------------

TEST(PathMatch, PrefixMatchesByWholeComponents) {
  const PathRule etc = prefix("/etc", kAccessWrite);
  EXPECT_TRUE(path_matches(etc, "/etc"));
  EXPECT_TRUE(path_matches(etc, "/etc/passwd"));
  EXPECT_TRUE(path_matches(etc, "/etc/ssh/sshd_config"));
  EXPECT_FALSE(path_matches(etc, "/etcfoo"));
  EXPECT_FALSE(path_matches(etc, "/etcfoo/passwd"));
  EXPECT_FALSE(path_matches(etc, "/et"));
  EXPECT_FALSE(path_matches(etc, "/"));
  EXPECT_FALSE(path_matches(etc, "/usr/etc/passwd"));
  // A prefix has no wildcards: '*' is a byte like another.
  EXPECT_TRUE(path_matches(prefix("/tmp/*", kAccessRead), "/tmp/*/x"));
  EXPECT_FALSE(path_matches(prefix("/tmp/*", kAccessRead), "/tmp/a"));
}

TEST(PathMatch, RootPrefixMatchesEverything) {
  const PathRule root = prefix("/", kAccessRead);
  for (const char* path : {"/", "/a", "/etc/passwd", "/a/b/c/d"}) {
    EXPECT_TRUE(path_matches(root, path)) << path;
  }
}

TEST(PathMatch, PathsAreMadeLexicallyNormalFirst) {
  // The program chooses its path's spelling: none of these escapes /etc.
  const PathRule etc = prefix("/etc", kAccessWrite);
  for (const char* path : {"//etc/passwd", "/etc//passwd", "/./etc/passwd", "/etc/./passwd",
                           "/tmp/../etc/passwd", "/../etc/passwd", "/etc/", "/etc/x/.."}) {
    EXPECT_TRUE(path_matches(etc, path)) << path;
  }
  EXPECT_FALSE(path_matches(etc, "/etc/../etcfoo"));
  EXPECT_FALSE(path_matches(etc, "/etc/.."));
  // Not absolute: no rule can say where it is.
  EXPECT_FALSE(path_matches(prefix("/", kAccessRead), "etc/passwd"));
  EXPECT_FALSE(path_matches(prefix("/", kAccessRead), ""));
  EXPECT_FALSE(path_matches(glob("/**"), "passwd"));
}

TEST(PathMatch, NormalizedPath) {
  EXPECT_EQ(normalized_path("/"), "/");
  EXPECT_EQ(normalized_path("///"), "/");
  EXPECT_EQ(normalized_path("/.."), "/");
  EXPECT_EQ(normalized_path("/a/b/../../.."), "/");
  EXPECT_EQ(normalized_path("/a//b/./c/"), "/a/b/c");
  EXPECT_EQ(normalized_path("/a/b/../c"), "/a/c");
  EXPECT_EQ(normalized_path("/a/...b/.x"), "/a/...b/.x");  // only "." and ".." are special
  EXPECT_EQ(normalized_path("a/b"), std::nullopt);
  EXPECT_EQ(normalized_path(""), std::nullopt);
}

// --- globs --------------------------------------------------------------------

TEST(PathMatch, GlobStarStaysInOneComponentDoubleStarSpansAny) {
  const PathRule ssh = glob("/home/*/.ssh/**");
  EXPECT_TRUE(path_matches(ssh, "/home/a/.ssh"));  // "**" takes no component
  EXPECT_TRUE(path_matches(ssh, "/home/a/.ssh/id_rsa"));
  EXPECT_TRUE(path_matches(ssh, "/home/alice/.ssh/keys/old/id_ed25519"));
  EXPECT_FALSE(path_matches(ssh, "/home/a/b/.ssh"));
  EXPECT_FALSE(path_matches(ssh, "/home/a/b/.ssh/id_rsa"));
  EXPECT_FALSE(path_matches(ssh, "/home/.ssh"));
  EXPECT_FALSE(path_matches(ssh, "/home/a/.sshx"));
  EXPECT_FALSE(path_matches(ssh, "/home/a"));
}

TEST(PathMatch, GlobStarAndQuestionMarkWithinAComponent) {
  EXPECT_TRUE(path_matches(glob("/tmp/file?"), "/tmp/file1"));
  EXPECT_FALSE(path_matches(glob("/tmp/file?"), "/tmp/file"));
  EXPECT_FALSE(path_matches(glob("/tmp/file?"), "/tmp/file12"));
  EXPECT_FALSE(path_matches(glob("/tmp/?"), "/tmp/a/b"));
  EXPECT_TRUE(path_matches(glob("/var/log/*.log"), "/var/log/syslog.log"));
  // '*' may match nothing, and matches dotfiles.
  EXPECT_TRUE(path_matches(glob("/var/log/*.log"), "/var/log/.log"));
  EXPECT_FALSE(path_matches(glob("/var/log/*.log"), "/var/log/a/b.log"));
  EXPECT_FALSE(path_matches(glob("/var/log/*.log"), "/var/log/syslog.log.1"));
  EXPECT_TRUE(path_matches(glob("/a*b*c"), "/abc"));
  EXPECT_TRUE(path_matches(glob("/a*b*c"), "/aXbYc"));
  EXPECT_TRUE(path_matches(glob("/a*b*c"), "/abbcbc"));
  EXPECT_FALSE(path_matches(glob("/a*b*c"), "/acb"));
  EXPECT_TRUE(path_matches(glob("/*"), "/etc"));
  EXPECT_FALSE(path_matches(glob("/*"), "/"));
  // Pattern wildcards match path bytes that look like them, and nothing else.
  EXPECT_TRUE(path_matches(glob("/a/*"), "/a/*"));
  EXPECT_TRUE(path_matches(glob("/a/?"), "/a/?"));
  EXPECT_FALSE(path_matches(glob("/a/b"), "/a/?"));
}

TEST(PathMatch, DoubleStarInTheMiddle) {
  const PathRule python = glob("/usr/**/bin/python?");
  EXPECT_TRUE(path_matches(python, "/usr/bin/python3"));
  EXPECT_TRUE(path_matches(python, "/usr/local/bin/python3"));
  EXPECT_TRUE(path_matches(python, "/usr/a/b/c/bin/python3"));
  EXPECT_TRUE(path_matches(python, "/usr/bin/bin/python3"));
  EXPECT_FALSE(path_matches(python, "/usr/bin/python"));
  EXPECT_FALSE(path_matches(python, "/usr/bin/x/python3"));
  EXPECT_FALSE(path_matches(python, "/opt/bin/python3"));
  const PathRule two = glob("/**/x/**/y");
  EXPECT_TRUE(path_matches(two, "/x/y"));
  EXPECT_TRUE(path_matches(two, "/a/x/b/c/y"));
  EXPECT_TRUE(path_matches(two, "/x/x/x/y"));
  EXPECT_FALSE(path_matches(two, "/y/x"));
  EXPECT_FALSE(path_matches(two, "/a/x/b/y/c"));
}

TEST(PathMatch, GlobsWithoutWildcardsMatchExactly) {
  EXPECT_TRUE(path_matches(glob("/**"), "/"));
  EXPECT_TRUE(path_matches(glob("/**"), "/a/b"));
  EXPECT_TRUE(path_matches(glob("/"), "/"));
  EXPECT_FALSE(path_matches(glob("/"), "/a"));
  EXPECT_TRUE(path_matches(glob("/etc/passwd"), "/etc/passwd"));
  EXPECT_FALSE(path_matches(glob("/etc"), "/etc/passwd"));  // unlike the prefix /etc
  EXPECT_TRUE(path_matches(glob("/etc/*"), "/etc//./passwd"));  // normalised too
}

TEST(PathMatch, HostileLongPathsStayQuick) {
  // Close to PATH_MAX of one-byte components against a pattern of many
  // "**" and '*': the greedy match is bounded, never exponential.
  std::string path;
  while (path.size() < 4000) path += "/a";
  EXPECT_TRUE(path_matches(glob("/**/a/**/a/**/a/**/a"), path));
  EXPECT_FALSE(path_matches(glob("/**/a/**/a/**/b/**/a"), path));
  const std::string component(4000, 'a');
  EXPECT_FALSE(path_matches(glob("/*a*a*a*a*a*a*a*a*a*b"), "/" + component));
  EXPECT_TRUE(path_matches(glob("/*a*a*a*a*a*a*a*a*a*a"), "/" + component));
}

// --- deciding -----------------------------------------------------------------

TEST(DecidePath, FirstMatchingRuleInFileOrderDecides) {
  const std::vector<PathRule> rules = {
      prefix("/etc/shadow", kAccessWrite | kAccessRead, Verdict::kDeny, 0),
      prefix("/etc", kAccessWrite, Verdict::kAllow, 1),
      glob("/**", kAccessRead | kAccessWrite, Verdict::kLog, 2),
  };
  auto d = decide_path(rules, "/etc/shadow", kAccessWrite);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->verdict, Verdict::kDeny);
  EXPECT_EQ(d->rule_index, 0u);
  d = decide_path(rules, "/etc/hosts", kAccessWrite);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->verdict, Verdict::kAllow);
  EXPECT_EQ(d->rule_index, 1u);
  d = decide_path(rules, "/etc/hosts", kAccessRead);  // /etc's rule is not about reading
  ASSERT_TRUE(d);
  EXPECT_EQ(d->verdict, Verdict::kLog);
  EXPECT_EQ(d->rule_index, 2u);
  EXPECT_FALSE(decide_path(rules, "/etc/hosts", kAccessExec));  // no rule about exec
}

TEST(DecidePath, AccessIntersectsAndIndexIsTheRules) {
  const std::vector<PathRule> rules = {
      prefix("/srv", kAccessCreate | kAccessUnlink, Verdict::kDeny, 7)};
  EXPECT_FALSE(decide_path(rules, "/srv/x", kAccessRead | kAccessWrite));
  const auto d = decide_path(rules, "/srv/x", kAccessWrite | kAccessCreate);  // O_WRONLY|O_CREAT
  ASSERT_TRUE(d);
  EXPECT_EQ(d->rule_index, 7u);
  EXPECT_FALSE(decide_path(rules, "/srv/x", 0));
  EXPECT_FALSE(decide_path({}, "/srv/x", kAccessCreate));
  EXPECT_FALSE(decide_path(rules, "srv/x", kAccessCreate));
}

TEST(DecidePath, TheDesignsExampleAsLoaded) {
  const Policy policy = parse(R"({"defaultAction": "SCMP_ACT_ALLOW", "hytrace": {"paths": [
      {"action": "deny", "access": ["write", "unlink", "rename", "create"], "prefix": "/etc/"},
      {"action": "log", "access": ["read"], "glob": "/home/*/.ssh/**", "comment": "keys"}]}})");
  const std::vector<PathRule>& rules = policy.hytrace.paths;
  const uint64_t open_rw[6] = {0, O_RDWR | O_CREAT, 0644};
  const std::vector<uint32_t> access = path_accesses(SYS_open, open_rw);
  ASSERT_EQ(access.size(), 1u);
  const auto d = decide_path(rules, "/etc/passwd", access[0]);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->verdict, Verdict::kDeny);
  EXPECT_FALSE(decide_path(rules, "/etc/passwd", kAccessRead));
  EXPECT_EQ(decide_path(rules, "/home/bob/.ssh/id_rsa", kAccessRead)->rule_index, 1u);
  EXPECT_FALSE(decide_path(rules, "/home/bob/.sshrc", kAccessRead));
}

// --- what each syscall does to its paths ----------------------------------------

TEST(PathAccesses, OpenFlags) {
  EXPECT_EQ(accesses(SYS_open, {0, O_RDONLY}), Accesses{kAccessRead});
  EXPECT_EQ(accesses(SYS_open, {0, O_RDONLY | O_DIRECTORY}), Accesses{kAccessRead});  // listing
  EXPECT_EQ(accesses(SYS_open, {0, O_WRONLY | O_APPEND}), Accesses{kAccessWrite});
  EXPECT_EQ(accesses(SYS_open, {0, O_RDWR}), Accesses{kAccessRead | kAccessWrite});
  // 3 is no access mode, but Linux checks it as both.
  EXPECT_EQ(accesses(SYS_open, {0, O_ACCMODE}), Accesses{kAccessRead | kAccessWrite});
  EXPECT_EQ(accesses(SYS_open, {0, O_WRONLY | O_CREAT | O_EXCL}),
            Accesses{kAccessWrite | kAccessCreate});
  EXPECT_EQ(accesses(SYS_open, {0, O_RDONLY | O_TRUNC}), Accesses{kAccessRead | kAccessTruncate});
  EXPECT_EQ(accesses(SYS_open, {0, O_RDWR | O_TMPFILE}),
            Accesses{kAccessRead | kAccessWrite | kAccessCreate});
  EXPECT_EQ(accesses(SYS_open, {0, O_PATH | O_CREAT | O_TRUNC | O_WRONLY}), Accesses{0});
  // The kernel's flags are an int: the register's upper half is not flags.
  EXPECT_EQ(accesses(SYS_open, {0, 0xffffffff00000000ull | O_RDONLY}), Accesses{kAccessRead});
  EXPECT_EQ(accesses(SYS_openat, {static_cast<uint64_t>(AT_FDCWD), 0, O_WRONLY | O_TRUNC}),
            Accesses{kAccessWrite | kAccessTruncate});
  EXPECT_EQ(accesses(SYS_creat, {0, 0644}),
            Accesses{kAccessWrite | kAccessCreate | kAccessTruncate});
  EXPECT_EQ(open_access(O_RDONLY), kAccessRead);
}

TEST(PathAccesses, Openat2TakesTheFlagsTheCallerRead) {
  EXPECT_EQ(accesses(SYS_openat2, {}, O_RDONLY), Accesses{kAccessRead});
  EXPECT_EQ(accesses(SYS_openat2, {}, O_WRONLY | O_CREAT), Accesses{kAccessWrite | kAccessCreate});
  // args[2] is a pointer, not flags: it is never read as flags.
  EXPECT_EQ(accesses(SYS_openat2, {0, 0, O_WRONLY}, O_RDONLY), Accesses{kAccessRead});
  EXPECT_EQ(accesses(SYS_openat2),
            Accesses{kAccessRead | kAccessWrite | kAccessCreate | kAccessTruncate});
}

TEST(PathAccesses, ExecUnlinkRenameLinkSymlink) {
  EXPECT_EQ(accesses(SYS_execve), Accesses{kAccessExec});
  EXPECT_EQ(accesses(SYS_execveat, {0, 0, 0, 0, AT_EMPTY_PATH}), Accesses{kAccessExec});
  EXPECT_EQ(accesses(SYS_unlink), Accesses{kAccessUnlink});
  EXPECT_EQ(accesses(SYS_rmdir), Accesses{kAccessUnlink});
  EXPECT_EQ(accesses(SYS_unlinkat), Accesses{kAccessUnlink});
  EXPECT_EQ(accesses(SYS_unlinkat, {0, 0, AT_REMOVEDIR}), Accesses{kAccessUnlink});
  const Accesses both_renamed{kAccessRename, kAccessRename};
  EXPECT_EQ(accesses(SYS_rename), both_renamed);
  EXPECT_EQ(accesses(SYS_renameat), both_renamed);
  EXPECT_EQ(accesses(SYS_renameat2, {0, 0, 0, 0, RENAME_EXCHANGE}), both_renamed);
  EXPECT_EQ(accesses(SYS_renameat2, {0, 0, 0, 0, RENAME_NOREPLACE}), both_renamed);
  const Accesses hard_link{kAccessRename, kAccessCreate};  // old path, new path
  EXPECT_EQ(accesses(SYS_link), hard_link);
  EXPECT_EQ(accesses(SYS_linkat, {0, 0, 0, 0, AT_SYMLINK_FOLLOW}), hard_link);
  const Accesses symlink{0, kAccessCreate};  // the target is only a string
  EXPECT_EQ(accesses(SYS_symlink), symlink);
  EXPECT_EQ(accesses(SYS_symlinkat), symlink);
}

TEST(PathAccesses, CreateTruncateAndMetadata) {
  for (long nr : {SYS_mkdir, SYS_mkdirat, SYS_mknod, SYS_mknodat}) {
    EXPECT_EQ(accesses(nr), Accesses{kAccessCreate}) << nr;
  }
  EXPECT_EQ(accesses(SYS_truncate), Accesses{kAccessTruncate});
  for (long nr : {SYS_chmod, SYS_fchmodat, SYS_chown, SYS_lchown, SYS_fchownat, SYS_utime,
                  SYS_utimes, SYS_futimesat, SYS_utimensat, SYS_setxattr, SYS_lsetxattr,
                  SYS_removexattr, SYS_lremovexattr}) {
    EXPECT_EQ(accesses(nr), Accesses{kAccessWrite}) << nr;
  }
  EXPECT_EQ(accesses(SYS_acct), Accesses{kAccessWrite});
  EXPECT_EQ(accesses(SYS_swapon), Accesses{kAccessRead | kAccessWrite});
}

TEST(PathAccesses, CallsNoRuleIsAbout) {
  // Looking at a path, changing only the process, or taking an fd (no path).
  for (long nr : {SYS_stat, SYS_lstat, SYS_newfstatat, SYS_statx, SYS_access, SYS_faccessat,
                  SYS_faccessat2, SYS_readlink, SYS_readlinkat, SYS_chdir, SYS_chroot,
                  SYS_getxattr, SYS_listxattr, SYS_statfs, SYS_mount, SYS_umount2,
                  SYS_pivot_root, SYS_inotify_add_watch, SYS_ftruncate, SYS_fchmod, SYS_fchown,
                  SYS_read, SYS_write, SYS_getpid, SYS_connect}) {
    EXPECT_TRUE(accesses(nr).empty()) << nr;
  }
  EXPECT_TRUE(accesses(-1).empty());
  EXPECT_TRUE(accesses(100000).empty());
}

TEST(PathAccesses, OneEntryPerCataloguePathArgument) {
  // The contract with absolute_paths: empty, or exactly as many entries as
  // the catalogue has kPath arguments, whatever the call.
  size_t covered = 0;
  for (const syscalls::SyscallInfo& info : syscalls::all()) {
    size_t paths = 0;
    for (int i = 0; i < info.nargs && i < 6; ++i) paths += info.args[i] == syscalls::ArgKind::kPath;
    const std::vector<uint32_t> found = accesses(info.nr, {}, O_RDONLY);
    if (found.empty()) continue;
    ++covered;
    EXPECT_EQ(found.size(), paths) << info.name;
  }
  EXPECT_EQ(covered, 36u);  // the calls path_accesses knows, all in the catalogue
}

// --- network rules ------------------------------------------------------------

TEST(DecideNetwork, Ipv4PrefixesAndPortsForConnectAndBind) {
  const auto rules = network_rules(R"(
      {"action": "deny", "op": "connect", "ports": [1, 442], "address": "10.0.0.0/8"},
      {"action": "allow", "op": "bind", "port": 8080},
      {"action": "log", "op": "connect", "address": "192.168.0.0/23"},
      {"action": "allow", "op": "bind", "ports": [1024, 2048], "address": "127.0.0.1"})");
  const auto d = decide_network(rules, NetOp::kConnect, inet("10.1.2.3", 80));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->verdict, Verdict::kDeny);
  EXPECT_EQ(d->rule_index, 0u);
  EXPECT_EQ(connect_rule(rules, inet("10.255.255.255", 1)), 0);   // both ends of the range
  EXPECT_EQ(connect_rule(rules, inet("10.0.0.0", 442)), 0);
  EXPECT_EQ(connect_rule(rules, inet("10.1.2.3", 443)), -1);
  EXPECT_EQ(connect_rule(rules, inet("10.1.2.3", 0)), -1);
  EXPECT_EQ(connect_rule(rules, inet("11.0.0.1", 80)), -1);
  EXPECT_EQ(connect_rule(rules, inet("9.255.255.255", 80)), -1);
  EXPECT_EQ(connect_rule(rules, inet("192.168.1.255", 9)), 2);   // /23: two /24s
  EXPECT_EQ(connect_rule(rules, inet("192.168.0.0", 9)), 2);
  EXPECT_EQ(connect_rule(rules, inet("192.168.2.0", 9)), -1);
  EXPECT_EQ(connect_rule(rules, inet("192.169.0.1", 9)), -1);
  EXPECT_EQ(connect_rule(rules, inet("1.2.3.4", 8080)), -1);  // rule 1 is about bind
  EXPECT_EQ(bind_rule(rules, inet("0.0.0.0", 8080)), 1);
  EXPECT_EQ(bind_rule(rules, inet("10.1.2.3", 80)), -1);       // rule 0 is about connect
  EXPECT_EQ(bind_rule(rules, inet("127.0.0.1", 1024)), 3);
  EXPECT_EQ(bind_rule(rules, inet("127.0.0.1", 2048)), 3);
  EXPECT_EQ(bind_rule(rules, inet("127.0.0.1", 2049)), -1);
  EXPECT_EQ(bind_rule(rules, inet("127.0.0.2", 1500)), -1);
  // Bytes past the sockaddr_in the program said are there do not matter.
  std::vector<uint8_t> longer = inet("10.1.2.3", 80);
  longer.resize(128, 0xee);
  EXPECT_EQ(connect_rule(rules, longer), 0);
}

TEST(DecideNetwork, Ipv6PrefixesAndPorts) {
  const auto rules = network_rules(R"(
      {"action": "log", "op": "connect", "address": "fd00::/8"},
      {"action": "deny", "op": "connect", "port": 53, "address": "2001:db8::/127"},
      {"action": "allow", "op": "bind", "address": "::1"},
      {"action": "deny", "op": "bind", "address": "::/0"})");
  EXPECT_EQ(connect_rule(rules, inet6("fd12:3456::1", 443)), 0);
  EXPECT_EQ(connect_rule(rules, inet6("fe80::1", 443)), -1);
  EXPECT_EQ(connect_rule(rules, inet6("2001:db8::1", 53)), 1);
  EXPECT_EQ(connect_rule(rules, inet6("2001:db8::2", 53)), -1);  // past the /127
  EXPECT_EQ(connect_rule(rules, inet6("2001:db8::1", 54)), -1);
  EXPECT_EQ(bind_rule(rules, inet6("::1", 80)), 2);
  EXPECT_EQ(bind_rule(rules, inet6("::2", 80)), 3);
  EXPECT_EQ(bind_rule(rules, inet("127.0.0.1", 80)), -1);  // an IPv6 prefix holds no IPv4 address
  // The RFC 2133 sockaddr_in6, without sin6_scope_id, is as good as the whole.
  EXPECT_EQ(connect_rule(rules, inet6("fd00::1", 1, 24)), 0);
}

TEST(DecideNetwork, FirstMatchWinsAndRulesWithoutAddressTakeBothFamilies) {
  const auto rules = network_rules(R"(
      {"action": "allow", "op": "connect", "address": "127.0.0.0/8"},
      {"action": "allow", "op": "connect", "address": "::1"},
      {"action": "deny", "op": "connect"},
      {"action": "log", "op": "connect", "address": "1.1.1.1"})");
  EXPECT_EQ(connect_rule(rules, inet("127.0.0.53", 53)), 0);
  EXPECT_EQ(connect_rule(rules, inet6("::1", 53)), 1);
  EXPECT_EQ(connect_rule(rules, inet("1.1.1.1", 53)), 2);  // rule 3 comes too late
  EXPECT_EQ(connect_rule(rules, inet6("2001:db8::1", 0)), 2);
  EXPECT_EQ(decide_network(rules, NetOp::kConnect, inet("1.1.1.1", 53))->verdict, Verdict::kDeny);
}

TEST(DecideNetwork, MappedAddressesAreIpv4AndIpv6) {
  const auto rules = network_rules(R"(
      {"action": "deny", "op": "connect", "address": "10.0.0.0/8"},
      {"action": "log", "op": "connect", "address": "::ffff:0:0/96"})");
  EXPECT_EQ(connect_rule(rules, inet6("::ffff:10.1.2.3", 80)), 0);
  EXPECT_EQ(connect_rule(rules, inet6("::ffff:8.8.8.8", 80)), 1);
  EXPECT_EQ(connect_rule(rules, inet("8.8.8.8", 80)), -1);  // IPv4 is not written as mapped
  EXPECT_EQ(connect_rule(rules, inet6("::10.1.2.3", 80)), -1);  // "compatible" addresses are IPv6
  EXPECT_EQ(connect_rule(rules, inet6("64:ff9b::10.1.2.3", 80)), -1);
}

TEST(DecideNetwork, ConnectingToTheUnspecifiedAddressIsLoopback) {
  const auto rules = network_rules(R"(
      {"action": "deny", "op": "connect", "address": "127.0.0.0/8"},
      {"action": "deny", "op": "connect", "address": "::1"},
      {"action": "deny", "op": "bind", "address": "127.0.0.1"},
      {"action": "log", "op": "bind", "address": "0.0.0.0"})");
  EXPECT_EQ(connect_rule(rules, inet("0.0.0.0", 22)), 0);
  EXPECT_EQ(connect_rule(rules, inet6("::", 22)), 1);
  EXPECT_EQ(connect_rule(rules, inet6("::ffff:0.0.0.0", 22)), 0);
  // Binding to it is binding to every address, not to the loopback.
  EXPECT_EQ(bind_rule(rules, inet("0.0.0.0", 22)), 3);
}

TEST(DecideNetwork, UnspecBindIsInetBindButConnectIsDisconnect) {
  const auto rules = network_rules(R"({"action": "deny", "op": "bind", "port": 22},
                                      {"action": "deny", "op": "connect"})");
  // inet_bind takes AF_UNSPEC with INADDR_ANY as AF_INET.
  EXPECT_EQ(bind_rule(rules, inet("0.0.0.0", 22, AF_UNSPEC)), 0);
  EXPECT_EQ(bind_rule(rules, inet("10.0.0.1", 22, AF_UNSPEC)), -1);  // refused by the kernel
  EXPECT_EQ(bind_rule(rules, bytes_of(sockaddr_in{AF_UNSPEC, htons(22), {}, {}}, 15)), -1);
  EXPECT_EQ(connect_rule(rules, inet("0.0.0.0", 22, AF_UNSPEC)), -1);  // dissolves an association
}

TEST(DecideNetwork, OtherFamiliesAndShortAddressesAreNoRulesBusiness) {
  const auto rules = network_rules(R"({"action": "deny", "op": "connect"},
                                      {"action": "deny", "op": "bind"})");
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  std::strcpy(sun.sun_path, "/run/docker.sock");
  EXPECT_EQ(connect_rule(rules, bytes_of(sun)), -1);
  EXPECT_EQ(bind_rule(rules, bytes_of(sun)), -1);
  sockaddr_nl nl{};
  nl.nl_family = AF_NETLINK;
  EXPECT_EQ(bind_rule(rules, bytes_of(nl)), -1);
  EXPECT_EQ(connect_rule(rules, {}), -1);
  EXPECT_EQ(connect_rule(rules, {AF_INET}), -1);  // half a family
  const sockaddr_in sin{AF_INET, htons(80), {htonl(0x01020304)}, {}};
  for (size_t n = 0; n < sizeof sin; ++n) EXPECT_EQ(connect_rule(rules, bytes_of(sin, n)), -1) << n;
  for (size_t n = 0; n < 24; ++n) EXPECT_EQ(connect_rule(rules, inet6("::1", 80, n)), -1) << n;
  EXPECT_EQ(connect_rule(rules, inet("1.2.3.4", 80)), 0);
  EXPECT_EQ(connect_rule(rules, inet6("::1", 80, 24)), 0);
}

TEST(DecideNetwork, MalformedPrefixesMadeByHandHoldNothing) {
  NetworkRule too_long;
  too_long.address = IpPrefix{AF_INET6, {}, 200};
  NetworkRule no_family;
  no_family.address = IpPrefix{0, {}, 0};
  NetworkRule v4_too_long;
  v4_too_long.address = IpPrefix{AF_INET, {}, 33};
  const std::vector<NetworkRule> rules = {too_long, no_family, v4_too_long};
  EXPECT_EQ(connect_rule(rules, inet6("::", 80)), -1);
  EXPECT_EQ(connect_rule(rules, inet("0.0.0.0", 80)), -1);
}

// Random bytes of random lengths, each copied to the very end of a page
// followed by an inaccessible one: a read past the span faults.
TEST(DecideNetwork, RandomBytesNeverReadPastTheSpan) {
  const auto rules = network_rules(R"(
      {"action": "deny", "op": "connect", "ports": [1, 442], "address": "10.0.0.0/8"},
      {"action": "allow", "op": "bind", "port": 8080},
      {"action": "log", "op": "connect", "address": "fd00::/8"},
      {"action": "log", "op": "connect", "address": "::ffff:0:0/96"},
      {"action": "deny", "op": "bind"},
      {"action": "deny", "op": "connect", "address": "0.0.0.0/1"})");
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  void* map = mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(map, MAP_FAILED);
  uint8_t* const guard = static_cast<uint8_t*>(map) + page;
  ASSERT_EQ(mprotect(guard, page, PROT_NONE), 0);
  std::mt19937 rng(20240601);
  const sa_family_t families[] = {AF_INET, AF_INET6, AF_UNSPEC, AF_UNIX};
  size_t decided = 0;
  for (int i = 0; i < 100000; ++i) {
    const size_t n = rng() % 40;
    uint8_t* const start = guard - n;
    for (size_t b = 0; b < n; ++b) start[b] = static_cast<uint8_t>(rng());
    if (n >= 2 && rng() % 4 != 0) std::memcpy(start, &families[rng() % 4], 2);
    for (NetOp op : {NetOp::kConnect, NetOp::kBind}) {
      const auto d = decide_network(rules, op, std::span<const uint8_t>(start, n));
      if (!d) continue;
      ++decided;
      EXPECT_LT(d->rule_index, rules.size());
    }
  }
  EXPECT_GT(decided, 1000u);  // the loop reached the rules, not only the length checks
  munmap(map, 2 * page);
}

}  // namespace
}  // namespace hytrace::audit
