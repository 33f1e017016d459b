// N threads, each doing many syscalls (pipe write/read round trips, getpid,
// gettid), all released together by a barrier and joined. Prints per-thread
// totals, which are the same on every run.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

enum { kThreads = 8, kIterations = 300 };

struct worker {
  int index;
  int fds[2];
  pid_t pid;
  long round_trips;
  long bytes;
  long same_pid;
  long own_tid;
  long errors;
};

static pthread_barrier_t start_barrier;

static void* run(void* arg) {
  struct worker* w = arg;
  pid_t tid = (pid_t)syscall(SYS_gettid);
  pthread_barrier_wait(&start_barrier);
  for (int i = 0; i < kIterations; i++) {
    char out[16], in[16];
    int len = snprintf(out, sizeof out, "t%d-%d", w->index, i);
    if (write(w->fds[1], out, (size_t)len) != len) {
      w->errors++;
      continue;
    }
    ssize_t got = 0;
    while (got < len) {
      ssize_t n = read(w->fds[0], in + got, (size_t)(len - got));
      if (n <= 0) break;
      got += n;
    }
    if (got == len && memcmp(in, out, (size_t)len) == 0) {
      w->round_trips++;
      w->bytes += got;
    } else {
      w->errors++;
    }
    if (getpid() == w->pid) w->same_pid++;
    if ((pid_t)syscall(SYS_gettid) == tid) w->own_tid++;
  }
  return NULL;
}

int main(void) {
  struct worker workers[kThreads];
  pthread_t threads[kThreads];
  pthread_barrier_init(&start_barrier, NULL, kThreads + 1);
  for (int i = 0; i < kThreads; i++) {
    memset(&workers[i], 0, sizeof workers[i]);
    workers[i].index = i;
    workers[i].pid = getpid();
    if (pipe(workers[i].fds) != 0) {
      perror("pipe");
      return 1;
    }
    if (pthread_create(&threads[i], NULL, run, &workers[i]) != 0) {
      fprintf(stderr, "pthread_create failed\n");
      return 1;
    }
  }
  pthread_barrier_wait(&start_barrier);
  int failed = 0;
  long total = 0;
  for (int i = 0; i < kThreads; i++) {
    pthread_join(threads[i], NULL);
    struct worker* w = &workers[i];
    printf("thread %d: round_trips=%ld bytes=%ld same_pid=%ld own_tid=%ld errors=%ld\n", i,
           w->round_trips, w->bytes, w->same_pid, w->own_tid, w->errors);
    total += w->round_trips;
    if (w->errors != 0 || w->round_trips != kIterations || w->same_pid != kIterations ||
        w->own_tid != kIterations)
      failed = 1;
    close(w->fds[0]);
    close(w->fds[1]);
  }
  printf("total round trips: %ld\n", total);
  printf("%s\n", failed ? "FAILED" : "ok");
  return failed;
}
