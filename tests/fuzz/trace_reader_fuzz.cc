// libFuzzer target for the trace file reader (tracer/tracefile/reader.*):
// the input is a whole file. It is read twice: as `dump` reads it, and with
// the checksums off, so that damaged bytes reach the chunk and event
// decoders, which must hold up on their own. The reader must never read
// outside the bytes (ASan: they are a heap copy of exactly their size),
// never hit undefined behaviour (UBSan), always end, and keep its counts
// within the file; every event it returns must encode back to an event
// that decodes equal.
//
// Seeds: tests/fuzz/corpus/tracefile/, small traces written by
// tests/tracefile/make_trace.cc. tests/fuzz/run_trace_reader.sh runs it.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "tracer/tracefile/reader.hpp"

namespace {

using namespace hytrace::tracefile;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

// An event that decoded encodes to bytes that decode to the same event.
bool round_trips(const Event& event) {
  std::string bytes;
  encode(event, bytes);
  const Decoded again = decode({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
  return again.status == Decoded::Status::kEvent && again.size == bytes.size() && *again.event == event;
}

void read_everything(std::span<const uint8_t> bytes, bool verify) {
  TraceReader reader = TraceReader::from_bytes(bytes, {.verify_checksums = verify});
  uint64_t events = 0;
  while (auto event = reader.next()) {
    ++events;
    check(round_trips(*event));
  }
  check(!reader.next());  // the end stays the end
  const TraceReader::Totals& t = reader.totals();
  check(t.events == events);
  check(t.file_bytes == bytes.size());
  check(t.stored_bytes + t.chunks * kChunkHeaderSize + t.header_bytes <= bytes.size());
  check((t.events + t.unknown_events) * kEventFrameSize <= t.raw_bytes);
  if (const ReadError* error = reader.error()) {
    check(error->offset <= bytes.size());
    check(!error->message.empty());
  } else {
    check(reader.trailing_bytes() <= bytes.size());
    check(t.header_bytes + t.stored_bytes + t.chunks * kChunkHeaderSize + reader.trailing_bytes() ==
          bytes.size());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<uint8_t> bytes(data, data + size);
  read_everything(bytes, true);
  read_everything(bytes, false);
  return 0;
}
