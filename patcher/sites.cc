#include "patcher/sites.hpp"

#include <algorithm>

namespace hytrace::patcher {
namespace {

constexpr uint64_t kSyscallSize = 2;  // 0f 05

// Resuming at the window's first byte executes the new jump, and the
// trampoline runs from the first displaced instruction: safe. Anywhere else
// inside the window is not.
bool inside(const Window& w, uint64_t ip) { return w.contains(ip) && ip != w.start; }

// The kernel restarts a syscall by rewinding the IP over its instruction:
// a context at `ip` may resume at ip - 2 or at ip.
bool may_resume_inside(const Window& w, uint64_t ip) { return inside(w, ip - kSyscallSize) || inside(w, ip); }

Blocker blocker_of(const Window& window, const TaskSnapshot& task) {
  if (inside(window, task.ip)) return Blocker::kInstructionPointer;
  // A restart rewinds onto the syscall: where a two-byte patch (a window of
  // the syscall alone) has its jump, which makes the call through the stub.
  if (task.syscall_ip && inside(window, *task.syscall_ip - kSyscallSize)) return Blocker::kRestartableSyscall;
  for (uint64_t ip : task.signal_contexts) {
    if (may_resume_inside(window, ip)) return Blocker::kSignalContext;
  }
  return Blocker::kNone;
}

bool is_waiting(const Site& site) {
  return site.state == SiteState::kPending || site.state == SiteState::kDeferred;
}

}  // namespace

std::string to_string(SiteState state) {
  switch (state) {
    case SiteState::kPending: return "pending";
    case SiteState::kDeferred: return "deferred";
    case SiteState::kPatched: return "patched";
    case SiteState::kRefused: return "refused";
  }
  return "?";
}

std::string to_string(Blocker blocker) {
  switch (blocker) {
    case Blocker::kNone: return "none";
    case Blocker::kInstructionPointer: return "a task's instruction pointer is inside";
    case Blocker::kRestartableSyscall: return "a task's restartable syscall is inside";
    case Blocker::kSignalContext: return "a pending signal frame returns inside";
  }
  return "?";
}

Blocker find_blocker(const Window& window, const std::vector<TaskSnapshot>& tasks) {
  for (const TaskSnapshot& task : tasks) {
    if (const Blocker why = blocker_of(window, task); why != Blocker::kNone) return why;
  }
  return Blocker::kNone;
}

void SiteTable::request(uint64_t site, const Window& window) {
  Site& s = sites_[site];
  s.address = site;
  s.window = window;
  s.state = SiteState::kPending;
}

void SiteTable::refuse(uint64_t site, const std::string& reason) {
  Site& s = sites_[site];
  s.address = site;
  s.state = SiteState::kRefused;
  s.refusal = reason;
}

bool SiteTable::has_waiting() const {
  for (const auto& [addr, site] : sites_) {
    if (is_waiting(site)) return true;
  }
  return false;
}

bool SiteTable::worth_trying(const TaskSnapshot& current, uint64_t at) {
  bool worth = false;
  for (auto& [addr, site] : sites_) {
    if (!is_waiting(site)) continue;
    const bool clear = blocker_of(site.window, current) == Blocker::kNone;
    if (clear) std::erase(site.blockers, current.tid);
    if (site.blockers.empty()) worth = true;
    if (addr == at && ++site.stops_since_run >= 1u << std::min(site.deferrals, 10u) && clear) worth = true;
  }
  return worth;
}

void SiteTable::forget(pid_t tid) {
  for (auto& [addr, site] : sites_) std::erase(site.blockers, tid);
}

std::vector<uint64_t> SiteTable::apply(const std::vector<TaskSnapshot>& tasks,
                                       PatchWriter& writer) {
  std::vector<uint64_t> written;
  for (auto& [addr, site] : sites_) {
    if (!is_waiting(site)) continue;
    site.last_blocker = Blocker::kNone;
    site.blockers.clear();
    site.stops_since_run = 0;
    for (const TaskSnapshot& task : tasks) {
      const Blocker why = blocker_of(site.window, task);
      if (why == Blocker::kNone) continue;
      if (site.blockers.empty()) site.last_blocker = why;
      site.blockers.push_back(task.tid);
    }
    if (!site.blockers.empty()) {
      site.state = SiteState::kDeferred;
      ++site.deferrals;
      continue;
    }
    std::string error;
    if (writer.write(site, error)) {
      site.state = SiteState::kPatched;
      written.push_back(addr);
    } else if (writer.retry()) {
      break;  // this run is over; the site stays waiting
    } else {
      site.state = SiteState::kRefused;
      site.refusal = error;
    }
  }
  return written;
}

const Site* SiteTable::find(uint64_t site) const {
  auto it = sites_.find(site);
  return it == sites_.end() ? nullptr : &it->second;
}

}  // namespace hytrace::patcher
