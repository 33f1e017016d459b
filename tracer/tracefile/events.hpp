// The events a trace holds, as plain values, and their bytes. In a chunk's
// payload each event is framed as
//
//   u16 type, u16 reserved (0), u32 body_length, then body_length bytes
//
// so a reader skips a type it does not know. The bodies are laid out in
// events.cc (one function per type, shared by encoding and decoding) and in
// docs/trace-format.md. Every event has a place in the global order (`seq`,
// from the engine's one clock); a syscall has two, at entry and at exit.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "syscalls/catalogue.hpp"

namespace hytrace::tracefile {

enum class EventType : uint16_t {
  kSyscall = 1,
  kSignal = 2,
  kProcess = 3,
  kExec = 4,
  kRdtsc = 5,
  kCpuid = 6,
  kInjected = 7,
  kMapping = 8,
  kEnd = 9,
};

inline constexpr size_t kEventFrameSize = 8;
// The largest event body: a chunk holds up to kMaxChunkBytes of events, and
// one event never spans chunks. The writer refuses a bigger event as an
// error of the trace, so a recorder must keep one call's outputs below it.
inline constexpr uint32_t kMaxEventBody = 32u << 20;

// Bytes of the program's memory at an address.
struct MemoryRange {
  uint64_t addr = 0;
  std::string bytes;
  bool operator==(const MemoryRange&) const = default;
};

enum SyscallFlag : uint32_t {
  kServedByStub = 1u << 0,    // the in-program stub ran it, no ptrace stop
  kEffectsUnknown = 1u << 1,  // the effects description does not cover it
  kUnreplayable = 1u << 2,    // result substitution cannot replay it: see `unreplayable`
  kUnfinished = 1u << 3,      // it never returned (exit_group, killed): no exit_seq, no result
};
inline constexpr uint32_t kSyscallKnownFlags = kServedByStub | kEffectsUnknown | kUnreplayable | kUnfinished;

struct SyscallEvent {
  uint64_t entry_seq = 0;
  uint64_t exit_seq = 0;  // 0 when kUnfinished; else after entry_seq
  int32_t tid = 0;
  syscalls::Abi abi = syscalls::Abi::kX86_64;
  int64_t nr = 0;
  std::array<uint64_t, 6> args{};
  int64_t result = 0;
  uint32_t flags = 0;        // SyscallFlag bits
  std::string unreplayable;  // why, when kUnreplayable ("io_uring"); else empty
  std::vector<MemoryRange> writes;  // what the kernel wrote into the program
  // What the kernel read (paths...), as far as the recorder kept it: for
  // dump's sake only, replay does not need it.
  std::vector<MemoryRange> reads;
  bool operator==(const SyscallEvent&) const = default;
};

// A syscall hytrace itself made in the program (mapping its pages, ...), in
// its place in the order so a replay makes it too.
struct InjectedEvent : SyscallEvent {
  bool operator==(const InjectedEvent&) const = default;
};

inline constexpr size_t kSiginfoSize = 128;
inline constexpr size_t kUserRegs = 27;  // u64s of struct user_regs_struct

struct SignalEvent {
  enum class Where : uint8_t {
    kAtEvent = 0,     // at a syscall or other event of the task: `at_seq`
    kInUserCode = 1,  // between events: ip, registers, extended state, stack hash
  };
  uint64_t seq = 0;
  int32_t tid = 0;
  std::array<uint8_t, kSiginfoSize> siginfo{};  // siginfo_t as the kernel gave it
  Where where = Where::kAtEvent;
  uint64_t at_seq = 0;                        // kAtEvent
  uint64_t ip = 0;                            // kInUserCode, and below
  std::array<uint64_t, kUserRegs> regs{};     // struct user_regs_struct, in its order
  std::string xstate;                         // PTRACE_GETREGSET NT_X86_XSTATE bytes
  uint64_t stack_hash = 0;                    // XXH64 of the page at the stack pointer
  bool operator==(const SignalEvent&) const = default;
};

struct ProcessEvent {
  enum class Kind : uint8_t { kClone = 0, kFork = 1, kVfork = 2, kExit = 3 };
  uint64_t seq = 0;
  Kind kind = Kind::kClone;
  int32_t tid = 0;     // the parent for clone/fork/vfork; the task for exit
  int32_t child = 0;   // clone/fork/vfork
  uint64_t flags = 0;  // clone flags (CLONE_*)
  int32_t status = 0;  // exit: the wait status, as waitpid(2) gives it
  std::vector<MemoryRange> writes;  // CLONE_PARENT_SETTID, CLONE_CHILD_SETTID
  bool operator==(const ProcessEvent&) const = default;
};

// A file mapped executable (and the program itself), to tell at replay
// whether it is still the same file.
struct MappedFile {
  std::string path;
  uint64_t size = 0;
  int64_t mtime_ns = 0;    // since the epoch
  uint64_t content_hash = 0;  // XXH64 of the content
  bool operator==(const MappedFile&) const = default;
};

struct ExecEvent {
  uint64_t seq = 0;
  int32_t tid = 0;
  int32_t former_tid = 0;  // differs from tid when a non-leader thread exec'd
  std::string path;        // the program's path as the kernel resolved it
  std::vector<std::string> argv;
  std::vector<std::string> envp;
  std::string cwd;
  std::vector<std::pair<uint64_t, uint64_t>> auxv;  // (AT_*, value), without AT_NULL
  std::array<uint8_t, 16> at_random{};
  std::vector<MappedFile> files;
  bool operator==(const ExecEvent&) const = default;
};

struct RdtscEvent {
  uint64_t seq = 0;
  int32_t tid = 0;
  bool rdtscp = false;
  uint64_t ip = 0;
  uint64_t value = 0;  // edx:eax
  uint32_t aux = 0;    // rdtscp's ecx (TSC_AUX)
  bool operator==(const RdtscEvent&) const = default;
};

struct CpuidEvent {
  uint64_t seq = 0;
  int32_t tid = 0;
  uint64_t ip = 0;
  uint32_t leaf = 0, subleaf = 0;
  uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0;
  bool operator==(const CpuidEvent&) const = default;
};

// A page range of hytrace's own in the program.
struct MappingEvent {
  enum class Kind : uint8_t { kGate = 0, kBuffer = 1, kStub = 2, kTrampoline = 3, kOther = 4 };
  uint64_t seq = 0;
  int32_t tid = 0;
  Kind kind = Kind::kOther;
  uint64_t addr = 0;
  uint64_t length = 0;
  uint32_t prot = 0;  // PROT_* bits
  bool operator==(const MappingEvent&) const = default;
};

// The last event of a complete recording.
struct EndEvent {
  uint64_t seq = 0;
  int32_t tid = 0;      // the root
  int32_t status = 0;   // the root's wait status
  uint64_t events = 0;  // how many events the trace holds before this one
  bool operator==(const EndEvent&) const = default;
};

using Event = std::variant<SyscallEvent, SignalEvent, ProcessEvent, ExecEvent, RdtscEvent,
                           CpuidEvent, InjectedEvent, MappingEvent, EndEvent>;

EventType type_of(const Event& event);
// "syscall", "signal", ... (as dump --json names them).
const char* type_name(EventType type);

// The smallest and largest sequence number an event holds.
std::pair<uint64_t, uint64_t> seq_range(const Event& event);

// Appends the framed event to `out`. Throws std::length_error when its body
// is over kMaxEventBody.
void encode(const Event& event, std::string& out);

// One framed event at the start of `bytes`.
struct Decoded {
  enum class Status : uint8_t {
    kEvent,    // `event` holds it
    kUnknown,  // a type this reader does not know: skip `size` bytes
    kError,    // `error` says why; `size` is 0
  };
  Status status = Status::kError;
  size_t size = 0;  // frame and body
  std::optional<Event> event;
  uint16_t type = 0;
  std::string error;
};
Decoded decode(std::span<const uint8_t> bytes);

// What is wrong with an event's values (an unknown flag, an exit before its
// entry...); empty when nothing. decode() runs it.
std::string check(const Event& event);

}  // namespace hytrace::tracefile
