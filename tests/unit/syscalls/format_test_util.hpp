// Helpers for formatter tests: render calls against the test's own memory.
#pragma once

#include <asm/unistd_64.h>

#include <initializer_list>
#include <string>

#include <fmt/format.h>

#include "syscalls/format.hpp"

namespace hytrace::syscalls::testing {

inline uint64_t addr(const void* p) { return reinterpret_cast<uint64_t>(p); }
inline std::string hex(const void* p) { return fmt::format("{:#x}", addr(p)); }

// An address no process has mapped.
inline constexpr uint64_t kBadAddress = 1;

inline Call make_call(long nr, std::initializer_list<uint64_t> args) {
  Call call;
  call.nr = nr;
  size_t i = 0;
  for (uint64_t a : args) call.args[i++] = a;
  return call;
}

struct Renderer {
  LocalMemory mem;
  FormatOptions opts;

  RenderedCall entry(long nr, std::initializer_list<uint64_t> args) {
    return render_entry(make_call(nr, args), mem, opts);
  }
  void exit(RenderedCall& rc, long nr, std::initializer_list<uint64_t> args, long result) {
    render_exit(rc, make_call(nr, args), result, mem, opts);
  }
  // The whole line of a call whose memory does not change while it runs.
  std::string line(long nr, std::initializer_list<uint64_t> args, long result) {
    RenderedCall rc = entry(nr, args);
    exit(rc, nr, args, result);
    return line_text(rc);
  }
};

}  // namespace hytrace::syscalls::testing
