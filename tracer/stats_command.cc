// `hytrace stats FILE`: what a trace holds, counted: per syscall calls,
// errors, bytes the kernel wrote and calls the stubs served; the share of
// calls served by stubs against ptrace stops; the events replay cannot
// reproduce, by reason; and the file's size per event and compression.
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <map>

#include <fmt/format.h>

#include "syscalls/catalogue.hpp"
#include "tracer/cli.hpp"
#include "tracer/tracefile/reader.hpp"

namespace hytrace::tracer {
namespace {

using namespace hytrace::tracefile;

constexpr int64_t kMaxErrno = 4095;

struct Row {
  uint64_t calls = 0;
  uint64_t errors = 0;
  uint64_t stub = 0;
  uint64_t bytes_written = 0;
};

struct Counts {
  std::map<std::pair<syscalls::Abi, int64_t>, Row> syscalls;
  std::map<EventType, uint64_t> by_type;
  std::map<std::string, uint64_t> unreplayable;
  uint64_t effects_unknown = 0;
  uint64_t injected = 0;

  void add(const Event& event) {
    by_type[type_of(event)] += 1;
    if (const auto* s = std::get_if<SyscallEvent>(&event)) add_syscall(*s);
    if (const auto* s = std::get_if<InjectedEvent>(&event)) count_flags(*s);
  }
  void add_syscall(const SyscallEvent& e) {
    Row& row = syscalls[{e.abi, e.nr}];
    row.calls += 1;
    const bool finished = !(e.flags & kUnfinished);
    row.errors += finished && e.result < 0 && e.result >= -kMaxErrno;
    row.stub += (e.flags & kServedByStub) != 0;
    for (const MemoryRange& w : e.writes) row.bytes_written += w.bytes.size();
    count_flags(e);
  }
  void count_flags(const SyscallEvent& e) {
    effects_unknown += (e.flags & kEffectsUnknown) != 0;
    if (e.flags & kUnreplayable) unreplayable[e.unreplayable] += 1;
  }
};

std::string syscall_name(syscalls::Abi abi, int64_t nr) {
  const std::string_view name = syscalls::name_of(abi, nr);
  std::string text = name.empty() ? fmt::format("syscall_{:#x}", nr) : std::string(name);
  if (abi == syscalls::Abi::kI386) return "[i386] " + text;
  if (abi == syscalls::Abi::kX32) return "[x32] " + text;
  return text;
}

double percent(uint64_t part, uint64_t whole) { return whole ? 100.0 * part / whole : 0.0; }

std::string start_text(const TraceInfo& info) {
  const time_t t = static_cast<time_t>(info.start_seconds);
  struct tm tm {};
  if (!gmtime_r(&t, &tm)) return "?";
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

void print_overview(const std::string& file, const TraceReader& reader, const Counts& c) {
  const TraceReader::Totals& t = reader.totals();
  const TraceInfo& info = reader.info();
  fmt::print("trace            {}: {} bytes, {} chunk{}; hytrace {}, Linux {}, {}\n", file,
             t.file_bytes, t.chunks, t.chunks == 1 ? "" : "s", info.hytrace_version,
             info.kernel_release, start_text(info));
  if (!info.command.empty()) fmt::print("command          {}\n", joined(info.command));
  std::string kinds;
  for (const auto& [type, n] : c.by_type) {
    kinds += fmt::format("{}{} {}", kinds.empty() ? "" : ", ", n, type_name(type));
  }
  if (t.unknown_events) kinds += fmt::format(", {} of unknown types", t.unknown_events);
  fmt::print("events           {}{}{}\n", t.events + t.unknown_events, kinds.empty() ? "" : ": ", kinds);

  uint64_t calls = 0, stub = 0;
  for (const auto& [key, row] : c.syscalls) {
    calls += row.calls;
    stub += row.stub;
  }
  fmt::print("served by stubs  {} of {} syscalls ({:.1f}%); {} ptrace stops\n", stub, calls,
             percent(stub, calls), calls - stub);
  uint64_t unreplayable = 0;
  std::string reasons;
  for (const auto& [why, n] : c.unreplayable) {
    unreplayable += n;
    reasons += fmt::format("{}{} {}", reasons.empty() ? "" : ", ", why, n);
  }
  fmt::print("unreplayable     {}{}{}\n", unreplayable, reasons.empty() ? "" : ": ", reasons);
  fmt::print("effects unknown  {}\n", c.effects_unknown);
  const uint64_t events = t.events + t.unknown_events;
  fmt::print("size             {:.1f} bytes per event; compression {:.2f}x ({} bytes of events "
             "stored in {})\n",
             events ? static_cast<double>(t.file_bytes) / events : 0.0,
             t.stored_bytes ? static_cast<double>(t.raw_bytes) / t.stored_bytes : 0.0, t.raw_bytes,
             t.stored_bytes);
}

void print_table(const Counts& c) {
  std::vector<std::pair<std::string, Row>> rows;
  Row total;
  for (const auto& [key, row] : c.syscalls) {
    rows.emplace_back(syscall_name(key.first, key.second), row);
    total.calls += row.calls;
    total.errors += row.errors;
    total.stub += row.stub;
    total.bytes_written += row.bytes_written;
  }
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
    if (a.second.calls != b.second.calls) return a.second.calls > b.second.calls;
    return a.first < b.first;
  });
  const std::string rule = "--------- --------- --------- ------------- ----------------\n";
  fmt::print("\n    calls    errors  by stubs bytes written syscall\n{}", rule);
  auto emit = [](const std::string& name, const Row& row) {
    const std::string errors = row.errors ? fmt::format("{:9}", row.errors) : std::string(9, ' ');
    fmt::print("{:9} {} {:9} {:13} {}\n", row.calls, errors, row.stub, row.bytes_written, name);
  };
  for (const auto& [name, row] : rows) emit(name, row);
  fmt::print("{}", rule);
  emit("total", total);
}

}  // namespace

int run_stats(const StatsCommand& cmd) {
  TraceReader reader = TraceReader::open(cmd.file);
  Counts counts;
  while (auto event = reader.next()) counts.add(*event);
  // Counts of a damaged trace would pass for a whole run's: none are shown.
  if (const ReadError* error = reader.error()) {
    fmt::print(stderr, "hytrace: {}: {}\n", cmd.file, error->message);
    return 2;
  }
  print_overview(cmd.file, reader, counts);
  print_table(counts);
  std::fflush(stdout);
  if (const std::string note = reader.cut_short(); !note.empty()) {
    fmt::print(stderr, "hytrace: {}: {}\n", cmd.file, note);
  }
  return 0;
}

}  // namespace hytrace::tracer
