// What a program can ask that would show a tracer's seccomp filter, and a
// child made with CLONE_UNTRACED. Prints the answers: the same natively and
// under hytrace.
//   - PR_GET_SECCOMP and PR_GET_NO_NEW_PRIVS, before and after the program
//     sets them itself (in forked children, so each starts clean);
//   - a CLONE_UNTRACED child that makes syscalls and exits with 7;
//   - the gs base (where hytrace's stubs find their tid): 0 in the program,
//     its thread and its child; one the program sets is its own, also
//     while it makes hot syscalls and in its child.
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <linux/filter.h>
#include <pthread.h>
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

static unsigned long gs_base(void) {
  unsigned long gs = 1;
  if (syscall(SYS_arch_prctl, ARCH_GET_GS, &gs) != 0) return 1;
  return gs;
}

static void show_gs_in_child(void) { printf("gs base in a child: %#lx\n", gs_base()); }

static void* show_gs_in_thread(void* arg) {
  (void)arg;
  printf("gs base in a thread: %#lx\n", gs_base());
  return NULL;
}

static void gs_bases(void) {
  printf("gs base: %#lx\n", gs_base());
  pthread_t thread;
  if (pthread_create(&thread, NULL, show_gs_in_thread, NULL) == 0) pthread_join(thread, NULL);
  fflush(stdout);
  in_child(show_gs_in_child);
  const unsigned long own = 0x10000;
  if (syscall(SYS_arch_prctl, ARCH_SET_GS, own) != 0) return;
  long calls = 0;
  for (int i = 0; i < 2000; i++) calls += getppid() > 0;  // a hot site, served by a stub
  printf("own gs base: %#lx after %ld calls\n", gs_base(), calls);
  fflush(stdout);
  in_child(show_gs_in_child);
  syscall(SYS_arch_prctl, ARCH_SET_GS, 0);
}

int main(void) {
  show("start");
  gs_bases();
  in_child(set_no_new_privs);
  in_child(own_filter);
  show("parent again");
  untraced_child();
  return 0;
}
