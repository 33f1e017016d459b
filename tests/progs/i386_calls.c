// i386 syscalls (int 0x80) from a 64-bit program, where their numbers mean
// other x86-64 calls: the tracer must know them by (ABI, number).
//   - i386 chmod is number 15, x86-64's rt_sigreturn; it is made inside a
//     signal handler, while a signal frame is pending;
//   - i386 clone is number 120, x86-64's getresgid; it makes a thread
//     (CLONE_VM | CLONE_THREAD) that exits at once.
// Prints what it saw; the same natively and under a tracer.
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

enum { kI386Exit = 1, kI386Chmod = 15, kI386Getpid = 20, kI386Clone = 120 };

static long i386_call(long nr, long a, long b) {
  long ret = nr;
  __asm__ volatile("int $0x80" : "+a"(ret) : "b"(a), "c"(b) : "r8", "r9", "r10", "r11", "memory");
  return ret;
}

static char* path;  // below 4 GiB: i386 pointers are 32 bits
static volatile long chmod_result = -1;

static void on_usr1(int sig) {
  (void)sig;
  chmod_result = i386_call(kI386Chmod, (long)(uintptr_t)path, 0600);
}

// A thread made with i386 clone: it runs on a stack below 4 GiB and exits
// through i386 exit without touching memory; the kernel clears *ctid.
static long i386_thread(uint32_t stack_top, uint32_t ctid) {
  long ret = kI386Clone;
  const long flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
                     CLONE_SYSVSEM | CLONE_CHILD_CLEARTID;
  __asm__ volatile(
      "int $0x80\n\t"
      "test %%eax, %%eax\n\t"
      "jnz 1f\n\t"
      "mov %[exit_nr], %%eax\n\t"
      "xor %%ebx, %%ebx\n\t"
      "int $0x80\n\t"
      "1:\n\t"
      : "+a"(ret)
      : "b"(flags), "c"((long)stack_top), "d"(0L), "S"(0L), "D"((long)ctid), [exit_nr] "i"(kI386Exit)
      : "r8", "r9", "r10", "r11", "memory");
  return ret;
}

int main(void) {
  printf("i386 getpid matches: %s\n", i386_call(kI386Getpid, 0, 0) == getpid() ? "yes" : "no");

  path = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
  if (path == MAP_FAILED) return 1;
  snprintf(path, 64, "/tmp/hytrace-i386-%d", (int)getpid());
  int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
  if (fd < 0) return 1;
  close(fd);
  signal(SIGUSR1, on_usr1);
  raise(SIGUSR1);
  struct stat st;
  stat(path, &st);
  printf("i386 chmod in a handler: %ld, mode %o\n", chmod_result, (unsigned)(st.st_mode & 0777));
  unlink(path);

  for (int i = 0; i < 3; ++i) {
    char* low = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    if (low == MAP_FAILED) return 2;
    volatile int* ctid = (volatile int*)low;
    *ctid = 1;
    long tid = i386_thread((uint32_t)(uintptr_t)(low + 2 * 4096), (uint32_t)(uintptr_t)ctid);
    while (*ctid != 0) syscall(SYS_futex, ctid, FUTEX_WAIT, *ctid, NULL, NULL, 0);
    printf("i386 clone thread %d: %s\n", i, tid > 0 ? "made and gone" : "failed");
    munmap(low, 2 * 4096);
  }
  return 0;
}
