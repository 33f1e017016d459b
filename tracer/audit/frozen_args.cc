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
constexpr size_t kLowWater = FrozenArguments::kSlots / 4;  // grow below this many free slots

uint64_t region_addr(size_t index) { return FrozenArguments::kBase + index * FrozenArguments::kRegionStride; }

// The mapping of /proc/TID/smaps that starts at `addr`: whether it is one of
// ours as a fork inherits it: exactly a region's size, read-only, private,
// anonymous and sealed (or unsealed where the kernel cannot seal).
bool is_sealed_region(pid_t tid, uint64_t addr, bool need_seal) {
  std::ifstream smaps(fmt::format("/proc/{}/smaps", tid));
  const std::string head = fmt::format("{:x}-{:x} r--p 00000000 00:00 0", addr, addr + FrozenArguments::kRegionSize);
  bool inside = false;
  for (std::string line; std::getline(smaps, line);) {
    if (!inside) {
      inside = line.rfind(head, 0) == 0 && line.find_first_not_of(' ', head.size()) == std::string::npos;
      continue;
    }
    if (line.rfind("VmFlags:", 0) == 0) {
      if (!need_seal) return true;
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

std::vector<audit::OwnCall> FrozenArguments::own_calls() {
  audit::OwnCall map{SYS_mmap, {}, map_args(0)};
  audit::OwnCall seal{SYS_mseal, {}, seal_args(0)};
  for (audit::OwnCall* call : {&map, &seal}) {
    call->mask.fill(~uint64_t{0});
    call->mask[0] = ~((kMaxRegions - 1) * kRegionStride);  // a region's address, of any region number
  }
  for (size_t i = 3; i < 6; ++i) seal.mask[i] = 0;  // mseal takes three
  return {map, seal};
}

std::array<uint64_t, 6> FrozenArguments::map_args(size_t index) {
  return {region_addr(index), kRegionSize, PROT_READ, kRegionFlags, ~uint64_t{0}, 0};
}

std::array<uint64_t, 6> FrozenArguments::seal_args(size_t index) { return {region_addr(index), kRegionSize, 0, 0, 0, 0}; }

FrozenArguments::Space& FrozenArguments::space_of(Task& task) {
  Space& s = spaces_[task.space->id];
  if (s.space.expired()) {
    // A new space, or a departed one's id (never reused): start afresh, and
    // drop what ended spaces left.
    s = Space{task.space, {}, false};
    std::erase_if(spaces_, [](const auto& entry) { return entry.second.space.expired(); });
    return spaces_[task.space->id];
  }
  return s;
}

void FrozenArguments::on_exec(Task& task) {
  Space& space = space_of(task);
  space.adopted = true;  // a new image inherits nothing
  if (space.regions.empty()) map_region(task, space);
}

void FrozenArguments::grow(Task& task) {
  Space& space = space_of(task);
  if (!space.adopted) adopt_inherited(task, space);
  if (free_slots(space) < kLowWater && space.regions.size() < kMaxRegions) map_region(task, space);
}

bool FrozenArguments::map_region(Task& task, Space& space) {
  const uint64_t addr = region_addr(space.regions.size());
  const auto mapped = engine_.inject_syscall(task, SYS_mmap, map_args(space.regions.size()));
  if (!mapped || static_cast<uint64_t>(*mapped) != addr) return false;  // taken, or a signal came first
  const auto sealed = engine_.inject_syscall(task, SYS_mseal, seal_args(space.regions.size()));
  if (sealed && *sealed != 0 && !problem_) {
    problem_ = fmt::format("cannot seal the pages of the argument copies (mseal: {}): a program can make them "
                           "writable and change a checked path before the kernel reads it",
                           std::strerror(static_cast<int>(-*sealed)));
  }
  space.regions.push_back(Region{addr, {}});
  return true;
}

void FrozenArguments::adopt_inherited(Task& task, Space& space) {
  space.adopted = true;
  while (space.regions.size() < kMaxRegions) {
    const uint64_t addr = region_addr(space.regions.size());
    if (!is_sealed_region(task.tid, addr, !problem_)) return;
    space.regions.push_back(Region{addr, {}});
  }
}

size_t FrozenArguments::free_slots(const Space& space) const {
  size_t n = 0;
  for (const Region& r : space.regions) n += kSlots - r.used.count();
  return n;
}

bool FrozenArguments::freeze(Task& task, uint64_t seq, std::span<const FrozenCopy> copies) {
  if (copies.size() > kCopiesPerSlot) return false;
  Space& space = space_of(task);
  if (!space.adopted) adopt_inherited(task, space);
  for (size_t r = 0; r < space.regions.size(); ++r) {
    Region& region = space.regions[r];
    if (region.used.all()) continue;
    size_t slot = 0;
    while (region.used.test(slot)) ++slot;
    InFlight call{task.tid, task.space->id, r, slot, {}};
    const uint64_t base = region.addr + slot * kSlotSize;
    const auto regs = engine_.registers(task);
    if (!regs) return false;
    const unsigned long long* const args[] = {&regs->rdi, &regs->rsi, &regs->rdx, &regs->r10, &regs->r8, &regs->r9};
    for (size_t i = 0; i < copies.size(); ++i) {
      const FrozenCopy& c = copies[i];
      const uint64_t at = base + i * kPage;
      if (c.arg < 0 || c.arg > 5 || c.bytes.empty() || c.bytes.size() > kMaxCopy ||
          !engine_.write_memory(task, at, c.bytes.data(), c.bytes.size())) {
        return false;
      }
      call.originals.emplace_back(c.arg, *args[c.arg]);
    }
    for (size_t i = 0; i < copies.size(); ++i) {
      if (!engine_.set_syscall_arg(task, copies[i].arg, base + i * kPage)) return false;
    }
    region.used.set(slot);
    in_flight_[seq] = std::move(call);
    return true;
  }
  return false;
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
  if (space == spaces_.end() || call.region >= space->second.regions.size()) return;
  space->second.regions[call.region].used.reset(call.slot);
}

bool FrozenArguments::touches(uint64_t addr, uint64_t len) {
  const uint64_t end = region_addr(kMaxRegions);
  const uint64_t last = len == 0 ? addr : addr + (len - 1);
  return last >= addr ? addr < end && last >= kBase : true;  // a range that wraps touches everything
}

std::optional<std::string> FrozenArguments::take_problem() {
  if (!problem_ || problem_told_) return std::nullopt;
  problem_told_ = true;
  return problem_;
}

}  // namespace hytrace::tracer
