// Job-control stops of a multi-threaded child. The child has two threads
// blocked in read, one thread spinning on getppid, and a SIGCONT handler that
// acknowledges each continue through a pipe. The parent stops it with SIGSTOP
// and continues it with SIGCONT three times, synchronising with
// waitpid(WUNTRACED) / waitpid(WCONTINUED) and the handler's acknowledgement,
// then releases the readers and waits for the child's exit.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { kCycles = 3, kReaders = 2 };

static int ack_fds[2];               // child -> parent: 'R' when ready, 'C' per SIGCONT
static int go_fds[kReaders][2];      // parent -> reader threads
static volatile sig_atomic_t cont_count = 0;
static volatile int spinner_stop = 0;
static pthread_barrier_t ready;

static void on_cont(int sig) {
  (void)sig;
  int saved = errno;
  cont_count++;
  char c = 'C';
  if (write(ack_fds[1], &c, 1) != 1) _exit(90);
  errno = saved;
}

struct reader {
  int index;
  char got[16];
  ssize_t n;
  int error;
};

static void* reader_main(void* arg) {
  struct reader* r = arg;
  pthread_barrier_wait(&ready);
  r->n = read(go_fds[r->index][0], r->got, sizeof r->got - 1);
  r->error = r->n < 0 ? errno : 0;
  return NULL;
}

static void* spinner_main(void* arg) {
  long* iterations = arg;
  pthread_barrier_wait(&ready);
  pid_t parent = getppid();
  while (!__atomic_load_n(&spinner_stop, __ATOMIC_ACQUIRE) && *iterations < 1000000) {
    if (getppid() != parent) break;
    ++*iterations;
  }
  return NULL;
}

static int child_main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_cont;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGCONT, &sa, NULL);

  pthread_barrier_init(&ready, NULL, kReaders + 2);
  struct reader readers[kReaders];
  pthread_t threads[kReaders], spinner;
  long spins = 0;
  for (int i = 0; i < kReaders; i++) {
    memset(&readers[i], 0, sizeof readers[i]);
    readers[i].index = i;
    pthread_create(&threads[i], NULL, reader_main, &readers[i]);
  }
  pthread_create(&spinner, NULL, spinner_main, &spins);
  pthread_barrier_wait(&ready);
  char c = 'R';
  if (write(ack_fds[1], &c, 1) != 1) return 91;

  int failed = 0;
  for (int i = 0; i < kReaders; i++) {
    pthread_join(threads[i], NULL);
    char want[16];
    snprintf(want, sizeof want, "go%d", i);
    if (readers[i].n > 0) readers[i].got[readers[i].n] = 0;
    printf("child: reader %d got '%s' (error %s)\n", i, readers[i].n > 0 ? readers[i].got : "",
           readers[i].error == 0 ? "none" : strerror(readers[i].error));
    if (strcmp(readers[i].got, want) != 0) failed = 1;
  }
  __atomic_store_n(&spinner_stop, 1, __ATOMIC_RELEASE);
  pthread_join(spinner, NULL);
  printf("child: SIGCONT handled %d times\n", (int)cont_count);
  if (cont_count != kCycles) failed = 1;
  return failed;
}

static int read_ack(char want) {
  char c;
  ssize_t n;
  do {
    n = read(ack_fds[0], &c, 1);
  } while (n < 0 && errno == EINTR);
  return n == 1 && c == want;
}

int main(void) {
  if (pipe(ack_fds) != 0) return 1;
  for (int i = 0; i < kReaders; i++)
    if (pipe(go_fds[i]) != 0) return 1;
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid == 0) {
    int rc = child_main();
    fflush(stdout);
    _exit(rc);
  }
  int failed = 0;
  if (!read_ack('R')) {
    printf("parent: no ready byte\n");
    failed = 1;
  }
  for (int cycle = 1; cycle <= kCycles && !failed; cycle++) {
    int status = 0;
    kill(pid, SIGSTOP);
    if (waitpid(pid, &status, WUNTRACED) != pid || !WIFSTOPPED(status)) {
      printf("parent: cycle %d: expected a stop, status 0x%x\n", cycle, status);
      failed = 1;
      break;
    }
    printf("parent: cycle %d: child stopped by %s\n", cycle,
           WSTOPSIG(status) == SIGSTOP ? "SIGSTOP" : "another signal");
    fflush(stdout);
    if (WSTOPSIG(status) != SIGSTOP) failed = 1;
    kill(pid, SIGCONT);
    if (waitpid(pid, &status, WCONTINUED) != pid || !WIFCONTINUED(status)) {
      printf("parent: cycle %d: expected a continue, status 0x%x\n", cycle, status);
      failed = 1;
      break;
    }
    printf("parent: cycle %d: child continued\n", cycle);
    fflush(stdout);
    if (!read_ack('C')) {
      printf("parent: cycle %d: no SIGCONT acknowledgement\n", cycle);
      failed = 1;
    }
  }
  for (int i = 0; i < kReaders; i++) {
    char msg[8];
    int len = snprintf(msg, sizeof msg, "go%d", i);
    if (write(go_fds[i][1], msg, (size_t)len) != len) failed = 1;
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) {
    perror("waitpid");
    return 1;
  }
  if (WIFEXITED(status))
    printf("parent: child exited with %d\n", WEXITSTATUS(status));
  else
    printf("parent: child status 0x%x\n", status);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) failed = 1;
  printf("%s\n", failed ? "FAILED" : "ok");
  return failed;
}
