#include "disasm/window.hpp"

#include <algorithm>
#include <utility>

namespace hytrace::disasm {
namespace {

struct RegionScan {
  std::vector<Instruction> nearby;  // contiguous, around the site
  std::vector<Reference> refs;      // every reference made from the region
  uint64_t skipped_bytes = 0;
  uint64_t first_skipped = 0;
  std::optional<uint64_t> indirect_jump;  // the first jmp whose targets we cannot see
};

struct Candidate {
  size_t first = 0;  // indices into RegionScan::nearby
  size_t last = 0;
};

WindowChoice refuse(Refusal reason, uint64_t at = 0) {
  return WindowChoice{std::nullopt, WindowRefusal{reason, at, std::nullopt}};
}

bool is_endbr64(const Instruction& insn) {
  return insn.size == 4 && insn.bytes[0] == 0xf3 && insn.bytes[1] == 0x0f &&
         insn.bytes[2] == 0x1e && insn.bytes[3] == 0xfa;
}

// `mov $15, %rax` (or %eax) right before a syscall: the sigreturn trampoline
// (__restore_rt). Unwinders (libgcc, libunwind, gdb) recognise a signal frame
// by these very bytes at its return address, so they must stay as they are.
bool is_signal_return(const std::vector<Instruction>& insns, size_t site) {
  if (site == 0 || insns[site].kind != Kind::syscall) return false;
  const Instruction& mov = insns[site - 1];
  static constexpr uint8_t rax[] = {0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00};
  static constexpr uint8_t eax[] = {0xb8, 0x0f, 0x00, 0x00, 0x00};
  const std::span<const uint8_t> bytes = mov.encoding();
  return std::ranges::equal(bytes, rax) || std::ranges::equal(bytes, eax);
}

// A jmp through a register or a non-RIP memory operand: a jump table or a
// computed goto, whose targets are in data this library does not read.
// (`jmp *x(%rip)` is a tail call through the GOT: its target is elsewhere.)
bool is_unseen_jump(const Instruction& insn) {
  return insn.kind == Kind::indirect_jump && !insn.rip_relative;
}

// Keeps the instructions that start within `near` bytes of the site and
// everything the window checks need from the whole region.
RegionScan scan_region(Decoder& decoder, const Code& region, uint64_t site, uint64_t near) {
  RegionScan scan;
  Sweep sweep(decoder, region);
  while (const Instruction* insn = sweep.next()) {
    if (insn->address + near >= site && insn->address <= site + near) {
      scan.nearby.push_back(*insn);
    }
    if (std::optional<Reference> ref = reference_of(*insn)) scan.refs.push_back(*ref);
    if (is_unseen_jump(*insn) && !scan.indirect_jump) scan.indirect_jump = insn->address;
  }
  scan.skipped_bytes = sweep.skipped_bytes();
  scan.first_skipped = sweep.first_skipped();
  return scan;
}

std::optional<size_t> index_of(const std::vector<Instruction>& insns, uint64_t address) {
  auto it = std::lower_bound(insns.begin(), insns.end(), address,
                             [](const Instruction& i, uint64_t a) { return i.address < a; });
  if (it == insns.end() || it->address != address) return std::nullopt;
  return static_cast<size_t>(it - insns.begin());
}

// For each possible last instruction, from the site on, the shortest run
// ending there that reaches min_size: the windows in order of preference.
// A longer run with the same last instruction only adds instructions and
// interior boundaries, so it can never pass where the shorter one fails.
std::vector<Candidate> candidates(const std::vector<Instruction>& insns, size_t site,
                                  uint64_t min_size) {
  std::vector<Candidate> out;
  for (size_t last = site; last < insns.size(); ++last) {
    const uint64_t end = insns[last].end();
    size_t first = site;
    while (first > 0 && end - insns[first].address < min_size) --first;
    if (end - insns[first].address < min_size) continue;
    out.push_back(Candidate{first, last});
    if (first == site) break;  // later ends only add instructions after the site
  }
  return out;
}

std::optional<WindowRefusal> check_kind(const Instruction& insn, bool first) {
  auto refusal = [&](Refusal r) { return WindowRefusal{r, insn.address, std::nullopt}; };
  if (insn.is_site() || insn.kind == Kind::sysenter || insn.kind == Kind::int80) {
    return refusal(Refusal::another_site_in_window);
  }
  if (!first && is_endbr64(insn)) return refusal(Refusal::indirect_target_in_window);
  switch (insn.kind) {
    case Kind::trap:
      return refusal(Refusal::trap_in_window);
    case Kind::relative_call:
    case Kind::indirect_call:
      return refusal(Refusal::call_in_window);
    case Kind::indirect_jump:
      return refusal(Refusal::indirect_branch_in_window);
    case Kind::ret:
      return refusal(Refusal::return_in_window);
    default:
      return std::nullopt;
  }
}

std::optional<WindowRefusal> check_instruction(const Instruction& insn, bool first, uint64_t start,
                                               uint64_t end, const WindowOptions& options) {
  if (std::optional<WindowRefusal> r = check_kind(insn, first)) return r;
  if (insn.branch != Branch::none && insn.target >= start && insn.target < end) {
    return WindowRefusal{Refusal::reference_into_window, insn.address, std::nullopt};
  }
  const Relocation moved = relocate(insn, options.stub_address.value_or(insn.address));
  if (!moved.ok()) return WindowRefusal{Refusal::unrelocatable, insn.address, moved.error};
  return std::nullopt;
}

std::optional<WindowRefusal> check_references(const References& refs, uint64_t start,
                                              uint64_t end) {
  if (std::optional<Reference> ref = refs.first_in(start + 1, end)) {
    return WindowRefusal{Refusal::reference_into_window, ref->from, std::nullopt};
  }
  return std::nullopt;
}

std::optional<WindowRefusal> check_candidate(const RegionScan& scan, const References& local,
                                             Candidate c, size_t site,
                                             const WindowOptions& options) {
  const uint64_t start = scan.nearby[c.first].address;
  const uint64_t end = scan.nearby[c.last].end();
  for (size_t k = c.first; k <= c.last; ++k) {
    if (k == site) continue;  // replaced by the call into the stub, not relocated
    if (auto r = check_instruction(scan.nearby[k], k == c.first, start, end, options)) return r;
  }
  if (auto r = check_references(local, start, end)) return r;
  if (options.segment_references != nullptr) {
    if (auto r = check_references(*options.segment_references, start, end)) return r;
  }
  return std::nullopt;
}

Window make_window(const RegionScan& scan, Candidate c, size_t site) {
  Window w;
  w.start = scan.nearby[c.first].address;
  w.end = scan.nearby[c.last].end();
  w.instructions.assign(scan.nearby.begin() + static_cast<std::ptrdiff_t>(c.first),
                        scan.nearby.begin() + static_cast<std::ptrdiff_t>(c.last) + 1);
  w.site_index = site - c.first;
  return w;
}

}  // namespace

std::string_view to_string(Refusal reason) {
  switch (reason) {
    case Refusal::no_function_bounds:
      return "no_function_bounds";
    case Refusal::site_outside_function:
      return "site_outside_function";
    case Refusal::function_not_code:
      return "function_not_code";
    case Refusal::site_not_on_instruction_boundary:
      return "site_not_on_instruction_boundary";
    case Refusal::not_a_site:
      return "not_a_site";
    case Refusal::signal_return_trampoline:
      return "signal_return_trampoline";
    case Refusal::indirect_jump_in_function:
      return "indirect_jump_in_function";
    case Refusal::too_short:
      return "too_short";
    case Refusal::reference_into_window:
      return "reference_into_window";
    case Refusal::indirect_target_in_window:
      return "indirect_target_in_window";
    case Refusal::another_site_in_window:
      return "another_site_in_window";
    case Refusal::trap_in_window:
      return "trap_in_window";
    case Refusal::call_in_window:
      return "call_in_window";
    case Refusal::indirect_branch_in_window:
      return "indirect_branch_in_window";
    case Refusal::return_in_window:
      return "return_in_window";
    case Refusal::unrelocatable:
      return "unrelocatable";
    case Refusal::no_slot_in_reach:
      return "no_slot_in_reach";
  }
  return "?";
}

std::string WindowRefusal::key() const {
  std::string out(to_string(reason));
  if (relocation) {
    out += '(';
    out += to_string(*relocation);
    out += ')';
  }
  return out;
}

WindowChoice choose_window(Decoder& decoder, const Code& region, uint64_t site,
                           const WindowOptions& options) {
  if (options.bounds == Bounds::gap && options.segment_references == nullptr) {
    return refuse(Refusal::no_function_bounds);
  }
  if (!region.contains(site)) return refuse(Refusal::site_outside_function, site);
  // A window holds less than min_size bytes of other instructions on either
  // side of the site, plus one instruction (at most 15 bytes) that crosses
  // that distance: twice that is plenty.
  const uint64_t near = options.min_size + 2 * Instruction::max_size;
  const RegionScan scan = scan_region(decoder, region, site, near);
  if (scan.skipped_bytes > 0) return refuse(Refusal::function_not_code, scan.first_skipped);
  const std::optional<size_t> index = index_of(scan.nearby, site);
  if (!index) return refuse(Refusal::site_not_on_instruction_boundary, site);
  if (!scan.nearby[*index].is_site()) return refuse(Refusal::not_a_site, site);
  if (is_signal_return(scan.nearby, *index)) return refuse(Refusal::signal_return_trampoline, site);
  if (scan.indirect_jump) return refuse(Refusal::indirect_jump_in_function, *scan.indirect_jump);

  const References local(scan.refs);
  const std::vector<Candidate> all = candidates(scan.nearby, *index, options.min_size);
  if (all.empty()) return refuse(Refusal::too_short, site);
  std::optional<WindowRefusal> first_refusal;
  for (const Candidate& c : all) {
    std::optional<WindowRefusal> r = check_candidate(scan, local, c, *index, options);
    if (!r) return WindowChoice{make_window(scan, c, *index), {}};
    if (!first_refusal) first_refusal = r;
  }
  return WindowChoice{std::nullopt, *first_refusal};
}

std::optional<WindowRefusal> check_syscall_site(Decoder& decoder, const Code& region, uint64_t site) {
  const auto refusal = [](Refusal r, uint64_t at) { return WindowRefusal{r, at, std::nullopt}; };
  if (!region.contains(site)) return refusal(Refusal::site_outside_function, site);
  const RegionScan scan = scan_region(decoder, region, site, Instruction::max_size);
  if (scan.skipped_bytes > 0) return refusal(Refusal::function_not_code, scan.first_skipped);
  const std::optional<size_t> index = index_of(scan.nearby, site);
  if (!index) return refusal(Refusal::site_not_on_instruction_boundary, site);
  if (scan.nearby[*index].kind != Kind::syscall) return refusal(Refusal::not_a_site, site);
  if (is_signal_return(scan.nearby, *index)) return refusal(Refusal::signal_return_trampoline, site);
  return std::nullopt;
}

namespace {

constexpr uint64_t kSlotSize = 5;          // jmp rel32
constexpr int64_t kRel8Min = -128, kRel8Max = 127;

// A nop of any length (90, 66 90, 0f 1f /0 with prefixes 66 and 2e), or int3.
bool is_padding(const Instruction& insn) {
  std::span<const uint8_t> b = insn.encoding();
  if (b.size() == 1 && (b[0] == 0x90 || b[0] == 0xcc)) return true;
  while (!b.empty() && (b[0] == 0x66 || b[0] == 0x2e)) b = b.subspan(1);
  if (b.size() == 1 && b[0] == 0x90) return true;
  return b.size() >= 3 && b[0] == 0x0f && b[1] == 0x1f && ((b[2] >> 3) & 7) == 0;
}

// Control never falls through past it.
bool ends_flow(const Instruction& insn) {
  return insn.kind == Kind::ret || insn.kind == Kind::indirect_jump || insn.kind == Kind::trap ||
         (insn.kind == Kind::relative_jump && insn.branch == Branch::jmp);
}

struct Run {
  uint64_t start, end;
};

// Padding runs of `code` (swept from its start) that control cannot fall
// into: those after a ret, an unconditional jump or a trap; and, when
// `after_start`, one at the very start (code that follows a function's end).
void padding_runs(Decoder& decoder, const Code& code, bool after_start, std::vector<Run>& out) {
  Sweep sweep(decoder, code);
  bool unreachable = after_start;
  std::optional<Run> run;
  uint64_t expected = code.address;
  while (const Instruction* insn = sweep.next()) {
    if (insn->address != expected) break;  // undecodable bytes: stop trusting the sweep
    expected = insn->end();
    if (is_padding(*insn) && (run || unreachable)) {
      if (!run) run = Run{insn->address, insn->end()};
      run->end = insn->end();
      continue;
    }
    if (run) out.push_back(*run);
    run.reset();
    unreachable = ends_flow(*insn);
  }
  if (run) out.push_back(*run);
}

}  // namespace

std::optional<uint64_t> find_slot(Decoder& decoder, const Code& segment, const FunctionTable& functions,
                                  const References& references, uint64_t site,
                                  const std::function<bool(uint64_t)>& taken) {
  const uint64_t from = site + 2;  // a jmp rel8 is relative to its end
  const uint64_t lo = from + kRel8Min < segment.address ? segment.address : from + kRel8Min;
  const uint64_t hi = from + kRel8Max;
  std::vector<Run> runs;
  for (const Function& f : functions.all()) {
    if (f.end() + kSlotSize <= lo || f.start > hi + kSlotSize) continue;
    // Inside each nearby function, and in the gap after it.
    padding_runs(decoder, segment.slice(f.start, f.end()), false, runs);
    const uint64_t next = std::min(functions.start_after(f.end() - 1), segment.end());
    if (next > f.end() && !functions.containing(f.end())) {
      padding_runs(decoder, segment.slice(f.end(), next), true, runs);
    }
  }
  std::optional<uint64_t> best;
  const auto distance = [&](uint64_t at) { return at > from ? at - from : from - at; };
  for (const Run& r : runs) {
    for (uint64_t at = std::max(r.start, lo); at + kSlotSize <= r.end && at <= hi; ++at) {
      if (taken(at) || references.first_in(at, at + kSlotSize)) continue;
      if (!best || distance(at) < distance(*best)) best = at;
    }
  }
  return best;
}

std::optional<Window> choose_two_byte(Decoder& decoder, const Code& segment, const Code& region,
                                      const FunctionTable& functions, const References& references,
                                      uint64_t site, const std::function<bool(uint64_t)>& taken) {
  if (check_syscall_site(decoder, region, site)) return std::nullopt;
  const std::optional<uint64_t> slot = find_slot(decoder, segment, functions, references, site, taken);
  Instruction insn;
  if (!slot || !decoder.decode(segment, site, insn)) return std::nullopt;
  Window w;
  w.start = site;
  w.end = insn.end();
  w.instructions.push_back(insn);
  w.slot = slot;
  const std::span<const uint8_t> padding = segment.from(*slot).subspan(0, kSlotSize);
  w.slot_bytes.assign(padding.begin(), padding.end());
  return w;
}

std::optional<Region> region_for_site(const Code& segment, const FunctionTable& functions,
                                      uint64_t site) {
  if (!segment.contains(site)) return std::nullopt;
  if (const Function* f = functions.containing(site)) {
    return Region{segment.slice(f->start, f->end()), Bounds::symbol, f};
  }
  const uint64_t lo = std::max(functions.end_before(site), segment.address);
  const uint64_t hi = std::min(functions.start_after(site), segment.end());
  return Region{segment.slice(lo, hi), Bounds::gap, nullptr};
}

}  // namespace hytrace::disasm
