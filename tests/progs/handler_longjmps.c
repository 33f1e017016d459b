// A signal handler that never returns, many times: each SIGILL (from a
// ud2 in the program's own code) is left with siglongjmp, as
// error-recovery code and test harnesses do. Under hytrace every such frame stays pending (nothing
// says it is gone); past what a stack can hold, hytrace stops patching new
// sites instead of keeping the list growing (engine.cc,
// forget_program_contexts). The program must see nothing of it.
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum { kJumps = 70000, kReads = 2000 };

static sigjmp_buf jump;

static void on_ill(int sig) {
  (void)sig;
  siglongjmp(jump, 1);
}

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_ill;
  sigaction(SIGILL, &sa, NULL);
  volatile int jumps = 0;
  while (jumps < kJumps) {
    if (sigsetjmp(jump, 1) == 0) __asm__ volatile("ud2");
    else ++jumps;
  }
  const int zero = open("/dev/zero", O_RDONLY);
  long bytes = 0;
  char buf[8];
  for (int i = 0; i < kReads; ++i) bytes += read(zero, buf, sizeof buf);
  printf("left %d handlers by siglongjmp, then read %ld bytes\n", (int)jumps, bytes);
  return 0;
}
