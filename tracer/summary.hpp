// Per-syscall counts, errors and time, printed in strace -c's layout. Shared by
// `trace -c` (time from ptrace stops) and `count` (kernel counts, no time).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

namespace hytrace::tracer {

class Summary {
 public:
  void add(long nr, bool failed, std::chrono::nanoseconds time);
  void add_counts(long nr, uint64_t calls, uint64_t errors);
  // The table, sorted by time, then calls, then name; ends with the total.
  std::string table() const;
  uint64_t total_calls() const;

 private:
  struct Row {
    uint64_t calls = 0;
    uint64_t errors = 0;
    std::chrono::nanoseconds time{0};
  };
  std::map<long, Row> rows_;
};

}  // namespace hytrace::tracer
