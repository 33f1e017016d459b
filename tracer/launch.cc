#include "tracer/launch.hpp"

#include <fcntl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

extern char** environ;

namespace hytrace::tracer {
namespace {

// What the child reports through its close-on-exec pipe when it fails.
struct ChildFailure {
  SpawnError::Stage stage;
  int error;
};

[[noreturn]] void run_child(int go_fd, int failure_fd, const char* path, char* const* argv,
                            char* const* envp, const bpf::Program* filter, bool set_no_new_privs,
                            const ChildSetup& setup) {
  char c;
  while (read(go_fd, &c, 1) < 0 && errno == EINTR) {
  }
  if (setup.disable_aslr) {
    const int persona = personality(0xffffffff);
    if (persona != -1) personality(static_cast<unsigned long>(persona) | ADDR_NO_RANDOMIZE);
  }
  if (setup.trap_tsc) prctl(PR_SET_TSC, PR_TSC_SIGSEGV, 0, 0, 0);
  ChildFailure failure{SpawnError::Stage::kFilter, 0};
  if (!setup.cwd.empty() && chdir(setup.cwd.c_str()) != 0) failure = {SpawnError::Stage::kExec, errno};
  if (setup.landlock_ruleset_fd >= 0 && failure.error == 0) {
    // Landlock wants no_new_privs too, unless the caller has CAP_SYS_ADMIN.
    if (set_no_new_privs) prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    if (syscall(SYS_landlock_restrict_self, setup.landlock_ruleset_fd, 0) != 0) failure.error = errno;
    close(setup.landlock_ruleset_fd);
  }
  if (filter && failure.error == 0) failure.error = bpf::install(*filter, set_no_new_privs);
  if (setup.policy_filter && failure.error == 0) {
    failure.error = bpf::install(*setup.policy_filter, set_no_new_privs && !filter);
  }
  if (failure.error == 0) {
    execve(path, argv, envp);
    failure = {SpawnError::Stage::kExec, errno};
  }
  if (write(failure_fd, &failure, sizeof(failure)) < 0) _exit(126);
  _exit(127);
}

}  // namespace

std::string spawn_error_text(const SpawnError& e, const std::string& program) {
  if (e.stage == SpawnError::Stage::kFilter) {
    return std::string("cannot install the seccomp filter: ") + std::strerror(e.error);
  }
  return "cannot execute '" + program + "': " + std::strerror(e.error);
}

std::string find_program(const std::string& name) {
  if (name.find('/') != std::string::npos) {
    if (access(name.c_str(), F_OK) != 0) throw SpawnError(SpawnError::Stage::kFind, errno, name);
    return name;
  }
  const char* env = getenv("PATH");
  const std::string path = env ? env : "/usr/local/bin:/usr/bin:/bin";
  int error = ENOENT;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    const std::string dir = end > start ? path.substr(start, end - start) : ".";
    const std::string candidate = dir + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    if (errno == EACCES) error = EACCES;
    start = end + 1;
  }
  throw SpawnError(SpawnError::Stage::kFind, error, name);
}

Launch::Launch(const std::string& path, const std::vector<std::string>& argv,
               const bpf::Program* filter, ChildSetup setup) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> env;
  if (setup.env) {
    for (const auto& e : *setup.env) env.push_back(const_cast<char*>(e.c_str()));
    env.push_back(nullptr);
  }
  char* const* envp = setup.env ? env.data() : environ;
  const bool set_no_new_privs = (filter || setup.policy_filter) && !bpf::has_sys_admin();
  int go[2], failure[2];
  if (pipe2(go, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
  if (pipe2(failure, O_CLOEXEC) != 0) {
    close(go[0]);
    close(go[1]);
    throw std::system_error(errno, std::generic_category(), "pipe2");
  }
  pid_ = fork();
  if (pid_ == 0) {
    close(go[1]);
    close(failure[0]);
    run_child(go[0], failure[1], path.c_str(), args.data(), envp, filter, set_no_new_privs, setup);
  }
  close(go[0]);
  close(failure[1]);
  go_fd_ = go[1];
  failure_fd_ = failure[0];
  if (pid_ < 0) throw std::system_error(errno, std::generic_category(), "fork");
}

Launch::~Launch() {
  if (go_fd_ >= 0) close(go_fd_);
  if (failure_fd_ >= 0) close(failure_fd_);
}

void Launch::release() {
  close(go_fd_);
  go_fd_ = -1;
}

std::optional<SpawnError> Launch::failure() {
  ChildFailure failure{};
  if (failure_fd_ < 0 || read(failure_fd_, &failure, sizeof(failure)) != sizeof(failure)) {
    return std::nullopt;
  }
  return SpawnError(failure.stage, failure.error, "");
}

}  // namespace hytrace::tracer
