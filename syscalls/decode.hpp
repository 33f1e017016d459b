// A syscall decoded into typed values: paths with the directory they are
// relative to and the flags that change how they resolve, socket addresses
// as family, address and port (or unix path), flag sets as names. What audit
// rules match on and what JSON events carry as "fields". Decoding reads the
// program's memory and never prints.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "syscalls/format.hpp"

namespace hytrace::syscalls {

inline constexpr int64_t kAtFdCwd = -100;

struct Path {
  std::string text;          // the bytes the program passed, up to the NUL
  bool complete = true;      // false: unreadable, or no NUL within PATH_MAX
  int64_t dirfd = kAtFdCwd;  // where a relative path starts (AT_FDCWD: the cwd)
  bool follow = true;        // a symlink as the last component is followed
  bool empty_path = false;   // AT_EMPTY_PATH: an empty path means dirfd itself
  uint64_t resolve = 0;      // openat2's RESOLVE_* flags
  bool operator==(const Path&) const = default;
};

struct SockAddr {
  int family = 0;           // AF_*
  std::string address;      // "127.0.0.1", "::1", a unix path; "" when unnamed
  int port = -1;            // AF_INET, AF_INET6; -1 otherwise
  bool abstract = false;    // AF_UNIX, in the abstract namespace (no file)
  bool complete = true;     // false: unreadable or shorter than its family needs
  bool operator==(const SockAddr&) const = default;
};

struct FlagSet {
  uint64_t value = 0;
  std::vector<std::string> names;  // "O_RDONLY", "O_CLOEXEC"; bits without a name as hex
  bool operator==(const FlagSet&) const = default;
};

struct Field {
  uint8_t arg = 0;  // the argument's index
  std::variant<Path, SockAddr, FlagSet> value;
};

struct Decoded {
  std::vector<Field> fields;
  // The field of argument `arg`, when it has one of type T.
  template <class T>
  const T* get(uint8_t arg) const {
    for (const Field& f : fields) {
      if (f.arg == arg) return std::get_if<T>(&f.value);
    }
    return nullptr;
  }
};

// What is known at entry: paths, the addresses and flags the kernel reads.
// Foreign-ABI and undecoded calls have no fields.
Decoded decode_entry(const Call& call, MemoryReader& mem);
// Adds what the kernel wrote: accept's and getsockname's addresses.
void decode_exit(Decoded& decoded, const Call& call, long result, MemoryReader& mem);

// The fields as JSON (docs/json-events.md): an array of objects, each with
// "arg" and "path", "sockaddr" or "flags".
nlohmann::json to_json(const Decoded& decoded);

}  // namespace hytrace::syscalls
