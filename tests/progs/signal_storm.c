// Many signals to threads that are busy in syscalls, counted without any
// dependence on timing:
//  phase 1: the main thread sends SIGUSR1 with tgkill to each worker in turn
//           and waits (futex) for the handler's acknowledgement before the
//           next one, so sent == received exactly;
//  phase 2: it queues real-time signals (which never coalesce) with
//           pthread_sigqueue, each carrying a sequence number, without
//           waiting; every handler checks they arrive in order.
// Workers: two loop over getpid/write/read on their own pipe, one is blocked
// in read on an empty pipe, one is blocked in FUTEX_WAIT; handlers use
// SA_RESTART, so the blocked calls restart after each signal.
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sync.h"

enum { kWorkers = 4, kRounds = 100, kQueued = 50 };
enum kind { BUSY, BLOCKED_READ, BLOCKED_FUTEX };

struct worker {
  int index;
  enum kind kind;
  pid_t tid;
  pthread_t thread;
  int fds[2];
  long loops;
  volatile int acked;   // phase 1 handler count
  volatile int queued;  // phase 2 handler count
  volatile int order_errors;
  volatile int info_errors;
};

static struct worker workers[kWorkers];
static __thread struct worker* self;
static volatile int stop_flag = 0;
static pid_t pid;
static pthread_barrier_t ready;

static void on_usr1(int sig, siginfo_t* si, void* ctx) {
  (void)sig;
  (void)ctx;
  int saved = errno;
  struct worker* w = self;
  if (si->si_code != SI_TKILL || si->si_pid != pid) w->info_errors++;
  __atomic_add_fetch(&w->acked, 1, __ATOMIC_RELEASE);
  futex(&w->acked, FUTEX_WAKE_PRIVATE, 1);
  errno = saved;
}

static void on_rt(int sig, siginfo_t* si, void* ctx) {
  (void)sig;
  (void)ctx;
  int saved = errno;
  struct worker* w = self;
  if (si->si_code != SI_QUEUE || si->si_pid != pid) w->info_errors++;
  if (si->si_value.sival_int != w->queued) w->order_errors++;
  __atomic_add_fetch(&w->queued, 1, __ATOMIC_RELEASE);
  futex(&w->queued, FUTEX_WAKE_PRIVATE, 1);
  errno = saved;
}

static void* worker_main(void* arg) {
  struct worker* w = arg;
  self = w;
  w->tid = (pid_t)syscall(SYS_gettid);
  pthread_barrier_wait(&ready);
  char c = 'x';
  switch (w->kind) {
    case BUSY:
      while (!__atomic_load_n(&stop_flag, __ATOMIC_ACQUIRE)) {
        if (getpid() != pid) break;
        if (write(w->fds[1], &c, 1) != 1) break;
        if (read(w->fds[0], &c, 1) != 1) break;
        sched_yield();  // a syscall too; keeps the spinning workers from starving the sender
        w->loops++;
      }
      break;
    case BLOCKED_READ:
      while (read(w->fds[0], &c, 1) < 0 && errno == EINTR) w->loops++;
      break;
    case BLOCKED_FUTEX:
      while (!__atomic_load_n(&stop_flag, __ATOMIC_ACQUIRE)) {
        futex(&stop_flag, FUTEX_WAIT_PRIVATE, 0);
        w->loops++;
      }
      break;
  }
  return NULL;
}

static void set_handler(int sig, void (*fn)(int, siginfo_t*, void*)) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = fn;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(sig, &sa, NULL);
}

static const char* kind_name(enum kind k) {
  return k == BUSY ? "busy" : k == BLOCKED_READ ? "blocked in read" : "blocked in futex";
}

int main(void) {
  pid = getpid();
  set_handler(SIGUSR1, on_usr1);
  set_handler(SIGRTMIN + 1, on_rt);
  pthread_barrier_init(&ready, NULL, kWorkers + 1);
  for (int i = 0; i < kWorkers; i++) {
    struct worker* w = &workers[i];
    w->index = i;
    w->kind = i == 1 ? BLOCKED_READ : i == 2 ? BLOCKED_FUTEX : BUSY;
    if (pipe(w->fds) != 0) return 1;
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0) return 1;
  }
  pthread_barrier_wait(&ready);

  int send_errors = 0;
  for (int round = 0; round < kRounds; round++) {
    for (int i = 0; i < kWorkers; i++) {
      struct worker* w = &workers[i];
      if (syscall(SYS_tgkill, pid, w->tid, SIGUSR1) != 0) {
        send_errors++;
        continue;
      }
      wait_at_least(&w->acked, round + 1);
    }
  }
  for (int seq = 0; seq < kQueued; seq++) {
    for (int i = 0; i < kWorkers; i++) {
      union sigval v;
      v.sival_int = seq;
      int rc;
      while ((rc = pthread_sigqueue(workers[i].thread, SIGRTMIN + 1, v)) == EAGAIN) sched_yield();
      if (rc != 0) send_errors++;
    }
  }
  for (int i = 0; i < kWorkers; i++) wait_at_least(&workers[i].queued, kQueued);

  __atomic_store_n(&stop_flag, 1, __ATOMIC_RELEASE);
  futex(&stop_flag, FUTEX_WAKE_PRIVATE, 1);
  if (write(workers[1].fds[1], "x", 1) != 1) send_errors++;
  int failed = send_errors != 0;
  for (int i = 0; i < kWorkers; i++) {
    struct worker* w = &workers[i];
    pthread_join(w->thread, NULL);
    printf(
        "worker %d (%s): acknowledged %d/%d, queued received %d/%d, out of order %d, bad siginfo "
        "%d\n",
        i, kind_name(w->kind), w->acked, kRounds, w->queued, kQueued, w->order_errors,
        w->info_errors);
    if (w->acked != kRounds || w->queued != kQueued || w->order_errors || w->info_errors)
      failed = 1;
  }
  printf("send errors: %d\n", send_errors);
  printf("%s\n", failed ? "FAILED" : "ok");
  return failed;
}
