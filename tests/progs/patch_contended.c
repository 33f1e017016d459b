// A hot site that threads never leave: four threads read 8 bytes from
// /dev/zero in a tight loop through libc's read, while the main thread
// sends them SIGUSR2 one at a time (pthread_kill) and waits for each to be
// handled; the SA_RESTART handler calls getpid and writes a byte to
// /dev/null through the same libc wrappers. Some thread is always inside
// the read site, so a patch that waits for the site to be free waits as long
// as the load lasts (issue 8). Prints what is deterministic.
//   prog_patch_contended [SIGNALS]   (default 200)
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { kThreads = 4 };

static int zero_fd, null_fd;
static sem_t handled;
static atomic_int stop;
static atomic_long data_errors;

static void on_usr2(int sig) {
  (void)sig;
  if (getpid() <= 0 || write(null_fd, "x", 1) != 1) atomic_fetch_add(&data_errors, 1);
  sem_post(&handled);
}

static void* reader(void* arg) {
  (void)arg;
  char buf[8];
  while (!atomic_load(&stop)) {
    memset(buf, 0x55, sizeof buf);
    if (read(zero_fd, buf, sizeof buf) != (ssize_t)sizeof buf) {
      atomic_fetch_add(&data_errors, 1);
      continue;
    }
    for (size_t i = 0; i < sizeof buf; ++i) {
      if (buf[i] != 0) atomic_fetch_add(&data_errors, 1);
    }
  }
  return NULL;
}

int main(int argc, char** argv) {
  const int signals = argc > 1 ? atoi(argv[1]) : 200;
  zero_fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
  null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (zero_fd < 0 || null_fd < 0) return 1;
  sem_init(&handled, 0, 0);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr2;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGUSR2, &sa, NULL);

  pthread_t threads[kThreads];
  for (int i = 0; i < kThreads; ++i) pthread_create(&threads[i], NULL, reader, NULL);
  int delivered = 0;
  for (int n = 0; n < signals; ++n) {
    pthread_kill(threads[n % kThreads], SIGUSR2);
    while (sem_wait(&handled) != 0) {
    }
    ++delivered;
  }
  atomic_store(&stop, 1);
  for (int i = 0; i < kThreads; ++i) pthread_join(threads[i], NULL);
  printf("threads %d, signals sent %d, handled %d, data errors %ld\n", kThreads, signals, delivered,
         atomic_load(&data_errors));
  return atomic_load(&data_errors) == 0 ? 0 : 1;
}
