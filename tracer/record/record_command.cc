// `hytrace record`: wires the CLI options to the engine, the record mode and
// the trace writer.
#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bpf/filter.hpp"
#include "tracer/cli.hpp"
#include "tracer/engine.hpp"
#include "tracer/instruction_trap.hpp"
#include "tracer/patching.hpp"
#include "tracer/record/record_mode.hpp"
#include "tracer/syscall_set.hpp"
#include "tracer/tracefile/format.hpp"
#include "tracer/tracefile/writer.hpp"
#include "tracer/transparency.hpp"

extern char** environ;

namespace hytrace::tracer {
namespace {

void error_line(const std::string& text) { fmt::print(stderr, "hytrace: {}\n", text); }

// PROG-N.hyt in the current directory, the first N not taken. The writer
// creates it exclusively, so a race with another recorder fails loudly
// instead of overwriting.
std::string default_trace_path(const std::string& program) {
  const std::string base = std::filesystem::path(program).filename().string();
  for (unsigned n = 0;; ++n) {
    std::string path = fmt::format("{}-{}.hyt", base, n);
    if (access(path.c_str(), F_OK) != 0 && errno == ENOENT) return path;
  }
}

tracefile::TraceInfo trace_info(const RecordCommand& cmd, bool patch, bool cpuid) {
  tracefile::TraceInfo info = tracefile::describe_machine();
  info.command = cmd.argv;
  for (char** env = environ; *env; ++env) info.environment.emplace_back(*env);
  info.aslr_disabled = true;
  info.vdso_hidden = true;
  info.settings = nlohmann::json{{"patch", patch},
                                 {"allow_io_uring", cmd.allow_io_uring},
                                 {"rseq", "ENOSYS"},
                                 {"rdtsc", "trapped"},
                                 {"cpuid", cpuid ? "trapped" : "not trapped: no cpuid faulting here"},
                                 {"io_uring_setup", cmd.allow_io_uring ? "allowed" : "ENOSYS"}}
                      .dump();
  return info;
}

bool failed(const ExitStatus& status) { return status.signaled || status.code != 0; }

int exit_code(const ExitStatus& status) { return status.signaled ? 128 + status.code : status.code; }

}  // namespace

int run_record(const RecordCommand& cmd) {
  std::string trace_path;  // once created
  try {
    const bool patch = !cmd.no_patch;
    // Every syscall stops or is served by a stub: a recording that let
    // some run unseen could not be replayed.
    bpf::FilterSpec spec{SyscallSet::parse("all").bits(), std::nullopt};
    require_transparency_stops(spec);
    std::unique_ptr<Patching> patching;
    if (patch) {
      patching = std::make_unique<Patching>(spec.traced, 255, false, Patching::Captures::kRecorded);
      spec.allowed_ip = Patching::allowed_ip();
    }
    const bpf::Program filter = bpf::build_filter(spec);
    const std::string path = find_program(cmd.argv[0]);
    const std::string wanted = cmd.output.empty() ? default_trace_path(cmd.argv[0]) : cmd.output;
    const bool cpuid = cpuid_faulting_available();
    tracefile::TraceWriter writer(wanted, trace_info(cmd, patch, cpuid));
    trace_path = wanted;

    Engine engine;
    engine.handle_interrupts();
    engine.enable_patching(patching.get());
    if (cmd.exit_with_root) engine.exit_with_root();
    RecordOptions options;
    options.allow_io_uring = cmd.allow_io_uring;
    RecordMode mode(writer, options, [&] { engine.stop(); });
    engine.trap_instructions(true, cpuid);
    engine.spawn(path, cmd.argv, filter, {}, ChildSetup{.disable_aslr = true});
    const ExitStatus status = engine.run(mode);
    mode.end(engine.root());
    const std::string problem = writer.finish();
    if (!problem.empty()) {
      error_line(problem);
      // Not even the header went in: the file holds nothing to read.
      if (writer.bytes_written() == 0) unlink(trace_path.c_str());
      return 1;
    }
    const bool keep = !cmd.keep_on_failure || failed(status) || Engine::interrupted_by();
    if (!keep) {
      unlink(trace_path.c_str());
    } else if (!cmd.quiet) {
      const RecordCounts& c = mode.counts();
      fmt::print(stderr,
                 "hytrace: recorded {} syscalls ({} served by stubs), {} signals, {} rdtsc/cpuid to {} "
                 "({} bytes)\n",
                 c.syscalls, c.served_by_stub, c.signals, c.instructions, trace_path, writer.bytes_written());
    }
    if (const int sig = Engine::interrupted_by()) return 128 + sig;
    return exit_code(status);
  } catch (const SpawnError& e) {
    if (!trace_path.empty()) unlink(trace_path.c_str());  // nothing ran: nothing to keep
    error_line(spawn_error_text(e, cmd.argv[0]));
    return 127;
  } catch (const std::exception& e) {  // the tracer's own failure: one line, exit 1
    error_line(e.what());
    return 1;
  }
}

}  // namespace hytrace::tracer
