// Access to a stopped tracee's memory.
#pragma once

#include <sys/types.h>

#include "syscalls/format.hpp"

namespace hytrace::tracer {

class RemoteMemory final : public syscalls::MemoryReader {
 public:
  explicit RemoteMemory(pid_t tid) : tid_(tid) {}
  // process_vm_readv; returns the readable prefix when the range runs into
  // an unmapped page.
  size_t read(uint64_t addr, void* buf, size_t len) override;
  // Through /proc/TID/mem, which writes even read-only (text) pages.
  bool write(uint64_t addr, const void* buf, size_t len);

 private:
  pid_t tid_;
};

}  // namespace hytrace::tracer
