// The trace file's on-disk layout, defined once (docs/trace-format.md says
// the same in prose). A file is a header, then chunks appended as the run
// goes:
//
//   file header   kFileHeaderSize bytes, then `json_length` bytes of JSON
//   chunk         kChunkHeaderSize bytes, then `stored_length` bytes of payload
//   chunk         ...
//
// Every integer is little-endian and fixed width. The writer, the reader and
// the tests use these functions and constants; nothing else knows offsets.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace hytrace::tracefile {

// --- the file header -------------------------------------------------------
//   [0, 8)    magic "HYTRACE\0"
//   [8, 12)   u32 format version
//   [12, 16)  u32 flags, 0
//   [16, 20)  u32 json_length, at most kMaxHeaderJson
//   [20, 24)  u32 reserved, 0
//   [24, 32)  u64 XXH64 (seed 0) of bytes [0, 24) followed by the JSON
//   [32, ...) the JSON object (TraceInfo)
inline constexpr std::array<uint8_t, 8> kFileMagic = {'H', 'Y', 'T', 'R', 'A', 'C', 'E', 0};
inline constexpr uint32_t kFormatVersion = 1;
inline constexpr size_t kFileHeaderSize = 32;
inline constexpr uint32_t kMaxHeaderJson = 1u << 20;
// Nesting deeper than this in the header's JSON is refused before parsing:
// the parsed value is printed and destroyed recursively.
inline constexpr int kMaxJsonDepth = 32;

// --- a chunk ---------------------------------------------------------------
//   [0, 4)    magic "HYCK"
//   [4, 8)    u32 flags: kChunkZstd, or 0 for a payload stored as is
//   [8, 12)   u32 stored_length: payload bytes in the file
//   [12, 16)  u32 raw_length: payload bytes once decompressed (the events)
//   [16, 24)  u64 first_seq: the smallest sequence number of its events
//   [24, 32)  u64 last_seq: the largest
//   [32, 36)  u32 event_count
//   [36, 40)  u32 header_check: low 32 bits of XXH64 (seed 0) of [0, 36)
//   [40, 48)  u64 checksum: XXH64 (seed 0) of [0, 40) followed by the payload
//
// header_check lets a reader trust the lengths before the payload is there:
// a file that ends inside a payload whose header checks out was cut short
// (the writer was killed), one whose header does not was damaged.
inline constexpr std::array<uint8_t, 4> kChunkMagic = {'H', 'Y', 'C', 'K'};
inline constexpr size_t kChunkHeaderSize = 48;
inline constexpr uint32_t kMaxChunkBytes = 64u << 20;  // stored and raw lengths
inline constexpr uint32_t kChunkZstd = 1;
inline constexpr uint32_t kChunkKnownFlags = kChunkZstd;

struct ChunkHeader {
  uint32_t flags = 0;
  uint32_t stored_length = 0;
  uint32_t raw_length = 0;
  uint64_t first_seq = 0;
  uint64_t last_seq = 0;
  uint32_t event_count = 0;
  uint32_t header_check = 0;  // filled by encode_chunk_header
  uint64_t checksum = 0;      // filled by encode_chunk_header
};

// XXH64 with seed 0 (libxxhash), of one span or of two one after the other.
uint64_t hash64(std::span<const uint8_t> bytes);
uint64_t hash64(std::span<const uint8_t> first, std::span<const uint8_t> second);

// The header's bytes for `payload`, header_check and checksum computed.
std::array<uint8_t, kChunkHeaderSize> encode_chunk_header(ChunkHeader header,
                                                          std::span<const uint8_t> payload);
// The fields of 48 header bytes, unchecked: the reader checks them.
ChunkHeader decode_chunk_header(std::span<const uint8_t, kChunkHeaderSize> bytes);
// The header_check that bytes [0, 36) of a chunk header call for.
uint32_t header_check_of(std::span<const uint8_t, kChunkHeaderSize> bytes);
// The checksum a chunk header (its first 40 bytes) and payload call for.
uint64_t checksum_of(std::span<const uint8_t, kChunkHeaderSize> header,
                     std::span<const uint8_t> payload);

// --- what the header's JSON says ------------------------------------------
// Where and how the run was recorded. Strings are stored as UTF-8; bytes
// that are not (an odd argument or variable) become U+FFFD in the header.
// The exec events hold the exact bytes.
struct TraceInfo {
  std::string hytrace_version;
  std::string kernel_release;           // uname -r
  std::string cpu_model;                // /proc/cpuinfo "model name"
  std::vector<std::string> cpu_flags;   // /proc/cpuinfo "flags"
  std::vector<std::string> command;     // hytrace's PROG [ARGS...]
  std::vector<std::string> environment; // "NAME=value", in order
  std::string cwd;
  int64_t start_seconds = 0;  // the start, since the Unix epoch
  uint32_t start_nanoseconds = 0;
  bool aslr_disabled = false;  // personality(ADDR_NO_RANDOMIZE) for the tracee
  bool vdso_hidden = false;    // AT_SYSINFO_EHDR replaced by AT_IGNORE
  std::string settings = "{}";  // a JSON object: the recorder's own settings
  bool operator==(const TraceInfo&) const = default;
};

// This machine and this moment: version, kernel, CPU, cwd, start time. The
// recorder adds the command, environment and settings.
TraceInfo describe_machine();

// The whole file header, magic to the end of the JSON. Throws
// std::invalid_argument when `settings` is not a JSON object.
std::vector<uint8_t> encode_file_header(const TraceInfo& info);
// The JSON object as text; nullopt + error when it is not one with the
// fields of TraceInfo (unknown fields are ignored, known ones must have
// their type).
std::optional<TraceInfo> parse_header_json(std::span<const uint8_t> json, std::string& error);

}  // namespace hytrace::tracefile
