// Writes trace files of known events for the tests of `hytrace dump` and
// `hytrace stats`, and the fuzz target's seeds. Not installed.
//
//   make_trace KIND FILE    one file (FILE must not exist)
//   make_trace all DIR      every kind, as DIR/KIND.hyt
//
// KIND: sample (every event type, one chunk, with its end), chunks (the
// same, one event per chunk), stored (the same uncompressed, 8 events per
// chunk), tiny (one syscall and the end), many (20000
// reads in 1 MiB chunks), cut (sample with its last chunk cut short),
// no-end (sample without its end event), flipped (a byte of the last
// chunk's payload flipped), short (the header cut short), empty (no bytes),
// foreign (a text file), version2 (format version 2).
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "tests/tracefile/sample_events.hpp"
#include "tracer/tracefile/writer.hpp"

namespace {

using namespace hytrace::tracefile;
using namespace hytrace::tracefile::testing;

void write(const std::string& path, const std::vector<Event>& events, size_t chunk_bytes,
           size_t events_per_chunk = 0, bool compress = true) {
  TraceWriter writer(path, sample_info(), {.chunk_bytes = chunk_bytes, .compress = compress});
  for (size_t i = 0; i < events.size(); ++i) {
    writer.append(events[i]);
    if (events_per_chunk && (i + 1) % events_per_chunk == 0) writer.flush();
  }
  if (std::string status = writer.finish(); !status.empty()) throw std::runtime_error(status);
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void replace_with(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

std::vector<Event> many_reads(size_t n) {
  std::vector<Event> events;
  for (size_t i = 0; i < n; ++i) {
    SyscallEvent e = call_event(1 + 2 * i, 100, SYS_read, {3, 0x6000, 128, 0, 0, 0}, 128);
    e.flags = i % 10 ? uint32_t{kServedByStub} : 0u;
    std::string line = "line " + std::to_string(i) + " of the file being read, padded to 128 bytes ";
    line.resize(128, '.');
    e.writes = {{0x6000, line}};
    events.push_back(e);
  }
  events.push_back(EndEvent{1 + 2 * n, 100, 0, n});
  return events;
}

// The sample in two chunks: all but the last three events, then those.
void write_two_chunks(const std::string& path, std::vector<Event> events) {
  TraceWriter writer(path, sample_info());
  for (size_t i = 0; i < events.size(); ++i) {
    if (i + 3 == events.size()) writer.flush();
    writer.append(events[i]);
  }
  if (std::string status = writer.finish(); !status.empty()) throw std::runtime_error(status);
}

void make(const std::string& kind, const std::string& path) {
  std::vector<Event> sample = sample_events();
  if (kind == "sample") return write(path, sample, 1 << 20);
  if (kind == "chunks") return write(path, sample, 1 << 20, 1);
  if (kind == "stored") return write(path, sample, 1 << 20, 8, false);
  if (kind == "tiny") return write(path, {sample[4], EndEvent{9, 100, 0, 1}}, 1 << 20);
  if (kind == "many") return write(path, many_reads(20000), 1 << 20);
  if (kind == "no-end") {
    sample.pop_back();
    return write(path, sample, 1 << 20);
  }
  if (kind == "cut" || kind == "flipped") {
    write_two_chunks(path, sample);
    std::string bytes = slurp(path);
    if (kind == "cut") bytes.resize(bytes.size() - 10);
    if (kind == "flipped") bytes[bytes.size() - 5] ^= 0x10;
    return replace_with(path, bytes);
  }
  if (kind == "short" || kind == "version2") {
    write(path, sample, 1 << 20);
    std::string bytes = slurp(path);
    if (kind == "short") bytes.resize(20);
    if (kind == "version2") bytes[8] = 2;
    return replace_with(path, bytes);
  }
  if (kind == "empty") return replace_with(path, "");
  if (kind == "foreign") return replace_with(path, "This is a text file, not a trace.\n");
  throw std::runtime_error("unknown kind '" + kind + "'");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: make_trace KIND FILE | make_trace all DIR\n");
    return 2;
  }
  try {
    const std::string kind = argv[1];
    if (kind != "all") {
      make(kind, argv[2]);
      return 0;
    }
    std::filesystem::create_directories(argv[2]);
    for (const char* k : {"sample", "chunks", "stored", "tiny", "many", "cut", "no-end", "flipped", "short",
                          "empty", "foreign", "version2"}) {
      const std::string path = std::string(argv[2]) + "/" + k + ".hyt";
      std::filesystem::remove(path);
      make(k, path);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make_trace: %s\n", e.what());
    return 1;
  }
  return 0;
}
