// vfork twice. The first child writes a shared variable and _exits; the second
// writes it and execs this program again (/proc/self/exe) as a "child" stage
// that prints and exits 5. Since vfork shares memory and suspends the parent
// until the child execs or exits, the parent sees both writes.
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int shared_value = 0;
static volatile pid_t child_pid_seen = 0;
static char* exec_argv[3];

static int wait_for(pid_t pid) {
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) {
    perror("waitpid");
    return -1;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 1000 + status;
}

int main(int argc, char** argv) {
  if (argc > 1 && strcmp(argv[1], "child") == 0) {
    printf("exec stage: running\n");
    return 5;
  }
  exec_argv[0] = argv[0];
  exec_argv[1] = "child";
  exec_argv[2] = NULL;
  int failed = 0;

  printf("before first vfork: value=%d\n", shared_value);
  fflush(stdout);
  pid_t pid = vfork();
  if (pid < 0) {
    perror("vfork");
    return 1;
  }
  if (pid == 0) {
    shared_value = 42;
    child_pid_seen = getpid();
    _exit(7);
  }
  int code = wait_for(pid);
  printf("after first vfork: value=%d child_pid_matches=%d child_exit=%d\n", shared_value,
         child_pid_seen == pid, code);
  if (shared_value != 42 || child_pid_seen != pid || code != 7) failed = 1;

  fflush(stdout);
  pid = vfork();
  if (pid < 0) {
    perror("vfork");
    return 1;
  }
  if (pid == 0) {
    shared_value = 43;
    execv("/proc/self/exe", exec_argv);
    _exit(99);
  }
  code = wait_for(pid);
  printf("after second vfork: value=%d child_exit=%d\n", shared_value, code);
  if (shared_value != 43 || code != 5) failed = 1;
  printf("%s\n", failed ? "FAILED" : "ok");
  return failed;
}
