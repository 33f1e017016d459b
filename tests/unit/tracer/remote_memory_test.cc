// Writing a tracee's memory where /proc/PID/mem may refuse: PTRACE_POKEDATA
// a word at a time, the last partial word keeping its other bytes.
#include "tracer/remote_memory.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>

namespace hytrace::tracer {
namespace {

TEST(RemoteMemory, PokeWritesAReadOnlyPageOfAStoppedTracee) {
  // Mapped before the fork: the child's copy is at the same address.
  auto* page = static_cast<char*>(mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(page, MAP_FAILED);
  std::memset(page, 'x', 64);
  ASSERT_EQ(mprotect(page, 4096, PROT_READ), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ptrace(PTRACE_TRACEME, 0, nullptr, nullptr);
    raise(SIGSTOP);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSTOPPED(status));
  RemoteMemory memory(child);
  const std::string text = "eleven char";  // a word and 3 bytes
  EXPECT_TRUE(memory.poke(reinterpret_cast<uint64_t>(page) + 4, text.data(), text.size()));
  char back[64] = {};
  ASSERT_EQ(memory.read(reinterpret_cast<uint64_t>(page), back, sizeof back), sizeof back);
  EXPECT_EQ(std::string(back, 20), "xxxx" + text + "xxxxx");
  EXPECT_FALSE(memory.poke(0, text.data(), text.size()));  // nothing mapped there
  kill(child, SIGKILL);
  waitpid(child, &status, 0);
  munmap(page, 4096);
}

}  // namespace
}  // namespace hytrace::tracer
