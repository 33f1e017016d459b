// A program that leaves a daemon behind: the child forks again, the middle
// process exits, and the grandchild (re-parented) waits forever while
// holding stdout. The root prints a line and exits 3. Under a tracer that
// waits for the whole tree (strace -f, hytrace) this never ends; with
// `hytrace trace --exit-with-root` it ends with the root's status and the
// daemon is gone (interrupt_test.py exit-with-root).
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  const pid_t middle = fork();
  if (middle == 0) {
    if (fork() == 0) {
      setsid();
      for (;;) pause();
    }
    _exit(0);
  }
  waitpid(middle, NULL, 0);
  printf("root done\n");
  return 3;
}
