// `hytrace dump FILE`: a trace file's events, one line each, strace-style
// or as JSON lines (the schema of `trace --json`, plus the kinds only a
// recording has). Syscalls are rendered by the same formatter as `trace`,
// reading the memory the trace holds, so a recorded read shows its bytes.
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstring>
#include <unordered_map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "syscalls/decode.hpp"
#include "syscalls/format.hpp"
#include "tracer/cli.hpp"
#include "tracer/signal_text.hpp"
#include "tracer/tracefile/memory.hpp"
#include "tracer/tracefile/render.hpp"
#include "tracer/tracefile/reader.hpp"

namespace hytrace::tracer {
namespace {

using namespace hytrace::tracefile;
using nlohmann::json;

static_assert(sizeof(siginfo_t) == kSiginfoSize);

// Thread ids to process ids, from the clone events seen so far.
class Tasks {
 public:
  int32_t pid_of(int32_t tid) const {
    auto it = tgid_.find(tid);
    return it == tgid_.end() ? tid : it->second;
  }
  void saw(const ProcessEvent& e) {
    if (e.kind == ProcessEvent::Kind::kExit) return;
    const bool thread = e.kind == ProcessEvent::Kind::kClone && (e.flags & CLONE_THREAD);
    tgid_[e.child] = thread ? pid_of(e.tid) : e.child;
  }

 private:
  std::unordered_map<int32_t, int32_t> tgid_;
};

std::string hex_bytes(std::span<const uint8_t> bytes) {
  std::string out;
  for (uint8_t b : bytes) fmt::format_to(std::back_inserter(out), "{:02x}", b);
  return out;
}

std::string quoted(const std::string& s, size_t limit) {
  return syscalls::quote(s.data(), s.size(), limit, false);
}

const char* mapping_kind(MappingEvent::Kind kind) {
  switch (kind) {
    case MappingEvent::Kind::kGate: return "gate";
    case MappingEvent::Kind::kBuffer: return "buffer";
    case MappingEvent::Kind::kStub: return "stub";
    case MappingEvent::Kind::kTrampoline: return "trampoline";
    default: return "other";
  }
}

std::string prot_text(uint32_t prot) {
  if (prot == PROT_NONE) return "PROT_NONE";
  std::string out;
  for (auto [bit, name] : {std::pair{PROT_READ, "PROT_READ"}, {PROT_WRITE, "PROT_WRITE"},
                           {PROT_EXEC, "PROT_EXEC"}}) {
    if (!(prot & bit)) continue;
    if (!out.empty()) out += '|';
    out += name;
    prot &= ~static_cast<uint32_t>(bit);
  }
  if (prot) out += fmt::format("{}{:#x}", out.empty() ? "" : "|", prot);
  return out;
}

// "exited with 0", "killed by SIGKILL (core dumped)"
std::string status_text(int status) {
  if (WIFSIGNALED(status)) {
    return fmt::format("killed by {}{}", syscalls::signal_name(WTERMSIG(status)),
                       WCOREDUMP(status) ? " (core dumped)" : "");
  }
  return fmt::format("exited with {}", WEXITSTATUS(status));
}

void add_status(json& j, int status) {
  if (WIFSIGNALED(status)) {
    j["killed_by"] = syscalls::signal_name(WTERMSIG(status));
  } else {
    j["exited"] = WEXITSTATUS(status);
  }
}

class Dumper {
 public:
  Dumper(bool as_json, size_t string_limit) : json_(as_json) { opts_.string_limit = string_limit; }

  void print(const Event& event) {
    if (const auto* p = std::get_if<ProcessEvent>(&event)) tasks_.saw(*p);
    std::visit([&](const auto& e) { json_ ? put_json(e) : put_text(e); }, event);
  }

 private:
  void line(uint64_t seq, int32_t tid, const std::string& text) {
    const int32_t pid = tasks_.pid_of(tid);
    const std::string who = pid == tid ? fmt::format("pid {}", pid) : fmt::format("pid {} tid {}", pid, tid);
    fmt::print("{:>6} [{}] {}\n", seq, who, text);
  }
  void emit(json j, uint64_t seq, int32_t tid) {
    j["seq"] = seq;
    j["pid"] = tasks_.pid_of(tid);
    j["tid"] = tid;
    fmt::print("{}\n", j.dump(-1, ' ', false, json::error_handler_t::replace));
  }

  std::string syscall_text(const SyscallEvent& e) {
    std::string text = syscalls::line_text(render(e, opts_, false).rc);
    if (e.flags & kEffectsUnknown) text += " [effects unknown]";
    if (e.flags & kUnreplayable) text += " [unreplayable: " + e.unreplayable + "]";
    return text;
  }
  json syscall_json(const SyscallEvent& e) {
    Rendered r = render(e, opts_, true);
    json j = syscalls::to_json(r.rc, r.call);
    if (!r.fields.fields.empty()) j["fields"] = syscalls::to_json(r.fields);
    if (e.flags & kUnfinished) {
      j.erase("result");
      j.erase("error");
      j["unfinished"] = true;
    } else {
      j["exit_seq"] = e.exit_seq;
    }
    if (e.flags & kServedByStub) j["served_by_stub"] = true;
    if (e.flags & kEffectsUnknown) j["effects_unknown"] = true;
    if (e.flags & kUnreplayable) j["unreplayable"] = e.unreplayable;
    return j;
  }

  void put_text(const SyscallEvent& e) { line(e.entry_seq, e.tid, syscall_text(e)); }
  void put_text(const InjectedEvent& e) { line(e.entry_seq, e.tid, "[injected] " + syscall_text(e)); }
  void put_text(const SignalEvent& e) {
    siginfo_t info;
    std::memcpy(&info, e.siginfo.data(), sizeof info);
    std::string text = fmt::format("--- {} {} ---", syscalls::signal_name(info.si_signo), siginfo_text(info));
    text += e.where == SignalEvent::Where::kAtEvent ? fmt::format(" at seq {}", e.at_seq)
                                                     : fmt::format(" in user code at {:#x}", e.ip);
    line(e.seq, e.tid, text);
  }
  void put_text(const ProcessEvent& e) {
    static const char* const kKinds[] = {"clone", "fork", "vfork"};
    if (e.kind == ProcessEvent::Kind::kExit) return line(e.seq, e.tid, "+++ " + status_text(e.status) + " +++");
    std::string text = fmt::format("+++ {}: child {}", kKinds[static_cast<int>(e.kind)], e.child);
    if (e.kind == ProcessEvent::Kind::kClone) text += fmt::format(", flags {:#x}", e.flags);
    line(e.seq, e.tid, text + " +++");
  }
  void put_text(const ExecEvent& e) {
    std::string argv;
    for (const std::string& a : e.argv) argv += (argv.empty() ? "" : ", ") + quoted(a, opts_.string_limit);
    line(e.seq, e.tid,
         fmt::format("+++ exec {} [{}], cwd {}, {} files mapped executable +++", quoted(e.path, 4096),
                     argv, quoted(e.cwd, 4096), e.files.size()));
  }
  void put_text(const RdtscEvent& e) {
    std::string text = fmt::format("--- {} at {:#x} = {:#x}", e.rdtscp ? "rdtscp" : "rdtsc", e.ip, e.value);
    if (e.rdtscp) text += fmt::format(", aux {}", e.aux);
    line(e.seq, e.tid, text + " ---");
  }
  void put_text(const CpuidEvent& e) {
    line(e.seq, e.tid,
         fmt::format("--- cpuid({:#x}, {:#x}) at {:#x} = {{eax={:#x}, ebx={:#x}, ecx={:#x}, edx={:#x}}} ---",
                     e.leaf, e.subleaf, e.ip, e.eax, e.ebx, e.ecx, e.edx));
  }
  void put_text(const MappingEvent& e) {
    line(e.seq, e.tid,
         fmt::format("--- hytrace's {} at {:#x}, {} bytes, {} ---", mapping_kind(e.kind), e.addr,
                     e.length, prot_text(e.prot)));
  }
  void put_text(const EndEvent& e) {
    line(e.seq, e.tid, fmt::format("+++ end: {}, {} events +++", status_text(e.status), e.events));
  }

  void put_json(const SyscallEvent& e) { emit(syscall_json(e), e.entry_seq, e.tid); }
  void put_json(const InjectedEvent& e) {
    json j = syscall_json(e);
    j["injected"] = true;
    emit(std::move(j), e.entry_seq, e.tid);
  }
  void put_json(const SignalEvent& e) {
    siginfo_t info;
    std::memcpy(&info, e.siginfo.data(), sizeof info);
    json j = {{"signal", syscalls::signal_name(info.si_signo)}, {"code", si_code_name(info)},
              {"siginfo", hex_bytes(e.siginfo)}};
    if (e.where == SignalEvent::Where::kAtEvent) {
      j["at_seq"] = e.at_seq;
    } else {
      j["ip"] = e.ip;
      j["regs"] = e.regs;
      j["xstate_bytes"] = e.xstate.size();
      j["stack_hash"] = fmt::format("{:016x}", e.stack_hash);
    }
    emit(std::move(j), e.seq, e.tid);
  }
  void put_json(const ProcessEvent& e) {
    static const char* const kKinds[] = {"clone", "fork", "vfork"};
    json j = json::object();
    if (e.kind == ProcessEvent::Kind::kExit) {
      add_status(j, e.status);
    } else {
      j = {{"event", kKinds[static_cast<int>(e.kind)]}, {"child", e.child}, {"flags", e.flags}};
    }
    emit(std::move(j), e.seq, e.tid);
  }
  void put_json(const ExecEvent& e) {
    json files = json::array();
    for (const MappedFile& f : e.files) {
      files.push_back({{"path", f.path}, {"size", f.size}, {"mtime_ns", f.mtime_ns},
                       {"hash", fmt::format("{:016x}", f.content_hash)}});
    }
    json auxv = json::array();
    for (const auto& [type, value] : e.auxv) auxv.push_back({type, value});
    emit({{"event", "exec"}, {"path", e.path}, {"argv", e.argv}, {"envp", e.envp}, {"cwd", e.cwd},
          {"auxv", std::move(auxv)}, {"at_random", hex_bytes(e.at_random)}, {"files", std::move(files)},
          {"former_tid", e.former_tid}},
         e.seq, e.tid);
  }
  void put_json(const RdtscEvent& e) {
    json j = {{"event", e.rdtscp ? "rdtscp" : "rdtsc"}, {"ip", e.ip}, {"value", e.value}};
    if (e.rdtscp) j["aux"] = e.aux;
    emit(std::move(j), e.seq, e.tid);
  }
  void put_json(const CpuidEvent& e) {
    emit({{"event", "cpuid"}, {"ip", e.ip}, {"leaf", e.leaf}, {"subleaf", e.subleaf}, {"eax", e.eax},
          {"ebx", e.ebx}, {"ecx", e.ecx}, {"edx", e.edx}},
         e.seq, e.tid);
  }
  void put_json(const MappingEvent& e) {
    emit({{"event", "mapping"}, {"kind", mapping_kind(e.kind)}, {"address", e.addr}, {"length", e.length},
          {"prot", prot_text(e.prot)}},
         e.seq, e.tid);
  }
  void put_json(const EndEvent& e) {
    json j = {{"event", "end"}, {"events", e.events}};
    add_status(j, e.status);
    emit(std::move(j), e.seq, e.tid);
  }

  bool json_;
  syscalls::FormatOptions opts_;
  Tasks tasks_;
};

}  // namespace

int run_dump(const DumpCommand& cmd) {
  TraceReader reader = TraceReader::open(cmd.file);
  Dumper dumper(cmd.json, cmd.string_limit);
  while (auto event = reader.next()) dumper.print(*event);
  std::fflush(stdout);
  if (const ReadError* error = reader.error()) {
    fmt::print(stderr, "hytrace: {}: {}\n", cmd.file, error->message);
    return 2;
  }
  if (const std::string note = reader.cut_short(); !note.empty()) {
    fmt::print(stderr, "hytrace: {}: {}\n", cmd.file, note);
  }
  return 0;
}

}  // namespace hytrace::tracer
