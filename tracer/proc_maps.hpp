// A process's mappings, read from /proc/PID/maps, and its state from
// /proc/PID/stat.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hytrace::tracer {

struct Mapping {
  uint64_t start = 0;
  uint64_t end = 0;
  uint64_t offset = 0;  // in the file
  bool executable = false;
  std::string path;  // "" for anonymous memory, "[vdso]" and the like for special ones
};

// Sorted by start. Empty when the file cannot be read.
std::vector<Mapping> read_maps(pid_t pid);
const Mapping* mapping_at(const std::vector<Mapping>& maps, uint64_t addr);
// A free, page-aligned range of `size` bytes whose every byte is within
// `reach` of `near`, as close to `near` as possible.
std::optional<uint64_t> free_range_near(const std::vector<Mapping>& maps, uint64_t near,
                                        uint64_t size, uint64_t reach);

// The state letter ('R', 'S', 'Z'...) and parent of /proc/PID/stat;
// nullopt when the task is gone (reaped).
struct ProcStat {
  char state = 0;
  pid_t ppid = 0;
};
std::optional<ProcStat> read_stat(pid_t pid);

}  // namespace hytrace::tracer
