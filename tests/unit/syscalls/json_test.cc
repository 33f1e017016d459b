// The JSON form of an event.
#include <cerrno>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "format_test_util.hpp"

namespace hytrace::syscalls {
namespace {

using testing::addr;

TEST(Json, SuccessfulCall) {
  testing::Renderer r;
  Call call = testing::make_call(__NR_openat, {static_cast<uint64_t>(-100), addr("/etc/passwd"), 0});
  RenderedCall rc = render_entry(call, r.mem, r.opts);
  render_exit(rc, call, 3, r.mem, r.opts);
  nlohmann::json j = to_json(rc, call);
  EXPECT_EQ(j["syscall"], "openat");
  EXPECT_EQ(j["nr"], 257);
  EXPECT_EQ(j["abi"], "x86_64");
  EXPECT_EQ(j["args"], nlohmann::json::array({"AT_FDCWD", "\"/etc/passwd\"", "O_RDONLY"}));
  ASSERT_EQ(j["raw_args"].size(), 6u);
  EXPECT_EQ(j["raw_args"][0], 0xffffffffffffff9cull);
  EXPECT_EQ(j["raw_args"][1], addr("/etc/passwd"));
  EXPECT_EQ(j["result"], 3);
  EXPECT_FALSE(j.contains("error"));
}

TEST(Json, FailedAndNoReturnCalls) {
  testing::Renderer r;
  Call call = testing::make_call(__NR_close, {9});
  RenderedCall rc = render_entry(call, r.mem, r.opts);
  render_exit(rc, call, -EBADF, r.mem, r.opts);
  nlohmann::json j = to_json(rc, call);
  EXPECT_EQ(j["result"], -EBADF);
  EXPECT_EQ(j["error"], "EBADF");
  EXPECT_EQ(j.dump(),
            R"({"abi":"x86_64","args":["9"],"error":"EBADF","nr":3,"raw_args":[9,0,0,0,0,0],"result":-9,"syscall":"close"})");

  Call exit_call = testing::make_call(__NR_exit_group, {0});
  RenderedCall exit_rc = render_entry(exit_call, r.mem, r.opts);
  render_exit(exit_rc, exit_call, 0, r.mem, r.opts);
  EXPECT_TRUE(to_json(exit_rc, exit_call)["result"].is_null());
}

TEST(Json, CallThatHasNotReturned) {
  testing::Renderer r;
  char buf[8] = {};
  Call call = testing::make_call(__NR_read, {0, addr(buf), sizeof buf});
  nlohmann::json j = to_json(render_entry(call, r.mem, r.opts), call);
  EXPECT_EQ(j["args"], nlohmann::json::parse(R"(["0", null, "8"])"));
  EXPECT_FALSE(j.contains("result"));
  EXPECT_FALSE(j.contains("error"));
}

}  // namespace
}  // namespace hytrace::syscalls
