// Dies by SIGTERM with its default action while a second thread is blocked in
// read: the whole process is killed (exit status 128+15 = 143 from a shell).
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static int fds[2];
static pthread_barrier_t ready;

static void* blocked(void* arg) {
  (void)arg;
  char c;
  pthread_barrier_wait(&ready);
  if (read(fds[0], &c, 1) >= 0) printf("reader woke up\n");
  return NULL;
}

int main(void) {
  if (pipe(fds) != 0) return 1;
  pthread_barrier_init(&ready, NULL, 2);
  pthread_t t;
  pthread_create(&t, NULL, blocked, NULL);
  pthread_barrier_wait(&ready);
  signal(SIGTERM, SIG_DFL);
  printf("raising SIGTERM\n");
  fflush(stdout);
  raise(SIGTERM);
  printf("still alive after SIGTERM\n");
  return 1;
}
