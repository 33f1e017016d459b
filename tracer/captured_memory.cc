#include "tracer/captured_memory.hpp"

#include <cstring>

#include "tracer/remote_memory.hpp"

namespace hytrace::tracer {

size_t FrameMemory::read(uint64_t addr, void* buf, size_t len) {
  if (!captured_) return RemoteMemory(tid_).read(addr, buf, len);
  // Only what was copied when the call happened: anything else is shown as
  // an address, never as what the memory holds now.
  for (const auto& [start, bytes] : captured_->ranges) {
    if (addr < start || addr >= start + bytes.size()) continue;
    const size_t n = std::min<size_t>(len, start + bytes.size() - addr);
    std::memcpy(buf, bytes.data() + (addr - start), n);
    return n;
  }
  return 0;
}

}  // namespace hytrace::tracer
