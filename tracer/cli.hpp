// Command-line entry points, one function per command.
#pragma once

#include <string>
#include <vector>

namespace hytrace::tracer {

struct TraceCommand {
  std::string output;             // -o
  std::string expr = "all";       // -e
  bool json = false;              // --json
  bool summary = false;           // -c
  size_t string_limit = 32;       // -s
  int pid = 0;                    // -p
  bool dump_filter = false;       // --dump-filter
  bool no_patch = false;          // --no-patch
  bool patch_report = false;      // --patch-report
  bool patch_windows = false;     // --patch-windows (hidden): no two-byte patches, for tests
  bool exit_with_root = false;    // --exit-with-root
  std::vector<std::string> argv;  // PROG [ARGS...]
};

struct CountCommand {
  std::string output;             // -o
  bool json = false;              // --json
  std::vector<std::string> argv;  // PROG [ARGS...]
};

struct DumpCommand {
  std::string file;           // FILE
  bool json = false;          // --json
  size_t string_limit = 32;   // -s
};

struct StatsCommand {
  std::string file;  // FILE
};

// Each runs one command and returns the process exit status.
int run_trace(const TraceCommand& cmd);
int run_count(const CountCommand& cmd);
int run_dump(const DumpCommand& cmd);
int run_stats(const StatsCommand& cmd);

}  // namespace hytrace::tracer
