// Signals interrupting syscalls at hot (so, under hytrace, patched) sites,
// in one thread: a read blocked on a pipe is interrupted by a timer signal
// whose handler makes syscalls at the same sites; with SA_RESTART the read
// restarts and gets the data the handler wrote; without it, EINTR. Then a
// handler that changes where the interrupted code resumes (siglongjmp).
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static int fds[2];
static volatile sig_atomic_t ticks = 0;
static sigjmp_buf jump;

static void timer(long usec) {
  struct itimerval it = {{0, usec}, {0, usec}};
  setitimer(ITIMER_REAL, &it, NULL);
}

static void on_alarm(int sig) {
  (void)sig;
  if (++ticks == 3) {
    char c = 'x';
    if (write(fds[1], &c, 1) != 1) _exit(3);  // the same write site as the warm-up
  }
}

static void on_alarm_jump(int sig) {
  (void)sig;
  if (++ticks == 3) siglongjmp(jump, 1);
}

static void handle(int sig, void (*fn)(int), int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = fn;
  sa.sa_flags = flags;
  sigaction(sig, &sa, NULL);
}

// Makes the write and read sites hot.
static void warm_up(void) {
  char c;
  for (int i = 0; i < 200; ++i) {
    if (write(fds[1], "w", 1) != 1 || read(fds[0], &c, 1) != 1) _exit(2);
  }
}

static void blocked_read(int flags, const char* name) {
  ticks = 0;
  handle(SIGALRM, on_alarm, flags);
  timer(2000);
  char c = 0;
  ssize_t r;
  int restarts = 0;
  // Without SA_RESTART the read fails with EINTR at the first tick; retry
  // until the data the third tick writes arrives.
  while ((r = read(fds[0], &c, 1)) < 0 && errno == EINTR) ++restarts;
  timer(0);
  printf("%s: read %zd byte '%c', retried after EINTR: %s\n", name, r, c,
         restarts > 0 ? "yes" : "no");
}

static void jumped_out(void) {
  ticks = 0;
  handle(SIGALRM, on_alarm_jump, SA_RESTART);
  if (sigsetjmp(jump, 1) == 0) {
    timer(2000);
    char c;
    (void)!read(fds[0], &c, 1);  // blocks until the handler jumps away
    printf("jump: read returned\n");
  } else {
    timer(0);
    printf("jump: left the blocked read through siglongjmp\n");
  }
}

int main(void) {
  if (pipe(fds) != 0) return 1;
  warm_up();
  blocked_read(SA_RESTART, "SA_RESTART");
  warm_up();
  blocked_read(0, "no SA_RESTART");
  jumped_out();
  warm_up();
  printf("ok\n");
  return 0;
}
