// The main thread leaves with a raw exit(0) (SYS_exit, not exit_group) while
// a second thread goes on: it waits, with a futex on the word that the kernel
// clears when the main thread is gone (set_tid_address), then makes syscalls,
// prints, and ends the process with exit_group(3). Its 200 getppid calls at
// one site get patched while the exited leader lingers as a zombie (the
// patcher must not wait for the leader to stop: it never will).
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static volatile int main_tid_word;  // cleared and futex-woken by the kernel

static void* survivor(void* arg) {
  pid_t pid = *(pid_t*)arg;
  int v;
  while ((v = __atomic_load_n(&main_tid_word, __ATOMIC_ACQUIRE)) != 0)
    syscall(SYS_futex, &main_tid_word, FUTEX_WAIT, v, NULL, NULL, 0);
  int fds[2];
  char buf[8] = {0};
  int ok = pipe(fds) == 0 && write(fds[1], "after", 5) == 5 && read(fds[0], buf, 5) == 5 &&
           strcmp(buf, "after") == 0;
  int parent_seen = 0;
  for (int i = 0; i < 200; ++i) parent_seen += getppid() > 0;
  printf("survivor: main thread is gone, same pid=%d, pipe ok=%d, getppid %d/200\n",
         getpid() == pid, ok, parent_seen);
  printf("survivor: calling exit_group(3)\n");
  fflush(stdout);
  syscall(SYS_exit_group, 3);
  return NULL;
}

int main(void) {
  static pid_t pid;
  pid = getpid();
  main_tid_word = (int)syscall(SYS_gettid);
  syscall(SYS_set_tid_address, &main_tid_word);
  printf("main: starting survivor and exiting the main thread\n");
  fflush(stdout);
  pthread_t t;
  if (pthread_create(&t, NULL, survivor, &pid) != 0) return 1;
  syscall(SYS_exit, 0);
  return 1;  // not reached
}
