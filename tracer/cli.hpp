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

struct RecordCommand {
  std::string output;             // -o; default PROG-N.hyt
  bool no_patch = false;          // --no-patch
  bool keep_on_failure = false;   // --keep-on-failure
  bool allow_io_uring = false;    // --allow-io-uring
  bool exit_with_root = false;    // --exit-with-root
  bool quiet = false;             // -q: no summary line
  std::vector<std::string> argv;  // PROG [ARGS...]
};

struct AuditCommand {
  std::string policy;             // --policy FILE
  bool enforce = false;           // --enforce; without it nothing is denied
  std::string output;             // -o LOG; stderr by default
  bool json = false;              // --json: JSON lines
  std::string audited;            // -e SET: logged even when allowed; "" = the default set
  size_t string_limit = 64;       // -s
  bool quiet = false;             // -q: no warnings about the policy
  std::vector<std::string> argv;  // PROG [ARGS...]
};

struct ProfileCommand {
  std::string file;    // TRACE.hyt
  std::string output;  // -o; stdout by default
  bool paths = false;  // --paths: a hytrace path section too
};

struct ReplayCommand {
  std::string file;    // FILE
  bool check = false;  // --check: exit 0 on a full match, 3 on divergence
  bool quiet = false;  // -q: do not write the recorded program's output
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
int run_record(const RecordCommand& cmd);
int run_replay(const ReplayCommand& cmd);
int run_audit(const AuditCommand& cmd);
int run_profile(const ProfileCommand& cmd);
int run_dump(const DumpCommand& cmd);
int run_stats(const StatsCommand& cmd);

}  // namespace hytrace::tracer
