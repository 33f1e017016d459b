// Internal to hytrace_syscalls: the rules of effects.tbl as data, the form
// gen_catalogue.py generates them in and the command handlers build.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "syscalls/effects.hpp"

namespace hytrace::syscalls::detail {

enum class Dir : uint8_t { kIn = 1, kOut = 2, kInOut = 3 };

// A number of bytes (value times elem): a literal, an argument, the pages an
// argument's bytes span, the int behind an argument before or after the
// call, or the result.
struct Count {
  enum class Kind : uint8_t { kNone, kLiteral, kArg, kPages, kAtEntry, kAtExit, kResult };
  Kind kind = Kind::kNone;
  uint8_t arg = 0;
  uint32_t literal = 0;
  uint32_t elem = 1;
};

enum class Shape : uint8_t {
  kBytes,    // `size` bytes
  kCString,  // a NUL-terminated string (in)
  kIov,      // `size` iovecs (a count); their buffers
  kMsghdr,   // one struct msghdr and what it points to
  kMmsghdr,  // `size` struct mmsghdr (a count)
};

struct Term {
  Dir dir = Dir::kIn;
  uint8_t arg = 0;        // the pointer argument
  Shape shape = Shape::kBytes;
  Count size;             // kBytes: bytes; kIov, kMmsghdr: entries
  bool by_result = false; // iov(aN,ret), msghdr(ret), mmsghdr(aN,ret)
  Count cap;              // kind kNone: no cap
  bool on_error = false;  // written even when the call fails
  // Handlers only: a region at a fixed address instead of behind `arg`
  // (the pointers inside struct clone_args).
  uint64_t fixed_addr = 0;
};

enum class Handler : uint8_t {
  kNone, kIoctl, kFcntl, kPrctl, kFutex, kPtrace, kClone, kArchPrctl,
  kShmctl, kMsgctl, kSemctl, kSeccomp,
};

struct EffectsRow {
  Coverage coverage;
  Handler handler;
  uint8_t nterms;
  Term terms[8];
};

// The generated rows, one per entry of generated_table().
std::span<const EffectsRow> generated_effects();

// The terms a command adds (effects_commands.cc), read at entry through
// `mem` where the command points at more pointers. False: this command's
// effects are unknown.
bool command_terms(Handler handler, const Call& call, MemoryReader& mem, std::vector<Term>& out);

// The commands of `handler` that touch no memory of the program (their
// terms are none), and which argument holds the command; empty when the
// handler has no such list.
struct PlainCommandList {
  uint8_t arg = 0;
  std::span<const uint32_t> values;
};
PlainCommandList plain_commands_of(Handler handler);

// Named element sizes of effects.tbl (gen_catalogue.py resolves the names;
// effects.cc checks the values against the real structures).
struct NamedSize {
  const char* name;
  uint32_t bytes;
};
std::span<const NamedSize> named_sizes();

}  // namespace hytrace::syscalls::detail
