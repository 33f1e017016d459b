// A recorded syscall rendered as `hytrace trace` shows a live one: the entry
// from the bytes the kernel read, the exit from those it wrote. dump prints
// it; replay's divergence report shows the expected call with it.
#pragma once

#include "syscalls/decode.hpp"
#include "syscalls/format.hpp"
#include "tracer/tracefile/events.hpp"

namespace hytrace::tracefile {

struct Rendered {
  syscalls::Call call;
  syscalls::RenderedCall rc;
  syscalls::Decoded fields;  // with_fields only
};

Rendered render(const SyscallEvent& e, const syscalls::FormatOptions& opts, bool with_fields);

// "x86_64", "i386", "x32".
const char* abi_name(syscalls::Abi abi);

}  // namespace hytrace::tracefile
