// `hytrace audit`: loads the policy, compiles its syscall rules into the
// policy filter, and runs the program under the tracing filter and that one.
#include <sys/prctl.h>
#include <unistd.h>
#include <sys/syscall.h>

#include <algorithm>
#include <fstream>
#include <string>

#include <fmt/format.h>

#include "bpf/filter.hpp"
#include "syscalls/catalogue.hpp"
#include "tracer/audit/audit_mode.hpp"
#include "tracer/audit/landlock.hpp"
#include "tracer/audit/policy.hpp"
#include "tracer/audit/policy_filter.hpp"
#include "tracer/cli.hpp"
#include "tracer/engine.hpp"
#include "tracer/launch.hpp"
#include "tracer/output.hpp"
#include "tracer/syscall_set.hpp"
#include "tracer/transparency.hpp"

namespace hytrace::tracer {
namespace {

// Logged even when the policy allows them: what a security engineer asks
// first (which files, which programs, which peers), and every route out.
constexpr const char* kDefaultAudited =
    "execve,execveat,open,openat,openat2,creat,open_by_handle_at,"
    "unlink,unlinkat,rmdir,rename,renameat,renameat2,link,linkat,symlink,symlinkat,"
    "mkdir,mkdirat,truncate,chmod,fchmodat,chown,fchownat,mount,umount2,"
    "connect,bind,accept,accept4,"
    "ptrace,process_vm_writev,pidfd_getfd,seccomp,io_uring_setup";

// capability(7) numbers, for includes/excludes "caps".
constexpr const char* kCapNames[] = {
    "CAP_CHOWN",           "CAP_DAC_OVERRIDE",   "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
    "CAP_FSETID",          "CAP_KILL",           "CAP_SETGID",          "CAP_SETUID",
    "CAP_SETPCAP",         "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",       "CAP_NET_RAW",        "CAP_IPC_LOCK",        "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",      "CAP_SYS_RAWIO",      "CAP_SYS_CHROOT",      "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",       "CAP_SYS_ADMIN",      "CAP_SYS_BOOT",        "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",    "CAP_SYS_TIME",       "CAP_SYS_TTY_CONFIG",  "CAP_MKNOD",
    "CAP_LEASE",           "CAP_AUDIT_WRITE",    "CAP_AUDIT_CONTROL",   "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",    "CAP_MAC_ADMIN",      "CAP_SYSLOG",          "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",   "CAP_AUDIT_READ",     "CAP_PERFMON",         "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE"};

// The program runs with hytrace's effective capabilities: the rules'
// includes and excludes are decided against those.
std::set<std::string, std::less<>> own_capabilities() {
  std::ifstream status("/proc/self/status");
  uint64_t mask = 0;
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("CapEff:", 0) == 0) mask = std::stoull(line.substr(7), nullptr, 16);
  }
  std::set<std::string, std::less<>> caps;
  for (size_t bit = 0; bit < std::size(kCapNames); ++bit) {
    if (mask & (uint64_t{1} << bit)) caps.insert(kCapNames[bit]);
  }
  return caps;
}

// The calls hytrace decides itself must stop: every call that takes a
// path, for path rules; connect and bind, for network rules; the calls that
// could reach into hytrace or a traced task.
void stop_for_hytrace_rules(const audit::Policy& policy, bpf::FilterSpec& spec) {
  const auto stop = [&](long nr) {
    if (nr >= 0 && static_cast<size_t>(nr) < spec.traced.size()) spec.traced[static_cast<size_t>(nr)] = true;
  };
  if (!policy.hytrace.paths.empty()) {
    for (const syscalls::SyscallInfo& info : syscalls::all()) {
      if (std::find(std::begin(info.args), std::end(info.args), syscalls::ArgKind::kPath) != std::end(info.args)) {
        stop(info.nr);
      }
    }
  }
  if (!policy.hytrace.network.empty()) {
    stop(SYS_connect);
    stop(SYS_bind);
  }
  // At the exit of each exec, the new image gets the pages of the checked
  // arguments' copies (tracer/audit/frozen_args.hpp).
  if (!policy.hytrace.paths.empty() || !policy.hytrace.network.empty()) {
    stop(SYS_execve);
    stop(SYS_execveat);
    // Refused unless allowed by name: they would bypass the rules.
    stop(SYS_io_uring_setup);
    stop(SYS_open_by_handle_at);
  }
  // Refused when they reach hytrace or a traced task (audit_mode.cc).
  for (long nr : {SYS_ptrace, SYS_process_vm_readv, SYS_process_vm_writev, SYS_pidfd_getfd}) stop(nr);
}

void warn(const std::string& text) { fmt::print(stderr, "hytrace: {}\n", text); }

std::string joined(const std::vector<std::string>& names, size_t most) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < most; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > most) out += fmt::format(" and {} more", names.size() - most);
  return out;
}

void warn_about(const std::string& file, const audit::Policy& policy, const audit::CompiledFilter& compiled) {
  if (!policy.unresolved_names.empty()) {
    warn(fmt::format("{}: {} names are not x86-64 syscalls of Linux 6.19, ignored: {}", file,
                     policy.unresolved_names.size(), joined(policy.unresolved_names, 8)));
  }
  if (!policy.ignored_keys.empty()) warn(fmt::format("{}: keys ignored: {}", file, joined(policy.ignored_keys, 8)));
  for (const std::string& note : compiled.notes) warn(fmt::format("{}: {}", file, note));
}

// Under --enforce, the path rules Landlock can say are enforced by the
// kernel too (no time-of-check race); the notes say which. -1: none.
int landlock_ruleset(const AuditCommand& cmd, const audit::Policy& policy) {
  if (!cmd.enforce || (policy.hytrace.paths.empty() && policy.hytrace.network.empty())) return -1;
  const int abi = audit::landlock_abi();
  audit::LandlockPlan plan = audit::plan_landlock(policy.hytrace.paths, abi);
  audit::plan_landlock_network(policy.hytrace.network, abi, plan);
  std::vector<std::string> notes = plan.notes;
  if (abi == 0) notes.push_back("Landlock is off in this kernel: every path rule is checked at each call only");
  int fd = -1;
  if (plan.handled || plan.handled_net) {
    std::string error;
    fd = audit::make_ruleset(plan, error, notes);
    if (fd < 0) throw std::runtime_error(error);
  }
  if (!cmd.quiet) {
    for (const std::string& note : notes) warn(fmt::format("{}: hytrace rules: {}", cmd.policy, note));
    warn(fmt::format("{}: hytrace rules are also checked at each call's stop, and the kernel is given a copy of "
                     "what was checked; a symlink changed between the check and the call is seen by Landlock alone",
                     cmd.policy));
  }
  return fd;
}

}  // namespace

int run_audit(const AuditCommand& cmd) {
  // The program may not read or write hytrace through ptrace,
  // process_vm_*, or /proc/<hytrace>/mem.
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  audit::Policy policy;
  try {
    audit::Conditions conditions;
    conditions.caps = own_capabilities();
    conditions.kernel = audit::running_kernel();
    policy = audit::load(audit::read_policy_file(cmd.policy), conditions);
  } catch (const audit::PolicyError& e) {
    warn(fmt::format("{}: {}", cmd.policy, e.what()));
    return 2;
  }
  AuditOptions options;
  options.enforce = cmd.enforce;
  options.json = cmd.json;
  options.format.string_limit = cmd.string_limit;
  try {
    options.audited = SyscallSet::parse(cmd.audited.empty() ? kDefaultAudited : cmd.audited);
  } catch (const std::invalid_argument& e) {
    warn(e.what());
    return 2;
  }
  try {
    const audit::CompiledFilter compiled =
        audit::compile_filter(policy, cmd.enforce ? audit::FilterMode::kEnforce : audit::FilterMode::kObserve,
                              FrozenArguments::own_calls());
    if (!cmd.quiet) warn_about(cmd.policy, policy, compiled);
    // The tracing filter stops the audited calls; the policy filter, stacked
    // on it, decides every call, and stops the ones the log must see.
    // The program sees neither filter (PR_GET_SECCOMP, its own filters
    // counted as without hytrace): tracer/transparency.hpp.
    bpf::FilterSpec spec{options.audited.bits(), std::nullopt, {}};
    stop_for_hytrace_rules(policy, spec);
    require_transparency_stops(spec);
    const bpf::Program filter = bpf::build_filter(spec);
    const std::string path = find_program(cmd.argv[0]);
    Output log(cmd.output);
    Engine engine;
    engine.handle_interrupts();
    AuditMode mode(engine, policy, compiled.program, log, options);
    ChildSetup setup;
    setup.policy_filter = &compiled.program;
    setup.landlock_ruleset_fd = landlock_ruleset(cmd, policy);
    engine.spawn(path, cmd.argv, filter, {}, setup);
    if (setup.landlock_ruleset_fd >= 0) close(setup.landlock_ruleset_fd);  // the child has its own
    const ExitStatus status = engine.run(mode);
    if (const int sig = Engine::interrupted_by()) return 128 + sig;
    return status.signaled ? 128 + status.code : status.code;
  } catch (const SpawnError& e) {
    warn(spawn_error_text(e, cmd.argv[0]));
    return 127;
  } catch (const std::exception& e) {  // the tracer's own failure: one line, exit 1
    warn(e.what());
    return 1;
  }
}

}  // namespace hytrace::tracer
