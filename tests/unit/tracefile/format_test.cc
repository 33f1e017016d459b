// The header and chunk layouts of tracer/tracefile/format.hpp.
#include <gtest/gtest.h>

#include "tests/unit/tracefile/helpers.hpp"
#include "tracer/tracefile/bytes.hpp"

namespace hytrace::tracefile::testing {
namespace {

TEST(TraceFormat, FileHeaderHasMagicVersionLengthAndChecksum) {
  const std::vector<uint8_t> h = encode_file_header(sample_info());
  ASSERT_GT(h.size(), kFileHeaderSize);
  EXPECT_TRUE(std::equal(kFileMagic.begin(), kFileMagic.end(), h.begin()));
  EXPECT_EQ(detail::load_le<uint32_t>(&h[8]), kFormatVersion);
  EXPECT_EQ(detail::load_le<uint32_t>(&h[16]), h.size() - kFileHeaderSize);
  const std::span<const uint8_t> all(h);
  EXPECT_EQ(detail::load_le<uint64_t>(&h[24]), hash64(all.first(24), all.subspan(kFileHeaderSize)));
}

TEST(TraceFormat, HeaderJsonRoundTrips) {
  const std::vector<uint8_t> h = encode_file_header(sample_info());
  std::string error;
  const auto info = parse_header_json(std::span(h).subspan(kFileHeaderSize), error);
  ASSERT_TRUE(info) << error;
  EXPECT_EQ(*info, sample_info());
}

TEST(TraceFormat, HeaderJsonNeedsAnObjectWithTypedFields) {
  auto parse = [](std::string text) {
    std::string error;
    const auto* p = reinterpret_cast<const uint8_t*>(text.data());
    auto info = parse_header_json({p, text.size()}, error);
    return info ? std::string("ok") : error;
  };
  EXPECT_EQ(parse(R"({"hytrace_version":"1","future_field":[1,2]})"), "ok");
  EXPECT_EQ(parse("[1]"), "not a JSON object");
  EXPECT_EQ(parse("{"), "not valid JSON");
  EXPECT_EQ(parse(R"({"kernel_release":"6"})"), "field 'hytrace_version' is missing or has the wrong type");
  EXPECT_EQ(parse(R"({"hytrace_version":"1","command":"ls"})"), "field 'command' is missing or has the wrong type");
  EXPECT_EQ(parse(R"({"hytrace_version":"1","settings":[]})"), "field 'settings' is missing or has the wrong type");
  EXPECT_EQ(parse(R"({"hytrace_version":"1","start_time":{"seconds":1,"nanoseconds":1000000000}})"),
            "field 'start_time' is missing or has the wrong type");
  EXPECT_EQ(parse(std::string(40, '[') + std::string(40, ']')), "nested deeper than 32 levels");
  // Brackets inside strings are not nesting.
  EXPECT_EQ(parse(R"({"hytrace_version":")" + std::string(100, '[') + R"("})"), "ok");
}

TEST(TraceFormat, SettingsMustBeAnObject) {
  TraceInfo info = sample_info();
  info.settings = "[1]";
  EXPECT_THROW(encode_file_header(info), std::invalid_argument);
}

TEST(TraceFormat, ArgumentsThatAreNotUtf8DoNotFailTheHeader) {
  TraceInfo info = sample_info();
  info.command = {"prog", "\xff\xfe"};
  const std::vector<uint8_t> h = encode_file_header(info);
  std::string error;
  const auto parsed = parse_header_json(std::span(h).subspan(kFileHeaderSize), error);
  ASSERT_TRUE(parsed) << error;
  EXPECT_EQ(parsed->command[1], "\xEF\xBF\xBD\xEF\xBF\xBD");  // U+FFFD twice
}

TEST(TraceFormat, ChunkHeaderRoundTripsWithItsChecks) {
  const std::vector<uint8_t> payload = {1, 2, 3, 4, 5, 6, 7, 8};
  ChunkHeader in{.flags = kChunkZstd, .stored_length = 8, .raw_length = 100,
                 .first_seq = 5, .last_seq = 9, .event_count = 3};
  const auto bytes = encode_chunk_header(in, payload);
  EXPECT_TRUE(std::equal(kChunkMagic.begin(), kChunkMagic.end(), bytes.begin()));
  const ChunkHeader out = decode_chunk_header(bytes);
  EXPECT_EQ(out.flags, in.flags);
  EXPECT_EQ(out.stored_length, 8u);
  EXPECT_EQ(out.raw_length, 100u);
  EXPECT_EQ(out.first_seq, 5u);
  EXPECT_EQ(out.last_seq, 9u);
  EXPECT_EQ(out.event_count, 3u);
  EXPECT_EQ(out.header_check, header_check_of(bytes));
  EXPECT_EQ(out.checksum, checksum_of(bytes, payload));
  EXPECT_EQ(out.checksum, hash64(std::span(bytes).first(40), payload));
}

TEST(TraceFormat, DescribeMachineFillsWhatItCan) {
  const TraceInfo info = describe_machine();
  EXPECT_FALSE(info.hytrace_version.empty());
  EXPECT_FALSE(info.kernel_release.empty());
  EXPECT_FALSE(info.cwd.empty());
  EXPECT_GT(info.start_seconds, 1700000000);
  EXPECT_EQ(info.settings, "{}");
}

}  // namespace
}  // namespace hytrace::tracefile::testing
