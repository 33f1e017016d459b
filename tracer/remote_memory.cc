#include "tracer/remote_memory.hpp"

#include <fcntl.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "tracer/tracefile/format.hpp"

namespace hytrace::tracer {

size_t RemoteMemory::read(uint64_t addr, void* buf, size_t len) {
  size_t done = 0;
  // One page at a time past the first failure, so a read that runs into an
  // unmapped page still returns the readable prefix.
  while (done < len) {
    iovec local{static_cast<char*>(buf) + done, len - done};
    iovec remote{reinterpret_cast<void*>(addr + done), len - done};
    const ssize_t n = process_vm_readv(tid_, &local, 1, &remote, 1, 0);
    if (n > 0) {
      done += n;
      continue;
    }
    const uint64_t page_end = ((addr + done) | 4095) + 1;
    const size_t chunk = std::min<uint64_t>(len - done, page_end - (addr + done));
    if (chunk == len - done) break;  // the failing range was already one page
    local.iov_len = remote.iov_len = chunk;
    if (process_vm_readv(tid_, &local, 1, &remote, 1, 0) != static_cast<ssize_t>(chunk)) break;
    done += chunk;
  }
  return done;
}

bool RemoteMemory::write(uint64_t addr, const void* buf, size_t len) {
  const std::string path = "/proc/" + std::to_string(tid_) + "/mem";
  const int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  ssize_t n = -1;
  if (fd >= 0) {
    n = pwrite(fd, buf, len, static_cast<off_t>(addr));
    close(fd);
  }
  return n == static_cast<ssize_t>(len) || poke(addr, buf, len);
}

bool RemoteMemory::store(uint64_t addr, const void* buf, size_t len) {
  iovec local{const_cast<void*>(buf), len};
  iovec remote{reinterpret_cast<void*>(addr), len};
  return process_vm_writev(tid_, &local, 1, &remote, 1, 0) == static_cast<ssize_t>(len);
}

// A word at a time through ptrace, for a kernel that refuses /proc/PID/mem
// writes to read-only pages (proc_mem.force_override=never); the task must
// be in a ptrace stop. The last partial word keeps its other bytes.
bool RemoteMemory::poke(uint64_t addr, const void* buf, size_t len) {
  const auto* bytes = static_cast<const uint8_t*>(buf);
  for (size_t done = 0; done < len; done += sizeof(long)) {
    long word = 0;
    const size_t n = std::min(sizeof word, len - done);
    if (n < sizeof word) {
      errno = 0;
      word = ptrace(PTRACE_PEEKDATA, tid_, addr + done, nullptr);
      if (errno != 0) return false;
    }
    std::memcpy(&word, bytes + done, n);
    if (ptrace(PTRACE_POKEDATA, tid_, addr + done, word) != 0) return false;
  }
  return true;
}

uint64_t live_stack_hash(pid_t tid, uint64_t sp) {
  std::string stack(((sp | 4095) + 1) - sp, '\0');
  const size_t got = RemoteMemory(tid).read(sp, stack.data(), stack.size());
  return tracefile::hash64({reinterpret_cast<const uint8_t*>(stack.data()), got});
}

}  // namespace hytrace::tracer
