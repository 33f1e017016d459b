// Signals that arrive while a stub serves the call: the main thread reads
// one byte a round from a pipe through libc's read site, made hot first so
// that under hytrace a stub serves it; a second thread waits until the read
// is blocked, sends a signal, and writes the byte. Even rounds send
// SIGWINCH, which has no handler (the kernel restarts the read at once);
// odd rounds send SIGUSR1, whose SA_RESTART handler writes a line to stdout.
// The byte may already be there when the signal comes, so the signal lands
// either in the blocked read (restarted) or just after it (the read done).
// Then a SIGALRM handler leaves a read blocked on an empty pipe with
// siglongjmp, a few times, and many reads follow through the same site:
// the stub's call that never returned must not keep the ring's bytes after
// it from being reused (they are served by the stub, not stopped).
// A replay has no stub there: it must deliver each signal at that call and
// make the call once.
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include "sync.h"

enum { kWarmup = 64, kRounds = 40, kJumps = 3 };
static long reads_after_jumps = 40000;  // argv[1]: twice what the ring holds

static int data[2], ack[2];
static pid_t reader;
static volatile sig_atomic_t handled;

static void on_usr1(int sig) {
  (void)sig;
  ++handled;
  static const char line[] = "handler\n";
  if (write(STDOUT_FILENO, line, sizeof line - 1) < 0) _exit(5);
}

static sigjmp_buf jump;

static void on_alarm(int sig) {
  (void)sig;
  siglongjmp(jump, 1);
}

// Each read blocks on an empty pipe until the timer's handler jumps out.
static void jumped_out(void) {
  int empty[2];
  if (pipe(empty) != 0) exit(8);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sigaction(SIGALRM, &sa, NULL);
  char c;
  for (volatile int i = 0; i < kJumps; ++i) {
    if (sigsetjmp(jump, 1) == 0) {
      const struct itimerval once = {{0, 0}, {0, 10000}};
      setitimer(ITIMER_REAL, &once, NULL);
      if (read(empty[0], &c, 1) >= 0) exit(9);
    }
  }
  const int zero = open("/dev/zero", O_RDONLY);
  long bytes = 0;
  char buf[8];
  for (long i = 0; i < reads_after_jumps; ++i) bytes += read(zero, buf, sizeof buf);
  printf("jumped out %d times, then read %ld bytes\n", kJumps, bytes);
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

int main(int argc, char** argv) {
  if (argc > 1) reads_after_jumps = atol(argv[1]);
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
  jumped_out();
  return 0;
}
