/* One named constant of a flag or value table. Internal to hytrace_syscalls.
 * Only C headers here, so that a table whose kernel header clashes with the
 * C++ standard headers (flags_kernel_signal.cc) can include it. */
#ifndef HYTRACE_SYSCALLS_FLAG_ENTRY_H
#define HYTRACE_SYSCALLS_FLAG_ENTRY_H

#include <stddef.h>
#include <stdint.h>

struct hytrace_flag {
  uint64_t value;
  const char* name;
};

/* The value comes from the header that defines the name; never retyped. */
#define HYTRACE_FLAG(name) {(uint64_t)(name), #name}

#endif
