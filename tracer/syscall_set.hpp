// The -e trace=SET expression: names, %classes, "all", "none", and a leading
// "!" that negates the whole set, comma-separated, as in strace.
#pragma once

#include <stdexcept>
#include <string_view>
#include <vector>

#include "syscalls/format.hpp"

namespace hytrace::tracer {

class SyscallSet {
 public:
  // Every syscall.
  SyscallSet();
  // Throws std::invalid_argument("invalid system call 'foo'") and the like.
  static SyscallSet parse(std::string_view expr);

  bool contains(long nr) const { return nr >= 0 && nr < static_cast<long>(bits_.size()) && bits_[nr]; }
  // Foreign-ABI calls (i386, x32) are always shown: they are never allowed silently.
  bool shows(const syscalls::Call& call) const {
    return call.abi != syscalls::Abi::kX86_64 || contains(call.nr);
  }
  const std::vector<bool>& bits() const { return bits_; }

 private:
  std::vector<bool> bits_;
};

}  // namespace hytrace::tracer
