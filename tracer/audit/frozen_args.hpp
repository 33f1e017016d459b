// The time of check is the time of use: the memory an audit decision read
// (a path, openat2's open_how, a socket address) is copied into pages of the
// tracee that no task of the program can change, and the call's argument is
// pointed at the copy, so the kernel acts on exactly what hytrace checked.
// Another thread rewriting the program's own buffer after the check then
// changes nothing (docs/design/audit-policy.md, "The time of check").
//
// The pages: in every address space, one region of read-only private
// anonymous memory at a fixed address, mapped at the exit stop of each exec
// (the task alone in its new space; a fork child inherits its parent's) and
// sealed with mseal(2), so no task can mprotect, munmap, mremap, madvise or
// map over it. hytrace writes it through /proc/PID/mem. It holds kSlots
// slots, one per call in flight, of three pages (one per copy); untouched
// pages cost nothing.
#pragma once

#include <sys/types.h>

#include <array>
#include <bitset>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tracer/audit/policy_filter.hpp"

namespace hytrace::tracer {

class Engine;
struct Task;
struct AddressSpace;

struct FrozenCopy {
  int arg = 0;                 // the argument that is to point at the copy
  std::vector<uint8_t> bytes;  // what the decision read (a path with its NUL)
};

class FrozenArguments {
 public:
  static constexpr uint64_t kBase = 0x580040000000;  // 1 GiB above the stub gate (patcher/stub/layout.h)
  static constexpr uint64_t kPage = 4096;
  static constexpr uint64_t kMaxCopy = kPage;    // PATH_MAX with its NUL; open_how and sockaddr are smaller
  static constexpr size_t kCopiesPerSlot = 3;    // rename's two paths, or a path and its open_how
  static constexpr uint64_t kSlotSize = kCopiesPerSlot * kPage;
  static constexpr size_t kSlots = 1024;         // calls in flight at once in one address space
  static constexpr uint64_t kRegionSize = kSlots * kSlotSize;

  explicit FrozenArguments(Engine& engine) : engine_(engine) {}

  // The calls with which hytrace maps and seals the region, for the policy
  // filter to let through whatever the policy says (nothing else matches).
  static std::vector<audit::OwnCall> own_calls();
  static std::array<uint64_t, 6> map_args();
  static std::array<uint64_t, 6> seal_args();

  // At the exit stop of a successful exec (the task alone in its new space):
  // maps and seals the space's region.
  void on_exec(Task& task);
  // At an exit stop (not of a call the kernel is to restart): when the
  // exec's mapping did not take (a signal came first) and the task is alone
  // in its space, maps it now. Nothing otherwise.
  void retry(Task& task);
  // At the entry stop of a call that is to run: the copies go into a free
  // slot of the task's space and the arguments point at them. False when
  // they cannot (no sealed region, every slot taken, a write failed): the
  // call must then not run, and its arguments are as the program had them.
  bool freeze(Task& task, uint64_t seq, std::span<const FrozenCopy> copies);
  // At the call's exit stop: its arguments point where the program had them
  // (`restore`: not after an exec, whose registers are the new program's),
  // and its slot is free.
  void thaw(Task& task, uint64_t seq, bool restore);
  // A task that ended with calls in flight.
  void forget(pid_t tid);
  // Whether [addr, addr + len) touches the region's addresses.
  static bool touches(uint64_t addr, uint64_t len);
  // Why the region is not sealed on this kernel, once: mseal(2) is Linux
  // 6.10; without it a program could make the region writable.
  std::optional<std::string> take_problem();

 private:
  struct Space {
    std::weak_ptr<AddressSpace> space;
    bool usable = false;   // the region is there, sealed where the kernel can seal
    bool checked = false;  // looked for (a fork child's inherited region)
    bool retry = false;    // the exec's mapping was interrupted: try again at an exit stop
    bool mapped = false;   // hytrace's mmap of it took
    std::bitset<kSlots> used;
  };
  struct InFlight {
    pid_t tid = 0;
    uint64_t space_id = 0;
    size_t slot = 0;
    std::vector<std::pair<int, uint64_t>> originals;  // argument, the program's value
  };

  Space& space_of(Task& task);
  void map_region(Task& task, Space& space);
  void release(const InFlight& call);

  Engine& engine_;
  std::map<uint64_t, Space> spaces_;        // by AddressSpace::id
  std::map<uint64_t, InFlight> in_flight_;  // by the call's seq
  bool problem_told_ = false;
};

}  // namespace hytrace::tracer
