// A thread blocked in read() at libc's read site while other threads make
// that same site hot, then interrupted there by signals:
//  - the reader blocks in read() on an empty pipe;
//  - three hammer threads loop write()+read() on pipes of their own, through
//    the same libc read (and write) functions, so under hytrace the read site
//    gets hot and is asked to be patched while the reader is blocked inside
//    it (the patch must wait: the kernel will restart that read there);
//  - the main thread sends SIGUSR2 (SA_RESTART) to the blocked reader and to
//    the busy hammers, one at a time, each acknowledged; every handler
//    read()s one byte, sent for it, from its thread's own signal pipe, through
//    the same read site; the blocked read restarts after each handler;
//  - then the main thread writes the data and the blocked read returns it.
// Between the rounds the reader waits on a futex (not in read), while a
// hammer runs alone so the site can be patched; round 2 repeats everything
// with the reader blocked at the (by then patched) site.
// Checked: the data and every handler byte arrive exactly as sent, the
// blocked read never fails with EINTR, and every signal is acknowledged.
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

enum {
  kHammers = 3,
  kRounds = 2,
  kReaderSignals = 15,
  kHammerSignals = 5,
  kMinLoops = 200,
  kPerStep = 20
};

struct thread_state {
  pthread_t thread;
  volatile pid_t tid;
  int sigfds[2];         // the handler's bytes
  volatile int handled;  // handler runs: the acknowledgement
  char got[64];          // bytes the handler read
  int read_errors;
};

struct hammer {
  struct thread_state t;
  int index;
  int fds[2];
  volatile int loops;  // futex word: raised at kMinLoops
  volatile int stop;
  int data_errors;
};

static struct thread_state reader;
static struct hammer hammers[kHammers + 1];  // the last one runs between the rounds
static int data_fds[2];
static volatile int reader_round;  // the round the reader is about to read for
static volatile int reader_done;   // the round whose read has returned
static volatile int go;            // the reader may start round `go`
static char reader_data[kRounds][32];
static int reader_eintr, reader_errors;
// Raised by the main thread at each step (each signal acknowledged, each
// stop): hammers may loop kPerStep more times per step, then wait for the
// next, so they keep the read site busy without flooding the trace.
static volatile int progress;
static __thread struct thread_state* self;

static void on_usr2(int sig) {
  (void)sig;
  int saved = errno;
  struct thread_state* t = self;
  if (t != NULL) {
    char c = '?';
    if (read(t->sigfds[0], &c, 1) != 1) t->read_errors++;
    int n = t->handled;
    if (n < (int)sizeof t->got - 1) t->got[n] = c;
    __atomic_store_n(&t->handled, n + 1, __ATOMIC_RELEASE);
    futex(&t->handled, FUTEX_WAKE_PRIVATE, 1);
  }
  errno = saved;
}

static void* reader_main(void* arg) {
  (void)arg;
  self = &reader;
  reader.tid = (pid_t)syscall(SYS_gettid);
  for (int round = 1; round <= kRounds; round++) {
    wait_at_least(&go, round);
    publish(&reader_round, round);
    char buf[32];
    ssize_t n;
    while ((n = read(data_fds[0], buf, sizeof buf - 1)) < 0 && errno == EINTR) reader_eintr++;
    if (n < 0) {
      reader_errors++;
      n = 0;
    }
    buf[n] = 0;
    memcpy(reader_data[round - 1], buf, (size_t)n + 1);
    publish(&reader_done, round);
  }
  return NULL;
}

static void* hammer_main(void* arg) {
  struct hammer* h = arg;
  self = &h->t;
  h->t.tid = (pid_t)syscall(SYS_gettid);
  int n = 0;
  while (!__atomic_load_n(&h->stop, __ATOMIC_ACQUIRE) || n < kMinLoops) {
    int step = __atomic_load_n(&progress, __ATOMIC_ACQUIRE);
    if (n >= kMinLoops + kPerStep * step && !__atomic_load_n(&h->stop, __ATOMIC_ACQUIRE)) {
      futex(&progress, FUTEX_WAIT_PRIVATE, step);
      continue;
    }
    char out = (char)('a' + n % 26), in = 0;
    if (write(h->fds[1], &out, 1) != 1) h->data_errors++;
    if (read(h->fds[0], &in, 1) != 1 || in != out) h->data_errors++;
    if (++n == kMinLoops) publish(&h->loops, n);
  }
  return NULL;
}

static int start_hammer(struct hammer* h, int index) {
  memset(h, 0, sizeof *h);
  h->index = index;
  if (pipe(h->fds) != 0 || pipe(h->t.sigfds) != 0) return -1;
  return pthread_create(&h->t.thread, NULL, hammer_main, h);
}

// The futex word changes at every step: a hammer that saw the old budget
// cannot then wait on the old value.
static void advance(void) {
  __atomic_add_fetch(&progress, 1, __ATOMIC_RELEASE);
  futex(&progress, FUTEX_WAKE_PRIVATE, INT32_MAX);
}

static void stop_hammer(struct hammer* h) {
  __atomic_store_n(&h->stop, 1, __ATOMIC_RELEASE);
  advance();
  pthread_join(h->t.thread, NULL);
  close(h->fds[0]);
  close(h->fds[1]);
  close(h->t.sigfds[0]);
  close(h->t.sigfds[1]);
}

static void signal_thread(struct thread_state* t, char c) {
  int before = __atomic_load_n(&t->handled, __ATOMIC_ACQUIRE);
  if (write(t->sigfds[1], &c, 1) != 1) return;
  pthread_kill(t->thread, SIGUSR2);
  wait_at_least(&t->handled, before + 1);
  advance();
}

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr2;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGUSR2, &sa, NULL) != 0) return 1;
  if (pipe(data_fds) != 0 || pipe(reader.sigfds) != 0) return 1;
  if (pthread_create(&reader.thread, NULL, reader_main, NULL) != 0) return 1;

  int failed = 0;
  for (int round = 1; round <= kRounds; round++) {
    publish(&go, round);
    wait_at_least(&reader_round, round);
    while (!in_syscall(reader.tid, SYS_read, (uint64_t)data_fds[0])) sched_yield();
    for (int i = 0; i < kHammers; i++) {
      if (start_hammer(&hammers[i], i) != 0) return 1;
    }
    for (int i = 0; i < kHammers; i++) wait_at_least(&hammers[i].loops, kMinLoops);
    for (int s = 0; s < kReaderSignals; s++) {
      while (!in_syscall(reader.tid, SYS_read, (uint64_t)data_fds[0]))
        sched_yield();  // restarted after the last handler
      signal_thread(&reader, (char)('a' + (round - 1) * kReaderSignals + s));
      if (s < kHammerSignals) {
        for (int i = 0; i < kHammers; i++) signal_thread(&hammers[i].t, (char)('0' + s + i));
      }
    }
    char data[32];
    int len = snprintf(data, sizeof data, "data-for-round-%d", round);
    while (!in_syscall(reader.tid, SYS_read, (uint64_t)data_fds[0])) sched_yield();
    if (write(data_fds[1], data, (size_t)len) != len) failed = 1;
    for (int i = 0; i < kHammers; i++) {
      struct hammer* h = &hammers[i];
      stop_hammer(h);
      h->t.got[h->t.handled < 63 ? h->t.handled : 63] = 0;
      printf(
          "round %d hammer %d: handled %d/%d signals, handler read \"%s\", "
          "handler read errors %d, data errors %d\n",
          round, i, h->t.handled, kHammerSignals, h->t.got, h->t.read_errors, h->data_errors);
      if (h->t.handled != kHammerSignals || h->t.read_errors || h->data_errors) failed = 1;
    }
    if (round < kRounds) {
      // The reader leaves read and waits for `go` on a futex; a hammer alone
      // at the read site lets it be patched before the next round.
      wait_at_least(&reader_done, round);
      if (start_hammer(&hammers[kHammers], kHammers) != 0) return 1;
      stop_hammer(&hammers[kHammers]);
      if (hammers[kHammers].data_errors) failed = 1;
    }
  }
  pthread_join(reader.thread, NULL);

  reader.got[reader.handled < 63 ? reader.handled : 63] = 0;
  char want[kRounds * kReaderSignals + 1];
  for (int n = 0; n < kRounds * kReaderSignals; n++) want[n] = (char)('a' + n);
  want[kRounds * kReaderSignals] = 0;
  printf("reader: handled %d/%d signals, handler read \"%s\" (%s), handler read errors %d\n",
         reader.handled, kRounds * kReaderSignals, reader.got,
         strcmp(reader.got, want) == 0 ? "as sent" : "NOT as sent", reader.read_errors);
  for (int round = 1; round <= kRounds; round++) {
    printf("reader round %d: read \"%s\"\n", round, reader_data[round - 1]);
    char expect[32];
    snprintf(expect, sizeof expect, "data-for-round-%d", round);
    if (strcmp(reader_data[round - 1], expect) != 0) failed = 1;
  }
  printf("reader: EINTR %d, errors %d\n", reader_eintr, reader_errors);
  if (reader.handled != kRounds * kReaderSignals || strcmp(reader.got, want) != 0 ||
      reader.read_errors || reader_eintr || reader_errors)
    failed = 1;
  printf("%s\n", failed ? "FAILED" : "ok");
  return failed;
}
