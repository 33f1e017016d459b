// The event buffer's reader: records as the stub writes them are decoded,
// and each kind of record no stub writes is refused with its reason, never
// read past, never looped on.
#include "patcher/buffer_reader.hpp"

#include <fcntl.h>
#include <sys/syscall.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace hytrace::patcher {
namespace {

using testing::HasSubstr;

constexpr uint64_t kRecord = sizeof(hytrace_record);
constexpr uint64_t kCapture = sizeof(hytrace_capture);

uint32_t padded(size_t n) { return static_cast<uint32_t>((n + 7) & ~size_t{7}); }

// A buffer laid out as the stub lays it out: the header, then a ring in
// which each call has its entry and exit records, reserved together, and a
// pad before a pair that would pass the ring's end.
class Buffer {
 public:
  explicit Buffer(size_t size = 8192) : words_(size / 8) { header()->size = size; }

  std::span<const uint8_t> bytes() const { return {reinterpret_cast<const uint8_t*>(words_.data()), words_.size() * 8}; }
  uint8_t* raw() { return reinterpret_cast<uint8_t*>(words_.data()); }
  hytrace_buffer_header* header() { return reinterpret_cast<hytrace_buffer_header*>(raw()); }
  uint64_t ring() const { return words_.size() * 8 - sizeof(hytrace_buffer_header); }
  hytrace_record* at(uint64_t position) {
    return reinterpret_cast<hytrace_record*>(raw() + sizeof(hytrace_buffer_header) + position % ring());
  }
  HeaderValues values() const { return header_of(bytes()); }
  void commit(uint64_t position) { at(position)->commit = HYTRACE_COMMITTED(position); }

  // Appends one call, as the stub would with the tracer's tail at `tail`;
  // returns its entry's position (its exit follows it), or ~0 when the ring
  // has no room.
  uint64_t call(int64_t nr, uint64_t seq, uint32_t tid, const std::vector<std::string>& in = {},
                const std::vector<std::string>& out = {}, bool exit_committed = true, uint64_t tail = 0) {
    const uint32_t entry_length = room(in);
    const uint32_t exit_length = room(out);
    const uint64_t head = header()->head;
    const uint64_t to_end = ring() - head % ring();
    const uint64_t pad = to_end < entry_length + exit_length ? to_end : 0;
    if (pad + entry_length + exit_length > ring() - (head - tail)) return ~0ull;
    if (pad) at(head)->commit = HYTRACE_PADDED(head);
    const uint64_t entry = head + pad;
    header()->head = entry + entry_length + exit_length;
    fill(entry, HYTRACE_RECORD_ENTRY, nr, seq, 0, tid, in);
    at(entry)->length = entry_length;
    at(entry)->exit_length = exit_length;
    fill(entry + entry_length, HYTRACE_RECORD_EXIT, nr, seq + 1, seq, tid, out);
    at(entry + entry_length)->length = exit_length;
    at(entry + entry_length)->result = 42;
    commit(entry);
    if (exit_committed) commit(entry + entry_length);
    return entry;
  }
  uint64_t exit_of(uint64_t entry) { return entry + at(entry)->length; }

 private:
  static uint32_t room(const std::vector<std::string>& captures) {
    uint32_t n = kRecord;
    for (const std::string& c : captures) n += kCapture + padded(c.size());
    return n;
  }
  void fill(uint64_t position, uint16_t kind, int64_t nr, uint64_t seq, uint64_t entry_seq, uint32_t tid,
            const std::vector<std::string>& captures) {
    hytrace_record* r = at(position);
    r->commit = 0;
    r->kind = kind;
    r->nr = nr;
    r->seq = seq;
    r->entry_seq = entry_seq;
    r->tid = tid;
    r->duration_ns = 0;
    for (int i = 0; i < 6; ++i) r->args[i] = 100 + i;
    r->captures = static_cast<uint16_t>(captures.size());
    uint8_t* next = reinterpret_cast<uint8_t*>(r) + kRecord;
    for (size_t i = 0; i < captures.size(); ++i) {
      auto* c = reinterpret_cast<hytrace_capture*>(next);
      c->addr = 0x1000 * (i + 1);
      c->length = static_cast<uint32_t>(captures[i].size());
      std::memcpy(c + 1, captures[i].data(), captures[i].size());
      next += kCapture + padded(captures[i].size());
    }
  }

  std::vector<uint64_t> words_;  // aligned as the mapping is
};

BufferRead read(const Buffer& b, const ReadPosition& from = {}, const BufferFacts& facts = {}) {
  return read_buffer(b.bytes(), b.values(), from, facts);
}

TEST(BufferReader, ReadsEntriesAndExitsWithTheirCaptures) {
  Buffer b;
  b.call(0, 11, 77, {}, {"hello"});
  const uint64_t second = b.call(257, 13, 78, {"/etc/passwd"}, {});
  const BufferRead r = read(b);
  EXPECT_EQ(r.fault, BufferFault::kNone) << r.malformed;
  ASSERT_EQ(r.records.size(), 4u);
  EXPECT_FALSE(r.records[0].exit);
  EXPECT_EQ(r.records[0].seq, 11u);
  EXPECT_EQ(r.records[0].tid, 77u);
  EXPECT_EQ(r.records[0].args[5], 105u);
  EXPECT_TRUE(r.records[1].exit);
  EXPECT_EQ(r.records[1].entry_seq, 11u);
  EXPECT_EQ(r.records[1].result, 42);
  ASSERT_EQ(r.records[1].capture_count, 1u);
  EXPECT_EQ(r.captures_of(r.records[1])[0].addr, 0x1000u);
  EXPECT_EQ(r.bytes_of(r.captures_of(r.records[1])[0]), "hello");
  EXPECT_EQ(r.records[2].nr, 257);
  ASSERT_EQ(r.records[2].capture_count, 1u);
  EXPECT_EQ(r.bytes_of(r.captures_of(r.records[2])[0]), "/etc/passwd");
  EXPECT_EQ(r.position.tail, b.exit_of(second) + b.at(b.exit_of(second))->length);
  EXPECT_TRUE(r.position.pending.empty());

  // Nothing new: the next read returns nothing and stays put.
  const BufferRead again = read(b, r.position);
  EXPECT_TRUE(again.records.empty());
  EXPECT_EQ(again.position.tail, r.position.tail);
}

TEST(BufferReader, ARunningCallsExitIsPickedUpLater) {
  Buffer b;
  const uint64_t entry = b.call(0, 5, 9, {}, {"ab"}, /*exit_committed=*/false);
  const BufferRead first = read(b);
  ASSERT_EQ(first.records.size(), 1u);
  ASSERT_EQ(first.position.pending.size(), 1u);
  EXPECT_EQ(first.position.pending[0].at, b.exit_of(entry));
  EXPECT_TRUE(read(b, first.position).records.empty());

  EXPECT_EQ(first.position.reusable(), b.exit_of(entry));  // the stubs keep off the exit
  b.commit(b.exit_of(entry));
  const BufferRead second = read(b, first.position);
  EXPECT_EQ(second.fault, BufferFault::kNone) << second.malformed;
  ASSERT_EQ(second.records.size(), 1u);
  EXPECT_TRUE(second.records[0].exit);
  EXPECT_EQ(second.bytes_of(second.captures_of(second.records[0])[0]), "ab");
  EXPECT_TRUE(second.position.pending.empty());
  EXPECT_EQ(second.position.reusable(), second.position.tail);
}

TEST(BufferReader, AnUncommittedEntryStopsTheReadWithoutAFault) {
  Buffer b;
  const uint64_t entry = b.call(0, 5, 9);
  b.at(entry)->commit = 0;
  const BufferRead r = read(b);
  EXPECT_EQ(r.fault, BufferFault::kNone);
  EXPECT_TRUE(r.records.empty());
  EXPECT_EQ(r.position.tail, 0u);
}

// A slot keeps what an earlier lap wrote there until the stub commits it
// again: a commit word of another position is not a record.
TEST(BufferReader, AnEarlierLapsRecordIsNotReadAgain) {
  Buffer b;
  const uint64_t entry = b.call(0, 5, 9);
  const ReadPosition next_lap{.tail = b.ring(), .pending = {}};
  b.header()->head = b.ring() + b.header()->head;
  const BufferRead r = read(b, next_lap);
  EXPECT_EQ(r.fault, BufferFault::kNone) << r.malformed;
  EXPECT_TRUE(r.records.empty());
  EXPECT_EQ(r.position.tail, b.ring());
  b.commit(b.ring() + entry);
  b.commit(b.ring() + b.exit_of(entry));
  EXPECT_EQ(read(b, next_lap).records.size(), 2u);
}

// The stub's rule and the reader's, over many laps of a small ring: each
// call that found room is read once, in order, with its captures; a pair
// that would pass the ring's end comes after a pad.
TEST(BufferReader, ManyLapsOfTheRingReadEveryRecordOnce) {
  Buffer b(1024);
  ReadPosition position;
  uint64_t written = 0, read_back = 0, refused = 0, seq = 11;
  for (int round = 0; round < 200; ++round) {
    for (int i = 0; i < round % 5; ++i) {
      const std::string bytes(static_cast<size_t>((round * 7 + i * 13) % 120), 'a' + static_cast<char>(i));
      if (b.call(0, seq, 9, {}, {bytes}, true, position.reusable()) == ~0ull) {
        ++refused;
        continue;
      }
      seq += 2;
      ++written;
    }
    const BufferRead r = read(b, position);
    ASSERT_EQ(r.fault, BufferFault::kNone) << r.malformed;
    for (size_t k = 0; k < r.records.size(); ++k) {
      EXPECT_EQ(r.records[k].seq, 11 + 2 * read_back + k % 2) << "round " << round;
      read_back += k % 2;
    }
    position = r.position;
    EXPECT_EQ(position.tail, b.header()->head);
  }
  EXPECT_EQ(read_back, written);
  EXPECT_GT(b.header()->head, 20 * b.ring());  // many laps
  EXPECT_GT(refused, 0u);                      // and a full ring, at times
}

TEST(BufferReader, GoodRecordsBeforeABadOneAreKept) {
  Buffer b;
  b.call(0, 5, 9);
  const uint64_t bad = b.call(0, 7, 9);
  b.at(bad)->length = 0;
  const BufferRead r = read(b);
  EXPECT_EQ(r.fault, BufferFault::kLength);
  EXPECT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.position.tail, bad);
}

// Each kind of damage, on the second call of a buffer (the first is good).
struct Damage {
  const char* name;
  void (*apply)(Buffer& b, uint64_t entry);
  BufferFault fault;
  const char* reason;
};

const Damage kDamages[] = {
    {"header size", [](Buffer& b, uint64_t) { b.header()->size = 1u << 30; }, BufferFault::kHeader, "header says"},
    {"head a lap ahead", [](Buffer& b, uint64_t) { b.header()->head = b.ring() + 8; }, BufferFault::kHeader,
     "more than the ring's"},
    {"head misaligned", [](Buffer& b, uint64_t) { b.header()->head += 3; }, BufferFault::kHeader, "multiple of 8"},
    {"pad past the head", [](Buffer& b, uint64_t e) { b.at(e)->commit = HYTRACE_PADDED(e); }, BufferFault::kLength,
     "passes the head"},
    {"length 0", [](Buffer& b, uint64_t e) { b.at(e)->length = 0; }, BufferFault::kLength, "shorter than a record"},
    {"length short", [](Buffer& b, uint64_t e) { b.at(e)->length = 104; }, BufferFault::kLength, "shorter"},
    {"length odd", [](Buffer& b, uint64_t e) { b.at(e)->length += 4; }, BufferFault::kLength, "multiple of 8"},
    {"length past head", [](Buffer& b, uint64_t e) { b.at(e)->length += 8 * 1024; }, BufferFault::kLength, "passes"},
    {"length huge", [](Buffer& b, uint64_t e) { b.at(e)->length = 0xfffffff8; }, BufferFault::kLength, "passes"},
    {"exit length 0", [](Buffer& b, uint64_t e) { b.at(e)->exit_length = 0; }, BufferFault::kLength, "exit's length"},
    {"exit length huge", [](Buffer& b, uint64_t e) { b.at(e)->exit_length = 0xfffffff8; }, BufferFault::kLength,
     "exit's length"},
    {"entry kind", [](Buffer& b, uint64_t e) { b.at(e)->kind = HYTRACE_RECORD_EXIT; }, BufferFault::kKind,
     "not an entry"},
    {"exit kind", [](Buffer& b, uint64_t e) { b.at(b.exit_of(e))->kind = 7; }, BufferFault::kKind, "not an exit"},
    {"nr negative", [](Buffer& b, uint64_t e) { b.at(e)->nr = -1; }, BufferFault::kSyscall, "out of range"},
    {"nr too big", [](Buffer& b, uint64_t e) { b.at(e)->nr = HYTRACE_STUB_MAX_NR; }, BufferFault::kSyscall,
     "out of range"},
    {"too many captures", [](Buffer& b, uint64_t e) { b.at(e)->captures = 5; }, BufferFault::kCapture,
     "5 captures"},
    {"capture past record", [](Buffer& b, uint64_t e) { b.at(e)->captures = 2; }, BufferFault::kCapture,
     "passes the record's end"},
    {"capture length huge",
     [](Buffer& b, uint64_t e) { reinterpret_cast<hytrace_capture*>(b.at(e) + 1)->length = 0xffffffff; },
     BufferFault::kCapture, "passes the record's end"},
    {"exit capture length",
     [](Buffer& b, uint64_t e) { reinterpret_cast<hytrace_capture*>(b.at(b.exit_of(e)) + 1)->length = 17; },
     BufferFault::kCapture, "passes the record's end"},
    {"seq below start", [](Buffer& b, uint64_t e) { b.at(e)->seq = 3; }, BufferFault::kSequence,
     "buffer's start"},
    {"exit seq before entry", [](Buffer& b, uint64_t e) { b.at(b.exit_of(e))->seq = b.at(e)->seq; },
     BufferFault::kSequence, "not after its entry"},
    {"exit entry seq", [](Buffer& b, uint64_t e) { b.at(b.exit_of(e))->entry_seq += 1; }, BufferFault::kPairing,
     "differ"},
    {"exit thread", [](Buffer& b, uint64_t e) { b.at(b.exit_of(e))->tid += 1; }, BufferFault::kPairing, "differ"},
    {"exit syscall", [](Buffer& b, uint64_t e) { b.at(b.exit_of(e))->nr = 1; }, BufferFault::kPairing, "differ"},
    {"exit length", [](Buffer& b, uint64_t e) { b.at(b.exit_of(e))->length = 0; }, BufferFault::kPairing,
     "entry reserved"},
    {"thread 0", [](Buffer& b, uint64_t e) { b.at(e)->tid = 0; }, BufferFault::kThread, "thread id 0"},
    {"thread huge", [](Buffer& b, uint64_t e) { b.at(e)->tid = 0xffffffff; }, BufferFault::kThread, "thread id"},
    {"duration", [](Buffer& b, uint64_t e) { b.at(b.exit_of(e))->duration_ns = ~0ull; }, BufferFault::kDuration,
     "duration"},
};

TEST(BufferReader, EachKindOfMalformedRecordIsRefused) {
  for (const Damage& d : kDamages) {
    SCOPED_TRACE(d.name);
    Buffer b;
    b.call(0, 11, 9, {}, {"x"});
    const uint64_t entry = b.call(0, 13, 9, {"abc"}, {"0123456789abcdef"});
    d.apply(b, entry);
    const BufferRead r = read(b, {}, {.min_seq = 10});
    EXPECT_EQ(r.fault, d.fault) << to_string(r.fault) << ": " << r.malformed;
    EXPECT_THAT(r.malformed, HasSubstr(d.reason));
    EXPECT_LE(r.records.size(), 3u);
    EXPECT_LE(r.position.tail, b.header()->head);
    // A refused record keeps no captures: only the records read show any.
    size_t shown = 0;
    for (const BufferRecord& rec : r.records) shown += rec.capture_count;
    EXPECT_EQ(r.captures.size(), shown);
    size_t bytes = 0;
    for (const BufferCapture& c : r.captures) bytes += c.length;
    EXPECT_EQ(r.bytes.size(), bytes);
  }
}

TEST(BufferReader, AnUnservedSyscallIsRefused) {
  Buffer b;
  b.call(1, 11, 9);
  auto stub = std::make_unique<hytrace_stub_data>();
  stub->served[0] = HYTRACE_SERVED;
  const BufferRead r = read(b, {}, {.min_seq = 0, .stub = stub.get()});
  EXPECT_EQ(r.fault, BufferFault::kSyscall);
  EXPECT_THAT(r.malformed, HasSubstr("not served"));
  stub->served[1] = HYTRACE_SERVED;
  EXPECT_EQ(read(b, {}, {.min_seq = 0, .stub = stub.get()}).fault, BufferFault::kNone);
}

// fcntl is served for some commands only: a record of another command is
// one no stub wrote.
TEST(BufferReader, ACallServedByCommandIsRefusedWithAnotherCommand) {
  auto stub = std::make_unique<hytrace_stub_data>();
  stub->served[SYS_fcntl] = HYTRACE_SERVED_BY_COMMAND;
  stub->commands[0] = {.nr = SYS_fcntl, .arg = 1, .count = 1, .pad = 0, .values = {F_GETFL}};
  for (const uint64_t command : {F_GETFL, F_SETLKW}) {
    Buffer b;
    const uint64_t entry = b.call(SYS_fcntl, 11, 9);
    b.at(entry)->args[1] = command;
    b.at(b.exit_of(entry))->args[1] = command;
    const BufferRead r = read(b, {}, {.min_seq = 0, .stub = stub.get()});
    EXPECT_EQ(r.fault, command == F_GETFL ? BufferFault::kNone : BufferFault::kSyscall) << command;
    if (command != F_GETFL) {
      EXPECT_THAT(r.malformed, HasSubstr("with that command"));
    }
  }
}

TEST(BufferReader, AnImpossiblePositionIsRefused) {
  Buffer b;
  b.call(0, 11, 9);
  const uint64_t head = b.header()->head;
  ReadPosition past;
  past.tail = head + 8;
  EXPECT_EQ(read(b, past).fault, BufferFault::kHeader);  // the head moved back
  ReadPosition misaligned;
  misaligned.tail = 4;
  EXPECT_EQ(read(b, misaligned).fault, BufferFault::kPosition);
  ReadPosition ahead;
  ahead.pending.push_back({1u << 30, 200, 9, 0, 11});
  EXPECT_EQ(read(b, ahead).fault, BufferFault::kPosition);
  ReadPosition short_exit;
  short_exit.tail = head;
  short_exit.pending.push_back({kRecord, 8, 9, 0, 11});
  EXPECT_EQ(read(b, short_exit).fault, BufferFault::kPosition);
  ReadPosition past_the_end;  // an exit must not pass the ring's end
  past_the_end.tail = head;
  past_the_end.pending.push_back({8, static_cast<uint32_t>(b.ring()), 9, 0, 11});
  EXPECT_EQ(read(b, past_the_end).fault, BufferFault::kPosition);
  ReadPosition lap_behind;  // the stubs may have reused its bytes
  b.header()->head = b.ring() + 8;
  lap_behind.tail = b.ring();
  lap_behind.pending.push_back({0, kRecord, 9, 0, 11});
  EXPECT_EQ(read(b, lap_behind).fault, BufferFault::kPosition);
}

TEST(BufferReader, AMalformedPendingExitIsRefusedLater) {
  Buffer b;
  const uint64_t entry = b.call(0, 5, 9, {}, {}, /*exit_committed=*/false);
  const BufferRead first = read(b);
  ASSERT_EQ(first.position.pending.size(), 1u);
  b.at(b.exit_of(entry))->length = 0xfffffff8;
  b.commit(b.exit_of(entry));
  const BufferRead second = read(b, first.position);
  EXPECT_EQ(second.fault, BufferFault::kPairing);
  EXPECT_TRUE(second.records.empty());
}

// What the test program does: the whole buffer overwritten with
// one byte, header included, or with words that forge lengths. Without its
// commit word, a forged record is one being written: nothing is read.
TEST(BufferReader, ABufferOverwrittenWithAPatternIsRefusedOrEmpty) {
  for (int byte : {0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff}) {
    SCOPED_TRACE(byte);
    Buffer b;
    b.call(0, 11, 9, {}, {"x"});
    std::memset(b.raw(), byte, b.bytes().size());
    ReadPosition from;
    from.pending.push_back({kRecord, kRecord, 9, 0, 11});
    from.tail = 3 * kRecord;
    const BufferRead r = read(b, from);
    EXPECT_NE(r.fault, BufferFault::kNone);
    EXPECT_TRUE(r.records.empty());
  }
  for (uint32_t hi : {0u, 1u}) {
    Buffer b;
    for (size_t at = sizeof(hytrace_buffer_header); at + 8 <= b.bytes().size(); at += 8) {
      const uint32_t words[2] = {at % 16 ? 0u : 0xfffffff8u, hi};
      std::memcpy(b.raw() + at, words, 8);
    }
    b.header()->head = b.ring();
    const BufferRead r = read(b);
    EXPECT_TRUE(r.records.empty());
    EXPECT_EQ(r.fault, BufferFault::kNone) << r.malformed;
  }
}

TEST(BufferReader, ACopyNeedNotBeAligned) {
  Buffer b;
  b.call(0, 11, 9, {}, {"hello"});
  std::vector<uint8_t> copy(b.bytes().size() + 1);
  std::memcpy(copy.data() + 1, b.bytes().data(), b.bytes().size());
  const std::span<const uint8_t> odd(copy.data() + 1, b.bytes().size());
  const BufferRead r = read_buffer(odd, header_of(odd), {}, {});
  EXPECT_EQ(r.fault, BufferFault::kNone) << r.malformed;
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.bytes_of(r.captures_of(r.records[1])[0]), "hello");
}

TEST(BufferReader, SequenceNumbersAboveTheCounterAreRefused) {
  Buffer b;
  b.call(0, 11, 9);
  b.call(0, 1000, 9);
  BufferRead r = read(b);
  limit_sequence(r, 100);
  EXPECT_EQ(r.fault, BufferFault::kSequence);
  EXPECT_THAT(r.malformed, HasSubstr("sequence counter"));
  EXPECT_EQ(r.records.size(), 2u);
}

TEST(BufferReader, RecordsDroppedAboveTheCounterTakeTheirCaptures) {
  Buffer b;
  b.call(0, 11, 9, {}, {"kept"});
  b.call(0, 1000, 9, {"dropped"}, {"dropped too"});
  BufferRead r = read(b);
  ASSERT_EQ(r.captures.size(), 3u);
  limit_sequence(r, 100);
  ASSERT_EQ(r.records.size(), 2u);
  ASSERT_EQ(r.captures.size(), 1u);
  EXPECT_EQ(r.bytes, "kept");
}

TEST(BufferReader, AReusedReadHoldsOnlyTheLastReadsCaptures) {
  Buffer b;
  b.call(0, 11, 9, {}, {"first"});
  BufferRead r;
  read_buffer(b.bytes(), b.values(), {}, {}, r);
  const ReadPosition after_first = r.position;
  b.call(0, 13, 9, {}, {"second"});
  read_buffer(b.bytes(), b.values(), after_first, {}, r);
  EXPECT_EQ(r.fault, BufferFault::kNone) << r.malformed;
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.records[0].capture_count, 0u);
  ASSERT_EQ(r.records[1].capture_count, 1u);
  EXPECT_EQ(r.bytes_of(r.captures_of(r.records[1])[0]), "second");
  EXPECT_EQ(r.captures.size(), 1u);
}

TEST(BufferReader, HeaderAndReservationsNeverReadOutside) {
  const std::vector<uint8_t> tiny(16, 0xff);
  EXPECT_EQ(header_of(tiny).head, 0u);
  EXPECT_EQ(read_buffer(tiny, {0, 16}, {}, {}).fault, BufferFault::kHeader);
  // Room for the header, not for a record.
  std::vector<uint64_t> small(10, 0);
  const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(small.data()), 80);
  small[2] = 80;  // its size
  EXPECT_EQ(read_buffer(bytes, header_of(bytes), {}, {}).fault, BufferFault::kHeader);
}

}  // namespace
}  // namespace hytrace::patcher
