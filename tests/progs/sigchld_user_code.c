// Children that exit while their parent computes: each SIGCHLD interrupts
// the parent's own code or a syscall's return, when recording and again,
// at other moments, from the replay's real children. A replay delivers the
// recorded signals where they were and no live one besides, and exactly
// once each. Prints only what does not depend on timing.
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { kChildren = 24 };

static volatile sig_atomic_t signals;

static void on_child(int sig) {
  (void)sig;
  signals = signals + 1;
}

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_child;
  sa.sa_flags = SA_RESTART;
  if (sigaction(SIGCHLD, &sa, NULL) != 0) return 1;
  int reaped = 0;
  for (int i = 0; i < kChildren; i++) {
    const int before = signals;
    const pid_t pid = fork();
    if (pid < 0) return perror("fork"), 1;
    if (pid == 0) _exit(i % 7);
    // Computing until its SIGCHLD, so the signal lands in the program's
    // own code. Straight-line code: each instruction runs once a round,
    // and a replay stops at each pass of the recorded one.
    for (int round = 0; round < 2000 && signals == before; round++) {
      __asm__ volatile(".rept 500\n pause\n .endr" ::: "memory");
    }
    int status;
    if (i % 2 == 1) {
      while (waitpid(-1, &status, 0) > 0 && ++reaped < i + 1) {
      }
    }
  }
  int status;
  while (waitpid(-1, &status, 0) > 0) ++reaped;
  printf("%d children reaped, %s\n", reaped, signals > 0 ? "signals seen" : "no signal");
  return 0;
}
