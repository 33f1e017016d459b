// What a program can ask that would show a tracer's seccomp filter, and a
// child made with CLONE_UNTRACED. Prints the answers: the same natively and
// under hytrace.
//   - PR_GET_SECCOMP and PR_GET_NO_NEW_PRIVS, before and after the program
//     sets them itself (in forked children, so each starts clean);
//   - a CLONE_UNTRACED child that makes syscalls and exits with 7.
#define _GNU_SOURCE
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void show(const char* when) {
  printf("%s: seccomp %d, no_new_privs %d\n", when, prctl(PR_GET_SECCOMP, 0, 0, 0, 0),
         prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
  fflush(stdout);
}

// Runs `body` in a forked child and waits for it.
static void in_child(void (*body)(void)) {
  const pid_t pid = fork();
  if (pid == 0) {
    body();
    exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
}

static void set_no_new_privs(void) {
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  show("after PR_SET_NO_NEW_PRIVS");
}

static void show_inherited(void) { show("inherited by its child"); }

static void own_filter(void) {
  struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  struct sock_fprog prog = {1, &allow};
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  printf("own filter: %ld\n", syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog));
  show("after its own filter");
  in_child(show_inherited);
}

static void untraced_child(void) {
  const long pid = syscall(SYS_clone, CLONE_UNTRACED | SIGCHLD, 0, 0, 0, 0);
  if (pid == 0) {
    char line[64];
    const int n = snprintf(line, sizeof line, "untraced child: getppid is parent %d\n",
                           getppid() == (pid_t)syscall(SYS_getppid));
    if (write(1, line, (size_t)n) != n) _exit(1);
    _exit(7);
  }
  int status = 0;
  waitpid((pid_t)pid, &status, 0);
  printf("untraced child exited %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

int main(void) {
  show("start");
  in_child(set_no_new_privs);
  in_child(own_filter);
  show("parent again");
  untraced_child();
  return 0;
}
