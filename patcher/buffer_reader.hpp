// Reads the records of a space's event buffer (patcher/stub/layout.h).
//
// The buffer is the traced program's memory: the program can write anything
// there, at any moment, on purpose or by a stray memset. So the reader treats
// it as hostile input. Every field is copied out once and checked on the
// copy (never checked, then read again); every length, count and offset must
// fit in the bytes the stub reserved; and reading stops at the first record
// the stub cannot have written, with a reason. It never reads outside the
// span, each step moves forward, and what it keeps is bounded by the span.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "patcher/stub/layout.h"

namespace hytrace::patcher {

// One capture of a record; its bytes are in BufferRead::bytes, copied out
// of the buffer (bytes_of).
struct BufferCapture {
  uint64_t addr = 0;
  uint64_t offset = 0;  // in BufferRead::bytes
  uint32_t length = 0;
};

// One record, decoded and checked.
struct BufferRecord {
  bool exit = false;
  uint64_t seq = 0;
  uint32_t tid = 0;
  int64_t nr = 0;
  std::array<uint64_t, 6> args{};
  int64_t result = 0;        // exit records
  uint64_t entry_seq = 0;    // exit records: their entry's seq
  uint64_t duration_ns = 0;  // exit records
  // Its captures, in BufferRead::captures (captures_of). Indices rather
  // than a vector of its own: a drain then allocates nothing per record.
  uint32_t first_capture = 0;
  uint32_t capture_count = 0;
};

// The exit record reserved with an entry already read, not committed then:
// the call was still running.
struct PendingExit {
  uint64_t at = 0;      // its position in the ring (patcher/stub/layout.h)
  uint32_t length = 0;  // as the entry reserved it
  uint32_t tid = 0;
  int64_t nr = 0;
  uint64_t entry_seq = 0;
};

// Where reading stands. The tracer keeps it per buffer, between reads.
struct ReadPosition {
  uint64_t tail = 0;  // the position of the next entry record (or pad)
  // The stubs may reuse the bytes before this (the tail they are given):
  // the reading position, or the oldest pending exit's, if before it.
  uint64_t reusable() const;
  std::vector<PendingExit> pending;
};

// The header's fields, each read once (see header_of).
struct HeaderValues {
  uint64_t head = 0;
  uint64_t size = 0;
};

// What the tracer knows from its own memory, not from the buffer's.
struct BufferFacts {
  // Every record's seq is above this: the sequence counter's value when the
  // buffer was made.
  uint64_t min_seq = 0;
  // The stub's data as the tracer wrote it (its own copy, not the
  // program's): a record must be of a call the stub serves, by number and,
  // for calls served by command (fcntl), by command (hytrace_serves). Null:
  // every number below HYTRACE_STUB_MAX_NR.
  const hytrace_stub_data* stub = nullptr;
};

enum class BufferFault {
  kNone,
  kHeader,     // size changed, head moved back, misaligned or a lap ahead
  kPosition,   // the reading position or a pending exit's is impossible
  kLength,     // a record length short, misaligned, or past the reserved bytes;
               // a pad past the head
  kKind,       // an exit where an entry belongs, or the other way round
  kSyscall,    // a syscall number out of range or not served
  kCapture,    // too many captures, or one that passes its record's end
  kSequence,   // a seq not after the buffer's start or not after its entry
  kPairing,    // an exit whose entry seq, thread, number or length differ
  kThread,     // a thread id no thread can have
  kDuration,   // a call duration no call can have had
};

struct BufferRead {
  // Exits of pending calls first, then in buffer order: each entry, followed
  // by its exit when that is committed. All good, even when `fault` is set.
  std::vector<BufferRecord> records;
  std::vector<BufferCapture> captures;  // every record's, in record order
  std::string bytes;                    // every capture's bytes
  ReadPosition position;  // where the next read starts
  BufferFault fault = BufferFault::kNone;
  std::string malformed;  // why the buffer cannot be trusted; "" when it can

  std::span<const BufferCapture> captures_of(const BufferRecord& r) const {
    return std::span<const BufferCapture>(captures).subspan(r.first_capture, r.capture_count);
  }
  std::string_view bytes_of(const BufferCapture& c) const {
    return std::string_view(bytes).substr(c.offset, c.length);
  }
};

// Reads the committed records after `from`, at most a ring's size of them. `buffer` is the whole buffer,
// header included (mapped or copied); `header` its header's values.
BufferRead read_buffer(std::span<const uint8_t> buffer, HeaderValues header, const ReadPosition& from,
                       const BufferFacts& facts);
// The same into `out`, whose memory is reused (the tracer drains thousands
// of records a millisecond). `from` must not be `out.position`.
void read_buffer(std::span<const uint8_t> buffer, HeaderValues header, const ReadPosition& from,
                 const BufferFacts& facts, BufferRead& out);

// Every record a read returns was committed before the read ended, so its
// seq is at most the sequence counter's value read after it (`ceiling`).
// Drops the records from the first one above and sets the fault.
void limit_sequence(BufferRead& read, uint64_t ceiling);

// The header's head (with acquire order: the stubs swap it atomically) and
// size, each read once; zeros when the span is too small for a header.
HeaderValues header_of(std::span<const uint8_t> buffer);

// The bytes of records after the header of a buffer of `size` bytes (0
// when there is no room for one).
uint64_t ring_size(uint64_t size);

// True when the record or pad at `position` has been written: its commit
// word names that position (with acquire order). `buffer` is at least a
// header and a record.
bool written_at(std::span<const uint8_t> buffer, uint64_t position);

std::string to_string(BufferFault fault);

}  // namespace hytrace::patcher
