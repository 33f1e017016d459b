// numbers.tbl against the running kernel: every number the kernel
// implements, in each ABI, has a name in the table. Each number the table
// lacks is called (with zero arguments, in a child process) and must fail
// with ENOSYS; a kernel newer than the table fails this test, naming the
// numbers to import (syscalls/import_numbers.py).
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "syscalls/catalogue.hpp"

namespace hytrace::syscalls {
namespace {

constexpr long kX32Bit = 0x40000000;
constexpr long kProbeLimit = 640;  // past the last number of every ABI

long raw_result(long ret) { return ret == -1 ? -errno : ret; }
long call_x86_64(long nr) { return raw_result(::syscall(nr, 0, 0, 0, 0, 0, 0)); }
long call_x32(long nr) { return raw_result(::syscall(nr | kX32Bit, 0, 0, 0, 0, 0, 0)); }
long call_i386(long nr) {
  long ret = nr;
  // int 0x80 from 64-bit code enters the i386 table; r8-r11 are clobbered.
  asm volatile("int $0x80"
               : "+a"(ret)
               : "b"(0L), "c"(0L), "d"(0L), "S"(0L), "D"(0L)
               : "r8", "r9", "r10", "r11", "memory");
  return ret;
}

long call(Abi abi, long nr) {
  switch (abi) {
    case Abi::kX86_64: return call_x86_64(nr);
    case Abi::kX32: return call_x32(nr);
    case Abi::kI386: return call_i386(nr);
  }
  return -ENOSYS;
}

// Whether the kernel serves the ABI at all (x32 is often compiled out).
bool abi_enabled(Abi abi) {
  const long getpid_nr = *number_of(abi, "getpid");
  return call(abi, getpid_nr) == ::getpid();
}

// The numbers outside the table that the kernel answers with something
// other than ENOSYS; probed in a child, so nothing it does stays behind.
std::vector<long> implemented_but_unnamed(Abi abi) {
  int fds[2];
  if (::pipe(fds) != 0) return {-1};
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(fds[0]);
    ::alarm(20);  // a call that blocks is a number we do not know: fail, do not hang
    for (long nr = 0; nr < kProbeLimit; ++nr) {
      if (!name_of(abi, nr).empty()) continue;
      if (call(abi, nr) != -ENOSYS) {
        if (::write(fds[1], &nr, sizeof nr) != sizeof nr) ::_exit(2);
      }
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  std::vector<long> found;
  long nr = 0;
  while (::read(fds[0], &nr, sizeof nr) == sizeof nr) found.push_back(nr);
  ::close(fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) found.push_back(-1);
  return found;
}

std::string abi_name(Abi abi) {
  return abi == Abi::kX86_64 ? "x86-64" : abi == Abi::kX32 ? "x32" : "i386";
}

void expect_table_covers_kernel(Abi abi) {
  if (!abi_enabled(abi)) GTEST_SKIP() << "the running kernel does not serve the " << abi_name(abi) << " ABI";
  long named = 0;
  for (long nr = 0; nr < kProbeLimit; ++nr) named += !name_of(abi, nr).empty();
  const std::vector<long> unnamed = implemented_but_unnamed(abi);
  std::printf("%s: %ld numbers named, %ld others probed\n", abi_name(abi).c_str(), named,
              kProbeLimit - named);
  for (long nr : unnamed) {
    ADD_FAILURE() << abi_name(abi) << ": the kernel implements number " << nr
                  << (nr < 0 ? " (the probe died)" : "") << ", which syscalls/numbers.tbl lacks";
  }
}

TEST(KernelNumbers, X86_64TableCoversTheRunningKernel) { expect_table_covers_kernel(Abi::kX86_64); }
TEST(KernelNumbers, X32TableCoversTheRunningKernel) { expect_table_covers_kernel(Abi::kX32); }
TEST(KernelNumbers, I386TableCoversTheRunningKernel) { expect_table_covers_kernel(Abi::kI386); }

}  // namespace
}  // namespace hytrace::syscalls
