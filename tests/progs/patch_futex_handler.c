// The rr-style scenario for deferred patching: one `syscall` instruction (the
// one in glibc's generic syscall() function) is shared by every call below.
// Waiter threads block in FUTEX_WAIT made through syscall(); meanwhile a
// hammer thread makes hundreds of syscall(SYS_getppid) / syscall(SYS_read)
// calls, so the site gets hot and is asked to be patched while the futexes
// are pending there. Each waiter is interrupted many times by SIGUSR1
// (SA_RESTART) while its futex is pending; the handler reads one byte from
// the waiter's own pipe through the same syscall() site and acknowledges
// with a FUTEX_WAKE, also through it. The futex restarts after each handler;
// only then is it woken.
//
// Round 1 runs with the futexes pending from the start: the site's first
// calls are the waiters' futexes, so under hytrace it gets hot while they are
// pending and cannot be written (it is deferred) until they are released. Between the rounds the
// waiters wait in a pthread barrier (another futex site) while a hammer runs
// alone, so nothing is inside the site any more and it can be patched.
// Round 2 then repeats everything at the (by then patched) site.
//
// Checked: every handler ran once per signal on the right thread, read the
// exact byte sent for it, every futex returned only after its release and
// never with EINTR, and the getppid/read/write results are right. Progress
// is awaited with futexes and /proc/self/task/TID/syscall, never with sleeps.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sync.h"

enum { kWaiters = 3, kRounds = 2, kSignals = 12, kHammerCalls = 300, kPostCalls = 100 };

struct waiter {
  int index;
  pthread_t thread;
  volatile pid_t tid;
  int fds[2];            // what the handler reads
  volatile int word;     // futex word: released for round r when >= r
  volatile int ready;    // the round the waiter is about to wait for
  volatile int handled;  // handler runs (the acknowledgement)
  char got[kRounds * kSignals + 1];
  int wrong_thread;
  int read_errors;
  int early_returns;  // futex returned 0 before the release
  int eintr;          // futex failed with EINTR (SA_RESTART must prevent it)
  int other_errors;
  int post_errors;  // wrong getppid results after the release
};

static struct waiter waiters[kWaiters];
static __thread struct waiter* self;
static pid_t pid, ppid;
static pthread_barrier_t between_rounds;

static void wait_in_futex(struct waiter* w) {
  while (!in_syscall(w->tid, SYS_futex, (uintptr_t)&w->word)) sched_yield();
}

static void on_usr1(int sig) {
  (void)sig;
  int saved = errno;
  struct waiter* w = self;
  if (w == NULL) {
    // Only waiters are signalled; a NULL self is a signal on the wrong thread.
    errno = saved;
    return;
  }
  if ((pid_t)syscall(SYS_gettid) != w->tid) w->wrong_thread++;
  char c = '?';
  if (syscall(SYS_read, w->fds[0], &c, 1) != 1) w->read_errors++;
  int n = w->handled;
  if (n < kRounds * kSignals) w->got[n] = c;
  __atomic_store_n(&w->handled, n + 1, __ATOMIC_RELEASE);
  futex(&w->handled, FUTEX_WAKE_PRIVATE, 1);
  errno = saved;
}

static void* waiter_main(void* arg) {
  struct waiter* w = arg;
  self = w;
  w->tid = gettid();
  for (int round = 1; round <= kRounds; round++) {
    // No call at the syscall() site before the futex: the site must get hot
    // in round 1 with every waiter's futex pending there.
    __atomic_store_n(&w->ready, round, __ATOMIC_RELEASE);
    while (__atomic_load_n(&w->word, __ATOMIC_ACQUIRE) < round) {
      long r = futex(&w->word, FUTEX_WAIT_PRIVATE, round - 1);
      if (r == 0) {
        if (__atomic_load_n(&w->word, __ATOMIC_ACQUIRE) < round) w->early_returns++;
      } else if (errno == EINTR) {
        w->eintr++;
      } else if (errno != EAGAIN) {
        w->other_errors++;
        break;
      }
    }
    for (int i = 0; i < kPostCalls; i++) {
      if (syscall(SYS_getppid) != ppid) w->post_errors++;
    }
    if (round < kRounds) pthread_barrier_wait(&between_rounds);
  }
  return NULL;
}

// Hot calls through the syscall() site: getppid, and a byte through a pipe.
struct hammer {
  int calls;
  int errors;
};

static void* hammer_main(void* arg) {
  struct hammer* h = arg;
  int fds[2];
  if (pipe(fds) != 0) {
    h->errors++;
    return NULL;
  }
  for (int i = 0; i < kHammerCalls; i++) {
    char out = (char)('a' + i % 26), in = 0;
    if (syscall(SYS_getppid) != ppid) h->errors++;
    if (syscall(SYS_write, fds[1], &out, 1) != 1) h->errors++;
    if (syscall(SYS_read, fds[0], &in, 1) != 1 || in != out) h->errors++;
    h->calls += 3;
  }
  close(fds[0]);
  close(fds[1]);
  return NULL;
}

static void signal_round(int round) {
  for (int s = 0; s < kSignals; s++) {
    for (int i = 0; i < kWaiters; i++) {
      struct waiter* w = &waiters[i];
      int sent = (round - 1) * kSignals + s;
      char c = (char)('A' + (sent + i) % 26);
      syscall(SYS_write, w->fds[1], &c, 1);
      wait_in_futex(w);  // the futex (restarted after the last handler) is pending
      pthread_kill(w->thread, SIGUSR1);
      wait_at_least(&w->handled, sent + 1);
    }
  }
}

int main(void) {
  pid = getpid();
  ppid = getppid();
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGUSR1, &sa, NULL) != 0) return 1;
  pthread_barrier_init(&between_rounds, NULL, kWaiters + 1);
  for (int i = 0; i < kWaiters; i++) {
    struct waiter* w = &waiters[i];
    w->index = i;
    if (pipe(w->fds) != 0) return 1;
    if (pthread_create(&w->thread, NULL, waiter_main, w) != 0) return 1;
  }

  struct hammer hammers[kRounds + 1];
  memset(hammers, 0, sizeof hammers);
  for (int round = 1; round <= kRounds; round++) {
    for (int i = 0; i < kWaiters; i++) {
      while (__atomic_load_n(&waiters[i].ready, __ATOMIC_ACQUIRE) < round) sched_yield();
      wait_in_futex(&waiters[i]);
    }
    // The hammer makes the site hot while every waiter's futex is pending,
    // and the signals interrupt those futexes meanwhile.
    pthread_t hammer;
    if (pthread_create(&hammer, NULL, hammer_main, &hammers[round - 1]) != 0) return 1;
    signal_round(round);
    pthread_join(hammer, NULL);
    for (int i = 0; i < kWaiters; i++) {
      wait_in_futex(&waiters[i]);
      publish(&waiters[i].word, round);
    }
    if (round < kRounds) {
      // The waiters leave the site and wait in the barrier; a hammer alone
      // at the site lets it be patched before the next round.
      if (pthread_create(&hammer, NULL, hammer_main, &hammers[kRounds]) != 0) return 1;
      pthread_join(hammer, NULL);
      pthread_barrier_wait(&between_rounds);
    }
  }

  int failed = 0;
  for (int i = 0; i < kWaiters; i++) {
    struct waiter* w = &waiters[i];
    pthread_join(w->thread, NULL);
    char want[kRounds * kSignals + 1];
    for (int n = 0; n < kRounds * kSignals; n++) want[n] = (char)('A' + (n + i) % 26);
    want[kRounds * kSignals] = 0;
    int bytes_ok = strcmp(w->got, want) == 0;
    printf(
        "waiter %d: handled %d/%d signals, handler read \"%s\" (%s), wrong thread %d, "
        "read errors %d, early futex returns %d, EINTR %d, other errors %d, post errors %d\n",
        i, w->handled, kRounds * kSignals, w->got, bytes_ok ? "as sent" : "NOT as sent",
        w->wrong_thread, w->read_errors, w->early_returns, w->eintr, w->other_errors,
        w->post_errors);
    if (w->handled != kRounds * kSignals || !bytes_ok || w->wrong_thread || w->read_errors ||
        w->early_returns || w->eintr || w->other_errors || w->post_errors)
      failed = 1;
  }
  for (int h = 0; h <= kRounds; h++) {
    printf("hammer %d: %d calls, %d errors\n", h, hammers[h].calls, hammers[h].errors);
    if (hammers[h].calls != 3 * kHammerCalls || hammers[h].errors) failed = 1;
  }
  printf("%s\n", failed ? "FAILED" : "ok");
  return failed;
}
