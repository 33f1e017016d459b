// The memory a formatter reads for one syscall event: the tracee's live
// memory for a stop, or the bytes the stub copied into its record for a
// buffered event (the live memory may have changed since).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "syscalls/format.hpp"

namespace hytrace::tracer {

struct Captured {
  std::vector<std::pair<uint64_t, std::string>> ranges;  // address -> bytes
};

class FrameMemory final : public syscalls::MemoryReader {
 public:
  // `captured` null: read the live tracee.
  FrameMemory(pid_t tid, const Captured* captured) : tid_(tid), captured_(captured) {}
  size_t read(uint64_t addr, void* buf, size_t len) override;

 private:
  pid_t tid_;
  const Captured* captured_;
};

}  // namespace hytrace::tracer
