// Typed decoding: paths with their directory and resolution flags, socket
// addresses, flag sets, against the test's own memory.
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "syscalls/catalogue.hpp"
#include "syscalls/decode.hpp"
#include "tests/unit/syscalls/format_test_util.hpp"

namespace hytrace::syscalls {
namespace {

using testing::addr;
using testing::make_call;

long nr(const char* name) { return *number_of(name); }

Decoded entry(const char* name, std::initializer_list<uint64_t> args) {
  LocalMemory mem;
  return decode_entry(make_call(nr(name), args), mem);
}

TEST(Decode, PathRelativeToADirectory) {
  const char path[] = "etc/passwd";
  const Decoded d = entry("openat", {7, addr(path), O_RDONLY | O_NOFOLLOW, 0});
  const Path* p = d.get<Path>(1);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->text, "etc/passwd");
  EXPECT_EQ(p->dirfd, 7);
  EXPECT_FALSE(p->follow);
  const FlagSet* flags = d.get<FlagSet>(2);
  ASSERT_NE(flags, nullptr);
  EXPECT_EQ(flags->names, (std::vector<std::string>{"O_RDONLY", "O_NOFOLLOW"}));
}

TEST(Decode, PathWithoutDirectoryIsFromTheCwd) {
  const char path[] = "/tmp/x";
  const Decoded d = entry("open", {addr(path), O_WRONLY | O_CREAT, 0644});
  const Path* p = d.get<Path>(0);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->dirfd, kAtFdCwd);
  EXPECT_TRUE(p->follow);
}

TEST(Decode, AtFlagsChangeHowAPathResolves) {
  const char path[] = "";
  const Decoded d = entry("newfstatat", {3, addr(path), 0, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW});
  const Path* p = d.get<Path>(1);
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(p->empty_path);
  EXPECT_FALSE(p->follow);
  EXPECT_EQ(p->dirfd, 3);
  // The last component of unlink is never followed; linkat follows on request.
  const char a[] = "a", b[] = "b";
  const Decoded unlink = entry("unlink", {addr(a)});
  EXPECT_FALSE(unlink.get<Path>(0)->follow);
  const Decoded link = entry("linkat", {static_cast<uint64_t>(AT_FDCWD), addr(a), 5, addr(b), AT_SYMLINK_FOLLOW});
  EXPECT_TRUE(link.get<Path>(1)->follow);
  EXPECT_EQ(link.get<Path>(3)->dirfd, 5);
}

TEST(Decode, Openat2ResolveFlags) {
  const char path[] = "x";
  struct open_how how {};
  how.flags = O_RDONLY | O_NOFOLLOW;
  how.resolve = RESOLVE_BENEATH;
  const Decoded d = entry("openat2", {static_cast<uint64_t>(AT_FDCWD), addr(path), addr(&how), sizeof how});
  const Path* p = d.get<Path>(1);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->resolve, static_cast<uint64_t>(RESOLVE_BENEATH));
  EXPECT_FALSE(p->follow);
}

TEST(Decode, UnreadablePathIsIncomplete) {
  const Decoded d = entry("open", {testing::kBadAddress, 0, 0});
  const Path* p = d.get<Path>(0);
  ASSERT_NE(p, nullptr);
  EXPECT_FALSE(p->complete);
}

TEST(Decode, InetAddressAndPort) {
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(8080);
  inet_pton(AF_INET, "127.0.0.1", &in.sin_addr);
  const Decoded d = entry("connect", {3, addr(&in), sizeof in});
  const SockAddr* a = d.get<SockAddr>(1);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->family, AF_INET);
  EXPECT_EQ(a->address, "127.0.0.1");
  EXPECT_EQ(a->port, 8080);
  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  in6.sin6_port = htons(443);
  inet_pton(AF_INET6, "::1", &in6.sin6_addr);
  const Decoded d6 = entry("bind", {3, addr(&in6), sizeof in6});
  const SockAddr* b = d6.get<SockAddr>(1);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->address, "::1");
  EXPECT_EQ(b->port, 443);
  const Decoded short_one = entry("connect", {3, addr(&in), 3});
  EXPECT_FALSE(short_one.get<SockAddr>(1)->complete);
}

TEST(Decode, UnixPathsAbstractOrNot) {
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  std::strcpy(un.sun_path, "/run/x.sock");
  const Decoded d = entry("connect", {3, addr(&un), sizeof un});
  const SockAddr* a = d.get<SockAddr>(1);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->address, "/run/x.sock");
  EXPECT_FALSE(a->abstract);
  sockaddr_un abs{};
  abs.sun_family = AF_UNIX;
  std::memcpy(abs.sun_path, "\0name", 5);
  const Decoded d2 = entry("connect", {3, addr(&abs), offsetof(sockaddr_un, sun_path) + 5});
  const SockAddr* b = d2.get<SockAddr>(1);
  ASSERT_NE(b, nullptr);
  EXPECT_TRUE(b->abstract);
  EXPECT_EQ(b->address, "name");
}

TEST(Decode, AddressWrittenByTheKernelAtExit) {
  sockaddr_in peer{};
  peer.sin_family = AF_INET;
  peer.sin_port = htons(99);
  inet_pton(AF_INET, "10.0.0.1", &peer.sin_addr);
  socklen_t len = sizeof peer;
  LocalMemory mem;
  const Call call = make_call(nr("accept"), {3, addr(&peer), addr(&len)});
  Decoded d = decode_entry(call, mem);
  EXPECT_EQ(d.get<SockAddr>(1), nullptr);
  decode_exit(d, call, 4, mem);
  ASSERT_NE(d.get<SockAddr>(1), nullptr);
  EXPECT_EQ(d.get<SockAddr>(1)->port, 99);
  Decoded failed = decode_entry(call, mem);
  decode_exit(failed, call, -11, mem);
  EXPECT_EQ(failed.get<SockAddr>(1), nullptr);
}

TEST(Decode, JsonFields) {
  const char path[] = "/etc/hosts";
  const nlohmann::json j = to_json(entry("openat", {static_cast<uint64_t>(AT_FDCWD), addr(path), O_RDONLY | O_CLOEXEC, 0}));
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["arg"], 1);
  EXPECT_EQ(j[0]["path"]["path"], "/etc/hosts");
  EXPECT_EQ(j[0]["path"]["dirfd"], -100);
  EXPECT_EQ(j[1]["flags"]["names"], nlohmann::json({"O_RDONLY", "O_CLOEXEC"}));
  EXPECT_EQ(j[1]["flags"]["value"], O_RDONLY | O_CLOEXEC);
}

TEST(Decode, ForeignAbiHasNoFields) {
  LocalMemory mem;
  Call call = make_call(5, {0, 0, 0});
  call.abi = Abi::kI386;
  EXPECT_TRUE(decode_entry(call, mem).fields.empty());
}

}  // namespace
}  // namespace hytrace::syscalls
