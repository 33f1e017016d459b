// A child made with CLONE_UNTRACED that spins forever, and a parent that
// waits for it: when the tracer is told to stop, no process of this tree may
// be left behind (interrupt_test.py untraced-sigterm). The child says
// "ready" once it runs.
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  const long pid = syscall(SYS_clone, CLONE_UNTRACED | SIGCHLD, 0, 0, 0, 0);
  if (pid == 0) {
    if (write(1, "ready\n", 6) != 6) _exit(1);
    for (volatile unsigned long spin = 0;; ++spin) {
    }
  }
  waitpid((pid_t)pid, NULL, 0);
  return 0;
}
