// The effects description against the kernel. Each case makes one real
// syscall with its output memory in an arena between two guard pages,
// filled with a canary byte; afterwards every byte that changed must lie in
// a region Effects::writes() names. The case runs three times, with the
// canaries 0xa5, 0x5a and 0x3c, so a byte the kernel wrote with a canary's
// own value still shows as changed in another run; `exact` cases then also
// check the converse: every byte described as written did change (the
// size-by-result rules, where the kernel fills exactly what it says).
#pragma once

#include <sys/syscall.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "syscalls/effects.hpp"

namespace hytrace::conformance {

// Pages with a guard page on each side: a write past either end faults.
class Arena {
 public:
  static constexpr size_t kPage = 4096;
  explicit Arena(size_t pages = 4);
  ~Arena();
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  // n bytes at `offset`, as a T*; placed so that they end exactly at the
  // trailing guard page when `at_end`.
  template <class T = void>
  T* at(size_t offset) const { return reinterpret_cast<T*>(data_ + offset); }
  template <class T = void>
  T* tail(size_t bytes) const { return reinterpret_cast<T*>(data_ + size_ - bytes); }
  uint64_t addr(size_t offset) const { return reinterpret_cast<uint64_t>(data_ + offset); }
  bool contains(uint64_t a) const {
    return a >= reinterpret_cast<uint64_t>(data_) && a < reinterpret_cast<uint64_t>(data_ + size_);
  }

 private:
  uint8_t* mapping_ = nullptr;
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// What a case may need besides the arena: a scratch directory, files and
// descriptors, closed and removed after each run.
class Env {
 public:
  Env();
  ~Env();
  const std::string& dir() const { return dir_; }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  // A file with `contents`; its path.
  std::string file(const std::string& name, const std::string& contents);
  int open_file(const std::string& name, const std::string& contents);
  int keep(int fd);  // closed after the run
  // A connected pair of AF_UNIX stream (or datagram) sockets.
  std::pair<int, int> socket_pair(int type);
  std::pair<int, int> pipe_pair();
  void cleanup();

 private:
  std::string dir_;
  std::vector<int> fds_;
};

enum class Expect { kSuccess, kError };

struct Case {
  std::string name;  // "read", "read/ebadf"
  Expect expect = Expect::kSuccess;
  bool exact = false;
  // Sets up memory in the arena (already filled with the canary) and the
  // environment; returns the call to make.
  std::function<syscalls::Call(Arena&, Env&)> setup;
};

// The cases of one file, registered at static initialisation.
std::vector<Case>& registry();
struct Register {
  explicit Register(std::vector<Case> cases);
};

syscalls::Call call(const char* name, std::initializer_list<uint64_t> args);

}  // namespace hytrace::conformance
