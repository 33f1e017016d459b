#include "tracer/tracefile/memory.hpp"

#include <algorithm>
#include <cstring>

namespace hytrace::tracefile {
namespace {

// The bytes from addr on within one range, as many as are there.
size_t read_from(const std::vector<MemoryRange>& ranges, uint64_t addr, void* buf, size_t len) {
  for (const MemoryRange& r : ranges) {
    if (addr < r.addr || addr - r.addr >= r.bytes.size()) continue;
    const size_t n = std::min<uint64_t>(len, r.bytes.size() - (addr - r.addr));
    std::memcpy(buf, r.bytes.data() + (addr - r.addr), n);
    return n;
  }
  return 0;
}

}  // namespace

size_t RecordedMemory::read(uint64_t addr, void* buf, size_t len) {
  if (len == 0) return 0;
  if (size_t n = read_from(first_, addr, buf, len)) return n;
  return second_ ? read_from(*second_, addr, buf, len) : 0;
}

}  // namespace hytrace::tracefile
