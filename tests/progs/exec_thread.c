// Exec from a non-leader thread. The first stage starts a thread that calls
// execve(/proc/self/exe, "stage2", PID) while the main thread is blocked in
// pthread_join and a third thread is blocked in read. The kernel kills the
// other threads and the exec'ing thread takes over the leader's PID; stage 2
// checks that PID and prints.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static char* self_argv0;
static int block_fds[2];
static pthread_barrier_t ready;

static void* blocked_reader(void* arg) {
  (void)arg;
  char c;
  pthread_barrier_wait(&ready);
  ssize_t n = read(block_fds[0], &c, 1);  // never returns: nobody writes
  fprintf(stderr, "blocked reader returned %zd\n", n);
  return NULL;
}

static void* exec_thread(void* arg) {
  (void)arg;
  pthread_barrier_wait(&ready);
  char pid_text[32];
  snprintf(pid_text, sizeof pid_text, "%d", (int)getpid());
  int is_leader = (pid_t)syscall(SYS_gettid) == getpid();
  printf("stage1: exec from thread, thread is leader=%d\n", is_leader);
  fflush(stdout);
  char* argv[] = {self_argv0, "stage2", pid_text, NULL};
  execv("/proc/self/exe", argv);
  perror("execv");
  exit(1);
}

int main(int argc, char** argv) {
  if (argc > 2 && strcmp(argv[1], "stage2") == 0) {
    int same_pid = atoi(argv[2]) == (int)getpid();
    int is_leader = (pid_t)syscall(SYS_gettid) == getpid();
    printf("stage2: running, same pid=%d, leader=%d\n", same_pid, is_leader);
    return same_pid && is_leader ? 0 : 1;
  }
  self_argv0 = argv[0];
  if (pipe(block_fds) != 0) {
    perror("pipe");
    return 1;
  }
  pthread_barrier_init(&ready, NULL, 3);
  pthread_t reader, execer;
  if (pthread_create(&reader, NULL, blocked_reader, NULL) != 0 ||
      pthread_create(&execer, NULL, exec_thread, NULL) != 0) {
    fprintf(stderr, "pthread_create failed\n");
    return 1;
  }
  pthread_barrier_wait(&ready);
  pthread_join(execer, NULL);  // never returns: the exec replaces the process
  fprintf(stderr, "join returned\n");
  return 1;
}
