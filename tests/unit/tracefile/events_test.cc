// Each event type's bytes: round trips, and decoding that believes no
// length or count.
#include <gtest/gtest.h>

#include "tests/unit/tracefile/helpers.hpp"
#include "tracer/tracefile/bytes.hpp"
#include "tracer/tracefile/memory.hpp"

namespace hytrace::tracefile::testing {
namespace {

std::span<const uint8_t> span_of(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(TraceEvents, EveryTypeRoundTrips) {
  const std::vector<Event> events = sample_events();
  std::vector<bool> seen(10, false);
  for (const Event& e : events) {
    std::string bytes;
    encode(e, bytes);
    const Decoded d = decode(span_of(bytes));
    ASSERT_EQ(d.status, Decoded::Status::kEvent) << type_name(type_of(e)) << ": " << d.error;
    EXPECT_EQ(d.size, bytes.size());
    EXPECT_EQ(*d.event, e) << type_name(type_of(e));
    seen[static_cast<size_t>(type_of(e))] = true;
  }
  for (int t = 1; t <= 9; ++t) EXPECT_TRUE(seen[t]) << "no sample of " << type_name(EventType(t));
}

TEST(TraceEvents, FrameHoldsTypeAndLength) {
  std::string bytes;
  encode(RdtscEvent{1, 2, false, 3, 4, 0}, bytes);
  EXPECT_EQ(detail::load_le<uint16_t>(span_of(bytes).data()), 5);  // kRdtsc
  EXPECT_EQ(detail::load_le<uint32_t>(span_of(bytes).data() + 4), bytes.size() - kEventFrameSize);
  EXPECT_EQ(bytes.size(), kEventFrameSize + 8 + 4 + 1 + 8 + 8 + 4);
}

// Every cut of every event's bytes is refused, never read past.
TEST(TraceEvents, EveryTruncationIsAnError) {
  for (const Event& e : sample_events()) {
    std::string bytes;
    encode(e, bytes);
    for (size_t n = 0; n < bytes.size(); ++n) {
      // A heap copy of exactly n bytes, so ASan sees any read past it.
      const std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + n);
      EXPECT_EQ(decode(cut).status, Decoded::Status::kError) << type_name(type_of(e)) << " cut at " << n;
    }
  }
}

// A body shortened with its length field made to match: the fields no
// longer fill it, or a string's length runs past it.
TEST(TraceEvents, ABodyShorterThanItsFieldsIsAnError) {
  for (const Event& e : sample_events()) {
    std::string bytes;
    encode(e, bytes);
    for (size_t n = kEventFrameSize; n < bytes.size(); ++n) {
      std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + n);
      detail::store_le(&cut[4], static_cast<uint32_t>(n - kEventFrameSize));
      EXPECT_EQ(decode(cut).status, Decoded::Status::kError) << type_name(type_of(e)) << " at " << n;
    }
  }
}

TEST(TraceEvents, UnknownTypesAreSkippedByLength) {
  std::string bytes;
  detail::put_le<uint16_t>(bytes, 999);
  detail::put_le<uint16_t>(bytes, 0);
  detail::put_le<uint32_t>(bytes, 5);
  bytes += "abcde";
  const Decoded d = decode(span_of(bytes));
  EXPECT_EQ(d.status, Decoded::Status::kUnknown);
  EXPECT_EQ(d.size, 13u);
  EXPECT_EQ(d.type, 999);
}

TEST(TraceEvents, ForgedCountsAllocateNothing) {
  std::string bytes;
  encode(call_event(1, 1, 0, {}, 0), bytes);
  // The writes' count is 8 bytes from the end (the reads' follows): make it 2^32 - 1.
  detail::store_le(reinterpret_cast<uint8_t*>(bytes.data()) + bytes.size() - 8, UINT32_MAX);
  const Decoded d = decode(span_of(bytes));
  EXPECT_EQ(d.status, Decoded::Status::kError);
  EXPECT_NE(d.error.find("do not fit its length"), std::string::npos) << d.error;
}

TEST(TraceEvents, ValuesAreChecked) {
  SyscallEvent bad_flags = call_event(1, 1, 0, {}, 0);
  bad_flags.flags = 1u << 20;
  EXPECT_EQ(check(bad_flags), "unknown syscall flags");
  SyscallEvent backwards = call_event(5, 1, 0, {}, 0);
  backwards.exit_seq = 4;
  EXPECT_EQ(check(backwards), "a syscall exit not after its entry");
  SyscallEvent unfinished = call_event(5, 1, 0, {}, 0);
  unfinished.flags = kUnfinished;
  EXPECT_EQ(check(unfinished), "an unfinished syscall with an exit seq");
  SyscallEvent reasonless = call_event(5, 1, 0, {}, 0);
  reasonless.flags = kUnreplayable;
  EXPECT_EQ(check(reasonless), "the unreplayable flag and its reason disagree");
  SyscallEvent wraps = call_event(5, 1, 0, {}, 0);
  wraps.writes = {{UINT64_MAX - 1, "abc"}};
  EXPECT_EQ(check(wraps), "a memory range wraps around the address space");
  SyscallEvent abi = call_event(5, 1, 0, {}, 0);
  abi.abi = static_cast<syscalls::Abi>(9);
  EXPECT_EQ(check(abi), "unknown ABI");
  EXPECT_EQ(check(MappingEvent{1, 1, static_cast<MappingEvent::Kind>(7), 0, 0, 0}), "unknown mapping kind");

  // And decode() refuses what check() refuses.
  std::string bytes;
  encode(bad_flags, bytes);
  const Decoded d = decode(span_of(bytes));
  EXPECT_EQ(d.status, Decoded::Status::kError);
  EXPECT_EQ(d.error, "syscall event: unknown syscall flags");
}

TEST(TraceEvents, BooleansAreZeroOrOne) {
  std::string bytes;
  encode(RdtscEvent{1, 2, true, 3, 4, 5}, bytes);
  bytes[kEventFrameSize + 12] = 2;  // rdtscp
  EXPECT_EQ(decode(span_of(bytes)).status, Decoded::Status::kError);
}

TEST(TraceEvents, TooLargeAnEventIsRefused) {
  SyscallEvent big = call_event(1, 1, 0, {}, 0);
  big.writes = {{0x1000, std::string(kMaxEventBody, 'x')}};
  std::string out = "prefix";
  EXPECT_THROW(encode(big, out), std::length_error);
  EXPECT_EQ(out, "prefix");  // nothing half-written
}

TEST(TraceEvents, SeqRanges) {
  EXPECT_EQ(seq_range(call_event(5, 1, 0, {}, 0)), std::make_pair(uint64_t{5}, uint64_t{6}));
  SyscallEvent unfinished = call_event(5, 1, 0, {}, 0);
  unfinished.exit_seq = 0;
  unfinished.flags = kUnfinished;
  EXPECT_EQ(seq_range(unfinished), std::make_pair(uint64_t{5}, uint64_t{5}));
  EXPECT_EQ(seq_range(CpuidEvent{7}), std::make_pair(uint64_t{7}, uint64_t{7}));
}

TEST(RecordedMemory, ReadsOnlyWhatWasRecorded) {
  const std::vector<MemoryRange> writes = {{0x1000, "abcd"}};
  const std::vector<MemoryRange> reads = {{0x2000, "xyz"}, {0x1000, "ABCDEFGH"}};
  RecordedMemory mem(writes, &reads);
  char buf[16] = {};
  EXPECT_EQ(mem.read(0x1001, buf, 10), 3u);  // the kernel's bytes come first
  EXPECT_EQ(std::string(buf, 3), "bcd");
  EXPECT_EQ(mem.read(0x2001, buf, 10), 2u);
  EXPECT_EQ(std::string(buf, 2), "yz");
  EXPECT_EQ(mem.read(0x3000, buf, 10), 0u);
  EXPECT_EQ(mem.read(0x0fff, buf, 10), 0u);
  RecordedMemory only_writes(writes);
  EXPECT_EQ(only_writes.read(0x2000, buf, 1), 0u);
}

}  // namespace
}  // namespace hytrace::tracefile::testing
