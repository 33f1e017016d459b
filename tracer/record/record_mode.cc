#include "tracer/record/record_mode.hpp"

#include <elf.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "syscalls/catalogue.hpp"
#include "tracer/remote_memory.hpp"
#include "tracer/tracefile/format.hpp"

namespace hytrace::tracer {
namespace {

using tracefile::MemoryRange;

// One event stays below the trace's limit with room for its fixed fields.
constexpr uint64_t kMostEventBytes = tracefile::kMaxEventBody - (64u << 10);
// What the kernel read is kept for dump's sake only: paths, small structures.
constexpr uint64_t kMostReadBytes = 4096;

// Why result substitution cannot replay a call, "" when it can: the kernel
// keeps writing into the program after the call returned, or the call's
// meaning is outside the program's memory and registers.
std::string_view unreplayable_reason(syscalls::Abi abi, long nr, bool effects_known) {
  const std::string_view name = syscalls::name_of(abi, nr);
  if (name.starts_with("io_uring_")) return "io_uring";
  if (name == "io_setup" || name == "io_submit" || name == "io_getevents" || name == "io_pgetevents" ||
      name == "io_cancel" || name == "io_destroy") {
    return "aio ring";
  }
  if (name == "userfaultfd" || name == "perf_event_open" || name == "bpf") return name;
  if (!effects_known) return "effects unknown";
  return {};
}

MemoryRange read_range(pid_t tid, uint64_t addr, uint64_t len) {
  MemoryRange range;
  range.addr = addr;
  range.bytes.resize(len);
  range.bytes.resize(RemoteMemory(tid).read(addr, range.bytes.data(), len));
  return range;
}

// A NUL-terminated string, NUL included, at most kMostReadBytes.
MemoryRange read_string(pid_t tid, uint64_t addr) {
  MemoryRange range = read_range(tid, addr, kMostReadBytes);
  const size_t nul = range.bytes.find('\0');
  if (nul != std::string::npos) range.bytes.resize(nul + 1);
  return range;
}

// Into `out`, reusing its strings' memory: this runs for every call a stub
// served, thousands a millisecond.
void assign_ranges(const Captured& captured, std::vector<MemoryRange>& out) {
  out.resize(captured.ranges.size());
  for (size_t i = 0; i < out.size(); ++i) {
    out[i].addr = captured.ranges[i].first;
    out[i].bytes.assign(captured.ranges[i].second);
  }
}

}  // namespace

RecordMode::RecordMode(tracefile::TraceWriter& writer, RecordOptions options, std::function<void()> stop)
    : writer_(writer), options_(options), stop_(std::move(stop)), last_flush_(std::chrono::steady_clock::now()) {}

void RecordMode::append(const tracefile::Event& event) {
  last_seq_ = std::max(last_seq_, tracefile::seq_range(event).second);
  writer_.append(event);
  if (++appended_ % kCheckEvery == 0) check_writer();
}

// Every kCheckEvery events (status() takes a lock; the clock is a vDSO call):
// - the writer keeps its first error and appends nothing after it, so a run
//   that went on would have a gap: it ends;
// - a chunk waiting longer than kFlushAfter goes to the file, so a recorder
//   killed with SIGKILL loses at most that much of a slow program's run.
void RecordMode::check_writer() {
  if (!stopped_ && !writer_.status().empty()) {
    stopped_ = true;
    stop_();
    return;
  }
  const auto now = std::chrono::steady_clock::now();
  if (now - last_flush_ >= kFlushAfter) {
    writer_.flush();
    last_flush_ = now;
  }
}

RecordMode::Pending* RecordMode::find_pending(uint64_t seq) {
  for (size_t i = live_; i-- > 0;) {
    if (pending_[i].frame.seq == seq) return &pending_[i];
  }
  return nullptr;
}

// Slots are reused with the memory of their vectors.
RecordMode::Pending& RecordMode::add_pending() {
  if (live_ == pending_.size()) pending_.emplace_back();
  Pending& p = pending_[live_++];
  p.effects.reset();
  p.modelled = false;
  p.reads.clear();
  p.unreplayable.clear();
  return p;
}

// The last live slot (the usual case: calls end in the order they began)
// needs no swap, which would move the whole slot three times.
void RecordMode::remove_pending(Pending& p) {
  Pending& last = pending_[--live_];
  if (&p != &last) std::swap(p, last);
}

void RecordMode::on_syscall_enter(Task& task, SyscallFrame& frame) {
  Pending& p = add_pending();
  p.tid = task.tid;
  p.frame = frame;
  if (frame.buffered) {
    if (frame.captured) assign_ranges(*frame.captured, p.reads);
    return;
  }
  const bool x86_64 = frame.call.abi == syscalls::Abi::kX86_64;
  // glibc falls back when rseq is refused: the kernel's writes into the
  // rseq area at every preemption could not be replayed.
  if (x86_64 && frame.call.nr == SYS_rseq) {
    frame.skip = true;
    frame.result = -ENOSYS;
  }
  if (x86_64 && frame.call.nr == SYS_io_uring_setup && !options_.allow_io_uring) {
    frame.skip = true;
    frame.result = -ENOSYS;
  }
  // The engine models exec and sigreturn itself (exec and signal events),
  // and a refused call wrote nothing: their memory effects do not matter.
  const syscalls::Role role = syscalls::role_of(frame.call.abi, frame.call.nr);
  p.modelled = frame.skip || role == syscalls::Role::kExec || role == syscalls::Role::kSigreturn;
  RemoteMemory memory(task.tid);
  if (role == syscalls::Role::kExec) {
    // The exec event holds argv and envp; the path is kept for dump's line.
    const bool at = syscalls::name_of(frame.call.abi, frame.call.nr) == "execveat";
    p.reads.push_back(read_string(task.tid, frame.call.args[at ? 1 : 0]));
  }
  p.effects = syscalls::Effects::at_entry(frame.call, memory);
  if (!p.modelled) p.unreplayable = unreplayable_reason(frame.call.abi, frame.call.nr, p.effects.has_value());
  if (!p.effects) return;
  for (const syscalls::Region& r : p.effects->reads()) {
    p.reads.push_back(read_range(task.tid, r.addr, std::min(r.len, kMostReadBytes)));
  }
}

void RecordMode::read_writes(pid_t tid, const Pending& p, long result, tracefile::SyscallEvent& out) {
  RemoteMemory memory(tid);
  uint64_t total = 0;
  for (const syscalls::Region& r : p.effects->writes(result, memory)) {
    if (total + r.len > kMostEventBytes) {
      out.flags |= tracefile::kUnreplayable;
      out.unreplayable = "outputs over the trace's event limit";
      return;
    }
    total += r.len;
    out.writes.push_back(read_range(tid, r.addr, r.len));
  }
}

void RecordMode::append_syscall(Pending& p, const SyscallFrame& frame, std::optional<long> result) {
  auto& e = std::get<tracefile::SyscallEvent>(scratch_);
  std::swap(e.reads, p.reads);
  e.entry_seq = p.frame.seq;
  e.exit_seq = result ? frame.exit_seq : 0;
  e.tid = p.tid;
  e.abi = p.frame.call.abi;
  e.nr = p.frame.call.nr;
  std::copy(std::begin(p.frame.call.args), std::end(p.frame.call.args), e.args.begin());
  e.result = result.value_or(0);
  e.flags = result ? 0u : uint32_t{tracefile::kUnfinished};
  e.unreplayable = p.unreplayable;
  // A stub's call refills the last call's writes in place, keeping their
  // strings' memory; every other call starts them afresh.
  if (p.frame.buffered && result && frame.captured) {
    assign_ranges(*frame.captured, e.writes);
  } else {
    e.writes.clear();
  }
  if (p.frame.buffered) {
    e.flags |= tracefile::kServedByStub;
    ++counts_.served_by_stub;
  } else if (!p.effects) {
    if (!p.modelled) e.flags |= tracefile::kEffectsUnknown;
  } else if (result) {
    read_writes(p.tid, p, *result, e);
  }
  if (!e.unreplayable.empty()) e.flags |= tracefile::kUnreplayable;
  counts_.unreplayable += !e.unreplayable.empty();
  ++counts_.syscalls;
  append(scratch_);
}

void RecordMode::on_syscall_exit(Task& task, const SyscallFrame& frame, long result) {
  Pending* p = find_pending(frame.seq);
  if (!p) return;  // entered before the recording (cannot happen when spawned)
  append_syscall(*p, frame, result);
  remove_pending(*p);
  last_exit_[task.tid] = {frame.exit_seq, frame.buffered ? frame.ip : frame.exit_ip, result};
}

void RecordMode::on_signal(Task& task, SignalDelivery& delivery) {
  tracefile::SignalEvent e;
  e.seq = delivery.seq;
  e.tid = task.tid;
  std::memcpy(e.siginfo.data(), &delivery.info, std::min(sizeof delivery.info, e.siginfo.size()));
  user_regs_struct regs{};
  static_assert(sizeof regs == tracefile::kUserRegs * sizeof(uint64_t));
  if (ptrace(PTRACE_GETREGS, task.tid, nullptr, &regs) == 0) std::memcpy(e.regs.data(), &regs, sizeof regs);
  e.ip = regs.rip;
  // At a syscall's exit (it was interrupted, or the signal was pending when
  // it returned) the registers are as the exit left them; anywhere else the
  // program ran code of its own since its last event.
  const auto last = last_exit_.find(task.tid);
  if (last != last_exit_.end() && last->second.ip == regs.rip &&
      static_cast<long>(regs.rax) == last->second.result && !task.in_syscall()) {
    e.where = tracefile::SignalEvent::Where::kAtEvent;
    e.at_seq = last->second.seq;
  } else {
    e.where = tracefile::SignalEvent::Where::kInUserCode;
  }
  std::string xstate(4096, '\0');
  iovec io{xstate.data(), xstate.size()};
  if (ptrace(PTRACE_GETREGSET, task.tid, NT_X86_XSTATE, &io) == 0) {
    xstate.resize(io.iov_len);
    e.xstate = std::move(xstate);
  }
  e.stack_hash = live_stack_hash(task.tid, regs.rsp);
  ++counts_.signals;
  append(e);
}

void RecordMode::on_task_start(const TaskStart& start) {
  tracefile::ProcessEvent e;
  e.seq = start.seq;
  e.tid = start.parent->tid;
  e.child = start.task->tid;
  e.flags = start.clone_flags;
  using Kind = tracefile::ProcessEvent::Kind;
  e.kind = (start.clone_flags & CLONE_VFORK)                   ? Kind::kVfork
           : (start.clone_flags & (CLONE_VM | CLONE_THREAD)) ? Kind::kClone
                                                               : Kind::kFork;
  if (start.clone_flags & CLONE_CHILD_SETTID) {
    // The kernel wrote the child's tid into the child's memory.
    if (const auto at = child_tid_address(*start.parent)) e.writes.push_back(read_range(start.task->tid, *at, 4));
  }
  append(e);
}

// Where CLONE_CHILD_SETTID has the kernel write: clone's child_tid
// argument, or clone3's clone_args.child_tid (read from the parent).
std::optional<uint64_t> RecordMode::child_tid_address(const Task& parent) {
  if (parent.frames.empty()) return std::nullopt;
  const syscalls::Call& call = parent.frames.back().call;
  switch (syscalls::role_of(call.abi, call.nr)) {
    case syscalls::Role::kClone:
      return call.abi == syscalls::Abi::kI386 ? call.args[4] : call.args[3];
    case syscalls::Role::kClone3: {
      uint64_t child_tid = 0;
      constexpr uint64_t kChildTidOffset = 16;  // struct clone_args: flags, pidfd, child_tid
      if (RemoteMemory(parent.tid).read(call.args[0] + kChildTidOffset, &child_tid, sizeof child_tid) != 8) {
        return std::nullopt;
      }
      return child_tid;
    }
    default: return std::nullopt;
  }
}

void RecordMode::on_exec(const Exec& exec) {
  const pid_t tid = exec.task->tid;
  // A non-leader thread that exec'd takes the leader's tid: its execve
  // stays the thread's event (it entered there; it returns as the leader).
  if (exec.former_tid != tid) last_exit_.erase(exec.former_tid);
  tracefile::ExecEvent e;
  exec_facts_.read(tid, e);
  e.seq = exec.seq;
  e.former_tid = exec.former_tid;
  if (options_.hide_vdso && ExecFacts::hide_vdso(tid)) {
    for (auto& [type, value] : e.auxv) {
      if (type == AT_SYSINFO_EHDR) type = AT_IGNORE;
    }
  }
  append(e);
}

void RecordMode::on_task_exit(const TaskExit& exit) {
  const pid_t tid = exit.task->tid;
  // exit, exit_group, or calls a fatal signal cut short: they never return.
  for (size_t i = live_; i-- > 0;) {
    if (pending_[i].tid != tid) continue;
    append_syscall(pending_[i], pending_[i].frame, std::nullopt);
    remove_pending(pending_[i]);
  }
  last_exit_.erase(tid);
  if (exit.task->is_leader()) wait_statuses_[tid] = exit.wait_status;
  tracefile::ProcessEvent e;
  e.seq = exit.seq;
  e.kind = tracefile::ProcessEvent::Kind::kExit;
  e.tid = tid;
  e.status = exit.wait_status;
  append(e);
}

// The value the tracer's CPU gave is what the program sees and the trace keeps.
void RecordMode::on_instruction(InstructionTrap& trap) {
  ++counts_.instructions;
  if (trap.kind == InstructionTrap::Kind::kCpuid) {
    tracefile::CpuidEvent e;
    e.seq = trap.seq;
    e.tid = trap.task->tid;
    e.ip = trap.ip;
    e.leaf = trap.leaf;
    e.subleaf = trap.subleaf;
    e.eax = trap.eax;
    e.ebx = trap.ebx;
    e.ecx = trap.ecx;
    e.edx = trap.edx;
    append(e);
    return;
  }
  tracefile::RdtscEvent e;
  e.seq = trap.seq;
  e.tid = trap.task->tid;
  e.rdtscp = trap.kind == InstructionTrap::Kind::kRdtscp;
  e.ip = trap.ip;
  e.value = trap.tsc;
  e.aux = trap.aux;
  append(e);
}

// hytrace's own calls, at their place in the order; the mappings among
// them also as pages of hytrace's, so a replay can tell them from the
// program's.
void RecordMode::on_injected(const Injected& injected) {
  tracefile::InjectedEvent e;
  e.entry_seq = injected.seq;
  e.exit_seq = injected.exit_seq;
  e.tid = injected.task->tid;
  e.abi = injected.call.abi;
  e.nr = injected.call.nr;
  std::copy(std::begin(injected.call.args), std::end(injected.call.args), e.args.begin());
  e.result = injected.result;
  append(e);
  const std::string_view purpose = injected.purpose;
  if (injected.call.nr != SYS_mmap || injected.result < 0 || purpose.empty()) return;
  using Kind = tracefile::MappingEvent::Kind;
  tracefile::MappingEvent m;
  m.seq = injected.seq;
  m.tid = injected.task->tid;
  m.kind = purpose == "gate"           ? Kind::kGate
           : purpose == "event buffer" ? Kind::kBuffer
           : purpose == "stub page"    ? Kind::kStub
                                       : Kind::kOther;
  m.addr = static_cast<uint64_t>(injected.result);
  m.length = injected.call.args[1];
  m.prot = static_cast<uint32_t>(injected.call.args[2]);
  append(m);
}

void RecordMode::end(pid_t root) {
  tracefile::EndEvent e;
  e.seq = last_seq_ + 1;
  e.tid = root;
  const auto status = wait_statuses_.find(root);
  e.status = status != wait_statuses_.end() ? status->second : 0;
  e.events = writer_.events();
  writer_.append(e);
}

}  // namespace hytrace::tracer
