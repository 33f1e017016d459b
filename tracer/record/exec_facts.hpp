// What record keeps of an exec, read at the PTRACE_EVENT_EXEC stop (the new
// program's memory is in place, its first instruction not yet run): argv,
// environment, cwd, auxiliary vector, AT_RANDOM, and the files mapped
// executable, each with its size, mtime and content hash.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <tuple>

#include "tracer/tracefile/events.hpp"

namespace hytrace::tracer {

class ExecFacts {
 public:
  // Fills every field of `out` but seq and former_tid. What cannot be read
  // (a file gone since it was mapped) is left empty, never made up.
  void read(pid_t tid, tracefile::ExecEvent& out);

  // At the exec stop: the auxiliary vector's AT_SYSINFO_EHDR entry becomes
  // AT_IGNORE in the program's stack, so its libc finds no vDSO and makes
  // real time syscalls, which a trace can hold. False when it is not found.
  static bool hide_vdso(pid_t tid);

  // The file as it is now: size, mtime and content hash (cached).
  tracefile::MappedFile describe(const std::string& path);

 private:
  // Hashing libc at every exec would dominate a short program's recording.
  using FileKey = std::tuple<uint64_t, uint64_t, int64_t, uint64_t>;  // dev, inode, mtime, size
  std::map<FileKey, uint64_t> hashes_;
};

}  // namespace hytrace::tracer
