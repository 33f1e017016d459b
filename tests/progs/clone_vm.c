// Raw clone() children that share memory with the parent but are not threads
// of it (no CLONE_THREAD), each on its own stack:
//  1. CLONE_VM | SIGCHLD: an ordinary waitable child that shares memory.
//  2. CLONE_VM | CLONE_FILES with exit signal 0: a "clone" child, waited for
//     with __WALL; it writes to a pipe created by the parent, sharing fds.
// Each child writes shared memory, makes syscalls and exits with a code; the
// parent waits, then prints what the child left behind.
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { kStackSize = 256 * 1024 };
static char stack1[kStackSize] __attribute__((aligned(64)));
static char stack2[kStackSize] __attribute__((aligned(64)));

static volatile int shared_value = 0;
static volatile pid_t child_pid_seen = 0;
static volatile pid_t child_ppid_seen = 0;
static int pipe_fds[2];

static int child_one(void* arg) {
  (void)arg;
  shared_value = 1234;
  child_pid_seen = getpid();
  child_ppid_seen = getppid();
  static const char msg[] = "child one: wrote shared memory\n";
  if (write(1, msg, sizeof msg - 1) < 0) return 50;
  return 7;
}

static int child_two(void* arg) {
  int add = *(int*)arg;
  shared_value += add;
  child_pid_seen = getpid();
  static const char msg[] = "via-shared-fd";
  if (write(pipe_fds[1], msg, sizeof msg - 1) != (ssize_t)(sizeof msg - 1)) return 51;
  return 9;
}

static int wait_code(pid_t pid, int flags) {
  int status = 0;
  if (waitpid(pid, &status, flags) != pid) {
    perror("waitpid");
    return -1;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 1000 + status;
}

int main(void) {
  int failed = 0;
  pid_t me = getpid();
  if (pipe(pipe_fds) != 0) return 1;

  fflush(stdout);
  pid_t pid = clone(child_one, stack1 + kStackSize, CLONE_VM | SIGCHLD, NULL);
  if (pid < 0) {
    perror("clone");
    return 1;
  }
  int code = wait_code(pid, 0);
  printf("parent: child one exited with %d, shared=%d, child pid matches=%d, its parent is us=%d\n",
         code, shared_value, child_pid_seen == pid, child_ppid_seen == me);
  if (code != 7 || shared_value != 1234 || child_pid_seen != pid || child_ppid_seen != me)
    failed = 1;

  int add = 10;
  fflush(stdout);
  pid = clone(child_two, stack2 + kStackSize, CLONE_VM | CLONE_FILES, &add);
  if (pid < 0) {
    perror("clone");
    return 1;
  }
  code = wait_code(pid, __WALL);
  char buf[32] = {0};
  ssize_t n = read(pipe_fds[0], buf, sizeof buf - 1);
  printf("parent: child two exited with %d, shared=%d, child pid matches=%d, pipe got '%s'\n",
         code, shared_value, child_pid_seen == pid, n > 0 ? buf : "");
  if (code != 9 || shared_value != 1244 || child_pid_seen != pid || strcmp(buf, "via-shared-fd"))
    failed = 1;
  printf("%s\n", failed ? "FAILED" : "ok");
  return failed;
}
