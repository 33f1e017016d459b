// Choosing the patch window of a site: the run of whole instructions that a
// `jmp rel32` (5 bytes) to the trampoline replaces. The trampoline runs the
// displaced instructions, relocated, with the site instruction itself
// replaced by the call into the stub, then jumps back to the window's end.
//
// A window is a run of whole instructions that contains the site, is at least
// 5 bytes long and lies inside one function (or, without a symbol, inside the
// gap between symbols; see region_for_site). It is refused when something
// could enter it other than at its first byte, or when an instruction in it
// cannot run from the trampoline. Every refusal has a reason; see
// docs/design/disasm.md for why each one exists.
//
// Preference: windows that end with the site (the instructions before it are
// displaced: typically `mov $nr, %eax` + `syscall`), then windows that reach
// further past it. The instruction after a syscall is where error checks,
// restart loops and retry paths jump back to, so a window that ends with the
// syscall keeps its interior away from the most common branch targets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "disasm/decoder.hpp"
#include "disasm/elf_symbols.hpp"
#include "disasm/references.hpp"
#include "disasm/relocate.hpp"

namespace hytrace::disasm {

enum class Refusal : uint8_t {
  no_function_bounds,                // no symbol, and the no-symbol rule cannot apply
  site_outside_function,             // the site is not inside the region given
  function_not_code,                 // the region's sweep met bytes it could not decode
  site_not_on_instruction_boundary,  // the region's sweep does not start an instruction there
  not_a_site,                        // the instruction there is not syscall/rdtsc/rdtscp
  signal_return_trampoline,          // `mov $15, %rax; syscall`: unwinders match these bytes
  indirect_jump_in_function,         // jmp through a register or table: targets unknown
  too_short,                         // no 5-byte run of whole instructions inside the region
  reference_into_window,             // a branch or lea targets the window past its first byte
  indirect_target_in_window,         // an endbr64 past the window's first byte
  another_site_in_window,            // a second syscall/sysenter/int80/rdtsc/rdtscp
  trap_in_window,                    // int3, int $n, ud2, hlt...: reports its own address
  call_in_window,                    // pushes a return address inside the trampoline
  indirect_branch_in_window,         // jmp through a register or memory
  return_in_window,                  // ret
  unrelocatable,                     // relocate() refused an instruction
  no_slot_in_reach,                  // two-byte patch: no padding within a jmp rel8
};
std::string_view to_string(Refusal reason);

struct WindowRefusal {
  Refusal reason = Refusal::no_function_bounds;
  uint64_t at = 0;  // the instruction at fault (for a reference: where it comes from)
  std::optional<RelocationError> relocation;  // for Refusal::unrelocatable

  // "unrelocatable(short_only_branch)" or "call_in_window": the reason with
  // its relocation detail; the key used in statistics.
  std::string key() const;
};

struct Window {
  uint64_t start = 0;
  uint64_t end = 0;
  std::vector<Instruction> instructions;  // the displaced instructions, in order
  size_t site_index = 0;                  // the site among them
  // A two-byte patch (choose_two_byte): the window is the syscall alone, and
  // this is the padding slot its jmp rel8 goes to.
  std::optional<uint64_t> slot;
  std::vector<uint8_t> slot_bytes;  // the padding there, to check it is unchanged in memory

  uint64_t size() const { return end - start; }
  const Instruction& site() const { return instructions[site_index]; }
};

struct WindowChoice {
  std::optional<Window> window;
  // When there is no window: why the most preferred candidate was refused
  // (or why there was no candidate at all).
  WindowRefusal refusal;

  bool ok() const { return window.has_value(); }
};

// What kind of bounds a region has.
enum class Bounds : uint8_t {
  symbol,  // a function symbol: starts at an instruction, holds only code
  gap,     // between function symbols (or segment ends): see region_for_site
};

struct WindowOptions {
  Bounds bounds = Bounds::symbol;
  // Where the displaced instructions will run. When set, every displaced
  // instruction must relocate to it (RIP-relative operands and branch targets
  // within rel32 reach); the check is exact for this address, so pass the
  // trampoline's address and relocate again at the final place. When unset,
  // only the checks that do not depend on the address are made.
  std::optional<uint64_t> stub_address;
  // References from a sweep of the whole executable segment, so that jumps
  // from other functions (`.cold` parts, shared tails) into a window are
  // seen. Required for Bounds::gap; recommended for Bounds::symbol.
  const References* segment_references = nullptr;
  uint64_t min_size = 5;
};

WindowChoice choose_window(Decoder& decoder, const Code& region, uint64_t site,
                           const WindowOptions& options = {});

// The two-byte patch of a syscall site: the `syscall` alone becomes a
// `jmp rel8` to a slot of 5 bytes of padding between functions (never
// executed, never referenced), which becomes a `jmp rel32` to the
// trampoline. A task cannot be inside a two-byte instruction, and a syscall
// the kernel restarts rewinds onto the jump: such a patch never waits for
// the tasks (docs/design/patching.md). The slot is chosen by find_slot().
// The checks of the site itself that any patch needs: the region's sweep
// decodes cleanly and lands on it, it is a syscall, not a sigreturn
// trampoline. nullopt when they pass.
std::optional<WindowRefusal> check_syscall_site(Decoder& decoder, const Code& region, uint64_t site);

// Bytes [at, at + 5) of padding that a jmp rel8 after the site reaches, and
// that no code executes: nops or int3 right after the end of a function, or
// after a ret, an unconditional jump or a trap inside one (alignment before
// a branch target); no reference into them; and not `taken`: `taken(at)` is
// true when [at, at + 5) overlaps another site's slot.
std::optional<uint64_t> find_slot(Decoder& decoder, const Code& segment, const FunctionTable& functions,
                                  const References& references, uint64_t site,
                                  const std::function<bool(uint64_t)>& taken);

// The two-byte patch of a syscall site, when a slot is in reach: a window of
// the site alone, with its slot. nullopt otherwise (then choose_window).
std::optional<Window> choose_two_byte(Decoder& decoder, const Code& segment, const Code& region,
                                      const FunctionTable& functions, const References& references,
                                      uint64_t site, const std::function<bool(uint64_t)>& taken);

// The region in which to choose a site's window.
struct Region {
  Code code;
  Bounds bounds = Bounds::symbol;
  const Function* function = nullptr;  // for Bounds::symbol
};

// The innermost function containing `site`, clipped to `segment`; without
// one, the gap around `site` between the nearest function symbols (or the
// segment's ends). nullopt when `site` is outside `segment`.
std::optional<Region> region_for_site(const Code& segment, const FunctionTable& functions,
                                      uint64_t site);

}  // namespace hytrace::disasm
