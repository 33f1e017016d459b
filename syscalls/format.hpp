// strace-style text and JSON rendering of one syscall. Formatters read the
// tracee only through a MemoryReader, so they are tested against local memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "syscalls/catalogue.hpp"

namespace hytrace::syscalls {

// Reads the traced program's memory. Returns the number of bytes copied;
// fewer than len (possibly 0) when the range is not readable.
class MemoryReader {
 public:
  virtual ~MemoryReader() = default;
  virtual size_t read(uint64_t addr, void* buf, size_t len) = 0;
};

// Reads the calling process's own memory: for tests and for events whose
// bytes were already copied out of the tracee.
class LocalMemory final : public MemoryReader {
 public:
  size_t read(uint64_t addr, void* buf, size_t len) override;
};

struct Call {
  long nr = 0;
  uint64_t args[6] = {};
  Abi abi = Abi::kX86_64;
};

struct FormatOptions {
  size_t string_limit = 32;  // -s N: characters of a string/buffer shown
  size_t array_limit = 32;   // elements of argv/envp shown before "..."
};

// A call rendered argument by argument. Entry renders every argument the
// kernel reads (their memory may be gone at exit, as after execve); exit
// renders the ones the kernel writes and the result.
struct RenderedCall {
  std::string name;               // "openat", or "syscall_0x1c2" when unknown
  std::vector<std::string> args;  // one entry per shown argument
  size_t first_exit_arg = 0;      // args[i] for i >= this are filled at exit
  std::string result;             // "3", "-1 ENOENT (No such file or directory)", "?"
  long raw_result = 0;
  bool is_error = false;
  std::string error_name;  // "ENOENT" when is_error
};

RenderedCall render_entry(const Call& call, MemoryReader& mem, const FormatOptions& opts);
void render_exit(RenderedCall& rc, const Call& call, long result, MemoryReader& mem,
                 const FormatOptions& opts);

// "name(a, b" : the part known at entry, up to the first exit argument.
std::string entry_text(const RenderedCall& rc);
// The remainder after entry_text: "c) = 3".
std::string exit_text(const RenderedCall& rc);
// The whole line without newline: "openat(AT_FDCWD, \"/etc\", O_RDONLY) = 3".
std::string line_text(const RenderedCall& rc);
// The same texts appended to `out`, for a caller that reuses one line's
// memory for every event.
void append_entry_text(std::string& out, const RenderedCall& rc);
void append_exit_text(std::string& out, const RenderedCall& rc);

// JSON form of one event; schema in docs/json-events.md.
nlohmann::json to_json(const RenderedCall& rc, const Call& call);

// True for a syscall result that the kernel turns into a restart of the
// call (or EINTR) before the program sees it: -ERESTARTSYS and friends.
bool is_restart_result(long result);

// "SIGINT", or "SIG123" for numbers without a name.
std::string signal_name(int sig);
// "ENOENT", or "E123"; "ERESTARTSYS" and friends for kernel-internal codes.
std::string errno_name(int err);
// Quotes bytes as strace does: printable ASCII as is, \n \t \" \\ escaped,
// others as \ooo or \xNN; cut at limit with "..." after the closing quote.
std::string quote(const void* data, size_t len, size_t limit, bool more_follows);

}  // namespace hytrace::syscalls
