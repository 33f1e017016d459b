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

// The committed flag, with acquire order: the stub sets it last, with
// release order, so the fields copied after it are the ones it wrote.
uint32_t load_committed(std::span<const uint8_t> buffer, uint64_t at) {
  const uint8_t* p = buffer.data() + at + offsetof(hytrace_record, committed);
  if (reinterpret_cast<uintptr_t>(p) % alignof(uint32_t) == 0) {
    return __atomic_load_n(reinterpret_cast<const uint32_t*>(p), __ATOMIC_ACQUIRE);
  }
  uint32_t v = 0;  // a copied buffer need not be aligned
  std::memcpy(&v, p, sizeof v);
  std::atomic_thread_fence(std::memory_order_acquire);
  return v;
}

// One pass over the buffer. Every check runs on copies: the program may
// change the bytes between two reads, so nothing is read twice.
class Reader {
 public:
  Reader(std::span<const uint8_t> buffer, const BufferFacts& facts, BufferRead& out)
      : buffer_(buffer), facts_(facts), out_(out) {}

  bool header_fits(HeaderValues header, uint64_t tail) {
    if (buffer_.size() < kHeaderSize || header.size != buffer_.size()) {
      return fail(BufferFault::kHeader, "the header says the buffer has " + num(header.size) +
                                            " bytes, not " + num(buffer_.size()));
    }
    if (tail < kHeaderSize || tail > buffer_.size() || tail % 8 != 0) {
      return fail(BufferFault::kPosition, "the reading position " + num(tail) + " is outside the records");
    }
    if (header.head < tail) {
      return fail(BufferFault::kHeader, "the head moved back from " + num(tail) + " to " + num(header.head));
    }
    if (header.head % 8 != 0) return fail(BufferFault::kHeader, "the head " + num(header.head) + " is not a multiple of 8");
    return true;
  }

  // A pending exit comes from an entry read before: it lies before `tail`.
  bool pending_fits(const PendingExit& p, uint64_t tail) {
    if (p.at < kHeaderSize + kRecordSize || p.at % 8 != 0 || p.at >= tail || p.length < kRecordSize ||
        p.length > tail - p.at) {
      return fail(BufferFault::kPosition, "a pending exit at offset " + num(p.at) + " is outside the records");
    }
    return true;
  }

  // The committed flag at `at`: 0 (being written) or 1, else a fault (-1).
  int committed(uint64_t at) {
    const uint32_t c = load_committed(buffer_, at);
    if (c <= 1) return static_cast<int>(c);
    fail(BufferFault::kCommitted, where(at) + "committed flag " + num(c) + ", not 0 or 1");
    return -1;
  }

  // The entry at `at`, with `room` bytes reserved from there on. Sets
  // `exit` to what its exit record must be.
  bool entry(uint64_t at, uint64_t room, PendingExit& exit) {
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
  static std::string where(uint64_t at) { return "record at offset " + num(at) + ": "; }

  // The caller has checked that a whole record fits at `at`.
  hytrace_record copy(uint64_t at) const {
    hytrace_record r;
    std::memcpy(&r, buffer_.data() + at, sizeof r);
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
    if (!facts_.served.empty() &&
        (static_cast<uint64_t>(r.nr) >= facts_.served.size() || !facts_.served[static_cast<size_t>(r.nr)])) {
      return fail(BufferFault::kSyscall, where(at) + "syscall " + std::to_string(r.nr) + " is not served by the stub");
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
    const uint64_t end = at + r.length;
    uint64_t next = at + kRecordSize;
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

  std::span<const uint8_t> buffer_;
  const BufferFacts& facts_;
  BufferRead& out_;
};

}  // namespace

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
    const int c = reader.pending_fits(p, from.tail) ? reader.committed(p.at) : -1;
    if (c == 0) out.position.pending.push_back(p);
    if (c == 1 && reader.exit(p)) continue;
    if (c != 0) {
      out.position.pending.insert(out.position.pending.end(), from.pending.begin() + static_cast<ptrdiff_t>(i),
                                  from.pending.end());
      return;
    }
  }
  // header_fits: from.tail <= head and from.tail <= size, so tail <= end.
  const uint64_t end = std::min<uint64_t>(header.head, buffer.size());
  uint64_t tail = from.tail;
  while (end - tail >= kRecordSize) {
    const int c = reader.committed(tail);
    if (c == 0) break;  // being written
    PendingExit exit;
    if (c < 0 || !reader.entry(tail, end - tail, exit)) break;
    // entry() checked that the exit fits in the reserved bytes.
    const int exit_committed = reader.committed(exit.at);
    if (exit_committed < 0) break;
    if (exit_committed == 0) {
      out.position.pending.push_back(exit);
    } else if (!reader.exit(exit)) {
      break;
    }
    tail = exit.at + exit.length;
    out.position.tail = tail;
  }
  return;
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

bool record_reserved(std::span<const uint8_t> buffer, uint64_t at) {
  if (at > buffer.size() || buffer.size() - at < kRecordSize) return false;
  uint32_t length = 0;
  std::memcpy(&length, buffer.data() + at + offsetof(hytrace_record, length), sizeof length);
  return length != 0;
}

std::string to_string(BufferFault fault) {
  switch (fault) {
    case BufferFault::kNone: return "none";
    case BufferFault::kHeader: return "header";
    case BufferFault::kPosition: return "position";
    case BufferFault::kCommitted: return "committed";
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
