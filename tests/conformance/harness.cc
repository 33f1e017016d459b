// The conformance runner: one googletest test per registered case.
#include "tests/conformance/harness.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "syscalls/catalogue.hpp"

namespace hytrace::conformance {

Arena::Arena(size_t pages) : size_(pages * kPage) {
  void* m = ::mmap(nullptr, size_ + 2 * kPage, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) throw std::runtime_error("mmap");
  mapping_ = static_cast<uint8_t*>(m);
  data_ = mapping_ + kPage;
  if (::mprotect(data_, size_, PROT_READ | PROT_WRITE) != 0) throw std::runtime_error("mprotect");
}

Arena::~Arena() { ::munmap(mapping_, size_ + 2 * kPage); }

Env::Env() {
  char tmpl[] = "/tmp/hytrace-conformance-XXXXXX";
  if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp");
  dir_ = tmpl;
}

Env::~Env() { cleanup(); }

std::string Env::file(const std::string& name, const std::string& contents) {
  const std::string p = path(name);
  const int fd = ::open(p.c_str(), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || ::write(fd, contents.data(), contents.size()) != static_cast<ssize_t>(contents.size())) {
    throw std::runtime_error("write " + p);
  }
  ::close(fd);
  return p;
}

int Env::open_file(const std::string& name, const std::string& contents) {
  return keep(::open(file(name, contents).c_str(), O_RDWR | O_CLOEXEC));
}

int Env::keep(int fd) {
  if (fd >= 0) fds_.push_back(fd);
  return fd;
}

std::pair<int, int> Env::socket_pair(int type) {
  int sv[2] = {-1, -1};
  if (::socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv) != 0) throw std::runtime_error("socketpair");
  keep(sv[0]);
  keep(sv[1]);
  return {sv[0], sv[1]};
}

std::pair<int, int> Env::pipe_pair() {
  int p[2] = {-1, -1};
  if (::pipe2(p, O_CLOEXEC) != 0) throw std::runtime_error("pipe2");
  keep(p[0]);
  keep(p[1]);
  return {p[0], p[1]};
}

void Env::cleanup() {
  for (int fd : fds_) ::close(fd);
  fds_.clear();
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  dir_.clear();
}

std::vector<Case>& registry() {
  static std::vector<Case> cases;
  return cases;
}

Register::Register(std::vector<Case> cases) {
  for (Case& c : cases) registry().push_back(std::move(c));
}

syscalls::Call call(const char* name, std::initializer_list<uint64_t> args) {
  syscalls::Call c;
  const auto nr = syscalls::number_of(name);
  if (!nr) throw std::runtime_error(std::string("no syscall ") + name);
  c.nr = *nr;
  size_t i = 0;
  for (uint64_t a : args) c.args[i++] = a;
  return c;
}

namespace {

long raw_syscall(const syscalls::Call& c) {
  const long r = ::syscall(c.nr, c.args[0], c.args[1], c.args[2], c.args[3], c.args[4], c.args[5]);
  return r == -1 ? -errno : r;
}

bool covered(const std::vector<syscalls::Region>& regions, uint64_t a) {
  for (const syscalls::Region& r : regions) {
    if (a >= r.addr && a - r.addr < r.len) return true;
  }
  return false;
}

// The offsets of `bytes` as "12-15, 40" for a failure message.
std::string ranges(const std::vector<size_t>& offsets) {
  std::string out;
  for (size_t i = 0; i < offsets.size();) {
    size_t j = i;
    while (j + 1 < offsets.size() && offsets[j + 1] == offsets[j] + 1) ++j;
    if (!out.empty()) out += ", ";
    out += i == j ? fmt::format("{}", offsets[i]) : fmt::format("{}-{}", offsets[i], offsets[j]);
    if (out.size() > 300) return out + ", ...";
    i = j + 1;
  }
  return out;
}

void run_case(const Case& c) {
  Arena arena;
  std::vector<bool> changed(arena.size(), false);
  std::vector<syscalls::Region> described;
  for (const uint8_t canary : {uint8_t{0xa5}, uint8_t{0x5a}, uint8_t{0x3c}}) {
    Env env;
    std::memset(arena.data(), canary, arena.size());
    const syscalls::Call call = c.setup(arena, env);
    const std::vector<uint8_t> before(arena.data(), arena.data() + arena.size());
    syscalls::LocalMemory mem;
    const auto fx = syscalls::Effects::at_entry(call, mem);
    ASSERT_TRUE(fx) << "effects unknown for this call";
    const long result = raw_syscall(call);
    if (c.expect == Expect::kSuccess) {
      ASSERT_GE(result, 0) << "expected success, got " << syscalls::errno_name(static_cast<int>(-result));
    } else {
      ASSERT_TRUE(result < 0 && result >= -4095) << "expected an error, got " << result;
    }
    described = fx->writes(result, mem);
    std::vector<size_t> outside;
    for (size_t i = 0; i < arena.size(); ++i) {
      if (arena.data()[i] == before[i]) continue;
      changed[i] = true;
      if (!covered(described, arena.addr(i))) outside.push_back(i);
    }
    EXPECT_TRUE(outside.empty()) << "the kernel wrote arena bytes " << ranges(outside)
                                 << " that the description does not name (result " << result << ")";
  }
  if (!c.exact) return;
  std::vector<size_t> untouched;
  for (size_t i = 0; i < arena.size(); ++i) {
    if (!changed[i] && covered(described, arena.addr(i))) untouched.push_back(i);
  }
  EXPECT_TRUE(untouched.empty()) << "described as written but never changed: arena bytes " << ranges(untouched);
}

class ConformanceTest : public ::testing::Test {
 public:
  explicit ConformanceTest(const Case* c) : case_(c) {}
  void TestBody() override { run_case(*case_); }

 private:
  const Case* case_;
};

}  // namespace
}  // namespace hytrace::conformance

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  using hytrace::conformance::Case;
  for (const Case& c : hytrace::conformance::registry()) {
    std::string name = c.name;
    for (char& ch : name) {
      if (ch == '/') ch = '_';
    }
    ::testing::RegisterTest("Conformance", name.c_str(), nullptr, nullptr, __FILE__, __LINE__,
                            [&c]() -> ::testing::Test* { return new hytrace::conformance::ConformanceTest(&c); });
  }
  return RUN_ALL_TESTS();
}
