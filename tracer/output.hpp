// Where a mode's text goes: a file (fully buffered, for speed) or a terminal
// stream (flushed after every event, so a blocked call's entry shows at once).
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace hytrace::tracer {

class Output {
 public:
  // "" or "-" means stderr. Throws std::system_error when FILE cannot be opened.
  explicit Output(const std::string& path);
  ~Output();
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;

  void write(std::string_view text) { fwrite(text.data(), 1, text.size(), file_); }
  // End of one event: flushes when the output is live (stderr).
  void event_done() {
    if (live_) fflush(file_);
  }
  void flush() { fflush(file_); }
  bool is_stderr() const { return file_ == stderr; }

 private:
  FILE* file_;
  bool live_;
};

}  // namespace hytrace::tracer
