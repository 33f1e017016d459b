// Events through TraceWriter and TraceReader: round trips, many chunks,
// files cut at every offset, and bytes flipped everywhere.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/unit/tracefile/helpers.hpp"
#include "tracer/tracefile/bytes.hpp"

namespace hytrace::tracefile::testing {
namespace {

// Where each chunk starts, walking the headers of a well-formed file.
std::vector<size_t> chunk_offsets(const std::vector<uint8_t>& file) {
  std::vector<size_t> offsets;
  size_t at = kFileHeaderSize + detail::load_le<uint32_t>(&file[16]);
  while (at + kChunkHeaderSize <= file.size()) {
    offsets.push_back(at);
    at += kChunkHeaderSize + detail::load_le<uint32_t>(&file[at + 8]);
  }
  return offsets;
}

// n events of every kind, seq rising.
std::vector<Event> many_events(size_t n) {
  std::vector<Event> events;
  const std::vector<Event> sample = sample_events();
  uint64_t seq = 1;
  for (size_t i = 0; i < n; ++i) {
    SyscallEvent e = call_event(seq, 100 + static_cast<int32_t>(i % 3), 0, {3, 0x6000, 64, 0, 0, 0}, 64);
    e.writes = {{0x6000, std::string(64, static_cast<char>('a' + i % 26))}};
    events.push_back(e);
    seq += 2;
  }
  return events;
}

TEST(TraceRoundTrip, EveryEventTypeAndTheHeader) {
  ScratchDir dir;
  const std::string path = dir.file("t.hyt");
  ASSERT_EQ(write_trace(path, sample_events()), "");
  TraceReader reader = TraceReader::open(path);
  ASSERT_EQ(reader.error(), nullptr) << reader.error()->message;
  EXPECT_EQ(reader.info(), sample_info());
  EXPECT_EQ(read_all(reader), sample_events());
  EXPECT_EQ(reader.error(), nullptr);
  EXPECT_TRUE(reader.ended());
  EXPECT_EQ(reader.trailing_bytes(), 0u);
  EXPECT_EQ(reader.cut_short(), "");
  EXPECT_EQ(reader.totals().chunks, 1u);
  EXPECT_EQ(reader.totals().events, sample_events().size());
  EXPECT_EQ(reader.totals().file_bytes, read_file(path).size());
}

TEST(TraceRoundTrip, FromMemoryAsFromAFile) {
  ScratchDir dir;
  const std::string path = dir.file("t.hyt");
  ASSERT_EQ(write_trace(path, sample_events()), "");
  const std::vector<uint8_t> bytes = read_file(path);
  TraceReader reader = TraceReader::from_bytes(bytes);
  EXPECT_EQ(read_all(reader), sample_events());
  EXPECT_EQ(reader.error(), nullptr);
}

TEST(TraceRoundTrip, ManyChunksWithTheirSeqRanges) {
  ScratchDir dir;
  const std::string path = dir.file("t.hyt");
  const std::vector<Event> events = many_events(20000);
  ASSERT_EQ(write_trace(path, events, {.chunk_bytes = 64 * 1024}), "");
  TraceReader reader = TraceReader::open(path);
  EXPECT_EQ(read_all(reader), events);
  ASSERT_EQ(reader.error(), nullptr) << reader.error()->message;
  EXPECT_FALSE(reader.ended());  // no end event was written
  EXPECT_NE(reader.cut_short().find("no end event"), std::string::npos);
  EXPECT_GT(reader.totals().chunks, 20u);
  // Each chunk's range is its events': they follow one another here.
  const std::vector<uint8_t> file = read_file(path);
  uint64_t last = 0;
  for (size_t at : chunk_offsets(file)) {
    const auto h = decode_chunk_header(std::span<const uint8_t, kChunkHeaderSize>(&file[at], kChunkHeaderSize));
    EXPECT_EQ(h.flags, kChunkZstd);
    EXPECT_EQ(h.first_seq, last + 1);
    EXPECT_LT(h.first_seq, h.last_seq);
    last = h.last_seq;
  }
  EXPECT_EQ(last, 40000u);
  // Repetitive events compress well.
  EXPECT_GT(reader.totals().raw_bytes, 5 * reader.totals().stored_bytes);
}

TEST(TraceRoundTrip, IncompressibleChunksAreStored) {
  ScratchDir dir;
  const std::string path = dir.file("t.hyt");
  SyscallEvent e = call_event(1, 1, SYS_getrandom, {0x1000, 4096, 0, 0, 0, 0}, 4096);
  std::string random(4096, '\0');
  uint64_t x = 88172645463325252ull;
  for (char& c : random) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    c = static_cast<char>(x);
  }
  e.writes = {{0x1000, random}};
  ASSERT_EQ(write_trace(path, {e}), "");
  const std::vector<uint8_t> file = read_file(path);
  const size_t at = chunk_offsets(file).at(0);
  EXPECT_EQ(detail::load_le<uint32_t>(&file[at + 4]), 0u);  // no kChunkZstd
  TraceReader reader = TraceReader::open(path);
  EXPECT_EQ(read_all(reader), std::vector<Event>{e});
  EXPECT_EQ(reader.error(), nullptr);
}

// The largest event after a chunk filled almost to its limit: the chunk
// stays within what the reader accepts.
TEST(TraceRoundTrip, TheLargestEventInTheFullestChunk) {
  ScratchDir dir;
  const std::string path = dir.file("t.hyt");
  SyscallEvent filler = call_event(1, 1, SYS_read, {3, 0x1000, 0, 0, 0, 0}, 0);
  filler.writes = {{0x1000, std::string(kMaxChunkBytes / 4 - 200, 'a')}};
  SyscallEvent big = call_event(3, 1, SYS_read, {3, 0x1000, 0, 0, 0, 0}, 0);
  big.writes = {{0x1000, std::string(kMaxEventBody - 200, 'b')}};
  ASSERT_EQ(write_trace(path, {filler, big}, {.chunk_bytes = 1u << 30}), "");
  TraceReader reader = TraceReader::open(path);
  EXPECT_EQ(read_all(reader), (std::vector<Event>{filler, big}));
  EXPECT_EQ(reader.error(), nullptr);
  EXPECT_EQ(reader.totals().chunks, 1u);
}

TEST(TraceRoundTrip, AnEventOverTheLimitIsAnErrorOfTheTrace) {
  ScratchDir dir;
  const std::string path = dir.file("t.hyt");
  SyscallEvent big = call_event(1, 1, SYS_read, {3, 0x1000, 0, 0, 0, 0}, 0);
  big.writes = {{0x1000, std::string(kMaxEventBody, 'b')}};
  TraceWriter writer(path, sample_info());
  writer.append(sample_events()[0]);
  writer.append(big);
  writer.append(sample_events()[1]);  // dropped: nothing after an error
  EXPECT_EQ(writer.finish().rfind("cannot write trace '" + path + "': an event of ", 0), 0u);
  EXPECT_EQ(writer.events(), 1u);
  TraceReader reader = TraceReader::open(path);
  EXPECT_EQ(read_all(reader), std::vector<Event>{sample_events()[0]});  // what came before it
  EXPECT_EQ(reader.error(), nullptr);
}

TEST(TraceRoundTrip, FlushMakesAChunkAndWaitWrittenPutsItInTheFile) {
  ScratchDir dir;
  const std::string path = dir.file("t.hyt");
  TraceWriter writer(path, sample_info());
  const std::vector<Event> events = sample_events();
  writer.append(events[0]);
  writer.flush();
  writer.wait_written();
  {
    TraceReader reader = TraceReader::open(path);
    EXPECT_EQ(read_all(reader), std::vector<Event>{events[0]});
    EXPECT_EQ(reader.error(), nullptr);
  }
  EXPECT_EQ(writer.bytes_written(), read_file(path).size());
  writer.append(events[1]);
  EXPECT_EQ(writer.events(), 2u);
  EXPECT_EQ(writer.finish(), "");
  TraceReader reader = TraceReader::open(path);
  EXPECT_EQ(read_all(reader).size(), 2u);
  EXPECT_EQ(reader.totals().chunks, 2u);
}

// A writer killed at any moment leaves its complete chunks: the file cut at
// every byte of its last chunk reads the rest and counts the cut bytes.
TEST(TraceRoundTrip, CutAtEveryOffsetOfTheLastChunk) {
  ScratchDir dir;
  const std::string path = dir.file("t.hyt");
  const std::vector<Event> events = sample_events();
  {
    TraceWriter writer(path, sample_info());
    for (size_t i = 0; i + 3 < events.size(); ++i) writer.append(events[i]);
    writer.flush();
    for (size_t i = events.size() - 3; i < events.size(); ++i) writer.append(events[i]);
    ASSERT_EQ(writer.finish(), "");
  }
  const std::vector<uint8_t> file = read_file(path);
  const size_t last = chunk_offsets(file).at(1);
  const std::vector<Event> prefix(events.begin(), events.end() - 3);
  for (size_t cut = last; cut < file.size(); ++cut) {
    const std::vector<uint8_t> bytes(file.begin(), file.begin() + cut);
    TraceReader reader = TraceReader::from_bytes(bytes);
    ASSERT_EQ(read_all(reader), prefix) << "cut at " << cut;
    ASSERT_EQ(reader.error(), nullptr) << "cut at " << cut << ": " << reader.error()->message;
    EXPECT_EQ(reader.trailing_bytes(), cut - last);
    EXPECT_FALSE(reader.ended());
    const std::string note = reader.cut_short();
    if (cut > last) {
      EXPECT_NE(note.find(std::to_string(cut - last) + " bytes (from offset " + std::to_string(last)),
                std::string::npos) << note;
    }
  }
}

// A flipped byte anywhere in a chunk is found, with the chunk's offset;
// the chunks before it still read.
TEST(TraceRoundTrip, AFlippedByteInAChunkIsReportedWithItsOffset) {
  ScratchDir dir;
  const std::string path = dir.file("t.hyt");
  const std::vector<Event> events = sample_events();
  {
    TraceWriter writer(path, sample_info());
    writer.append(events[0]);
    writer.flush();
    for (size_t i = 1; i < events.size(); ++i) writer.append(events[i]);
    ASSERT_EQ(writer.finish(), "");
  }
  const std::vector<uint8_t> file = read_file(path);
  const auto offsets = chunk_offsets(file);
  ASSERT_EQ(offsets.size(), 2u);
  for (size_t chunk = 0; chunk < 2; ++chunk) {
    const size_t begin = offsets[chunk];
    const size_t end = chunk + 1 < offsets.size() ? offsets[chunk + 1] : file.size();
    for (size_t at = begin; at < end; ++at) {
      std::vector<uint8_t> bytes = file;
      bytes[at] ^= 0x20;
      TraceReader reader = TraceReader::from_bytes(bytes);
      const std::vector<Event> got = read_all(reader);
      ASSERT_NE(reader.error(), nullptr) << "flip at " << at;
      EXPECT_EQ(reader.error()->offset, begin) << "flip at " << at;
      EXPECT_EQ(reader.error()->message.rfind("chunk at offset " + std::to_string(begin) + ": ", 0), 0u)
          << reader.error()->message;
      EXPECT_EQ(got.size(), chunk) << "flip at " << at;
    }
  }
}

TEST(TraceRoundTrip, AFlippedByteInTheHeaderIsAnError) {
  ScratchDir dir;
  const std::string path = dir.file("t.hyt");
  ASSERT_EQ(write_trace(path, sample_events()), "");
  const std::vector<uint8_t> file = read_file(path);
  const size_t header = chunk_offsets(file).at(0);
  for (size_t at = 0; at < header; ++at) {
    std::vector<uint8_t> bytes = file;
    bytes[at] ^= 0x01;
    TraceReader reader = TraceReader::from_bytes(bytes);
    read_all(reader);
    EXPECT_NE(reader.error(), nullptr) << "flip at " << at;
  }
}

TEST(TraceRoundTrip, EventsAfterTheEndAreAnError) {
  ScratchDir dir;
  const std::string path = dir.file("t.hyt");
  std::vector<Event> events = sample_events();
  events.push_back(RdtscEvent{29, 100, false, 1, 2, 0});
  ASSERT_EQ(write_trace(path, events), "");
  TraceReader reader = TraceReader::open(path);
  EXPECT_EQ(read_all(reader).size(), events.size() - 1);
  ASSERT_NE(reader.error(), nullptr);
  EXPECT_NE(reader.error()->message.find("comes after the end event"), std::string::npos);
}

TEST(TraceRoundTrip, AnEndThatMiscountsIsAnError) {
  ScratchDir dir;
  const std::string path = dir.file("t.hyt");
  ASSERT_EQ(write_trace(path, {RdtscEvent{1, 100, false, 1, 2, 0}, EndEvent{2, 100, 0, 5}}), "");
  TraceReader reader = TraceReader::open(path);
  read_all(reader);
  ASSERT_NE(reader.error(), nullptr);
  EXPECT_NE(reader.error()->message.find("counts 5 events before it, the trace holds 1"), std::string::npos)
      << reader.error()->message;
}

}  // namespace
}  // namespace hytrace::tracefile::testing
