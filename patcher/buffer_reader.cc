#include "patcher/buffer_reader.hpp"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstring>
#include <iterator>

namespace hytrace::patcher {
namespace {

constexpr uint64_t kHeaderSize = sizeof(hytrace_buffer_header);
constexpr uint64_t kRecordSize = sizeof(hytrace_record);
constexpr uint64_t kCaptureSize = sizeof(hytrace_capture);
// PID_MAX_LIMIT on 64-bit Linux: no thread id is larger.
constexpr uint32_t kMaxTid = 4u << 20;
// No call lasts a century; summing such garbage would overflow -c's totals.
constexpr uint64_t kMaxDurationNs = 100ull * 365 * 24 * 3600 * 1'000'000'000ull;

std::string num(uint64_t v) { return std::to_string(v); }

// A record's commit word, with acquire order: the stub stores it last, with
// release order, so the fields copied after it are the ones it wrote.
// `at` is an offset in the buffer with 8 bytes after it.
uint64_t load_commit(std::span<const uint8_t> buffer, uint64_t at) {
  const uint8_t* p = buffer.data() + at;
  if (reinterpret_cast<uintptr_t>(p) % alignof(uint64_t) == 0) {
    return __atomic_load_n(reinterpret_cast<const uint64_t*>(p), __ATOMIC_ACQUIRE);
  }
  uint64_t v = 0;  // a copied buffer need not be aligned
  std::memcpy(&v, p, sizeof v);
  std::atomic_thread_fence(std::memory_order_acquire);
  return v;
}

// One pass over the buffer. Every check runs on copies: the program may
// change the bytes between two reads, so nothing is read twice.
class Reader {
 public:
  Reader(std::span<const uint8_t> buffer, const BufferFacts& facts, BufferRead& out)
      : buffer_(buffer),
        ring_(ring_size(buffer.size())),
        facts_(facts),
        out_(out) {}

  bool header_fits(HeaderValues header, uint64_t tail) {
    if (buffer_.size() < kHeaderSize + kRecordSize || header.size != buffer_.size() || ring_ % 8 != 0) {
      return fail(BufferFault::kHeader, "the header says the buffer has " + num(header.size) +
                                            " bytes, not " + num(buffer_.size()));
    }
    if (tail % 8 != 0) return fail(BufferFault::kPosition, "the reading position " + num(tail) + " is not a multiple of 8");
    if (header.head < tail) {
      return fail(BufferFault::kHeader, "the head moved back from " + num(tail) + " to " + num(header.head));
    }
    if (header.head % 8 != 0) return fail(BufferFault::kHeader, "the head " + num(header.head) + " is not a multiple of 8");
    if (header.head - tail > ring_) {
      return fail(BufferFault::kHeader, "the head " + num(header.head) + " is more than the ring's " + num(ring_) +
                                            " bytes past the reading position " + num(tail));
    }
    return true;
  }

  // A pending exit comes from an entry read before: it lies before `tail`,
  // within the ring's end, and the stubs have not reserved its bytes again.
  bool pending_fits(const PendingExit& p, uint64_t tail, uint64_t head) {
    if (p.at % 8 != 0 || p.at >= tail || head - p.at > ring_ || p.length < kRecordSize ||
        p.length > ring_ - p.at % ring_) {
      return fail(BufferFault::kPosition, "a pending exit at position " + num(p.at) + " is outside the records");
    }
    return true;
  }

  // Whether the record at `position` is committed; a pad there moves
  // `position` to the ring's next lap (and is not a record).
  bool committed(uint64_t position) const {
    return load_commit(buffer_, offset(position)) == HYTRACE_COMMITTED(position);
  }
  bool padded(uint64_t position) const {
    return load_commit(buffer_, offset(position)) == HYTRACE_PADDED(position);
  }
  // Bytes from `position` to the ring's end.
  uint64_t to_end(uint64_t position) const { return ring_ - position % ring_; }

  // The entry at `at`, with `room` bytes reserved from there on. Sets
  // `exit` to what its exit record must be.
  bool entry(uint64_t at, uint64_t room, PendingExit& exit) {
    if (room < kRecordSize) {
      return fail(BufferFault::kLength, where(at) + "only " + num(room) + " bytes are reserved, less than a record");
    }
    const hytrace_record r = copy(at);
    if (!length_fits(at, r.length, room)) return false;
    if (r.kind != HYTRACE_RECORD_ENTRY) return fail(BufferFault::kKind, where(at) + "kind " + num(r.kind) + ", not an entry");
    if (r.exit_length < kRecordSize || r.exit_length % 8 != 0 || r.exit_length > room - r.length) {
      return fail(BufferFault::kLength, where(at) + "its exit's length " + num(r.exit_length) + " does not fit the " +
                                            num(room - r.length) + " bytes reserved after it");
    }
    if (!common_fits(at, r)) return false;
    if (r.seq <= facts_.min_seq) {
      return fail(BufferFault::kSequence, where(at) + "seq " + num(r.seq) + " is not after the buffer's start (" +
                                              num(facts_.min_seq) + ")");
    }
    exit = {at + r.length, r.exit_length, r.tid, r.nr, r.seq};
    return decode(at, r);
  }

  // A fault the caller found.
  void refuse(BufferFault fault, std::string why) { fail(fault, std::move(why)); }

  // The committed exit record `expected` describes.
  bool exit(const PendingExit& expected) {
    const uint64_t at = expected.at;
    const hytrace_record r = copy(at);
    if (r.kind != HYTRACE_RECORD_EXIT) return fail(BufferFault::kKind, where(at) + "kind " + num(r.kind) + ", not an exit");
    if (r.length != expected.length) {
      return fail(BufferFault::kPairing, where(at) + "length " + num(r.length) + ", but its entry reserved " +
                                             num(expected.length));
    }
    if (r.entry_seq != expected.entry_seq || r.tid != expected.tid || r.nr != expected.nr) {
      return fail(BufferFault::kPairing, where(at) + "entry seq, thread or syscall differ from its entry's");
    }
    if (r.seq <= expected.entry_seq) {
      return fail(BufferFault::kSequence, where(at) + "seq " + num(r.seq) + " is not after its entry's " +
                                              num(expected.entry_seq));
    }
    if (r.duration_ns > kMaxDurationNs) return fail(BufferFault::kDuration, where(at) + "duration " + num(r.duration_ns) + " ns");
    return common_fits(at, r) && decode(at, r);
  }

 private:
  bool fail(BufferFault fault, std::string why) {
    out_.fault = fault;
    out_.malformed = std::move(why);
    return false;
  }
  static std::string where(uint64_t at) { return "record at position " + num(at) + ": "; }

  // The caller has checked that a whole record fits at `at`.
  hytrace_record copy(uint64_t at) const {
    hytrace_record r;
    std::memcpy(&r, buffer_.data() + offset(at), sizeof r);
    return r;
  }

  bool length_fits(uint64_t at, uint32_t length, uint64_t room) {
    if (length < kRecordSize) {
      return fail(BufferFault::kLength, where(at) + "length " + num(length) + " is shorter than a record (" +
                                            num(kRecordSize) + ")");
    }
    if (length % 8 != 0) return fail(BufferFault::kLength, where(at) + "length " + num(length) + " is not a multiple of 8");
    if (length > room) {
      return fail(BufferFault::kLength, where(at) + "length " + num(length) + " passes the " + num(room) +
                                            " bytes reserved");
    }
    return true;
  }

  bool common_fits(uint64_t at, const hytrace_record& r) {
    if (r.nr < 0 || r.nr >= HYTRACE_STUB_MAX_NR) {
      return fail(BufferFault::kSyscall, where(at) + "syscall number " + std::to_string(r.nr) + " is out of range");
    }
    if (facts_.stub && !hytrace_serves(facts_.stub, static_cast<long>(r.nr), r.args)) {
      return fail(BufferFault::kSyscall, where(at) + "syscall " + std::to_string(r.nr) + " is not served by the stub" +
                                             (facts_.stub->served[r.nr] ? " with that command" : ""));
    }
    if (r.tid == 0 || r.tid > kMaxTid) return fail(BufferFault::kThread, where(at) + "thread id " + num(r.tid));
    if (r.captures > HYTRACE_STUB_MAX_CAPTURES) {
      return fail(BufferFault::kCapture, where(at) + num(r.captures) + " captures, at most " +
                                             num(HYTRACE_STUB_MAX_CAPTURES));
    }
    return true;
  }

  // `r` is the checked copy of the record at `at`; its captures follow it,
  // within its length.
  bool decode(uint64_t at, const hytrace_record& r) {
    BufferRecord rec;
    rec.exit = r.kind == HYTRACE_RECORD_EXIT;
    rec.seq = r.seq;
    rec.tid = r.tid;
    rec.nr = r.nr;
    std::copy(std::begin(r.args), std::end(r.args), rec.args.begin());
    rec.result = r.result;
    rec.entry_seq = r.entry_seq;
    rec.duration_ns = r.duration_ns;
    rec.first_capture = static_cast<uint32_t>(out_.captures.size());
    rec.capture_count = r.captures;
    const size_t bytes_before = out_.bytes.size();
    // The record lies within the ring's lap (its length was checked).
    const uint64_t end = offset(at) + r.length;
    uint64_t next = offset(at) + kRecordSize;
    for (uint16_t i = 0; i < r.captures; ++i) {
      if (end - next < kCaptureSize) {
        drop_captures(rec.first_capture, bytes_before);
        return fail(BufferFault::kCapture, where(at) + "capture " + num(i) + " passes the record's end");
      }
      hytrace_capture c;
      std::memcpy(&c, buffer_.data() + next, sizeof c);
      next += kCaptureSize;
      if (c.length > end - next) {
        drop_captures(rec.first_capture, bytes_before);
        return fail(BufferFault::kCapture, where(at) + "capture " + num(i) + " of " + num(c.length) +
                                               " bytes passes the record's end");
      }
      // The checked length on the copy `c`; the bytes copied once.
      out_.captures.push_back({c.addr, out_.bytes.size(), c.length});
      out_.bytes.append(reinterpret_cast<const char*>(buffer_.data() + next), c.length);
      next = std::min(end, next + ((uint64_t{c.length} + 7) & ~uint64_t{7}));
    }
    out_.records.push_back(rec);
    return true;
  }

  // A record that failed keeps none of its captures: what a read holds is
  // only what its records show.
  void drop_captures(uint32_t first, size_t bytes_before) {
    out_.captures.resize(first);
    out_.bytes.resize(bytes_before);
  }

  // The caller has checked the header: ring_ is not 0.
  uint64_t offset(uint64_t position) const { return kHeaderSize + position % ring_; }

  std::span<const uint8_t> buffer_;
  uint64_t ring_;  // bytes of records after the header
  const BufferFacts& facts_;
  BufferRead& out_;
};

}  // namespace

uint64_t ReadPosition::reusable() const {
  uint64_t oldest = tail;
  for (const PendingExit& p : pending) oldest = std::min(oldest, p.at);
  return oldest;
}

BufferRead read_buffer(std::span<const uint8_t> buffer, HeaderValues header, const ReadPosition& from,
                       const BufferFacts& facts) {
  BufferRead out;
  read_buffer(buffer, header, from, facts, out);
  return out;
}

void read_buffer(std::span<const uint8_t> buffer, HeaderValues header, const ReadPosition& from,
                 const BufferFacts& facts, BufferRead& out) {
  // Each keeps its capacity: a drain of thousands of records allocates
  // nothing here.
  out.records.clear();
  out.captures.clear();
  out.bytes.clear();
  out.position.pending.clear();
  out.fault = BufferFault::kNone;
  out.malformed.clear();
  out.position.tail = from.tail;
  Reader reader(buffer, facts, out);
  if (!reader.header_fits(header, from.tail)) {
    out.position.pending = from.pending;
    return;
  }
  // Exits of calls whose entries an earlier read took.
  for (size_t i = 0; i < from.pending.size(); ++i) {
    const PendingExit& p = from.pending[i];
    const bool fits = reader.pending_fits(p, from.tail, header.head);
    if (fits && !reader.committed(p.at)) {
      out.position.pending.push_back(p);  // still running
      continue;
    }
    if (fits && reader.exit(p)) continue;
    out.position.pending.insert(out.position.pending.end(), from.pending.begin() + static_cast<ptrdiff_t>(i),
                                from.pending.end());
    return;
  }
  // header_fits: from.tail <= head, no more than a ring's size before it.
  const uint64_t head = header.head;
  uint64_t tail = from.tail;
  while (head - tail >= 8) {
    if (reader.padded(tail)) {
      if (reader.to_end(tail) > head - tail) {
        reader.refuse(BufferFault::kLength, "the pad at position " + num(tail) + " passes the head " + num(head));
        break;
      }
      tail += reader.to_end(tail);
      out.position.tail = tail;
      continue;
    }
    if (!reader.committed(tail)) break;  // being written
    PendingExit exit;
    if (!reader.entry(tail, std::min(head - tail, reader.to_end(tail)), exit)) break;
    // entry() checked that the exit fits in the reserved bytes.
    if (!reader.committed(exit.at)) {
      out.position.pending.push_back(exit);
    } else if (!reader.exit(exit)) {
      break;
    }
    tail = exit.at + exit.length;
    out.position.tail = tail;
  }
}

void limit_sequence(BufferRead& read, uint64_t ceiling) {
  auto above = std::find_if(read.records.begin(), read.records.end(),
                            [&](const BufferRecord& r) { return r.seq > ceiling; });
  if (above == read.records.end()) return;
  read.fault = BufferFault::kSequence;
  read.malformed = "seq " + num(above->seq) + " is after the sequence counter (" + num(ceiling) + ")";
  // Records keep their captures in order: the dropped ones' are the last.
  if (above->first_capture < read.captures.size()) {
    read.bytes.resize(read.captures[above->first_capture].offset);
    read.captures.resize(above->first_capture);
  }
  read.records.erase(above, read.records.end());
}

HeaderValues header_of(std::span<const uint8_t> buffer) {
  HeaderValues h;
  if (buffer.size() < kHeaderSize) return h;
  const uint8_t* head = buffer.data() + offsetof(hytrace_buffer_header, head);
  if (reinterpret_cast<uintptr_t>(head) % alignof(uint64_t) == 0) {
    h.head = __atomic_load_n(reinterpret_cast<const uint64_t*>(head), __ATOMIC_ACQUIRE);
  } else {
    std::memcpy(&h.head, head, sizeof h.head);
    std::atomic_thread_fence(std::memory_order_acquire);
  }
  std::memcpy(&h.size, buffer.data() + offsetof(hytrace_buffer_header, size), sizeof h.size);
  return h;
}

uint64_t ring_size(uint64_t size) { return size > kHeaderSize + kRecordSize ? size - kHeaderSize : 0; }

bool written_at(std::span<const uint8_t> buffer, uint64_t position) {
  const uint64_t ring = ring_size(buffer.size());
  if (ring == 0 || ring % 8 != 0 || position % 8 != 0) return false;
  const uint64_t word = load_commit(buffer, kHeaderSize + position % ring);
  return word == HYTRACE_COMMITTED(position) || word == HYTRACE_PADDED(position);
}

std::string to_string(BufferFault fault) {
  switch (fault) {
    case BufferFault::kNone: return "none";
    case BufferFault::kHeader: return "header";
    case BufferFault::kPosition: return "position";
    case BufferFault::kLength: return "length";
    case BufferFault::kKind: return "kind";
    case BufferFault::kSyscall: return "syscall";
    case BufferFault::kCapture: return "capture";
    case BufferFault::kSequence: return "sequence";
    case BufferFault::kPairing: return "pairing";
    case BufferFault::kThread: return "thread";
    case BufferFault::kDuration: return "duration";
  }
  return "?";
}

}  // namespace hytrace::patcher
