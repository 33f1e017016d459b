// `hytrace profile TRACE.hyt`: the smallest OCI seccomp profile that allows
// what the recording did. Every syscall the program made (not hytrace's own
// injected ones) is allowed by name; a syscall whose deciding argument took
// only a few values in the whole recording (socket's family, personality's
// persona, clone's flags) is allowed for those values only. Everything else
// fails with EPERM, as Docker's profiles do.
#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "syscalls/catalogue.hpp"
#include "tracer/audit/profile_paths.hpp"
#include "tracer/cli.hpp"
#include "tracer/tracefile/reader.hpp"

namespace hytrace::tracer {
namespace {

using namespace hytrace::tracefile;

// More distinct values than this and the argument is not worth a rule.
constexpr size_t kMostValues = 4;

// The argument that says what a call does, for the calls where a profile
// usually pins it (x86-64 names).
std::optional<int> deciding_arg(std::string_view name) {
  if (name == "socket" || name == "personality" || name == "clone") return 0;
  return std::nullopt;
}

struct Usage {
  std::set<uint64_t> values;  // of the deciding argument
  bool too_many = false;
};

struct Profile {
  std::map<std::string, Usage> x86_64;  // by name
  std::set<std::string> foreign;        // i386 and x32 names, allowed by name
  bool i386 = false;
  bool x32 = false;
};

void add(Profile& p, const SyscallEvent& e) {
  const std::string_view name = syscalls::name_of(e.abi, e.nr);
  if (name.empty()) return;  // a number no kernel names: nothing a profile can allow
  if (e.abi != syscalls::Abi::kX86_64) {
    (e.abi == syscalls::Abi::kI386 ? p.i386 : p.x32) = true;
    p.foreign.insert(std::string(name));
    return;
  }
  Usage& u = p.x86_64[std::string(name)];
  const auto arg = deciding_arg(name);
  if (!arg || u.too_many) return;
  // The kernel compares the low 32 bits for int arguments; keep them as passed.
  const uint64_t value = name == "clone" ? e.args[*arg] : (e.args[*arg] & 0xffffffffu);
  u.values.insert(value);
  if (u.values.size() > kMostValues) u.too_many = true;
}

nlohmann::ordered_json to_oci(const Profile& p, const std::string& source) {
  nlohmann::ordered_json out;
  out["defaultAction"] = "SCMP_ACT_ERRNO";
  out["defaultErrnoRet"] = 1;
  std::vector<std::string> arches{"SCMP_ARCH_X86_64"};
  if (p.i386) arches.push_back("SCMP_ARCH_X86");
  if (p.x32) arches.push_back("SCMP_ARCH_X32");
  out["architectures"] = arches;
  std::set<std::string> by_name(p.foreign.begin(), p.foreign.end());
  auto rules = nlohmann::ordered_json::array();
  for (const auto& [name, usage] : p.x86_64) {
    if (!deciding_arg(name) || usage.too_many) {
      by_name.insert(name);
      continue;
    }
    for (uint64_t value : usage.values) {
      rules.push_back({{"names", {name}},
                       {"action", "SCMP_ACT_ALLOW"},
                       {"args", {{{"index", *deciding_arg(name)}, {"value", value}, {"valueTwo", 0},
                                  {"op", "SCMP_CMP_EQ"}}}}});
    }
  }
  auto all = nlohmann::ordered_json::array();
  all.push_back({{"names", by_name},
                 {"action", "SCMP_ACT_ALLOW"},
                 {"comment", fmt::format("every syscall {} made", source)}});
  for (auto& rule : rules) all.push_back(std::move(rule));
  out["syscalls"] = all;
  return out;
}

}  // namespace

int run_profile(const ProfileCommand& cmd) {
  TraceReader reader = TraceReader::open(cmd.file);
  Profile profile;
  audit::PathProfile paths;
  while (auto event = reader.next()) {
    if (const auto* s = std::get_if<SyscallEvent>(&*event)) add(profile, *s);
    if (cmd.paths) paths.add(*event);
  }
  // A damaged trace would give a profile that silently lacks calls.
  if (const ReadError* error = reader.error()) {
    fmt::print(stderr, "hytrace: {}: {}\n", cmd.file, error->message);
    return 2;
  }
  if (const std::string note = reader.cut_short(); !note.empty()) {
    fmt::print(stderr, "hytrace: {}: {} (the profile allows only what was recorded)\n", cmd.file, note);
  }
  nlohmann::ordered_json oci = to_oci(profile, "the recorded program");
  if (cmd.paths) {
    oci["hytrace"] = {{"paths", paths.rules()}};
    if (paths.unplaced() > 0) {
      fmt::print(stderr,
                 "hytrace: {}: {} path accesses are not in the path rules: their directory is not in the "
                 "recording (a descriptor or cwd from before it)\n",
                 cmd.file, paths.unplaced());
    }
  }
  const std::string text = oci.dump(2) + "\n";
  if (cmd.output.empty() || cmd.output == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
  }
  FILE* f = std::fopen(cmd.output.c_str(), "w");
  bool written = f && std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if (f) written = std::fclose(f) == 0 && written;
  if (!written) {
    fmt::print(stderr, "hytrace: cannot write {}\n", cmd.output);
    return 1;
  }
  return 0;
}

}  // namespace hytrace::tracer
