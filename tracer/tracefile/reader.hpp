// Reads a trace file and believes none of it: magic, version, the header's
// checksum and JSON, each chunk's fields, checksum and decompressed size,
// and every event with bounds checks. A problem is a value (ReadError) with
// the byte offset where it is; events before it are still returned. A file
// whose last chunk is incomplete (the writer was killed) is not an error:
// the reader returns every complete chunk and says how many bytes followed.
//
// Hostile input cannot make it crash, loop or allocate more than a chunk's
// limit (64 MiB) twice over: every step moves forward, and a length is used
// only once the file is known to hold that many bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tracer/tracefile/events.hpp"
#include "tracer/tracefile/format.hpp"

namespace hytrace::tracefile {

struct ReadError {
  uint64_t offset = 0;  // where the problem is, from the file's start
  std::string message;  // "chunk at offset 123456: checksum mismatch", "empty file"
};

struct ReadOptions {
  // false only for fuzzing: lets damaged bytes reach the decoders, which
  // must hold up without the checksums' help.
  bool verify_checksums = true;
};

class TraceReader {
 public:
  struct Totals {
    uint64_t file_bytes = 0;
    uint64_t header_bytes = 0;
    uint64_t chunks = 0;          // complete chunks read so far
    uint64_t events = 0;          // events returned
    uint64_t unknown_events = 0;  // events of types this reader skipped
    uint64_t stored_bytes = 0;    // chunk payloads as stored (compressed)
    uint64_t raw_bytes = 0;       // chunk payloads decompressed
  };

  // Opens `path` and reads its header; error() says what went wrong.
  static TraceReader open(const std::string& path, ReadOptions options = {});
  // Reads a trace held in memory, which must outlive the reader.
  static TraceReader from_bytes(std::span<const uint8_t> bytes, ReadOptions options = {});

  TraceReader(TraceReader&&) noexcept;
  TraceReader& operator=(TraceReader&&) noexcept;
  ~TraceReader();

  // The first problem found; nullptr while there is none.
  const ReadError* error() const { return error_ ? &*error_ : nullptr; }
  // The header's contents (valid when the header read without error).
  const TraceInfo& info() const { return info_; }

  // The next event; nullopt at the end of the complete chunks, or at a
  // problem (then error() is set).
  std::optional<Event> next();

  // Once next() has returned nullopt without error: the bytes at the end
  // that are not a complete chunk (0 for a file that ends cleanly).
  uint64_t trailing_bytes() const { return trailing_; }
  // An end event was read: the recording finished.
  bool ended() const { return ended_; }
  // Once next() has returned nullopt without error: "" for a finished
  // recording, else what shows it was cut short (the trailing bytes, or no
  // end event), as one sentence.
  std::string cut_short() const;
  const Totals& totals() const { return totals_; }

  class Source;  // where the bytes come from (reader.cc)

 private:
  TraceReader(std::unique_ptr<Source> source, ReadOptions options);
  void read_header();
  bool load_chunk();
  bool next_in_chunk(std::optional<Event>& out);
  void fail(uint64_t offset, std::string message);
  void fail_chunk(const std::string& problem);

  std::unique_ptr<Source> source_;
  ReadOptions options_;
  std::optional<ReadError> error_;
  TraceInfo info_;
  Totals totals_;
  uint64_t offset_ = 0;        // where the next chunk starts
  uint64_t chunk_offset_ = 0;  // where the current chunk starts
  ChunkHeader chunk_;
  uint32_t chunk_events_ = 0;  // events decoded from the current chunk
  bool in_chunk_ = false;
  std::vector<uint8_t> stored_;  // the current chunk's payload as stored
  std::vector<uint8_t> raw_;     // ... decompressed
  size_t pos_ = 0;               // the next event in raw_
  uint64_t trailing_ = 0;
  bool done_ = false;
  bool ended_ = false;
};

}  // namespace hytrace::tracefile
