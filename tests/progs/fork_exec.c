// A fork+exec chain three levels deep: each level forks, the child re-executes
// this program (/proc/self/exe) with the next depth as its argument, and the
// parent waits and prints the child's status. The leaf exits 3; each level
// exits with its child's code minus one, so the top level exits 0.
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

enum { kMaxDepth = 3 };

int main(int argc, char** argv) {
  int depth = argc > 1 ? atoi(argv[1]) : 0;
  if (depth >= kMaxDepth) {
    printf("depth %d: leaf\n", depth);
    return depth;
  }
  printf("depth %d: forking\n", depth);
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) {
    perror("fork");
    return 100;
  }
  if (pid == 0) {
    char next[16];
    snprintf(next, sizeof next, "%d", depth + 1);
    char* child_argv[] = {argv[0], next, NULL};
    execv("/proc/self/exe", child_argv);
    perror("execv");
    _exit(101);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) {
    perror("waitpid");
    return 102;
  }
  if (WIFEXITED(status)) {
    printf("depth %d: child exited with %d\n", depth, WEXITSTATUS(status));
    return WEXITSTATUS(status) - 1;
  }
  if (WIFSIGNALED(status))
    printf("depth %d: child killed by signal %d\n", depth, WTERMSIG(status));
  else
    printf("depth %d: child status 0x%x\n", depth, status);
  return 103;
}
