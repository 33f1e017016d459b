// User-space side of the eBPF syscall oracle: what the kernel saw, per task
// and syscall number, for a tree of processes. No ptrace involved.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>

namespace hytrace::oracle {

struct Counts {
  uint64_t calls = 0;
  uint64_t errors = 0;
};

// nr -> counts
using TaskCounts = std::map<long, Counts>;

class SyscallCounter {
 public:
  // Why the counter cannot run here ("needs root", "no BTF at ..."), or ""
  // when it can.
  static std::string unavailable_reason();

  // Loads and attaches the programs. Throws std::runtime_error.
  SyscallCounter();
  ~SyscallCounter();
  SyscallCounter(const SyscallCounter&) = delete;
  SyscallCounter& operator=(const SyscallCounter&) = delete;

  // Counts `tid` from its next successful exec on (that execve included),
  // and every task it creates after that.
  void follow_from_exec(pid_t tid);
  // tid -> counts, as of now.
  std::map<pid_t, TaskCounts> counts() const;

 private:
  struct Skeleton;
  std::unique_ptr<Skeleton> skel_;
};

}  // namespace hytrace::oracle
