// Signals that arrive while a stub serves the call: the main thread reads
// one byte a round from a pipe through libc's read site, made hot first so
// that under hytrace a stub serves it; a second thread waits until the read
// is blocked, sends a signal, and writes the byte. Even rounds send
// SIGWINCH, which has no handler (the kernel restarts the read at once);
// odd rounds send SIGUSR1, whose SA_RESTART handler writes a line to stdout.
// The byte may already be there when the signal comes, so the signal lands
// either in the blocked read (restarted) or just after it (the read done).
// A replay has no stub there: it must deliver each signal at that call and
// make the call once.
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sync.h"

enum { kWarmup = 64, kRounds = 40 };

static int data[2], ack[2];
static pid_t reader;
static volatile sig_atomic_t handled;

static void on_usr1(int sig) {
  (void)sig;
  ++handled;
  static const char line[] = "handler\n";
  if (write(STDOUT_FILENO, line, sizeof line - 1) < 0) _exit(5);
}

static void* signaller(void* arg) {
  (void)arg;
  for (int round = 0; round < kRounds; ++round) {
    char c;
    if (round > 0 && read(ack[0], &c, 1) != 1) _exit(6);
    while (!in_syscall(reader, SYS_read, (uint64_t)data[0])) sched_yield();
    syscall(SYS_tgkill, getpid(), reader, round % 2 ? SIGUSR1 : SIGWINCH);
    c = (char)('a' + round % 26);
    if (write(data[1], &c, 1) != 1) _exit(7);
  }
  return NULL;
}

int main(void) {
  if (pipe(data) != 0 || pipe(ack) != 0) return 1;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &sa, NULL);
  char c;
  for (int i = 0; i < kWarmup; ++i) {  // the read site gets hot
    if (write(data[1], "w", 1) != 1 || read(data[0], &c, 1) != 1) return 2;
  }
  reader = (pid_t)syscall(SYS_gettid);
  pthread_t thread;
  if (pthread_create(&thread, NULL, signaller, NULL) != 0) return 3;
  for (int round = 0; round < kRounds; ++round) {
    if (read(data[0], &c, 1) != 1) return 4;
    printf("round %d: %c\n", round, c);
    fflush(stdout);
    if (round + 1 < kRounds && write(ack[1], "k", 1) != 1) return 4;
  }
  pthread_join(thread, NULL);
  printf("handled %d\n", (int)handled);
  return 0;
}
