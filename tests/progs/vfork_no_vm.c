// clone(CLONE_VFORK) without CLONE_VM: the parent sleeps in the kernel until
// the child exits, where no ptrace interrupt reaches it. Meanwhile a
// sibling thread of the parent makes a hot syscall (a patch candidate);
// the child waits for that thread to finish before it exits. A tracer that
// stopped the parent's address space to patch would wait for the parent
// forever (issue: audit, "the deadlock of clone(CLONE_VFORK) without
// CLONE_VM").
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int done_pipe[2];
static pthread_barrier_t started;

static void* hot_thread(void* arg) {
  (void)arg;
  pthread_barrier_wait(&started);
  long sum = 0;
  for (int i = 0; i < 20000; ++i) sum += syscall(SYS_getppid) > 0;
  char c = 'x';
  if (write(done_pipe[1], &c, 1) != 1) abort();
  return (void*)sum;
}

static int child(void* arg) {
  (void)arg;
  char c;
  // Runs on its own copy of the memory (no CLONE_VM): only the pipe links it.
  if (read(done_pipe[0], &c, 1) != 1) _exit(3);
  _exit(0);
}

int main(void) {
  if (pipe(done_pipe) != 0) return 1;
  pthread_barrier_init(&started, NULL, 2);
  pthread_t t;
  if (pthread_create(&t, NULL, hot_thread, NULL) != 0) return 1;
  static char stack[64 * 1024];
  pthread_barrier_wait(&started);
  const pid_t pid = clone(child, stack + sizeof stack, CLONE_VFORK | SIGCHLD, NULL);
  if (pid < 0) return 1;
  // Back only once the child exited.
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return 1;
  void* sum;
  pthread_join(t, &sum);
  printf("child exited %d, hot calls %ld\n", WEXITSTATUS(status), (long)sum);
  return 0;
}
