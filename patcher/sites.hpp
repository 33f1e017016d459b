// Per-address-space state of the syscall sites the patcher has seen, and the
// rule that decides when a site's bytes may be rewritten.
//
// The life of a site:
//
//   (unknown) --request--> pending --apply, nothing blocks--> patched
//                 |           ^  |
//                 |           |  +--apply, a task blocks--> deferred (count+1)
//                 |           +------------------------------------+
//                 +--analysis refused--> refused(reason)   [permanent]
//
// "A task blocks" is always transient: the site waits, and the apply run
// that finds the last blocking task gone writes it ("last task out").
// Only the analysis (the bytes themselves) can refuse a site for good.
//
// Requests belong to syscall events, not to tasks: the engine stores the
// site of the stop that asked (frame ip - 2) on that stop's frame and submits
// exactly that address when the frame ends. A signal handler's syscalls have
// their own frames, so they can neither submit nor be mistaken for the
// interrupted call's site.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace hytrace::patcher {

// Bytes [start, end) that a patch replaces; the syscall instruction is inside.
struct Window {
  uint64_t start = 0;
  uint64_t end = 0;
  bool contains(uint64_t addr) const { return addr >= start && addr < end; }
  // True when [addr, addr + len) and the window share a byte.
  bool overlaps(uint64_t addr, uint64_t len) const { return addr < end && start < addr + len; }
};

enum class SiteState { kPending, kDeferred, kPatched, kRefused };

// Why a task keeps a window from being written right now.
enum class Blocker {
  kNone,
  kInstructionPointer,  // a task is stopped with its IP strictly inside the window
  kRestartableSyscall,  // a task is in a syscall whose restart re-executes inside it
  kSignalContext,       // a pending signal frame will return inside it
};

std::string to_string(SiteState state);
std::string to_string(Blocker blocker);

// What the patcher needs to know of one stopped task of the address space.
struct TaskSnapshot {
  pid_t tid = 0;
  uint64_t ip = 0;  // where the task resumes
  // The address after the syscall instruction of the syscall the task is
  // stopped in, when the kernel may restart it (it rewinds to that - 2).
  std::optional<uint64_t> syscall_ip;
  // Instruction pointers saved in the task's pending signal frames: where
  // each handler's sigreturn resumes (possibly rewound by 2 for a restart).
  std::vector<uint64_t> signal_contexts;
  long syscall_nr = -1;  // the syscall the task is stopped in (orig_rax), -1 if none
};

// The first reason any task keeps `window` from being written, or kNone.
Blocker find_blocker(const Window& window, const std::vector<TaskSnapshot>& tasks);

struct Site {
  uint64_t address = 0;  // of the syscall instruction
  SiteState state = SiteState::kPending;
  Window window;
  std::string refusal;  // when refused: the analysis's reason
  Blocker last_blocker = Blocker::kNone;
  std::vector<pid_t> blockers;  // the tasks that blocked the last run and were not seen leaving
  unsigned deferrals = 0;  // apply runs this site waited through
  unsigned stops_since_run = 0;  // stops at the site since its last apply run
};

// Writes the patch of one site. Returns false when the write failed (the
// site is then refused with `error`), unless `retry()` says the failure was
// passing (a signal interrupted the tracer's injected calls): then the site
// and the ones after it wait for a later run.
class PatchWriter {
 public:
  virtual ~PatchWriter() = default;
  virtual bool write(const Site& site, std::string& error) = 0;
  virtual bool retry() const { return false; }
};

class SiteTable {
 public:
  // True when a stop at this site should ask for a patch: the site is not
  // known yet (pending, deferred, patched and refused sites never ask again).
  bool wants(uint64_t site) const { return sites_.find(site) == sites_.end(); }
  // The analysis of a requested site: a window, or why it cannot be patched.
  void request(uint64_t site, const Window& window);
  void refuse(uint64_t site, const std::string& reason);
  bool has_waiting() const;
  // Whether an apply run may write something now, so that stopping every
  // task of the space for it is worth it. `current` is the task at a stop,
  // at `site`. A deferred site is worth a run once the last of its blockers
  // has been seen leaving its window ("last task out"). A blocker may also
  // leave unseen (a running task that a run interrupted): stops at the
  // waiting site itself catch that, with a backoff: after n deferrals, one
  // stop in 2^n (at most 1024) tries again.
  bool worth_trying(const TaskSnapshot& current, uint64_t site);
  // Task `tid` left the address space: it blocks nothing any more.
  void forget(pid_t tid);
  // With every task of the address space stopped: writes each waiting site
  // that no task blocks, in address order, and defers the others. Returns
  // the sites written.
  std::vector<uint64_t> apply(const std::vector<TaskSnapshot>& tasks, PatchWriter& writer);

  const Site* find(uint64_t site) const;
  const std::map<uint64_t, Site>& all() const { return sites_; }

 private:
  std::map<uint64_t, Site> sites_;
};

}  // namespace hytrace::patcher
