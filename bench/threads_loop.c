// The multi-threaded workload: THREADS threads, each doing ITERS rounds of
// one 64-byte read from /dev/zero followed by WORK steps of computation, as
// a busy multi-threaded program that makes a syscall now and then. The
// threads run at once, so a tracer sees concurrent stops from several tasks.
//
//   threads_loop [THREADS [ITERS [WORK]]]     defaults: 4 5000 20000
//
// bench.py times the whole command; the line printed (mean ns per round,
// measured inside the process) is for people running it by hand.
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static long g_iters;
static long g_work;
static volatile uint64_t g_sink;  // keeps the computation from being optimised away

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void* worker(void* arg) {
  (void)arg;
  const int fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    perror("/dev/zero");
    exit(1);
  }
  unsigned char buf[64];
  uint64_t x = 0x9E3779B97F4A7C15u;
  for (long i = 0; i < g_iters; ++i) {
    if (read(fd, buf, sizeof buf) != (ssize_t)sizeof buf) {
      perror("read");
      exit(1);
    }
    x ^= buf[i & 63];
    for (long w = 0; w < g_work; ++w) {  // xorshift64: a dependent chain, ~1 ns a step
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
    }
  }
  g_sink += x;
  close(fd);
  return NULL;
}

int main(int argc, char** argv) {
  const int threads = argc > 1 ? atoi(argv[1]) : 4;
  g_iters = argc > 2 ? atol(argv[2]) : 5000;
  g_work = argc > 3 ? atol(argv[3]) : 20000;
  if (threads < 1 || threads > 256 || g_iters < 1 || g_work < 0) {
    fprintf(stderr, "usage: threads_loop [THREADS [ITERS [WORK]]]\n");
    return 2;
  }
  pthread_t tids[256];
  const double start = now_ns();
  for (int t = 0; t < threads; ++t) {
    if (pthread_create(&tids[t], NULL, worker, NULL) != 0) return perror("pthread_create"), 1;
  }
  for (int t = 0; t < threads; ++t) pthread_join(tids[t], NULL);
  printf("%.1f\n", (now_ns() - start) / ((double)threads * g_iters));
  return 0;
}
