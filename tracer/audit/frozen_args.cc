#include "tracer/audit/frozen_args.hpp"

#include <sys/mman.h>
#include <sys/syscall.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "tracer/engine.hpp"

namespace hytrace::tracer {
namespace {

#ifndef SYS_mseal
constexpr long SYS_mseal = 462;
#endif

constexpr uint64_t kRegionFlags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE;
constexpr uint64_t kUserCs64 = 0x33;  // the code segment of 64-bit user code (__USER_CS)

// Whether this kernel seals memory: asked of hytrace's own memory, which the
// program cannot answer for.
bool kernel_seals() {
  static const bool seals = [] {
    void* page = mmap(nullptr, FrozenArguments::kPage, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return page != MAP_FAILED && syscall(SYS_mseal, page, FrozenArguments::kPage, 0) == 0;
  }();
  return seals;
}

// Whether the task's space has the region as hytrace maps it: exactly its
// size, read-only, private, anonymous, and sealed where the kernel seals
// (/proc/TID/smaps says "sl"). Only then can no task change the copies.
bool has_region(pid_t tid) {
  std::ifstream smaps(fmt::format("/proc/{}/smaps", tid));
  const std::string head =
      fmt::format("{:x}-{:x} r--p 00000000 00:00 0", FrozenArguments::kBase, FrozenArguments::kBase + FrozenArguments::kRegionSize);
  bool inside = false;
  for (std::string line; std::getline(smaps, line);) {
    if (!inside) {
      inside = line.rfind(head, 0) == 0 && line.find_first_not_of(' ', head.size()) == std::string::npos;
      continue;
    }
    if (line.rfind("VmFlags:", 0) == 0) {
      if (!kernel_seals()) return true;
      std::istringstream flags(line.substr(8));
      for (std::string flag; flags >> flag;) {
        if (flag == "sl") return true;
      }
      return false;
    }
  }
  return false;
}

}  // namespace

std::array<uint64_t, 6> FrozenArguments::map_args() {
  return {kBase, kRegionSize, PROT_READ, kRegionFlags, ~uint64_t{0}, 0};
}

std::array<uint64_t, 6> FrozenArguments::seal_args() { return {kBase, kRegionSize, 0, 0, 0, 0}; }

std::vector<audit::OwnCall> FrozenArguments::own_calls() {
  audit::OwnCall map{SYS_mmap, {}, map_args()};
  audit::OwnCall seal{SYS_mseal, {}, seal_args()};
  map.mask.fill(~uint64_t{0});
  seal.mask = {~uint64_t{0}, ~uint64_t{0}, ~uint64_t{0}, 0, 0, 0};  // mseal takes three
  return {map, seal};
}

FrozenArguments::Space& FrozenArguments::space_of(Task& task) {
  Space& s = spaces_[task.space->id];
  if (s.space.expired()) {
    // A new space, or a departed one's id (never reused): start afresh, and
    // drop what ended spaces left.
    s = Space{task.space};
    std::erase_if(spaces_, [](const auto& entry) { return entry.second.space.expired(); });
    return spaces_[task.space->id];
  }
  return s;
}

void FrozenArguments::on_exec(Task& task) {
  Space& space = space_of(task);
  space.checked = true;
  space.usable = false;
  map_region(task, space);
}

void FrozenArguments::retry(Task& task) {
  Space& space = space_of(task);
  // Injecting through the syscall just made is safe only with no other task
  // that could change that code: asked only when a retry is due.
  if (space.retry && engine_.alone_in_space(task)) map_region(task, space);
}

void FrozenArguments::map_region(Task& task, Space& space) {
  space.retry = false;
  // A 32-bit program would run `syscall` as an invalid opcode; its own
  // calls are not x86-64 ones, which the path rules are about.
  const auto regs = engine_.registers(task);
  if (!regs || regs->cs != kUserCs64) return;
  if (!space.mapped) {
    const auto mapped = engine_.inject_syscall(task, SYS_mmap, map_args());
    if (!mapped) {
      space.retry = true;  // a signal came first: nothing mapped
      return;
    }
    if (static_cast<uint64_t>(*mapped) != kBase) return;  // taken: fail closed
    space.mapped = true;
  }
  if (kernel_seals() && !engine_.inject_syscall(task, SYS_mseal, seal_args())) {
    space.retry = true;  // mapped, not sealed yet
    return;
  }
  // What the kernel shows, not what the calls returned: a filter of the
  // program's own could fake mseal's result.
  space.usable = has_region(task.tid);
}

bool FrozenArguments::freeze(Task& task, uint64_t seq, std::span<const FrozenCopy> copies) {
  if (copies.size() > kCopiesPerSlot) return false;
  Space& space = space_of(task);
  if (!space.checked) {
    space.checked = true;  // a fork child: its parent's region, if it kept it
    space.usable = has_region(task.tid);
  }
  if (!space.usable || space.used.all()) return false;
  size_t slot = 0;
  while (space.used.test(slot)) ++slot;
  const auto regs = engine_.registers(task);
  if (!regs) return false;
  const unsigned long long* const args[] = {&regs->rdi, &regs->rsi, &regs->rdx, &regs->r10, &regs->r8, &regs->r9};
  InFlight call{task.tid, task.space->id, slot, {}};
  const uint64_t base = kBase + slot * kSlotSize;
  for (size_t i = 0; i < copies.size(); ++i) {
    const FrozenCopy& c = copies[i];
    if (c.arg < 0 || c.arg > 5 || c.bytes.empty() || c.bytes.size() > kMaxCopy ||
        !engine_.write_memory(task, base + i * kPage, c.bytes.data(), c.bytes.size())) {
      return false;
    }
  }
  for (size_t i = 0; i < copies.size(); ++i) {
    if (!engine_.set_syscall_arg(task, copies[i].arg, base + i * kPage)) {
      for (const auto& [arg, value] : call.originals) engine_.set_syscall_arg(task, arg, value);
      return false;
    }
    call.originals.emplace_back(copies[i].arg, *args[copies[i].arg]);
  }
  space.used.set(slot);
  in_flight_[seq] = std::move(call);
  return true;
}

void FrozenArguments::thaw(Task& task, uint64_t seq, bool restore) {
  const auto it = in_flight_.find(seq);
  if (it == in_flight_.end()) return;
  if (restore) {
    for (const auto& [arg, value] : it->second.originals) engine_.set_syscall_arg(task, arg, value);
  }
  release(it->second);
  in_flight_.erase(it);
}

void FrozenArguments::forget(pid_t tid) {
  for (auto it = in_flight_.begin(); it != in_flight_.end();) {
    if (it->second.tid != tid) {
      ++it;
      continue;
    }
    release(it->second);
    it = in_flight_.erase(it);
  }
}

void FrozenArguments::release(const InFlight& call) {
  const auto space = spaces_.find(call.space_id);
  if (space != spaces_.end()) space->second.used.reset(call.slot);
}

bool FrozenArguments::touches(uint64_t addr, uint64_t len) {
  const uint64_t last = len == 0 ? addr : addr + (len - 1);
  if (last < addr) return true;  // a range that wraps touches everything
  return addr < kBase + kRegionSize && last >= kBase;
}

std::optional<std::string> FrozenArguments::take_problem() {
  if (kernel_seals() || problem_told_) return std::nullopt;
  problem_told_ = true;
  return "this kernel cannot seal memory (mseal, Linux 6.10): a program can make the copies of checked "
         "arguments writable and change a path before the kernel reads it";
}

}  // namespace hytrace::tracer
