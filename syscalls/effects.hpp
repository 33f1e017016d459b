// What the kernel reads from and writes into the program's memory for one
// syscall, from the one description in syscalls/effects.tbl. trace, record,
// replay and audit all read it; knows nothing of processes: nested layouts
// (iovec arrays, msghdr) and the lengths behind arguments are read through a
// MemoryReader.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "syscalls/format.hpp"

namespace hytrace::syscalls {

struct Region {
  uint64_t addr = 0;
  uint64_t len = 0;
  bool operator==(const Region&) const = default;
};

// How far effects.tbl describes an x86-64 syscall.
enum class Coverage : uint8_t {
  kNoMemory,   // it touches no memory of the program
  kDescribed,  // every pointer argument has a rule
  kByCommand,  // a command or flag argument decides; some commands are unknown
  kUnknown,    // not described: every mode fails closed on it
};
// kUnknown for numbers that are not x86-64 syscalls.
Coverage coverage_of(long nr);

// The effects of one call: built at its entry, when the kernel has not yet
// read its arguments (what it reads, and the lengths and iovec arrays that
// size its writes, are taken then), and completed by its result.
class Effects {
 public:
  // nullopt when the effects are unknown: the syscall, this command of it,
  // or a foreign ABI (only x86-64 is described).
  static std::optional<Effects> at_entry(const Call& call, MemoryReader& mem);

  Effects(const Effects&);
  Effects(Effects&&) noexcept;
  Effects& operator=(const Effects&);
  Effects& operator=(Effects&&) noexcept;
  ~Effects();

  // The memory the kernel reads. A string ends at its NUL, included.
  std::span<const Region> reads() const { return reads_; }
  // The memory the kernel may have written, given the call's result; where
  // a rule sizes by the result or by a length the kernel updates, exactly
  // what it filled. Empty regions and NULL pointers are left out.
  std::vector<Region> writes(long result, MemoryReader& mem) const;

  // One region of writes() before the result is known, with what sizes it.
  struct PendingWrite;

 private:
  Effects();
  std::vector<Region> reads_;
  std::vector<PendingWrite> pending_;
  Call call_;
};

// At most this many bytes in one region (a larger request is clamped: the
// kernel fails such calls or fills far less).
inline constexpr uint64_t kMaxRegionBytes = uint64_t{1} << 30;
// At most this many iovecs or mmsghdrs in one array (the kernel's UIO_MAXIOV).
inline constexpr uint64_t kMaxVectors = 1024;
// A string the kernel reads is cut here (PATH_MAX).
inline constexpr uint64_t kMaxStringBytes = 4096;

}  // namespace hytrace::syscalls
