// libFuzzer target for the event buffer's reader (patcher/buffer_reader.*):
// any bytes, any header values, any reading position. The reader must
// never read outside the buffer (ASan: the bytes are a heap copy of exactly
// their size), never hit undefined behaviour (UBSan), always end, keep
// what it returns within the buffer's size, and find nothing new when it
// reads the same bytes again from where it stopped.
//
// The input: a 32-byte control block, then the buffer.
//   [0, 8)   the reading position's tail
//   [8, 16)  the smallest seq allowed
//   [16, 24) a pending exit's position (flag 32: as an offset back from
//            the tail)
//   [24, 28) its length
//   [28]     flags: 1 the header's size is right, 2 the head is a ring's
//            size past the tail, 4 start at position 0, 8 one pending exit,
//            16 only syscalls 0 and 257 served, and fcntl with F_GETFL, 32 see above
// tests/fuzz/make_seeds.py writes inputs that hold well-formed records.
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "patcher/buffer_reader.hpp"

namespace {

using namespace hytrace::patcher;

constexpr size_t kControl = 32;

template <typename T>
T take(const uint8_t* at) {
  T v;
  std::memcpy(&v, at, sizeof v);
  return v;
}

void check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < kControl) return 0;
  const uint8_t flags = data[28];
  const std::vector<uint8_t> bytes(data + kControl, data + size);
  const std::span<const uint8_t> buffer(bytes);
  const uint64_t ring = bytes.size() > sizeof(hytrace_buffer_header) ? bytes.size() - sizeof(hytrace_buffer_header) : 0;

  HeaderValues header = header_of(buffer);
  if (flags & 1) header.size = bytes.size();
  ReadPosition from;
  if (!(flags & 4)) from.tail = take<uint64_t>(data);
  if (flags & 2) header.head = from.tail + ring;
  if (flags & 8) {
    PendingExit p;
    p.at = take<uint64_t>(data + 16);
    if (flags & 32) p.at = from.tail - p.at % (ring + 16);
    p.length = take<uint32_t>(data + 24);
    p.tid = 1;
    p.entry_seq = 1;
    from.pending.push_back(p);
  }
  static const auto stub = [] {
    auto d = std::make_unique<hytrace_stub_data>();
    d->served[0] = d->served[257] = HYTRACE_SERVED;
    d->served[72] = HYTRACE_SERVED_BY_COMMAND;  // fcntl: F_GETFL (3) only
    d->commands[0] = {.nr = 72, .arg = 1, .count = 1, .values = {3}};
    return d;
  }();
  BufferFacts facts;
  facts.min_seq = take<uint64_t>(data + 8) & 0xff;
  if (flags & 16) facts.stub = stub.get();

  BufferRead read = read_buffer(buffer, header, from, facts);
  size_t captured = 0;
  for (const BufferRecord& r : read.records) {
    check(r.capture_count <= HYTRACE_STUB_MAX_CAPTURES);
    check(uint64_t{r.first_capture} + r.capture_count <= read.captures.size());
    for (const BufferCapture& c : read.captures_of(r)) {
      check(c.offset + c.length <= read.bytes.size());
      captured += read.bytes_of(c).size();
    }
    check(r.nr >= 0 && r.nr < HYTRACE_STUB_MAX_NR);
  }
  check(captured <= bytes.size());
  check(read.records.size() <= bytes.size() / sizeof(hytrace_record) + from.pending.size());
  check((read.fault == BufferFault::kNone) == read.malformed.empty());
  if (read.fault == BufferFault::kNone) {
    check(read.position.tail >= from.tail && read.position.tail <= header.head);
    check(header.head - read.position.reusable() <= ring);
    check(read.position.pending.size() <= from.pending.size() + read.records.size());
    // The same bytes again, from where it stopped: nothing new.
    const BufferRead again = read_buffer(buffer, header, read.position, facts);
    check(again.records.empty() && again.fault == BufferFault::kNone);
    check(again.position.tail == read.position.tail);
  }
  limit_sequence(read, take<uint64_t>(data + 8) >> 8);
  return 0;
}
