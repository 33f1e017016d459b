#include "tracer/tracefile/render.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "tracer/tracefile/memory.hpp"

namespace hytrace::tracefile {

const char* abi_name(syscalls::Abi abi) {
  switch (abi) {
    case syscalls::Abi::kX86_64: return "x86_64";
    case syscalls::Abi::kI386: return "i386";
    case syscalls::Abi::kX32: return "x32";
  }
  return "?";
}

Rendered render(const SyscallEvent& e, const syscalls::FormatOptions& opts, bool with_fields) {
  Rendered r;
  r.call.nr = e.nr;
  r.call.abi = e.abi;
  std::copy(e.args.begin(), e.args.end(), r.call.args);
  RecordedMemory entry_mem(e.reads);
  r.rc = syscalls::render_entry(r.call, entry_mem, opts);
  if (with_fields) r.fields = syscalls::decode_entry(r.call, entry_mem);
  if (e.flags & kUnfinished) {
    r.rc.result.assign(1, '?');
  } else {
    RecordedMemory exit_mem(e.writes, &e.reads);
    syscalls::render_exit(r.rc, r.call, e.result, exit_mem, opts);
    if (with_fields) syscalls::decode_exit(r.fields, r.call, e.result, exit_mem);
  }
  if (e.abi != syscalls::Abi::kX86_64) r.rc.name = fmt::format("[{}] {}", abi_name(e.abi), r.rc.name);
  return r;
}

}  // namespace hytrace::tracefile
