// A hot loop of reads at one call site, for the patching tests: after the
// site is patched, the loop must not stop in the tracer, and every read must
// still be in the trace. argv[1]: how many reads (default 2000).
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char** argv) {
  const long n = argc > 1 ? atol(argv[1]) : 2000;
  const int fd = open("/dev/zero", O_RDONLY);
  if (fd < 0) return 1;
  char buf[64];
  long total = 0;
  for (long i = 0; i < n; ++i) total += read(fd, buf, sizeof buf);
  printf("%ld reads, %ld bytes\n", n, total);
  return 0;
}
