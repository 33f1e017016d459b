// Signals that interrupt user code: a timer fires while the program
// computes between two syscalls, and the inner loop's count at that moment
// decides which syscall the program makes next (getppid, getuid or
// getgid). A replay that delivered a signal anywhere but at the recorded
// instruction, in the recorded iteration, would make another call and
// diverge. The count lives in a register as well as in memory, so the
// iterations differ in their registers, as a replay's check needs; each
// stretch of computing is short (a replay stops at every pass of the
// recorded instruction since the last syscall).
// Prints only what does not depend on timing.
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

enum { kSignals = 5 };

static volatile sig_atomic_t hits;
static volatile unsigned long progress;
static unsigned long landed[kSignals];

static void on_alarm(int sig) {
  (void)sig;
  if (hits < kSignals) landed[hits] = progress;
  hits = hits + 1;
}

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sa.sa_flags = SA_RESTART;
  if (sigaction(SIGALRM, &sa, NULL) != 0) return 1;
  const struct itimerval every_2ms = {{0, 2000}, {0, 2000}};
  if (setitimer(ITIMER_REAL, &every_2ms, NULL) != 0) return 1;
  long calls[3] = {0, 0, 0};
  int seen = 0;
  while (seen < kSignals) {
    for (unsigned long i = 0; i < 20000 && hits == seen; i++) progress = i;
    if (hits == seen) {
      calls[0] += syscall(SYS_getppid) >= 0;  // no signal in this stretch
      continue;
    }
    const unsigned long which = landed[seen] % 3;
    const long nr = which == 0 ? SYS_getppid : which == 1 ? SYS_getuid : SYS_getgid;
    calls[which] += syscall(nr) >= 0;
    seen++;
  }
  const struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &off, NULL);
  printf("%d signals\n", kSignals);
  (void)calls;
  return 0;
}
