// A fork child must find the holes its parent left: a page marked
// MADV_DONTFORK is absent in the child, so madvise(MADV_NORMAL) on it fails
// with ENOMEM there. hytrace gives a fork child a buffer of its own; it
// must not be mapped into that hole (issue: transparency, rr's
// madvise_dontfork). Hot getppid calls make the site patched in the parent
// and the child take a buffer.
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static long hot_calls(void) {
  long n = 0;
  for (int i = 0; i < 2000; ++i) n += syscall(SYS_getppid) > 0;
  return n;
}

int main(void) {
  const size_t size = 16 * 4096;
  char* pages = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (pages == MAP_FAILED || madvise(pages, size, MADV_DONTFORK) != 0) return 1;
  printf("parent: %ld hot calls\n", hot_calls());
  fflush(stdout);
  const pid_t pid = fork();
  if (pid == 0) {
    const long n = hot_calls();
    int holes = 0;
    for (size_t off = 0; off < size; off += 4096) {
      holes += madvise(pages + off, 4096, MADV_NORMAL) != 0 && errno == ENOMEM;
    }
    printf("child: %ld hot calls, %d of 16 pages absent\n", n, holes);
    return holes == 16 ? 0 : 1;
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 2;
}
