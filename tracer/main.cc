// hytrace's command line: parses arguments and hands each command its struct.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <string_view>

#include "tracer/cli.hpp"

namespace {

constexpr const char* kTraceHelp = R"(Trace the system calls of PROG (or of a running process with -p).

Only the selected syscalls stop in the tracer: a seccomp filter, installed
before PROG starts, lets every other syscall run at native speed.

Examples:
  hytrace trace -- ls /tmp
  hytrace trace -e trace=openat,read -- python3 -c 'print(1)'
  hytrace trace -e trace=%file,!close -o out.txt -- make
  hytrace trace -c -- git status
  hytrace trace -p 1234)";

constexpr const char* kExprHelp =
    "Syscalls to trace: a comma-separated list of names and %classes "
    "(%file %desc %network %process %signal %memory %ipc %creds %clock %stat), "
    "'all' or 'none'; a leading '!' negates the set. 'trace=' may prefix it.";

constexpr const char* kCountHelp = R"(Run PROG and count, per syscall, the calls and errors the kernel saw,
for PROG and every process it starts. No ptrace: an eBPF program on the
raw_syscalls tracepoints counts (a few hundred ns per syscall). Needs root
and kernel BTF (/sys/kernel/btf/vmlinux). The table has strace -c's layout;
there is no time column to fill, so those columns are zero.

Example:
  hytrace count -- make -j2)";

constexpr const char* kRecordHelp = R"(Run PROG and record, in one trace file, every syscall of every task with
its result and every byte the kernel wrote into the program, and the
signals, clones, execs and exits, in one global order. Hot syscall sites
are patched so their calls are recorded without a ptrace stop. The
program runs with ASLR off, without the vDSO (time calls become real
syscalls) and with rseq refused, so a replay can reproduce it.

hytrace exits with PROG's status. Ctrl-C and SIGTERM end PROG and finish
the file; a recorder killed with SIGKILL leaves a file readable up to its
last complete chunk. Not recorded yet: rdtsc and cpuid values (see
docs/guide/record.md).

Examples:
  hytrace record -- make -j2
  hytrace record -o test.hyt --keep-on-failure -- ./flaky_test
  hytrace dump test.hyt)";

constexpr const char* kAuditHelp = R"(Run PROG under an audit policy: a Docker/OCI seccomp profile (JSON), with
an optional "hytrace" section of path and network rules. The policy's
syscall rules are compiled into a seccomp filter of their own, installed
before PROG starts, so the kernel applies them to every call with no race.
Each audited call (the calls the policy does not simply allow, and the set
of -e, by default file opens, execs, unlinks, renames, connect and bind,
and the known routes out of a sandbox) is logged with its decoded
arguments, its paths made absolute, the action and the rule that decided
it; a summary ends the log.

Without --enforce nothing is denied: each call the policy would fail, trap
or kill is logged as "would-deny", "would-trap" or "would-kill" and runs
(observe mode, for writing a policy). With --enforce, ERRNO rules fail the
call with their errno, KILL and TRAP rules are applied by the kernel.
The hytrace section's path and network rules are decided at each call's
stop (deny: EACCES), not yet by Landlock. See docs/guide/audit.md.

Examples:
  hytrace audit --policy podman-default.json -- make -j2
  hytrace audit --policy ci.json --enforce --json -o audit.jsonl -- ./run-tests)";

constexpr const char* kProfileHelp = R"(Write the smallest Docker/OCI seccomp profile that allows what the program
recorded in FILE did: every syscall it made, by name; socket, personality
and clone only with the argument values the recording shows (when there
were at most 4); everything else fails with EPERM. With --paths, a path
section too (hytrace's own, which Docker ignores): the files and directories
the program read, wrote, executed, created, removed or renamed, and a deny of
everything else, which hytrace audit hands to Landlock. The profile is for
`hytrace audit --policy` and for `docker run --security-opt seccomp=FILE`.

Example:
  hytrace record -o run.hyt -- ./server --selftest
  hytrace profile run.hyt -o server.json
  hytrace audit --policy server.json --enforce -- ./server)";

constexpr const char* kReplayHelp = R"(Re-run the program recorded in FILE: the calls that shape the process
(memory mappings, signal handlers, clones, exec, exit) run for real, every
other call is emulated from the recording (its result and the bytes the
kernel wrote), in the recording's global order, with its signals, rdtsc and
cpuid values. What the program wrote to stdout and stderr appears again.
The first difference from the recording is reported, and the replay ends.

A signal that interrupted user code is delivered at the recorded
instruction (a hardware breakpoint, checked against the recorded registers).
In progress: every call stops in ptrace (no stubs yet), and threads that
raced in user code while recording can diverge (docs/guide/replay.md).

Examples:
  hytrace record -o run.hyt -- ./flaky_test
  hytrace replay --check run.hyt)";

constexpr const char* kDumpHelp = R"(Print the events of trace FILE, one line each: syscalls as `trace` shows
them (with the bytes the kernel wrote, as recorded), signals, process and
exec events, rdtsc/cpuid values, hytrace's own calls and pages. Each line
starts with the event's sequence number and its pid (and tid).

A damaged or foreign file gets one line naming the problem and its offset,
after the events before it, and exit status 2. A recording cut short is
shown up to its last complete chunk, with a note on stderr.
Trace files are written by `hytrace record`.

Examples:
  hytrace dump run.hyt
  hytrace dump --json run.hyt | jq -c 'select(.syscall == "openat")')";

constexpr const char* kStatsHelp = R"(Summarise trace FILE: per-syscall calls, errors, bytes the kernel wrote and
calls served by stubs; the share of calls served by stubs against ptrace
stops; the events a replay cannot reproduce, by reason; the file's size,
bytes per event and compression ratio. Exit status 2 for a damaged or
foreign file.

Example:
  hytrace stats run.hyt)";

// PROG is the first argument that is not an option: it and everything after
// it are the program's (prefix_command).
void take_command(CLI::App* sub) {
  sub->prefix_command();
  sub->footer(sub->get_footer() + "\n\nPROG is the first non-option argument; or put -- before it.");
}

// CLI11 mishandles "--" in a prefix-command subcommand, so the command line is
// split at the first "--" here: what follows is the program's, unless the
// part before it already named a program (then "--" is the program's too).
std::vector<std::string> command_of(const CLI::App* sub, const std::vector<std::string>& after) {
  std::vector<std::string> argv = sub->remaining();
  if (!argv.empty() && !after.empty()) argv.push_back("--");
  argv.insert(argv.end(), after.begin(), after.end());
  return argv;
}

// An unknown option before "--" lands where the program would: say so
// instead of trying to run "-x".
bool check_command(const std::vector<std::string>& argv) {
  if (argv.empty() || argv[0].size() < 2 || argv[0][0] != '-') return true;
  std::fprintf(stderr, "hytrace: unknown option '%s'\nRun 'hytrace --help' for usage.\n",
               argv[0].c_str());
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  using hytrace::tracer::TraceCommand;
  CLI::App app{"hytrace: a syscall tracer that stops the program only when it must", "hytrace"};
  app.set_version_flag("--version", "hytrace " HYTRACE_VERSION);
  app.require_subcommand(1);

  TraceCommand trace;
  CLI::App* sub = app.add_subcommand("trace", "Show the syscalls of a program, strace-style");
  sub->footer(kTraceHelp);
  sub->add_option("-o,--output", trace.output, "Write the trace to FILE instead of stderr");
  sub->add_option("-e,--expr", trace.expr, kExprHelp)->type_name("SET");
  sub->add_flag("--json", trace.json, "One JSON object per event (schema: docs/json-events.md)");
  sub->add_flag("-c,--summary", trace.summary,
                "Count calls, errors and time per syscall; print a table at the end");
  sub->add_option("-s,--string-limit", trace.string_limit,
                  "Show at most N characters of each string (default 32)")
      ->type_name("N");
  sub->add_option("-p,--pid", trace.pid,
                  "Attach to the running process PID and all its threads; Ctrl-C detaches")
      ->type_name("PID");
  sub->add_flag("--no-patch", trace.no_patch,
                "Do not patch hot syscall sites: every traced syscall stops in ptrace");
  sub->add_flag("--patch-report", trace.patch_report,
                "At the end, list every syscall site seen with its patch state, and the counts of "
                "syscalls served by stubs and by ptrace stops");
  sub->add_flag("--exit-with-root", trace.exit_with_root,
                "When PROG exits, kill the processes it left behind (with -p: detach from them) "
                "instead of waiting for them, and exit with PROG's status");
  // Tests of the window patches' deferral, which two-byte patches bypass.
  sub->add_flag("--patch-windows", trace.patch_windows)->group("");
  sub->add_flag("-f,--follow-forks")
      ->description("Accepted for strace's sake: children are always followed");
  sub->add_flag("--dump-filter", trace.dump_filter,
                "Print the seccomp filter that the selected SET would install, and exit");
  take_command(sub);

  hytrace::tracer::CountCommand count;
  CLI::App* count_sub =
      app.add_subcommand("count", "Count a program's syscalls in the kernel (eBPF), without ptrace");
  count_sub->footer(kCountHelp);
  count_sub->add_option("-o,--output", count.output, "Write the table to FILE instead of stderr");
  count_sub->add_flag("--json", count.json, "Counts per task and syscall as one JSON object");
  take_command(count_sub);

  hytrace::tracer::RecordCommand record;
  CLI::App* record_sub =
      app.add_subcommand("record", "Record a program's syscalls, signals and outputs into a trace file");
  record_sub->footer(kRecordHelp);
  record_sub->add_option("-o,--output", record.output,
                         "Write the trace to FILE (which must not exist); default PROG-N.hyt here")
      ->type_name("FILE");
  record_sub->add_flag("--no-patch", record.no_patch,
                       "Do not patch hot syscall sites: every syscall stops in ptrace");
  record_sub->add_flag("--keep-on-failure", record.keep_on_failure,
                       "Keep the trace only when PROG fails (non-zero exit or killed by a signal)");
  record_sub->add_flag("--allow-io-uring", record.allow_io_uring,
                       "Let io_uring_setup through (its calls are marked unreplayable); by default it "
                       "fails with ENOSYS so programs fall back to plain syscalls");
  record_sub->add_flag("--exit-with-root", record.exit_with_root,
                       "When PROG exits, kill the processes it left behind instead of waiting for them");
  record_sub->add_flag("-q,--quiet", record.quiet, "No summary line on stderr at the end");
  take_command(record_sub);

  hytrace::tracer::AuditCommand audit;
  CLI::App* audit_sub = app.add_subcommand("audit", "Run a program under an OCI seccomp profile, logging what it decides");
  audit_sub->footer(kAuditHelp);
  audit_sub->add_option("--policy", audit.policy, "The policy: an OCI seccomp profile (JSON)")
      ->type_name("FILE")
      ->required();
  audit_sub->add_flag("--enforce", audit.enforce,
                      "Apply the policy's denials; without it they are only logged");
  audit_sub->add_option("-o,--output", audit.output, "Write the log to LOG instead of stderr")->type_name("LOG");
  audit_sub->add_flag("--json", audit.json, "One JSON object per line (schema: docs/guide/audit.md)");
  audit_sub->add_option("-e,--audit", audit.audited,
                        "Syscalls logged even when the policy allows them (the syntax of trace -e)")
      ->type_name("SET");
  audit_sub->add_option("-s,--string-limit", audit.string_limit,
                        "Show at most N characters of each string (default 64)")
      ->type_name("N");
  audit_sub->add_flag("-q,--quiet", audit.quiet, "No warnings about the policy on stderr");
  take_command(audit_sub);

  hytrace::tracer::ProfileCommand profile;
  CLI::App* profile_sub =
      app.add_subcommand("profile", "Write the OCI seccomp profile that allows what a recording did");
  profile_sub->footer(kProfileHelp);
  profile_sub->add_option("FILE", profile.file, "The trace file (from hytrace record)")->required();
  profile_sub->add_option("-o,--output", profile.output, "Write the profile to FILE instead of stdout")
      ->type_name("FILE");
  profile_sub->add_flag("--paths", profile.paths,
                        "Add path rules: allow what the program did to files, deny the rest");

  hytrace::tracer::ReplayCommand replay;
  CLI::App* replay_sub = app.add_subcommand("replay", "Re-run a recording, feeding back its results");
  replay_sub->footer(kReplayHelp);
  replay_sub->add_option("FILE", replay.file, "The trace file")->required();
  replay_sub->add_flag("--check", replay.check,
                       "Exit 0 when the whole replay matched the recording, 3 on a divergence");
  replay_sub->add_flag("-q,--quiet", replay.quiet, "Do not write the recorded program's output");

  hytrace::tracer::DumpCommand dump;
  CLI::App* dump_sub = app.add_subcommand("dump", "Print the events of a trace file");
  dump_sub->footer(kDumpHelp);
  dump_sub->add_option("FILE", dump.file, "The trace file")->required();
  dump_sub->add_flag("--json", dump.json,
                     "One JSON object per event (the schema of trace --json, plus seq numbers and "
                     "the kinds only a recording has: docs/guide/dump.md)");
  dump_sub->add_option("-s,--string-limit", dump.string_limit,
                       "Show at most N characters of each string (default 32)")
      ->type_name("N");

  hytrace::tracer::StatsCommand stats;
  CLI::App* stats_sub = app.add_subcommand("stats", "Summarise a trace file");
  stats_sub->footer(kStatsHelp);
  stats_sub->add_option("FILE", stats.file, "The trace file")->required();

  int before = 1;
  while (before < argc && std::string_view(argv[before]) != "--") ++before;
  const std::vector<std::string> after(argv + std::min(before + 1, argc), argv + argc);
  try {
    app.parse(before, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "hytrace: %s\nRun 'hytrace --help' for usage.\n", e.what());
    return 2;
  }
  if (sub->parsed()) {
    if (!check_command(sub->remaining())) return 2;
    trace.argv = command_of(sub, after);
    if (trace.argv.empty() && trace.pid == 0 && !trace.dump_filter) {
      std::fprintf(stderr, "hytrace: trace needs a program to run or -p PID\n%s",
                   sub->help().c_str());
      return 2;
    }
    return hytrace::tracer::run_trace(trace);
  }
  if (count_sub->parsed()) {
    if (!check_command(count_sub->remaining())) return 2;
    count.argv = command_of(count_sub, after);
    if (count.argv.empty()) {
      std::fprintf(stderr, "hytrace: count needs a program to run\n%s", count_sub->help().c_str());
      return 2;
    }
    return hytrace::tracer::run_count(count);
  }
  if (record_sub->parsed()) {
    if (!check_command(record_sub->remaining())) return 2;
    record.argv = command_of(record_sub, after);
    if (record.argv.empty()) {
      std::fprintf(stderr, "hytrace: record needs a program to run\n%s", record_sub->help().c_str());
      return 2;
    }
    return hytrace::tracer::run_record(record);
  }
  if (audit_sub->parsed()) {
    if (!check_command(audit_sub->remaining())) return 2;
    audit.argv = command_of(audit_sub, after);
    if (audit.argv.empty()) {
      std::fprintf(stderr, "hytrace: audit needs a program to run\n%s", audit_sub->help().c_str());
      return 2;
    }
    return hytrace::tracer::run_audit(audit);
  }
  if (replay_sub->parsed()) return hytrace::tracer::run_replay(replay);
  if (profile_sub->parsed()) return hytrace::tracer::run_profile(profile);
  if (dump_sub->parsed()) return hytrace::tracer::run_dump(dump);
  if (stats_sub->parsed()) return hytrace::tracer::run_stats(stats);
  return 2;
}
