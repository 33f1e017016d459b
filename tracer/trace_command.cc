// `hytrace trace`: wires the CLI options to the engine and the trace mode.
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <system_error>

#include <fmt/format.h>

#include "bpf/filter.hpp"
#include "syscalls/format.hpp"
#include "tracer/cli.hpp"
#include "tracer/engine.hpp"
#include "tracer/patching.hpp"
#include "tracer/trace_mode.hpp"
#include "tracer/transparency.hpp"

namespace hytrace::tracer {
namespace {

void error_line(const std::string& text) { fmt::print(stderr, "hytrace: {}\n", text); }

// The tracee's fate as hytrace's own exit status: its code, or 128+signal.
int exit_code(const ExitStatus& status) {
  return status.signaled ? 128 + status.code : status.code;
}

int trace_with(Engine& engine, const TraceCommand& cmd, TraceOptions options, Output& out) {
  TraceMode mode(out, std::move(options), engine.task_count());
  const ExitStatus status = engine.run(mode);
  if (cmd.pid) {
    if (Engine::interrupted_by()) fmt::print(stderr, "hytrace: Process {} detached\n", cmd.pid);
    return 0;
  }
  if (const int sig = Engine::interrupted_by()) return 128 + sig;
  return exit_code(status);
}

}  // namespace

int run_trace(const TraceCommand& cmd) {
  TraceOptions options;
  try {
    options.set = SyscallSet::parse(cmd.expr);
  } catch (const std::invalid_argument& e) {
    error_line(e.what());
    return 2;
  }
  options.json = cmd.json;
  options.summary = cmd.summary;
  options.format.string_limit = cmd.string_limit;

  try {
    // Patching needs the filter to allow the stub's gate, so it is for
    // spawned programs only; and it must see every rt_sigreturn to know when
    // a signal handler is gone.
    const bool patch = !cmd.pid && !cmd.no_patch;
    bpf::FilterSpec spec{options.set.bits(), std::nullopt};
    if (!cmd.pid) require_transparency_stops(spec);
    std::unique_ptr<Patching> patching;
    if (patch) {
      patching = std::make_unique<Patching>(spec.traced, cmd.string_limit, cmd.summary);
      if (cmd.patch_windows) patching->windows_only();
      spec.allowed_ip = Patching::allowed_ip();
      spec.traced[SYS_rt_sigreturn] = true;
    }
    const bpf::Program filter = bpf::build_filter(spec);
    if (cmd.dump_filter) {
      fmt::print("{}", bpf::dump(filter));
      return 0;
    }
    std::string path;
    if (!cmd.pid) path = find_program(cmd.argv[0]);
    Output out(cmd.output);
    Engine engine;
    engine.handle_interrupts();
    engine.enable_patching(patching.get());
    if (cmd.exit_with_root) engine.exit_with_root();
    if (cmd.pid) {
      engine.attach(cmd.pid);
      fmt::print(stderr, "hytrace: Process {} attached\n", cmd.pid);
    } else {
      engine.spawn(path, cmd.argv, filter);
    }
    const int status = trace_with(engine, cmd, std::move(options), out);
    if (patching && cmd.patch_report) {
      out.write(patching->report());
      out.flush();
    }
    return status;
  } catch (const SpawnError& e) {
    error_line(spawn_error_text(e, cmd.argv.empty() ? "" : cmd.argv[0]));
    return 127;
  } catch (const std::exception& e) {  // the tracer's own failure: one line, exit 1
    error_line(e.what());
    return 1;
  }
}

}  // namespace hytrace::tracer
