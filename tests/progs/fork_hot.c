// Hot read loops before and after fork, in parent and child: under hytrace
// the site is patched in the parent first, and the child inherits the patch
// and must get an event buffer of its own.
#include <fcntl.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static long reads(int fd, int n) {
  char buf[64];
  long total = 0;
  for (int i = 0; i < n; ++i) total += read(fd, buf, sizeof buf);
  return total;
}

int main(void) {
  const int fd = open("/dev/zero", O_RDONLY);
  if (fd < 0) return 1;
  const long before = reads(fd, 500);
  fflush(stdout);
  const pid_t child = fork();
  if (child == 0) {
    printf("child: %ld bytes\n", reads(fd, 1000));
    return 0;
  }
  int status = 0;
  waitpid(child, &status, 0);
  printf("parent: %ld then %ld bytes, child status %d\n", before, reads(fd, 1000),
         WEXITSTATUS(status));
  return 0;
}
