// Writes a trace file. append() only serialises the event into the current
// chunk's buffer: it is on the path that resumes the traced program. Full
// chunks go to a writer thread that compresses (zstd) and writes each one
// with a single checked write loop, so a chunk is either wholly in the file
// or its tail is visibly incomplete, and a writer killed at any moment
// leaves a file readable up to its last complete chunk.
//
// The first error (ENOSPC, EFBIG, EIO...) is kept: status() and finish()
// report it as one line, and nothing is appended after it, so a trace never
// has a silent gap. One thread calls append/flush/finish.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tracer/tracefile/events.hpp"
#include "tracer/tracefile/format.hpp"

namespace hytrace::tracefile {

class TraceWriter {
 public:
  struct Options {
    size_t chunk_bytes = 1u << 20;  // raw bytes that make a chunk full; at most 16 MiB
    int level = 1;                  // zstd's compression level
    bool compress = true;           // false: every chunk is stored as it is
    // Full chunks waiting for the writer thread: append() waits for room
    // beyond this, so a slow disk slows the program instead of growing
    // hytrace's memory without bound.
    size_t max_queued = 8;
  };

  // Creates `path`, which must not exist yet (a trace is never
  // overwritten), and writes the header. Throws std::system_error when the
  // file cannot be created.
  TraceWriter(const std::string& path, const TraceInfo& info, Options options);
  TraceWriter(const std::string& path, const TraceInfo& info)
      : TraceWriter(path, info, Options{}) {}
  // Writes to `fd` (a pipe, an open file), which it owns from now on;
  // `name` is what error messages call it.
  TraceWriter(int fd, std::string name, const TraceInfo& info, Options options);
  ~TraceWriter();  // finish()es when not done yet
  TraceWriter(const TraceWriter&) = delete;
  TraceWriter& operator=(const TraceWriter&) = delete;

  // Adds the event to the current chunk (about 60 ns for a syscall with
  // 64 bytes of output); hands the chunk to the writer thread when it is
  // full. Does nothing after an error. A caller on a hot path keeps one
  // Event and refills it in place, so its memory ranges are not copied.
  void append(const Event& event);
  // Hands the current chunk over now, if it holds anything; does not wait.
  void flush();
  // Waits until every chunk handed over is in the file (or failed).
  void wait_written();
  // "" while all is well; else one line: "cannot write trace 'x.hyt' at
  // offset 1048624: No space left on device".
  std::string status() const;
  // Flushes, waits for the writer thread, fsyncs and closes. Returns
  // status(). Later calls return the same.
  std::string finish();

  // Events appended so far (for the end event's count).
  uint64_t events() const { return events_; }
  // Bytes in the file so far: the header and the chunks written.
  uint64_t bytes_written() const;

 private:
  struct Shared;
  void start(const std::vector<uint8_t>& header);
  void seal_current();

  std::unique_ptr<Shared> shared_;
  Options options_;
  std::string current_;  // the events of the chunk being filled
  uint64_t first_seq_ = 0, last_seq_ = 0;
  uint32_t current_events_ = 0;
  uint64_t events_ = 0;
  bool finished_ = false;
  std::string finish_status_;
};

}  // namespace hytrace::tracefile
