#include "tracer/proc_maps.hpp"

#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace hytrace::tracer {
namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kLowest = 0x10000;            // below vm.mmap_min_addr
constexpr uint64_t kHighest = 0x7ffffffff000;    // the top of user space

uint64_t distance(uint64_t a, uint64_t b) { return a > b ? a - b : b - a; }

}  // namespace

std::vector<Mapping> read_maps(pid_t pid) {
  std::vector<Mapping> out;
  std::ifstream in("/proc/" + std::to_string(pid) + "/maps");
  for (std::string line; std::getline(in, line);) {
    Mapping m;
    char perms[5] = {};
    int path_at = 0;
    if (std::sscanf(line.c_str(), "%" SCNx64 "-%" SCNx64 " %4s %" SCNx64 " %*s %*u %n", &m.start,
                    &m.end, perms, &m.offset, &path_at) < 4) {
      continue;
    }
    m.executable = perms[2] == 'x';
    if (path_at > 0 && static_cast<size_t>(path_at) < line.size()) m.path = line.substr(path_at);
    out.push_back(std::move(m));
  }
  return out;
}

const Mapping* mapping_at(const std::vector<Mapping>& maps, uint64_t addr) {
  for (const Mapping& m : maps) {
    if (addr >= m.start && addr < m.end) return &m;
  }
  return nullptr;
}

std::optional<uint64_t> free_range_near(const std::vector<Mapping>& maps, uint64_t near,
                                        uint64_t size, uint64_t reach) {
  std::optional<uint64_t> best;
  auto consider = [&](uint64_t gap_start, uint64_t gap_end) {
    gap_start = std::max(gap_start, kLowest);
    gap_end = std::min(gap_end, kHighest);
    if (gap_end <= gap_start || gap_end - gap_start < size) return;
    // The candidate nearest `near` inside the gap: its end if the gap lies
    // below, its start if above.
    uint64_t at = near >= gap_end ? gap_end - size : gap_start;
    if (near > gap_start && near < gap_end) at = (near & ~(kPage - 1));
    if (at + size > gap_end) at = gap_end - size;
    if (distance(at, near) > reach || distance(at + size, near) > reach) return;
    if (!best || distance(at, near) < distance(*best, near)) best = at;
  };
  uint64_t previous_end = 0;
  for (const Mapping& m : maps) {
    consider(previous_end, m.start);
    previous_end = std::max(previous_end, m.end);
  }
  consider(previous_end, kHighest);
  return best;
}

std::optional<ProcStat> read_stat(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return std::nullopt;
  const size_t name_end = line.rfind(')');  // the name may hold spaces and parentheses
  ProcStat s;
  if (name_end == std::string::npos || std::sscanf(line.c_str() + name_end + 1, " %c %d", &s.state, &s.ppid) != 2) {
    return std::nullopt;
  }
  return s;
}

}  // namespace hytrace::tracer
