// A signal handler that switches to a coroutine, the way green-thread
// runtimes preempt: the main flow blocks in a read (made hot first, so that
// under hytrace a stub serves it); the SIGALRM handler (SA_RESTART) that
// interrupts it swaps to a coroutine whose stack is an array in its
// caller's frame, a few KiB above the interrupted read in the same mapping. The coroutine
// makes many reads through the same site, writes the byte the blocked read
// waits for, and swaps back; the handler returns and the read restarts.
// Under hytrace the coroutine looks like a task that left its handler by
// longjmp (patching.md, "A call a handler left"): it must be noticed when
// the handler comes back, and the program must not see a difference.
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <ucontext.h>
#include <unistd.h>

enum { kWarmup = 64, kCoroutineStack = 16 * 1024 };

static int data[2];
static int zero;
static long reads = 40000;  // argv[1]: twice what the ring holds
static ucontext_t handler_context, coroutine_context;
static long coroutine_bytes;

static void coroutine(void) {
  char buf[8];
  for (long i = 0; i < reads; ++i) coroutine_bytes += read(zero, buf, sizeof buf);
  if (write(data[1], "c", 1) != 1) _exit(5);
  swapcontext(&coroutine_context, &handler_context);
  _exit(6);  // never resumed
}

static void on_alarm(int sig) {
  (void)sig;
  swapcontext(&handler_context, &coroutine_context);
}

// Deeper than its caller's frame: the coroutine's stack, in that frame, is
// just above the interrupted read.
static __attribute__((noinline)) char blocked_read(void) {
  char c = 0;
  const struct itimerval once = {{0, 0}, {0, 10000}};
  setitimer(ITIMER_REAL, &once, NULL);
  if (read(data[0], &c, 1) != 1) exit(4);
  return c;
}

static __attribute__((noinline)) char with_coroutine(void) {
  char stack[kCoroutineStack];
  getcontext(&coroutine_context);
  coroutine_context.uc_stack.ss_sp = stack;
  coroutine_context.uc_stack.ss_size = sizeof stack;
  coroutine_context.uc_link = NULL;
  makecontext(&coroutine_context, coroutine, 0);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGALRM, &sa, NULL);
  return blocked_read();
}

int main(int argc, char** argv) {
  if (argc > 1) reads = atol(argv[1]);
  if (pipe(data) != 0) return 1;
  zero = open("/dev/zero", O_RDONLY);
  if (zero < 0) return 1;
  char c;
  for (int i = 0; i < kWarmup; ++i) {  // the read site gets hot
    if (write(data[1], "w", 1) != 1 || read(data[0], &c, 1) != 1) return 2;
  }
  c = with_coroutine();
  printf("read %c after the coroutine read %ld bytes\n", c, coroutine_bytes);
  return 0;
}
