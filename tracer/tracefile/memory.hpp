// The program's memory as a trace recorded it, for the formatters: only the
// ranges the trace holds can be read, anything else reads as unreadable (and
// shows as an address), never as something made up.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "syscalls/format.hpp"
#include "tracer/tracefile/events.hpp"

namespace hytrace::tracefile {

class RecordedMemory final : public syscalls::MemoryReader {
 public:
  // Looks in `first`, then in `second` (at a syscall's exit: what the
  // kernel wrote, then what it read).
  explicit RecordedMemory(const std::vector<MemoryRange>& first,
                          const std::vector<MemoryRange>* second = nullptr)
      : first_(first), second_(second) {}
  size_t read(uint64_t addr, void* buf, size_t len) override;

 private:
  const std::vector<MemoryRange>& first_;
  const std::vector<MemoryRange>* second_;
};

}  // namespace hytrace::tracefile
