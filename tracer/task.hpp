// The engine's model of the traced tree: tasks (threads), thread groups
// (processes) and address spaces. Address-space identity is not the thread
// group: CLONE_VM without CLONE_THREAD and vfork share one space across
// groups, and exec gives the group a new one.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "syscalls/format.hpp"
#include "tracer/captured_memory.hpp"

namespace hytrace::tracer {

struct SpacePatch;  // tracer/patching.hpp

// One mm: what the patcher keeps for it (gate, buffer, stub pages, sites).
struct AddressSpace {
  uint64_t id = 0;
  std::shared_ptr<SpacePatch> patch;  // null when patching is off or failed here
  // Interrupted IPs that a signal handler moved away from before returning
  // (Go-style preemption saves them and jumps back later): code may still
  // resume there at any time, so no patch may cover them.
  std::vector<uint64_t> moved_contexts;
};

struct ThreadGroup {
  pid_t tgid = 0;
};

// A syscall in progress on a task's event stack: pushed at entry, popped at
// exit. Replay sets skip/result at entry; the engine applies them.
// A pending signal frame: where the handler's rt_sigreturn resumes, and
// the stack pointer of the code the signal interrupted.
struct SignalContext {
  uint64_t ip = 0;
  uint64_t sp = 0;
};

struct SyscallFrame {
  syscalls::Call call;
  uint64_t ip = 0;  // address after the syscall instruction
  uint64_t seq = 0;       // the entry's place in the engine's clock
  uint64_t exit_seq = 0;  // the exit's, once it has returned
  uint64_t exit_ip = 0;   // where the task goes on after it (rt_sigreturn: the restored context)
  // SECCOMP_RET_DATA of the filter that stopped it (a seccomp stop only):
  // which filter and rule sent the call to the tracer.
  std::optional<uint16_t> seccomp_data;
  std::chrono::steady_clock::time_point entered;
  // A buffered call's duration, as its stub measured it (with -c): the
  // tracer saw neither its start nor its end.
  std::optional<std::chrono::nanoseconds> duration;
  bool skip = false;       // do not run it; return `result` instead
  long result = 0;
  // Performed by the in-tracee stub and drained from its buffer: it has
  // already run (it cannot be skipped), and its memory is what was captured.
  bool buffered = false;
  std::shared_ptr<const Captured> captured;
  // The site this event asked to patch (its own ip - 2): submitted when this
  // frame ends, never on behalf of another event of the task.
  std::optional<uint64_t> patch_site;
};

struct Task {
  pid_t tid = 0;
  std::shared_ptr<ThreadGroup> group;
  std::shared_ptr<AddressSpace> space;
  std::vector<SyscallFrame> frames;  // the event stack, innermost last
  bool started = false;  // first stop after attach seen
  bool stopped = false;  // in a ptrace stop right now
  bool listening = false;  // in a group-stop, resumed with PTRACE_LISTEN
  bool exiting = false;    // past PTRACE_EVENT_EXIT: it runs no code of its own again
  uint64_t exit_seq = 0;   // the place of PTRACE_EVENT_EXIT in the order, 0 before
  // A vfork child, while it shares its parent's memory: the parent waits in
  // the kernel until the child execs or exits, and cannot be stopped.
  pid_t vfork_parent = 0;
  // Each pending signal handler's (pushed at delivery, popped at
  // rt_sigreturn): patching must not rewrite where the task resumes after
  // it. A handler that never returns (it longjmp'd out) leaves its context
  // here: Engine::left_stub forgets those in hytrace's stub.
  std::vector<SignalContext> signal_contexts;
  // The last stub contexts forgotten so, to notice one coming back
  // (Engine::returned_to).
  std::vector<SignalContext> left_contexts;
  static constexpr size_t kMostLeftContexts = 16;
  // No stack holds this many handler frames (Engine::forget_program_contexts).
  static constexpr size_t kMostSignalContexts = 65536;
  bool program_contexts_dropped = false;
  // What the program set itself, inherited by children and kept over exec:
  // hytrace answers the queries of its own filter and no_new_privs unless so.
  bool own_seccomp = false;
  bool own_no_new_privs = false;
  // The gs base hytrace wrote for the stubs (HYTRACE_GS_TID_TAG | tid, in
  // patcher/stub/layout.h), or the one a new task inherited with its
  // parent's; 0 for none. A base of any other value is the program's.
  uint64_t gs_tag = 0;
  // Whether `gs` is the base hytrace wrote, not the program's.
  bool has_tag(uint64_t gs) const { return gs_tag != 0 && gs == gs_tag; }
  // Set by a handler: do not let the task go on after this event; it waits
  // in its stop until Engine::release (replay keeps the recorded order so).
  bool hold = false;
  // Set by a handler: deliver this signal as the task goes on from a
  // syscall stop (the kernel queues it, and a signal-delivery stop follows).
  int inject_signal = 0;

  pid_t tgid() const { return group->tgid; }
  bool is_leader() const { return tid == group->tgid; }
  bool in_syscall() const { return !frames.empty(); }
};

}  // namespace hytrace::tracer
