// Synchronisation for the test programs, never by sleeping: futex words,
// and waiting until a thread is blocked in a given syscall. Header-only:
// every test program is one .c file.
#pragma once

#include <fcntl.h>
#include <linux/futex.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

static inline long futex(volatile int* word, int op, int val) {
  return syscall(SYS_futex, word, op, val, NULL, NULL, 0);
}

// Waits until *word >= want.
static inline void wait_at_least(volatile int* word, int want) {
  int v;
  while ((v = __atomic_load_n(word, __ATOMIC_ACQUIRE)) < want) futex(word, FUTEX_WAIT_PRIVATE, v);
}

static inline void publish(volatile int* word, int value) {
  __atomic_store_n(word, value, __ATOMIC_RELEASE);
  futex(word, FUTEX_WAKE_PRIVATE, 1);
}

// True when thread `tid` is inside syscall `nr` with first argument `arg0`
// (or stopped at its entry): /proc/self/task/TID/syscall reads
// "NR 0xARG0 ...". Its own calls (open, pread, close) are not `nr`.
static inline int in_syscall(pid_t tid, long nr, uint64_t arg0) {
  char path[64], buf[128];
  snprintf(path, sizeof path, "/proc/self/task/%d/syscall", (int)tid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = 0;
  long got = -1;
  unsigned long long arg = 0;
  return sscanf(buf, "%ld 0x%llx", &got, &arg) == 2 && got == nr && arg == arg0;
}
