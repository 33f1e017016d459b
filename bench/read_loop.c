// The microbenchmark: N reads of 64 bytes from /dev/zero. Prints the mean
// cost of one read in nanoseconds, timed inside the process so start-up and
// tracer attach are not counted.
//
//   read_loop [N]      (N defaults to 1000000)
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char** argv) {
  const long n = argc > 1 ? atol(argv[1]) : 1000000;
  if (n < 1) return fprintf(stderr, "usage: read_loop [N]   (N >= 1 reads)\n"), 2;
  const int fd = open("/dev/zero", O_RDONLY);
  if (fd < 0) return perror("/dev/zero"), 1;
  char buf[64];
  for (int i = 0; i < 1000; ++i) (void)!read(fd, buf, sizeof buf);  // warm-up
  const double start = now_ns();
  for (long i = 0; i < n; ++i) {
    if (read(fd, buf, sizeof buf) != sizeof buf) return perror("read"), 1;
  }
  printf("%.1f\n", (now_ns() - start) / n);
  return 0;
}
