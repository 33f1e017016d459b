#include "tracer/summary.hpp"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "syscalls/catalogue.hpp"

namespace hytrace::tracer {
namespace {

std::string name_of(long nr) {
  const auto* info = syscalls::lookup(nr);
  return info ? std::string(info->name) : fmt::format("syscall_{:#x}", nr);
}

void line(std::string& out, double percent, double seconds, uint64_t usecs, uint64_t calls,
          uint64_t errors, const std::string& name) {
  const std::string errs = errors ? fmt::format("{:9}", errors) : std::string(9, ' ');
  fmt::format_to(std::back_inserter(out), "{:6.2f} {:11.6f} {:11} {:9} {} {}\n", percent, seconds,
                 usecs, calls, errs, name);
}

}  // namespace

void Summary::add(long nr, bool failed, std::chrono::nanoseconds time) {
  Row& row = rows_[nr];
  ++row.calls;
  row.errors += failed;
  row.time += time;
}

void Summary::add_counts(long nr, uint64_t calls, uint64_t errors) {
  Row& row = rows_[nr];
  row.calls += calls;
  row.errors += errors;
}

uint64_t Summary::total_calls() const {
  uint64_t total = 0;
  for (const auto& [nr, row] : rows_) total += row.calls;
  return total;
}

std::string Summary::table() const {
  std::vector<std::pair<std::string, Row>> sorted;
  Row total;
  for (const auto& [nr, row] : rows_) {
    sorted.emplace_back(name_of(nr), row);
    total.calls += row.calls;
    total.errors += row.errors;
    total.time += row.time;
  }
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    if (a.second.time != b.second.time) return a.second.time > b.second.time;
    if (a.second.calls != b.second.calls) return a.second.calls > b.second.calls;
    return a.first < b.first;
  });
  const std::string rule = "------ ----------- ----------- --------- --------- ----------------\n";
  std::string out = "% time     seconds  usecs/call     calls    errors syscall\n" + rule;
  const double all_ns = static_cast<double>(std::max<int64_t>(total.time.count(), 1));
  auto emit = [&](const std::string& name, const Row& row) {
    const auto ns = row.time.count();
    line(out, total.time.count() ? 100.0 * ns / all_ns : 0.0, ns / 1e9,
         row.calls ? ns / 1000 / row.calls : 0, row.calls, row.errors, name);
  };
  for (const auto& [name, row] : sorted) emit(name, row);
  out += rule;
  emit("total", total);
  return out;
}

}  // namespace hytrace::tracer
