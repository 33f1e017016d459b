// Files for the trace file tests: a scratch directory removed at the end,
// whole-file reads and writes, and reading every event of a trace.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tracer/tracefile/reader.hpp"
#include "tracer/tracefile/writer.hpp"
#include "tests/tracefile/sample_events.hpp"

namespace hytrace::tracefile::testing {

class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "hytrace-tracefile-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~ScratchDir() { std::filesystem::remove_all(path_); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_file(const std::string& path, std::span<const uint8_t> bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// Writes `events` to `path`; returns finish()'s status.
inline std::string write_trace(const std::string& path, const std::vector<Event>& events,
                               TraceWriter::Options options = {}) {
  TraceWriter writer(path, sample_info(), options);
  for (const Event& e : events) writer.append(e);
  return writer.finish();
}

inline std::vector<Event> read_all(TraceReader& reader) {
  std::vector<Event> events;
  while (auto e = reader.next()) events.push_back(std::move(*e));
  return events;
}

}  // namespace hytrace::tracefile::testing
