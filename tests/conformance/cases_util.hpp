// Helpers shared by the conformance case files.
#pragma once

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "tests/conformance/harness.hpp"

namespace hytrace::conformance {

inline uint64_t u(long v) { return static_cast<uint64_t>(v); }
inline constexpr uint64_t kAtFdCwd = static_cast<uint64_t>(AT_FDCWD);

// A string placed in the arena at `offset` (the kernel only reads it).
inline uint64_t put_string(Arena& a, size_t offset, const std::string& s) {
  std::memcpy(a.at<char>(offset), s.c_str(), s.size() + 1);
  return a.addr(offset);
}

// A datagram socket with two datagrams waiting ("one", "two!"), and at the
// arena's start two struct mmsghdr for them, each with one 64-byte buffer
// (iovecs at 512, buffers at 2048): for recvmmsg. Returns the socket.
inline int two_datagrams(Arena& a, Env& e) {
  auto [x, y] = e.socket_pair(SOCK_DGRAM);
  (void)!::send(y, "one", 3, 0);
  (void)!::send(y, "two!", 4, 0);
  auto* v = a.at<struct mmsghdr>(0);
  for (int i = 0; i < 2; ++i) {
    std::memset(&v[i], 0, sizeof v[i]);
    auto* iov = a.at<struct iovec>(512 + 16 * i);
    *iov = {a.at(2048 + 256 * i), 64};
    v[i].msg_hdr.msg_iov = iov;
    v[i].msg_hdr.msg_iovlen = 1;
  }
  return x;
}

// Makes a call in a setup (to prepare what the case's call needs).
inline long make(const syscalls::Call& c) {
  return ::syscall(c.nr, c.args[0], c.args[1], c.args[2], c.args[3], c.args[4], c.args[5]);
}

// The descriptors a call that creates them will get: the lowest free
// numbers. Call it last in a setup; the Env closes those numbers after the
// run, so the descriptors the call returns do not outlive its case.
inline void next_fds(Env& e, int n) {
  std::vector<int> fds;
  for (int i = 0; i < n; ++i) fds.push_back(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  for (int fd : fds) ::close(fd);
  for (int fd : fds) e.keep(fd);
}
inline void next_fd(Env& e) { next_fds(e, 1); }

// What must happen after a call, which the harness has no hook for (kill
// and reap a stopped child, reap a clone's child): done before the next
// case that adds such work, and at exit.
class Leftovers {
 public:
  ~Leftovers() { tidy(); }
  void add(std::function<void()> f) { work_.push_back(std::move(f)); }
  void tidy() {
    for (auto& f : work_) f();
    work_.clear();
  }

 private:
  std::vector<std::function<void()>> work_;
};
inline Leftovers& leftovers() {
  static Leftovers l;
  return l;
}

// The pidfd a clone or clone3 will store for its child, which exits at once:
// the lowest free descriptor. After the call the child is reaped through it
// and it is closed. Only for calls that succeed.
inline int pidfd_to_reap() {
  leftovers().tidy();
  const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ::close(fd);
  leftovers().add([fd] {
    siginfo_t info;
    ::waitid(static_cast<idtype_t>(3), static_cast<id_t>(fd), &info, WEXITED | __WALL);  // P_PIDFD
    ::close(fd);
  });
  return fd;
}

}  // namespace hytrace::conformance
