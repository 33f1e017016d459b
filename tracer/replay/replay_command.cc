// `hytrace replay FILE`: reads the whole recording, checks that the files it
// ran are still the same, and re-runs it under the replay mode.
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <system_error>

#include <fmt/format.h>

#include "bpf/filter.hpp"
#include "tracer/cli.hpp"
#include "tracer/engine.hpp"
#include "tracer/instruction_trap.hpp"
#include "tracer/record/exec_facts.hpp"
#include "tracer/replay/replay_mode.hpp"
#include "tracer/syscall_set.hpp"
#include "tracer/tracefile/reader.hpp"
#include "tracer/transparency.hpp"

namespace hytrace::tracer {
namespace {

void error_line(const std::string& text) { fmt::print(stderr, "hytrace: {}\n", text); }

constexpr int kDiverged = 3;

// The whole recording, or the one line that says why it cannot be read.
std::optional<std::vector<tracefile::Event>> load(const std::string& path, std::string& why) {
  tracefile::TraceReader reader = tracefile::TraceReader::open(path);
  std::vector<tracefile::Event> events;
  while (auto event = reader.next()) events.push_back(std::move(*event));
  if (const tracefile::ReadError* e = reader.error()) {
    why = fmt::format("{}: {}", path, e->message);
    return std::nullopt;
  }
  return events;
}

// Every file the recorded programs ran must be the one recorded: another
// libc would make another run.
std::string changed_file(const std::vector<tracefile::Event>& events) {
  ExecFacts facts;
  for (const auto& ev : events) {
    const auto* x = std::get_if<tracefile::ExecEvent>(&ev);
    if (!x) continue;
    for (const tracefile::MappedFile& f : x->files) {
      const tracefile::MappedFile now = facts.describe(f.path);
      if (now.size != f.size || now.content_hash != f.content_hash) {
        return fmt::format("{} is not the file the recording ran ({} bytes then, {} now; its content differs)",
                           f.path, f.size, now.size);
      }
    }
  }
  return {};
}

int status_code(int status) {
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

}  // namespace

int run_replay(const ReplayCommand& cmd) {
  std::string why;
  auto events = load(cmd.file, why);
  if (!events) {
    error_line(why);
    return 2;
  }
  if (const std::string changed = changed_file(*events); !changed.empty()) {
    error_line("cannot replay: " + changed);
    return 2;
  }
  try {
    Engine engine;
    engine.handle_interrupts();
    ReplayOptions options;
    options.quiet = cmd.quiet;
    ReplayMode mode(engine, std::move(*events), options);
    engine.on_idle(ReplayMode::kIdleStep, [&] { mode.idle(); });
    if (!mode.has_exec()) {
      error_line(fmt::format("{}: the recording has no exec event: nothing to replay", cmd.file));
      return 2;
    }
    const tracefile::ExecEvent& exec = mode.first_exec();
    bpf::FilterSpec spec{SyscallSet::parse("all").bits(), std::nullopt};
    require_transparency_stops(spec);
    const bpf::Program filter = bpf::build_filter(spec);
    engine.trap_instructions(true, cpuid_faulting_available());
    ChildSetup setup{.disable_aslr = true};
    setup.env = exec.envp;
    setup.cwd = exec.cwd;
    engine.spawn(mode.exec_path(), exec.argv, filter, {}, setup);
    const ExitStatus status = engine.run(mode);
    if (!mode.divergence().empty()) {
      error_line(mode.divergence());
      return cmd.check ? kDiverged : 1;
    }
    const int live = status.signaled ? 128 + status.code : status.code;
    const std::optional<int> recorded = mode.recorded_status();
    if (recorded && status_code(*recorded) != live) {
      error_line(fmt::format("replay diverged at the end: the program exited with {}, the recording with {}", live,
                             status_code(*recorded)));
      return cmd.check ? kDiverged : live;
    }
    if (cmd.check && !mode.complete()) {
      error_line(fmt::format("replay diverged: it ended after {} recorded events, before the recording did",
                             mode.replayed()));
      return kDiverged;
    }
    if (const int sig = Engine::interrupted_by()) return 128 + sig;
    return cmd.check ? 0 : live;  // stderr is the recorded program's alone
  } catch (const SpawnError& e) {
    error_line(spawn_error_text(e, "the recorded program"));
    return 127;
  } catch (const std::exception& e) {
    error_line(e.what());
    return 1;
  }
}

}  // namespace hytrace::tracer
