#include "tracer/patching.hpp"

#include <asm/hwcap2.h>
#include <fcntl.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <fstream>
#include <iterator>
#include <set>

#include <fmt/format.h>

#include "disasm/references.hpp"
#include "patcher/stub_blob.hpp"
#include "syscalls/catalogue.hpp"
#include "tracer/inject_x86_64.hpp"
#include "tracer/proc_maps.hpp"
#include "tracer/ptrace_x86_64.hpp"
#include "tracer/remote_memory.hpp"

namespace hytrace::tracer {

// An ELF file's executable code as the patcher analyses it: the bytes as in
// the file (not as patched in memory), its functions, and the references of
// each executable segment's sweep.
struct FileCode {
  std::string error;
  disasm::ElfInfo elf;
  std::vector<uint8_t> bytes;
  std::vector<disasm::References> references;  // per executable segment
  // The window choice of each site analysed so far, by address in the file:
  // the bytes are the same in every process that maps the file, so a site
  // is analysed once per run, not once per process (make runs hundreds).
  std::map<uint64_t, disasm::WindowChoice> choices;
  std::vector<uint64_t> slots;  // of the two-byte patches chosen, by address in the file
  // File offsets of the sites that proved hot in some process of this run
  // and have a window: patched in every later process at its first stop.
  std::set<uint64_t> hot_offsets;
};

namespace {

namespace stub = patcher::stub;

constexpr size_t kBufferSize = 4 << 20;
// hytrace's pages go at fixed addresses just above the gate, never where
// the kernel would choose: a fork child's new buffer must not fill a hole
// its parent made (a MADV_DONTFORK range), where the program expects none.
constexpr uint64_t kSeqCounterAt = stub::kGateBase + (1u << 20);
constexpr uint64_t kBufferAt = stub::kGateBase + (2u << 20);
// Record: an output over this leaves its call to the tracer (a stop), so
// one call never takes more than a sixteenth of the buffer.
constexpr uint32_t kMostRecordedOutput = kBufferSize / 16;
constexpr unsigned kHotStops = 8;  // stops at a site before it is analysed
constexpr uint64_t kStubPageSize = 64 << 10;
constexpr uint64_t kReach = (1ull << 31) - kStubPageSize;
// Where the path for the tracee's openat goes: the gate data page, after the
// stub's data.
constexpr uint64_t kScratch = stub::kGateData + ((sizeof(hytrace_stub_data) + 63) & ~63ull);

// Syscalls that must not run on the stub's stack frame: a new stack or a
// shared one (clone, clone3, vfork), or a frame read at the stack pointer
// (rt_sigreturn). A trampoline runs them with a plain syscall instruction.
constexpr uint32_t kPlainSyscalls[] = {SYS_clone, SYS_clone3, SYS_vfork, SYS_rt_sigreturn};

using Bytes = std::vector<uint8_t>;

void put32(Bytes& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

// The code between the displaced instructions before and after the site:
// plain syscall instruction for kPlainSyscalls, the stub for everything
// else. Flags are kept: the comparisons run between pushfq and popfq, below
// the red zone.
Bytes call_stub(uint64_t at, uint64_t slot) {
  Bytes b = {0x48, 0x8d, 0x64, 0x24, 0x80,  // lea -0x80(%rsp),%rsp
             0x9c};                         // pushfq
  std::vector<size_t> to_plain;
  for (uint32_t nr : kPlainSyscalls) {
    b.insert(b.end(), {0x3d});  // cmp $nr,%eax
    put32(b, nr);
    b.insert(b.end(), {0x0f, 0x84});  // je plain (rel32, patched below)
    to_plain.push_back(b.size());
    put32(b, 0);
  }
  b.push_back(0x9d);                 // popfq
  b.insert(b.end(), {0xff, 0x15});   // call *slot(%rip)
  put32(b, static_cast<uint32_t>(slot - (at + b.size() + 4)));
  b.insert(b.end(), {0x48, 0x8d, 0xa4, 0x24, 0x80, 0x00, 0x00, 0x00});  // lea 0x80(%rsp),%rsp
  b.insert(b.end(), {0xeb, 0x00});   // jmp after (rel8, patched below)
  const size_t jump_after = b.size() - 1;
  const size_t plain = b.size();
  b.push_back(0x9d);                                                    // popfq
  b.insert(b.end(), {0x48, 0x8d, 0xa4, 0x24, 0x80, 0x00, 0x00, 0x00});  // lea 0x80(%rsp),%rsp
  b.insert(b.end(), {0x0f, 0x05});                                      // syscall
  b[jump_after] = static_cast<uint8_t>(b.size() - plain);
  for (size_t at_rel : to_plain) {
    const auto rel = static_cast<uint32_t>(plain - (at_rel + 4));
    std::memcpy(&b[at_rel], &rel, 4);
  }
  return b;
}

std::string basename_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The references of a file's segment are the costly part of the analysis
// (a sweep of all its code: a quarter of a second for libc), so they are
// kept on disk, keyed by the file's identity, in $XDG_CACHE_HOME/hytrace
// (or ~/.cache/hytrace). Without a writable cache they are just computed.
std::string cache_path(const std::string& path, uint64_t segment) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return "";
  const char* xdg = getenv("XDG_CACHE_HOME");
  const char* home = getenv("HOME");
  const std::string dir = xdg && *xdg ? std::string(xdg) + "/hytrace"
                          : home && *home ? std::string(home) + "/.cache/hytrace" : "";
  if (dir.empty()) return "";
  mkdir(dir.substr(0, dir.rfind('/')).c_str(), 0700);
  mkdir(dir.c_str(), 0700);
  return fmt::format("{}/refs-v1-{:x}-{:x}-{:x}-{:x}-{:x}", dir, st.st_dev, st.st_ino, st.st_size,
                     st.st_mtim.tv_sec, segment);
}

disasm::References segment_references(const std::string& path, const disasm::Code& code) {
  const std::string cached = cache_path(path, code.address);
  if (!cached.empty()) {
    std::ifstream in(cached, std::ios::binary);
    std::vector<disasm::Reference> refs;
    for (disasm::Reference r; in.read(reinterpret_cast<char*>(&r), sizeof r);) refs.push_back(r);
    if (!refs.empty()) return disasm::References(std::move(refs));
  }
  disasm::Decoder decoder;
  disasm::References refs = disasm::References::collect(decoder, code);
  if (!cached.empty()) {
    const std::string tmp = cached + fmt::format(".{}", getpid());
    std::ofstream out(tmp, std::ios::binary);
    for (const disasm::Reference& r : refs.all()) out.write(reinterpret_cast<const char*>(&r), sizeof r);
    out.close();
    if (out) rename(tmp.c_str(), cached.c_str());
    else unlink(tmp.c_str());
  }
  return refs;
}

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

// Runs syscalls in one stopped task. A signal (or death) that stops the task
// before an injected call runs aborts it and every later one: the wait
// status is kept for the engine, which handles it as the event it is, so no
// signal is lost.
class Injector {
 public:
  using Hook = std::function<void(const InjectedCall&)>;
  Injector(pid_t tid, const Hook& hook) : tid_(tid), hook_(hook) {}
  pid_t tid() const { return tid_; }
  // What the next calls are for, for the hook ("" for nothing in particular).
  void purpose(const char* what) { purpose_ = what; }
  long gate(long nr, std::array<uint64_t, 6> args) { return at(stub::kGateSyscallEnd - 2, nr, args); }
  // Through the syscall instruction at `insn` (before the gate exists).
  long at(uint64_t insn, long nr, std::array<uint64_t, 6> args) {
    const Injection done = interrupted_ ? Injection{} : inject_syscall(tid_, insn, nr, args);
    if (done.result && hook_) {
      InjectedCall call{tid_, {}, *done.result, purpose_};
      call.call.nr = nr;
      std::copy(args.begin(), args.end(), call.call.args);
      hook_(call);
    }
    return result_of(done);
  }
  const std::optional<int>& interrupted() const { return interrupted_; }

 private:
  long result_of(const Injection& r) {
    if (r.result) return *r.result;
    if (!interrupted_) interrupted_ = r.status;
    return -EINTR;
  }
  pid_t tid_;
  const Hook& hook_;
  const char* purpose_ = "";
  std::optional<int> interrupted_;
};

namespace {

// Maps the memfd `fd` of this process into the tracee at `at`; returns the
// address or -errno. `replace`: what is there is hytrace's own (a fork
// child's copy of its parent's), so MAP_FIXED; else nothing may be there.
long map_shared(Injector& inject, int fd, size_t size, uint64_t at, bool replace) {
  const std::string path = fmt::format("/proc/{}/fd/{}", getpid(), fd);
  if (!RemoteMemory(inject.tid()).write(kScratch, path.c_str(), path.size() + 1)) return -EFAULT;
  const long tracee_fd =
      inject.gate(SYS_openat, {static_cast<uint64_t>(AT_FDCWD), kScratch, O_RDWR | O_CLOEXEC});
  if (tracee_fd < 0) return tracee_fd;
  const uint64_t fixed = replace ? MAP_FIXED : MAP_FIXED_NOREPLACE;
  const long addr = inject.gate(SYS_mmap, {at, size, PROT_READ | PROT_WRITE, MAP_SHARED | fixed,
                                           static_cast<uint64_t>(tracee_fd), 0});
  inject.gate(SYS_close, {static_cast<uint64_t>(tracee_fd)});
  return addr >= 0 && static_cast<uint64_t>(addr) != at ? -EEXIST : addr;
}

int shared_memfd(const char* name, size_t size, void** mapping) {
  const int fd = memfd_create(name, MFD_CLOEXEC);
  if (fd < 0) return -1;
  if (ftruncate(fd, static_cast<off_t>(size)) != 0) {
    close(fd);
    return -1;
  }
  *mapping = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (*mapping == MAP_FAILED) {
    close(fd);
    return -1;
  }
  return fd;
}

hytrace_capture_rule rule_for(const syscalls::MemoryArg& m) {
  using Size = syscalls::MemoryArg::Size;
  hytrace_capture_rule r{};
  r.arg = m.arg;
  r.len_arg = m.size_arg;
  r.max = m.max;
  r.flags = static_cast<uint8_t>((m.exact ? HYTRACE_CAPTURE_EXACT : 0) | (m.redirect ? HYTRACE_CAPTURE_REDIRECT : 0));
  switch (m.size) {
    case Size::kCString: r.kind = HYTRACE_CAPTURE_CSTRING; break;
    case Size::kFromArg: r.kind = HYTRACE_CAPTURE_LEN_ARG; break;
    case Size::kFromResult: r.kind = HYTRACE_CAPTURE_LEN_RESULT; break;
    case Size::kFixed: r.kind = m.at_exit ? HYTRACE_CAPTURE_FIXED : HYTRACE_CAPTURE_FIXED_IN; break;
  }
  return r;
}

// The calls the engine models itself (processes, exec, signal frames) always
// stop, so it sees each of them.
bool never_served(long nr) {
  return syscalls::role_of(syscalls::Abi::kX86_64, nr) != syscalls::Role::kNone;
}

// A syscall whose memory depends on its command: served for the commands
// that touch none, while a rule is free.
void serve_by_command(hytrace_stub_data& d, long nr) {
  const auto plain = syscalls::plain_commands(nr);
  if (!plain || plain->values.size() > HYTRACE_STUB_MAX_COMMANDS) return;
  for (hytrace_command_rule& rule : d.commands) {
    if (rule.count != 0) continue;
    rule.nr = static_cast<uint32_t>(nr);
    rule.arg = plain->arg;
    rule.count = static_cast<uint8_t>(plain->values.size());
    std::copy(plain->values.begin(), plain->values.end(), rule.values);
    d.served[nr] = HYTRACE_SERVED_BY_COMMAND;
    return;
  }
}

// The bytes a site's window is replaced with: a jump to the trampoline, then
// int3 over the rest (never executed: nothing may enter the window there).
// A two-byte patch: a jmp rel8 to its slot.
Bytes window_bytes(const disasm::Window& w, uint64_t trampoline) {
  if (w.slot) return {0xeb, static_cast<uint8_t>(*w.slot - w.end)};
  Bytes b = {0xe9};
  put32(b, static_cast<uint32_t>(trampoline - (w.start + 5)));
  b.resize(w.size(), 0xcc);
  return b;
}

// The trampoline at `at`, or an error: displaced instructions before the
// site, the stub call, displaced instructions after it, a jump back.
std::optional<Bytes> trampoline_bytes(const disasm::Window& w, uint64_t at, std::string& error) {
  Bytes b;
  auto relocated = [&](const disasm::Instruction& insn) {
    const disasm::Relocation r = disasm::relocate(insn, at + b.size());
    if (!r.ok()) {
      error = fmt::format("unrelocatable({})", disasm::to_string(*r.error));
      return false;
    }
    b.insert(b.end(), r.bytes.begin(), r.bytes.end());
    return true;
  };
  for (size_t i = 0; i < w.site_index; ++i) {
    if (!relocated(w.instructions[i])) return std::nullopt;
  }
  const size_t call_at = b.size();
  const size_t call_size = call_stub(0, 0).size();
  size_t after = 0;
  for (size_t i = w.site_index + 1; i < w.instructions.size(); ++i) after += 15;
  // The slot goes after everything: leave room for the worst-case sizes.
  const uint64_t slot = (at + call_at + call_size + after + 5 + 7) & ~7ull;
  const Bytes call = call_stub(at + call_at, slot);
  b.insert(b.end(), call.begin(), call.end());
  for (size_t i = w.site_index + 1; i < w.instructions.size(); ++i) {
    if (!relocated(w.instructions[i])) return std::nullopt;
  }
  b.push_back(0xe9);  // jmp window end
  put32(b, static_cast<uint32_t>(w.end - (at + b.size() + 4)));
  b.resize(slot - at, 0xcc);
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<uint8_t>(stub::kStubEntry >> (8 * i)));
  return b;
}

// `drained`: when the drain ran (the tracer cannot know when a buffered
// call ran, so its duration in -c's table is 0). The record was checked by
// the buffer reader: its fields are plain values now, not program memory.
void fill_event(const patcher::BufferRecord& r, std::chrono::steady_clock::time_point drained, BufferedEvent& e) {
  e.order = r.seq;
  e.tid = static_cast<pid_t>(r.tid);
  e.exit = r.exit;
  e.result = r.result;
  e.frame.call.nr = r.nr;
  std::copy(r.args.begin(), r.args.end(), e.frame.call.args);
  e.frame.seq = e.exit ? r.entry_seq : r.seq;
  e.frame.entered = drained;
  e.frame.buffered = true;
  if (e.exit) e.frame.duration = std::chrono::nanoseconds(r.duration_ns);
}

// The read's copies of the record's captures, into `out` (its strings keep
// their memory when it is a reused one).
void fill_captured(const patcher::BufferRead& read, const patcher::BufferRecord& r, Captured& out) {
  const auto captures = read.captures_of(r);
  out.ranges.resize(captures.size());
  for (size_t i = 0; i < captures.size(); ++i) {
    out.ranges[i].first = captures[i].addr;
    out.ranges[i].second.assign(read.bytes_of(captures[i]));
  }
}

// What the spare ones may keep allocated, each and together: a burst of
// large captures should not stay allocated for good.
constexpr size_t kMostReusedBytes = 4096;
constexpr size_t kMostSpareBytes = 16u << 20;
// The lent ones are looked over when this many were lent, or twice as many
// as were still held at the last look: each look costs in proportion to
// the ones lent since.
constexpr size_t kReclaimAtLeast = 64;

// About what a Captured keeps allocated.
size_t bytes_held(const Captured& c) {
  size_t bytes = sizeof(Captured) + c.ranges.capacity() * sizeof(c.ranges[0]);
  for (const auto& range : c.ranges) bytes += range.second.capacity();
  return bytes;
}

// True when the stopped task may be between reserving a record and
// committing it: inside the stub, but not at its fallback syscall nor at the
// program's own syscall (the stub's own syscalls, gettid and
// process_vm_readv, are made while it writes a record).
// A signal handler may run in the middle of a stub call (an asynchronous
// signal can land between its reservation and its commit): a pending signal
// frame that returns into the stub's code counts too, and so does one that
// returns after the gate's syscall instruction, since a context does not
// say whether that was the program's call or one of the stub's own.
bool writing_record(const patcher::TaskSnapshot& task) {
  const auto in_stub_code = [](uint64_t ip) { return stub::in_gate(ip) && ip != stub::kTracedSyscallEnd; };
  if (std::any_of(task.signal_contexts.begin(), task.signal_contexts.end(), in_stub_code)) return true;
  if (!stub::in_gate(task.ip) || task.ip == stub::kTracedSyscallEnd) return false;
  if (task.ip != stub::kGateSyscallEnd) return true;
  // Stopped at the thunk's `ret` after a call returned (an interrupt stop
  // shows no syscall number), the stub may be writing a record.
  return task.syscall_nr < 0 || task.syscall_nr == SYS_gettid || task.syscall_nr == SYS_process_vm_readv;
}

// True when a record reserved after the drained ones may still be written
// (a task stopped halfway through writing one is found by writing_record).
bool in_flight(const SpacePatch& patch) {
  const std::span<const uint8_t> bytes(patch.buffer, patch.buffer_size);
  return patcher::header_of(bytes).head != patch.read.tail;
}

hytrace_buffer_header* header_of(SpacePatch& patch) {
  return reinterpret_cast<hytrace_buffer_header*>(patch.buffer);
}

// Whether the record (or pad) at the reading position has been written.
bool next_committed(const SpacePatch& patch) {
  return patcher::written_at({patch.buffer, patch.buffer_size}, patch.read.tail);
}

// Whether the reader waits at a record no drain has seen committed, with
// the head half a ring ahead of it.
bool reader_waits(const SpacePatch& patch) {
  const uint64_t head = patcher::header_of({patch.buffer, patch.buffer_size}).head;
  return head - patch.read.tail > patcher::ring_size(patch.buffer_size) / 2 && !next_committed(patch);
}

}  // namespace

// A task in a ptrace stop, as the patcher's rule sees it. A task in a
// syscall protects that syscall's instruction when the kernel may still run
// it again: at entry (-ENOSYS in rax) or when it is to be restarted.
std::optional<patcher::TaskSnapshot> snapshot_of_stopped(const Task& task) {
  user_regs_struct regs{};
  if (::ptrace(PTRACE_GETREGS, task.tid, nullptr, &regs) != 0) return std::nullopt;  // dead
  patcher::TaskSnapshot s;
  s.tid = task.tid;
  s.ip = regs.rip;
  s.syscall_nr = static_cast<long>(regs.orig_rax);
  const auto ax = static_cast<long>(regs.rax);
  if (s.syscall_nr >= 0 && (ax == -ENOSYS || syscalls::is_restart_result(ax))) s.syscall_ip = s.ip;
  for (const SignalContext& c : task.signal_contexts) s.signal_contexts.push_back(c.ip);
  return s;
}

patcher::TaskSnapshot snapshot_of_parked(const Task& task) {
  const SyscallFrame& frame = task.frames.back();
  patcher::TaskSnapshot s;
  s.tid = task.tid;
  s.ip = frame.ip;
  s.syscall_ip = frame.ip;
  s.syscall_nr = frame.call.nr;
  for (const SignalContext& c : task.signal_contexts) s.signal_contexts.push_back(c.ip);
  return s;
}

SpacePatch::~SpacePatch() {
  if (buffer) munmap(buffer, buffer_size);
}

Patching::Patching(const std::vector<bool>& traced, size_t string_limit, bool timed, Captures captures)
    : data_(sizeof(hytrace_stub_data), 0) {
  auto* d = reinterpret_cast<hytrace_stub_data*>(data_.data());
  d->magic = HYTRACE_STUB_MAGIC;
  d->timed = timed;
  d->tid_in_gs = (getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE) != 0;
  for (long nr = 0; nr < HYTRACE_STUB_MAX_NR && nr < static_cast<long>(traced.size()); ++nr) {
    if (!traced[nr] || never_served(nr)) continue;
    const auto memory = captures == Captures::kRecorded
                            ? syscalls::recorded_args(nr, string_limit, kMostRecordedOutput)
                            : syscalls::memory_args(nr, string_limit);
    if (!memory) {
      serve_by_command(*d, nr);
      continue;
    }
    if (memory->size() > HYTRACE_STUB_MAX_CAPTURES) continue;
    d->served[nr] = HYTRACE_SERVED;
    for (size_t i = 0; i < memory->size(); ++i) d->rules[nr][i] = rule_for((*memory)[i]);
  }
  void* mapping = nullptr;
  seq_fd_ = shared_memfd("hytrace-seq", 4096, &mapping);
  if (seq_fd_ >= 0) seq_ = static_cast<uint64_t*>(mapping);
}

Patching::~Patching() {
  if (seq_) munmap(seq_, 4096);
  if (seq_fd_ >= 0) close(seq_fd_);
}

uint64_t Patching::allowed_ip() { return stub::kGateSyscallEnd; }

bool Patching::tid_in_gs() const { return reinterpret_cast<const hytrace_stub_data*>(data_.data())->tid_in_gs; }

void Patching::tag_tid(Task& task) const {
  if (!tid_in_gs()) return;
  const auto gs = ptrace::gs_base(task.tid);
  // A base of the program's own stays (its stub asks the kernel then); the
  // tag inherited from a parent, or an exec'ing thread's old one, is replaced.
  if (!gs || (*gs != 0 && *gs != task.gs_tag)) return;
  const uint64_t tag = HYTRACE_GS_TID(task.tid);
  task.gs_tag = ptrace::set_gs_base(task.tid, tag) ? tag : 0;
}

uint64_t Patching::next_seq() {
  uint64_t seq = seq_ ? __atomic_add_fetch(seq_, 1, __ATOMIC_RELAXED) : last_seq_ + 1;
  // The counter is shared with every traced program, which can write it:
  // one that went back (or wrapped) would give the tracer's own events
  // numbers it has handed out already.
  if (seq <= last_seq_) {
    seq = last_seq_ + 1;
    if (seq_) __atomic_store_n(seq_, seq, __ATOMIC_RELAXED);
  }
  last_seq_ = seq;
  return seq;
}

uint64_t Patching::seq_now() const { return seq_ ? __atomic_load_n(seq_, __ATOMIC_ACQUIRE) : last_seq_; }

void Patching::set_up(Task& task, Injector& inject, uint64_t insn) {
  SpacePatch* patch = task.space->patch.get();
  patch->gate_tried = true;
  patch->pid = task.tgid();
  inject.purpose("gate");
  const long gate = inject.at(
      insn, SYS_mmap, {stub::kGateBase, stub::kGateSize, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, static_cast<uint64_t>(-1), 0});
  if (inject.interrupted()) {
    // A signal came first: nothing was mapped. Try again at a later stop
    // (giving up here left a busy multi-threaded program unpatched).
    patch->gate_tried = false;
    return;
  }
  if (static_cast<uint64_t>(gate) != stub::kGateBase) {
    patch->problem = gate == -EEXIST ? fmt::format("the gate's address {:#x} is taken", stub::kGateBase)
                                     : fmt::format("cannot map the gate: {}", std::strerror(static_cast<int>(-gate)));
    return;
  }
  // The stub runs read-exec and reads its data read-only; the tracer writes
  // both through /proc/PID/mem, which ignores the protection.
  RemoteMemory mem(task.tid);
  if (!mem.write(stub::kGateBase, stub::kBlob, stub::kBlobSize) ||
      inject.at(insn, SYS_mprotect, {stub::kGateBase, stub::kGateCodeSize, PROT_READ | PROT_EXEC}) != 0 ||
      inject.at(insn, SYS_mprotect, {stub::kGateData, stub::kGateSize - stub::kGateCodeSize, PROT_READ}) != 0) {
    patch->problem = "cannot write the stub";
    return;
  }
  give_buffer(inject, *patch);
}

// A buffer of the space's own, and the gate's data pointing at it.
void Patching::give_buffer(Injector& inject, SpacePatch& patch) {
  patch.needs_buffer = false;
  void* mapping = nullptr;
  const int fd = shared_memfd("hytrace-events", kBufferSize, &mapping);
  if (fd < 0) {
    patch.problem = "cannot create the event buffer";
    return;
  }
  patch.buffer = static_cast<uint8_t*>(mapping);
  patch.buffer_size = kBufferSize;
  auto* header = header_of(patch);
  header->size = kBufferSize;
  patch.read = {};
  patch.released = 0;
  patch.stalled_at = ~0ull;
  header->head = header->tail = patch.read.tail;
  patch.min_seq = seq_now();
  patch.last_tid = inject.tid();
  inject.purpose("event buffer");
  const long buffer = map_shared(inject, fd, kBufferSize, kBufferAt, patch.owns_data_range);
  close(fd);
  inject.purpose("sequence counter");
  const long seq = seq_fd_ >= 0 && !inject.interrupted()
                       ? map_shared(inject, seq_fd_, 4096, kSeqCounterAt, patch.owns_data_range)
                       : -EBADF;
  // Mapped, or half (a signal came between): ours to replace from now on.
  if (buffer >= 0 || seq >= 0) patch.owns_data_range = true;
  inject.purpose("");
  if (inject.interrupted()) {
    // A signal came first: try again at a later stop, with a new buffer.
    munmap(patch.buffer, kBufferSize);
    patch.buffer = nullptr;
    patch.needs_buffer = true;
    return;
  }
  if (buffer < 0 || seq < 0) {
    patch.problem = fmt::format("cannot map the event buffer into the program: {}",
                                std::strerror(static_cast<int>(-(buffer < 0 ? buffer : seq))));
    return;
  }
  std::vector<uint8_t> data = data_;
  auto* d = reinterpret_cast<hytrace_stub_data*>(data.data());
  d->buffer = static_cast<uint64_t>(buffer);
  d->buffer_size = kBufferSize;
  d->seq_counter = static_cast<uint64_t>(seq);
  if (!RemoteMemory(inject.tid()).write(stub::kGateData, data.data(), data.size())) {
    patch.problem = "cannot write the stub's data";
    return;
  }
  patch.ready = true;
}

std::optional<std::pair<pid_t, int>> Patching::take_interruption() {
  auto out = interruption_;
  interruption_.reset();
  return out;
}

void Patching::forked(const Task& parent, Task& child) {
  const SpacePatch& from = *parent.space->patch;
  // The child's memory is a copy of the parent's: patched windows, stub
  // pages and gate included. Only the buffer must not be shared: until the
  // child has its own, its copy of the gate records nothing.
  auto patch = std::make_shared<SpacePatch>();
  patch->problem = from.problem;
  patch->gate_tried = from.gate_tried;
  patch->pid = child.tgid();
  patch->last_tid = child.tid;
  // A distrusted parent's child has a copy of the memory that was forged:
  // it gets no buffer, and its calls stop like its parent's.
  patch->distrusted = from.distrusted;
  patch->needs_buffer = from.ready;
  patch->owns_data_range = from.owns_data_range;
  patch->sites = from.sites;
  patch->windows = from.windows;
  patch->objects = from.objects;
  patch->stub_pages = from.stub_pages;
  child.space->patch = patch;
  spaces_.push_back(patch);
  if (!from.ready && from.distrusted.empty()) return;  // no gate data was written
  const uint64_t magic = 0;
  RemoteMemory(child.tid).write(stub::kGateData + offsetof(hytrace_stub_data, magic), &magic,
                                sizeof(magic));
}

FileCode* Patching::code_of(const std::string& path) {
  auto& slot = files_[path];
  if (slot) return slot.get();
  slot = std::make_unique<FileCode>();
  try {
    slot->elf = disasm::read_elf(path);
    slot->bytes = read_file(path);
    for (const disasm::Segment& seg : slot->elf.executable_segments) {
      if (seg.file_offset + seg.file_size > slot->bytes.size()) {
        slot->references.emplace_back();
        continue;
      }
      const disasm::Code code{seg.address, {slot->bytes.data() + seg.file_offset, seg.file_size}};
      slot->references.push_back(segment_references(path, code));
    }
  } catch (const std::exception& e) {
    slot->error = e.what();
  }
  return slot.get();
}

void Patching::analyse(Task& task, SpacePatch& patch, uint64_t site) {
  patch.maps = read_maps(task.tid);
  analyse_mapped(patch, site);
  request_known(patch);
}

// A site hot in one process is hot in the next one that maps the same file
// (make runs the same compiler hundreds of times): once a space has a
// gate, the known sites of every file it maps are requested together, so
// they are written in one stop of the space instead of after 8 stops each.
void Patching::request_known(SpacePatch& patch) {
  for (const Mapping& m : patch.maps) {
    auto file = files_.find(m.path);
    if (!m.executable || file == files_.end()) continue;
    const auto& hot = file->second->hot_offsets;
    for (auto it = hot.lower_bound(m.offset); it != hot.end() && *it < m.offset + (m.end - m.start); ++it) {
      const uint64_t site = m.start + (*it - m.offset);
      if (patch.sites.wants(site)) analyse_mapped(patch, site);
    }
  }
}

// A site is hot once it has stopped kHotStops times in the whole run, counted
// by file and offset: a call made once per process (the loader's, a
// prlimit64 at start-up) is hot after a few processes of a build. A site
// outside any file is counted per process. A site hot before with a window
// is requested at its first stop.
bool Patching::hot(const Task& task, SpacePatch& patch, uint64_t site) {
  const Mapping* m = mapping_at(patch.maps, site);
  if (!m) {
    patch.maps = read_maps(task.tid);
    m = mapping_at(patch.maps, site);
  }
  if (!m || m->path.empty() || m->path[0] != '/') return ++patch.stops_at[site] >= kHotStops;
  const uint64_t offset = m->offset + (site - m->start);
  auto file = files_.find(m->path);
  if (file != files_.end() && file->second->hot_offsets.count(offset)) return true;
  return ++stops_in_run_[{m->path, offset}] >= kHotStops;
}

// A site's patch: two bytes when a slot is in reach (it never waits for the
// tasks), else a window of whole instructions.
disasm::WindowChoice Patching::choose(disasm::Decoder& decoder, FileCode& file, size_t segment_index,
                                      const disasm::Code& segment, const disasm::Region& region, uint64_t site) {
  const disasm::References& refs = file.references[segment_index];
  const auto taken = [&](uint64_t at) {
    return std::any_of(file.slots.begin(), file.slots.end(), [&](uint64_t s) { return at < s + 5 && s < at + 5; });
  };
  if (two_byte_) {
    if (auto w = disasm::choose_two_byte(decoder, segment, region.code, file.elf.functions, refs, site, taken)) {
      file.slots.push_back(*w->slot);
      return disasm::WindowChoice{std::move(*w), {}};
    }
  }
  disasm::WindowOptions options;
  options.bounds = region.bounds;
  options.segment_references = &refs;
  return disasm::choose_window(decoder, region.code, site, options);
}

void Patching::analyse_mapped(SpacePatch& patch, uint64_t site) {
  const Mapping* m = mapping_at(patch.maps, site);
  if (!m || m->path.empty() || m->path[0] != '/') return patch.sites.refuse(site, "not_in_a_file");
  FileCode* file = code_of(m->path);
  if (!file->error.empty()) return patch.sites.refuse(site, "unreadable_file");
  const uint64_t file_offset = m->offset + (site - m->start);
  patch.objects[site] = fmt::format("{}+{:#x}", basename_of(m->path), file_offset);
  for (size_t i = 0; i < file->elf.executable_segments.size(); ++i) {
    const disasm::Segment& seg = file->elf.executable_segments[i];
    if (file_offset < seg.file_offset || file_offset >= seg.file_offset + seg.file_size ||
        seg.file_offset + seg.file_size > file->bytes.size()) {
      continue;
    }
    const uint64_t bias = m->start - (seg.address + (m->offset - seg.file_offset));
    const disasm::Code segment{seg.address, {file->bytes.data() + seg.file_offset, seg.file_size}};
    disasm::Decoder decoder;
    auto known = file->choices.find(site - bias);
    if (known == file->choices.end()) {
      const auto region = disasm::region_for_site(segment, file->elf.functions, site - bias);
      if (!region) return patch.sites.refuse(site, "site_outside_segment");
      known = file->choices.emplace(site - bias, choose(decoder, *file, i, segment, *region, site - bias)).first;
    }
    const disasm::WindowChoice& choice = known->second;
    if (!choice.ok()) return patch.sites.refuse(site, choice.refusal.key());
    // Decode the window again at its run-time address, for relocation.
    disasm::Window w = *choice.window;
    const disasm::Code at_run_time{w.start + bias, segment.from(w.start).subspan(0, w.size())};
    for (disasm::Instruction& insn : w.instructions) {
      if (!decoder.decode(at_run_time, insn.address + bias, insn)) {
        return patch.sites.refuse(site, "undecodable_at_run_time");
      }
    }
    w.start += bias;
    w.end += bias;
    if (w.slot) *w.slot += bias;
    file->hot_offsets.insert(file_offset);
    patch.windows[site] = w;
    patch.sites.request(site, {w.start, w.end});
    return;
  }
  patch.sites.refuse(site, "not_in_an_executable_segment");
}

namespace {

// Writes trampolines into the stub pages and windows over the program's code.
class TracerWriter final : public patcher::PatchWriter {
 public:
  TracerWriter(Injector& inject, SpacePatch& patch) : inject_(inject), tid_(inject.tid()), patch_(patch) {}

  bool retry() const override { return inject_.interrupted().has_value(); }

  bool write(const patcher::Site& site, std::string& error) override {
    const disasm::Window& w = patch_.windows.at(site.address);
    SpacePatch::StubPage* page = page_near(w.start, error);
    if (!page) return false;
    const uint64_t at = page->address + page->used;
    const auto trampoline = trampoline_bytes(w, at, error);
    if (!trampoline) return false;
    if (page->used + trampoline->size() > page->size) {
      page->used = page->size;  // full: the next site takes a new page
      return write(site, error);
    }
    RemoteMemory mem(tid_);
    Bytes now(w.size());
    if (mem.read(w.start, now.data(), now.size()) != now.size() || !same_as_file(w, now)) {
      error = "code_changed_in_memory";
      return false;
    }
    if (w.slot && !slot_unchanged(w, mem)) {
      error = "code_changed_in_memory";
      return false;
    }
    const Bytes jump = window_bytes(w, at);
    // The trampoline first, then the slot (padding: never executed), then
    // the site: whatever runs sees either the old bytes or a complete path.
    if (!mem.write(at, trampoline->data(), trampoline->size()) ||
        (w.slot && !write_slot(w, at, mem)) || !mem.write(w.start, jump.data(), jump.size())) {
      error = "write_failed";
      return false;
    }
    page->used += (trampoline->size() + 15) & ~15ull;
    return true;
  }

 private:
  static bool slot_unchanged(const disasm::Window& w, RemoteMemory& mem) {
    Bytes now(w.slot_bytes.size());
    return mem.read(*w.slot, now.data(), now.size()) == now.size() && now == w.slot_bytes;
  }

  // The slot becomes a jmp rel32 to the trampoline.
  static bool write_slot(const disasm::Window& w, uint64_t trampoline, RemoteMemory& mem) {
    Bytes b = {0xe9};
    put32(b, static_cast<uint32_t>(trampoline - (*w.slot + 5)));
    return mem.write(*w.slot, b.data(), b.size());
  }

  static bool same_as_file(const disasm::Window& w, const Bytes& now) {
    size_t at = 0;
    for (const disasm::Instruction& insn : w.instructions) {
      if (std::memcmp(now.data() + at, insn.bytes.data(), insn.size) != 0) return false;
      at += insn.size;
    }
    return true;
  }

  SpacePatch::StubPage* page_near(uint64_t near, std::string& error) {
    for (auto& page : patch_.stub_pages) {
      const uint64_t at = page.address + page.used;
      if (page.used + 256 <= page.size && (at > near ? at - near : near - at) < kReach) return &page;
    }
    const auto hole = free_range_near(read_maps(tid_), near, kStubPageSize, kReach);
    if (!hole) {
      error = "no_stub_space_in_reach";
      return nullptr;
    }
    inject_.purpose("stub page");
    const long addr = inject_.gate(SYS_mmap, {*hole, kStubPageSize, PROT_READ | PROT_EXEC,
                                              MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
                                              static_cast<uint64_t>(-1), 0});
    inject_.purpose("");
    if (inject_.interrupted()) {
      error = "interrupted";
      return nullptr;
    }
    if (addr < 0 || static_cast<uint64_t>(addr) != *hole) {
      error = "cannot_map_stub_page";
      return nullptr;
    }
    patch_.stub_pages.push_back({*hole, kStubPageSize, 0});
    return &patch_.stub_pages.back();
  }

  Injector& inject_;
  pid_t tid_;
  SpacePatch& patch_;
};

}  // namespace

void Patching::on_entry(Task& task, SyscallFrame& frame) {
  ++stops_;
  if (SpacePatch* patch = task.space->patch.get()) {
    patch->last_tid = task.tid;
    // A distrusted space's stub stops serving through the first task seen.
    if (patch->stub_still_serving) stop_serving(*patch, task.tid);
  }
  const syscalls::SyscallInfo* info = frame.call.abi == syscalls::Abi::kX86_64 ? syscalls::lookup(frame.call.nr) : nullptr;
  ++stops_by_name_[info ? std::string(info->name) : fmt::format("syscall_{:#x}", frame.call.nr)];
  const uint64_t site = frame.ip - 2;
  if (stub::in_gate(site) || frame.call.abi != syscalls::Abi::kX86_64) return;
  const auto* d = reinterpret_cast<const hytrace_stub_data*>(data_.data());
  if (frame.call.nr < 0 || frame.call.nr >= HYTRACE_STUB_MAX_NR || !hytrace_serves(d, frame.call.nr, frame.call.args)) {
    return;
  }
  if (!task.space->patch) {
    task.space->patch = std::make_shared<SpacePatch>();
    spaces_.push_back(task.space->patch);
  }
  SpacePatch& patch = *task.space->patch;
  if ((patch.gate_tried && !patch.ready && !patch.needs_buffer) || !patch.no_more_patches.empty() ||
      !patch.sites.wants(site)) {
    return;
  }
  for (const auto& page : patch.stub_pages) {
    if (site >= page.address && site < page.address + page.size) return;  // a trampoline's plain syscall
  }
  // Only a site that has proved hot asks: a short program alone never pays
  // for the gate or the analysis (the first one of a library sweeps all its
  // code).
  if (hot(task, patch, site)) frame.patch_site = site;
}

void Patching::on_exit(Task& task, const SyscallFrame& frame, long result, const StopSpace& stop_space) {
  SpacePatch* patch = task.space->patch.get();
  if (!patch || syscalls::is_restart_result(result)) return;
  patch->last_tid = task.tid;
  if (patch->stub_still_serving) stop_serving(*patch, task.tid);
  Injector inject(task.tid, injected_);
  // The gate and the buffer are set up through this task alone: mapping
  // fresh memory at a free address cannot disturb the other tasks.
  if (frame.patch_site && !patch->gate_tried) set_up(task, inject, frame.ip - 2);
  if (patch->needs_buffer) give_buffer(inject, *patch);  // a fork child with its parent's gate
  const auto can_write = [&] { return patch->ready && patch->no_more_patches.empty() && !inject.interrupted(); };
  if (can_write() && frame.patch_site && patch->sites.wants(*frame.patch_site)) {
    analyse(task, *patch, *frame.patch_site);
  }
  // Reading the task's registers costs a ptrace call: only when a site waits.
  const bool waiting = can_write() && patch->sites.has_waiting();
  const auto self = waiting ? snapshot_of_stopped(task) : std::nullopt;
  if (self && patch->sites.worth_trying(*self, frame.ip - 2)) {
    if (const auto tasks = stop_space()) {
      TracerWriter writer(inject, *patch);
      patch->sites.apply(*tasks, writer);
    }
  }
  if (inject.interrupted()) interruption_ = {task.tid, *inject.interrupted()};
}

void Patching::task_gone(const Task& task) {
  SpacePatch* patch = task.space->patch.get();
  if (!patch) return;
  patch->sites.forget(task.tid);
  if (patch->last_tid == task.tid) patch->last_tid = 0;  // its tid may be reused by another process
  // A call that never returns (the task was killed in it) leaves its exit
  // record reserved for good.
  std::erase_if(patch->read.pending,
                [&](const patcher::PendingExit& p) { return p.tid == static_cast<uint32_t>(task.tid); });
}

void Patching::drain(AddressSpace& space, std::vector<BufferedEvent>& out,
                     const std::function<bool(pid_t)>& member) {
  SpacePatch* patch = space.patch.get();
  if (!patch || !patch->buffer || !patch->distrusted.empty()) return;
  const std::span<const uint8_t> bytes(patch->buffer, patch->buffer_size);
  const auto* d = reinterpret_cast<const hytrace_stub_data*>(data_.data());
  const patcher::BufferFacts facts{patch->min_seq, d};
  patcher::BufferRead& read = read_scratch_;
  patcher::read_buffer(bytes, patcher::header_of(bytes), patch->read, facts, read);
  // Every record read was committed, so its seq was taken before now.
  patcher::limit_sequence(read, seq_now());
  const auto now = std::chrono::steady_clock::now();
  for (const patcher::BufferRecord& r : read.records) {
    if (!member(static_cast<pid_t>(r.tid))) {
      distrust(*patch, fmt::format("a record names thread {}, which is not one of this process", r.tid));
      break;
    }
    patch->served_by_stub += r.exit;
    last_seq_ = std::max(last_seq_, r.seq);
    // Filled in place: an event is too big to build, then move.
    BufferedEvent& e = out.emplace_back();
    fill_event(r, now, e);
    e.frame.captured = captured_of(read, r);
  }
  std::swap(patch->read, read.position);
  if (!read.malformed.empty()) return distrust(*patch, read.malformed);
  if (patch->distrusted.empty()) release_read(*patch);
}

// Hands the bytes read since the last drain back to the stubs, cleared: a
// slot's old bytes may hold anything the program's calls captured, even the
// commit word a later record at that place will have, which must not be
// read before that record is written. Release order: the copies and the
// clearing are done before a stub reuses the bytes.
void Patching::release_read(SpacePatch& patch) {
  const uint64_t ring = patcher::ring_size(patch.buffer_size);
  const uint64_t to = patch.read.reusable();
  uint8_t* records = patch.buffer + sizeof(hytrace_buffer_header);
  // The reader moves forward by at most a ring's size, and never back.
  for (uint64_t at = patch.released; at < to;) {
    const uint64_t n = std::min(to - at, ring - at % ring);
    std::memset(records + at % ring, 0, n);
    at += n;
  }
  patch.released = std::max(patch.released, to);
  __atomic_store_n(&header_of(patch)->tail, patch.released, __ATOMIC_RELEASE);
}

// Never null: a buffered event shows only what was copied, never the live
// memory.
std::shared_ptr<const Captured> Patching::captured_of(const patcher::BufferRead& read,
                                                      const patcher::BufferRecord& r) {
  static const auto nothing = std::make_shared<const Captured>();
  if (r.capture_count == 0) return nothing;
  if (captured_spare_.empty() && captured_lent_.size() >= reclaim_at_) reclaim_captured();
  std::shared_ptr<Captured> c;
  if (captured_spare_.empty()) {
    c = std::make_shared<Captured>();
  } else {
    c = std::move(captured_spare_.back());
    captured_spare_.pop_back();
    spare_bytes_ -= bytes_held(*c);
  }
  fill_captured(read, r, *c);
  captured_lent_.push_back(c);
  return c;
}

// The lent ones that only this pool still holds: no event shows them any
// more, so they can be refilled (the tracer is one thread: no other copy
// can appear meanwhile).
void Patching::reclaim_captured() {
  for (size_t i = 0; i < captured_lent_.size();) {
    if (captured_lent_[i].use_count() != 1) {
      ++i;
      continue;
    }
    const size_t bytes = bytes_held(*captured_lent_[i]);
    if (bytes <= kMostReusedBytes && spare_bytes_ + bytes <= kMostSpareBytes) {
      spare_bytes_ += bytes;
      captured_spare_.push_back(std::move(captured_lent_[i]));
    }
    captured_lent_[i] = std::move(captured_lent_.back());
    captured_lent_.pop_back();
  }
  reclaim_at_ = std::max(kReclaimAtLeast, 2 * captured_lent_.size());
}

// The program wrote into its buffer what no stub writes (a stray memset, or
// on purpose): nothing more is read from the buffer, and its calls must
// reach the tracer again. The buffer is closed at once (a misaligned head
// makes every stub fall back) and the gate's magic cleared (the program
// could rewrite the head, not the read-only gate) through a live task.
void Patching::distrust(SpacePatch& patch, const std::string& why) {
  patch.distrusted = why;
  patch.ready = false;
  patch.read.pending.clear();
  fmt::print(stderr, "hytrace: pid {}: the event buffer is malformed ({}); its calls are traced without the stub from now on\n",
             patch.pid, why);
  __atomic_store_n(&header_of(patch)->head, ~0ull >> 1, __ATOMIC_RELEASE);
  stop_serving(patch, patch.last_tid);
}

void Patching::stop_serving(SpacePatch& patch, pid_t tid) {
  const uint64_t magic = 0;
  patch.stub_still_serving =
      !tid || !RemoteMemory(tid).write(stub::kGateData + offsetof(hytrace_stub_data, magic), &magic, sizeof magic);
}

bool Patching::drained(const AddressSpace& space) const {
  const SpacePatch* patch = space.patch.get();
  return !patch || !patch->buffer || !patch->distrusted.empty() ||
         (!in_flight(*patch) && patch->read.pending.empty());
}

bool Patching::stalled(AddressSpace& space) {
  SpacePatch* patch = space.patch.get();
  if (!patch || !patch->buffer || !patch->distrusted.empty()) return false;
  const uint64_t head = patcher::header_of({patch->buffer, patch->buffer_size}).head;
  // The stubs may reuse the bytes up to the reading position, or up to the
  // oldest pending exit, which a call that will never return holds for good.
  const uint64_t held = patch->read.reusable();
  if (head - held <= patcher::ring_size(patch->buffer_size) / 2) return false;
  if (held == patch->read.tail && !reader_waits(*patch)) return false;
  if (patch->stalled_at != held) {
    patch->stalled_at = held;
    patch->stall_wait = 0;
    patch->stall_waited = 0;
  }
  if (patch->stall_waited++ < patch->stall_wait) return false;
  patch->stall_waited = 0;
  patch->stall_wait = static_cast<uint32_t>(std::min<uint64_t>(2ull * patch->stall_wait + 1, UINT32_MAX));
  return true;
}

void Patching::check_stalled(AddressSpace& space, const std::vector<patcher::TaskSnapshot>& tasks,
                             const std::set<pid_t>& left) {
  SpacePatch* patch = space.patch.get();
  if (!patch || !patch->buffer || !patch->distrusted.empty()) return;
  drop_abandoned_exits(*patch, left);
  if (!reader_waits(*patch)) return;
  for (const patcher::TaskSnapshot& task : tasks) {
    if (writing_record(task)) return;
  }
  distrust(*patch, fmt::format("the record at position {} was reserved, but no thread is writing it",
                               patch->read.tail));
}

// A pending exit whose task cannot go back into the stub's call (`left`:
// Engine::left_stub) will never be committed: its bytes go back to the
// ring. The call stays without an exit, as one whose task was killed in it.
void Patching::drop_abandoned_exits(SpacePatch& patch, const std::set<pid_t>& left) {
  const size_t before = patch.read.pending.size();
  std::erase_if(patch.read.pending,
                [&](const patcher::PendingExit& p) { return left.count(static_cast<pid_t>(p.tid)) != 0; });
  if (patch.read.pending.size() != before) release_read(patch);
}

void Patching::stop_patching(AddressSpace& space, const std::string& why) {
  SpacePatch* patch = space.patch.get();
  if (!patch || !patch->no_more_patches.empty()) return;
  patch->no_more_patches = why;
  fmt::print(stderr, "hytrace: pid {}: no more syscall sites are patched ({})\n", patch->pid, why);
}

void Patching::stop_reading(AddressSpace& space, const std::string& why) {
  SpacePatch* patch = space.patch.get();
  if (patch && patch->buffer && patch->distrusted.empty()) distrust(*patch, why);
}

std::string Patching::report() const {
  std::string out = "patch report:\n";
  uint64_t by_stub = 0;
  for (const auto& space : spaces_) {
    if (!space->problem.empty()) fmt::format_to(std::back_inserter(out), "  no patching: {}\n", space->problem);
    if (!space->no_more_patches.empty()) {
      fmt::format_to(std::back_inserter(out), "  no more patching: {}\n", space->no_more_patches);
    }
    by_stub += space->served_by_stub;
    for (const auto& [addr, site] : space->sites.all()) {
      auto object = space->objects.find(addr);
      std::string state = patcher::to_string(site.state);
      if (site.state == patcher::SiteState::kRefused) state += ": " + site.refusal;
      const auto window = space->windows.find(addr);
      if (site.state == patcher::SiteState::kPatched && window != space->windows.end() && window->second.slot) {
        state += " in two bytes";
      }
      if (site.deferrals) state += fmt::format(" (deferred {} times)", site.deferrals);
      fmt::format_to(std::back_inserter(out), "  {:#x} {} {}\n", addr,
                     object == space->objects.end() ? "?" : object->second, state);
    }
  }
  fmt::format_to(std::back_inserter(out), "  syscalls served by stubs: {}, by ptrace stops: {}\n",
                 by_stub, stops_);
  std::vector<std::pair<uint64_t, std::string>> most;
  for (const auto& [name, n] : stops_by_name_) most.emplace_back(n, name);
  std::sort(most.rbegin(), most.rend());
  if (most.size() > 8) most.resize(8);
  std::string list;
  for (const auto& [n, name] : most) list += fmt::format("{}{} {}", list.empty() ? "" : ", ", name, n);
  if (!list.empty()) fmt::format_to(std::back_inserter(out), "  stopped most: {}\n", list);
  return out;
}

}  // namespace hytrace::tracer
