// Access to a stopped tracee's memory.
#pragma once

#include <sys/types.h>

#include "syscalls/format.hpp"

namespace hytrace::tracer {

class RemoteMemory final : public syscalls::MemoryReader {
 public:
  explicit RemoteMemory(pid_t tid) : tid_(tid) {}
  // process_vm_readv; returns the readable prefix when the range runs into
  // an unmapped page.
  size_t read(uint64_t addr, void* buf, size_t len) override;
  // Through /proc/TID/mem, which writes even read-only (text) pages, or
  // PTRACE_POKEDATA where the kernel refuses that.
  bool write(uint64_t addr, const void* buf, size_t len);
  // As a store of the program's own would: process_vm_writev, which fails on
  // a read-only page (as the kernel's copy-out to the program does). For
  // what hytrace writes on the program's behalf into buffers it chose.
  bool store(uint64_t addr, const void* buf, size_t len);
  // That fallback alone: a word at a time through ptrace (a stopped tracee).
  bool poke(uint64_t addr, const void* buf, size_t len);

 private:
  pid_t tid_;
};

// XXH64 of the live part of a stack: from `sp` to the end of its page. What
// lies below the stack pointer is dead and differs between runs (a stub's
// frames when recording), so the recorder's hash of an interrupted
// context and the replay's check of it both take this range.
uint64_t live_stack_hash(pid_t tid, uint64_t sp);

}  // namespace hytrace::tracer
