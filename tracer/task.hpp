// The engine's model of the traced tree: tasks (threads), thread groups
// (processes) and address spaces. Address-space identity is not the thread
// group: CLONE_VM without CLONE_THREAD and vfork share one space across
// groups, and exec gives the group a new one.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "syscalls/format.hpp"

namespace hytrace::tracer {

// One mm. Later owns mappings, the stub page and per-site patch state.
struct AddressSpace {
  uint64_t id = 0;
};

struct ThreadGroup {
  pid_t tgid = 0;
};

// A syscall in progress on a task's event stack: pushed at entry, popped at
// exit. Replay sets skip/result at entry; the engine applies them.
struct SyscallFrame {
  syscalls::Call call;
  uint64_t ip = 0;  // address after the syscall instruction
  uint64_t seq = 0;
  std::chrono::steady_clock::time_point entered;
  bool skip = false;       // do not run it; return `result` instead
  long result = 0;
};

struct Task {
  pid_t tid = 0;
  std::shared_ptr<ThreadGroup> group;
  std::shared_ptr<AddressSpace> space;
  std::vector<SyscallFrame> frames;  // the event stack, innermost last
  bool started = false;  // first stop after attach seen
  bool stopped = false;  // in a ptrace stop right now

  pid_t tgid() const { return group->tgid; }
  bool is_leader() const { return tid == group->tgid; }
  bool in_syscall() const { return !frames.empty(); }
};

}  // namespace hytrace::tracer
