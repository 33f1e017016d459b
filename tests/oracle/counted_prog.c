/* Makes a known number of syscalls and nothing else: no libc, no start-up
 * code, no dynamic loader. The oracle must count exactly:
 * execve 1, getppid 100, close 5 (5 errors), write 1, exit_group 1. */
#include <asm/unistd.h>

static long sys3(long nr, long a, long b, long c) {
  long ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return ret;
}

void _start(void) {
  static const char text[] = "counted\n";
  for (int i = 0; i < 100; ++i) sys3(__NR_getppid, 0, 0, 0);
  for (int i = 0; i < 5; ++i) sys3(__NR_close, -1, 0, 0);
  sys3(__NR_write, 1, (long)text, sizeof text - 1);
  sys3(__NR_exit_group, 0, 0, 0);
  for (;;) {
  }
}
