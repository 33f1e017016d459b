// Signal storms across threads whose syscalls are hot (under hytrace:
// patched), with fork, vfork and exec from threads that are not the leader.
//
// Default mode:
//  - four busy threads loop getppid()/write()/read() on pipes of their own
//    (the same libc sites in every thread, so they get hot and patched),
//    kPerSignal iterations per signal received, then wait in FUTEX_WAIT for
//    the next (so they are found both in hot calls and blocked);
//  - a sender thread sends SIGUSR1 to each of them in turn with
//    pthread_kill, waiting for the handler's acknowledgement (a futex) before
//    the next, then queues real-time signals (they never coalesce) carrying a
//    sequence number, which every handler checks arrive in order; handlers
//    (SA_RESTART) make a hot getppid() call too;
//  - meanwhile a forker thread (not the leader) forks children that do hot
//    reads of /dev/zero and getppid(), then _exit with a code the forker
//    checks, and vforks children that _exit at once; it is a signal target
//    as well, so its waitpid is interrupted and restarted.
//  Counts are exact: sent == received, bytes read == bytes written.
//
// "exec" mode: busy threads loop on hot syscalls while a non-leader thread,
// once they have all looped a while, execs this program again with
// "stage2 PID"; the kernel kills the busy threads mid-loop. Stage 2 checks it
// kept the PID, makes its own hot syscalls (a fresh address space) and prints.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sync.h"

enum {
  kBusy = 4,
  kTargets = kBusy + 1,
  kRounds = 100,
  kQueued = 40,
  kForks = 6,
  kChildReads = 300,
  kMinLoops = 100,
  kPerSignal = 20
};

struct target {
  int index;
  pthread_t thread;
  volatile pid_t tid;
  int fds[2];
  volatile int loops;    // futex word: raised at kMinLoops
  volatile int acked;    // SIGUSR1 handler count
  volatile int queued;   // real-time handler count
  volatile int signals;  // both, and stop_all: the busy loop's budget grows with it
  int order_errors;
  int info_errors;
  int handler_errors;
  long bytes;
  int data_errors;
};

static struct target targets[kTargets];  // kBusy busy threads, then the forker
static __thread struct target* self;
static volatile int stop_flag;
static pid_t pid, ppid;
static char* self_argv0;

static void on_usr1(int sig, siginfo_t* si, void* ctx) {
  (void)sig;
  (void)ctx;
  int saved = errno;
  struct target* t = self;
  if (si->si_code != SI_TKILL || si->si_pid != pid) t->info_errors++;
  if (getppid() != ppid) t->handler_errors++;
  __atomic_add_fetch(&t->signals, 1, __ATOMIC_RELEASE);
  __atomic_store_n(&t->acked, t->acked + 1, __ATOMIC_RELEASE);
  futex(&t->acked, FUTEX_WAKE_PRIVATE, 1);
  errno = saved;
}

static void on_rt(int sig, siginfo_t* si, void* ctx) {
  (void)sig;
  (void)ctx;
  int saved = errno;
  struct target* t = self;
  if (si->si_code != SI_QUEUE || si->si_pid != pid) t->info_errors++;
  if (si->si_value.sival_int != t->queued) t->order_errors++;
  if (getppid() != ppid) t->handler_errors++;
  __atomic_add_fetch(&t->signals, 1, __ATOMIC_RELEASE);
  __atomic_store_n(&t->queued, t->queued + 1, __ATOMIC_RELEASE);
  futex(&t->queued, FUTEX_WAKE_PRIVATE, 1);
  errno = saved;
}

// One hot iteration: getppid, a byte written and read back.
static void busy_iteration(struct target* t, int n) {
  char out = (char)('a' + n % 26), in = 0;
  if (getppid() != ppid) t->data_errors++;
  if (write(t->fds[1], &out, 1) != 1) t->data_errors++;
  if (read(t->fds[0], &in, 1) != 1 || in != out) t->data_errors++;
  t->bytes++;
}

// Hot iterations until the stop flag, kPerSignal of them per signal received
// (so the threads do not just spin); out of budget, the thread waits in
// FUTEX_WAIT, where signals find it too.
static void busy_loop(struct target* t, int n) {
  while (!__atomic_load_n(&stop_flag, __ATOMIC_ACQUIRE)) {
    int s = __atomic_load_n(&t->signals, __ATOMIC_ACQUIRE);
    if (n >= kMinLoops + kPerSignal * s) {
      futex(&t->signals, FUTEX_WAIT_PRIVATE, s);
      continue;
    }
    busy_iteration(t, n++);
  }
}

// The futex word changes too: a thread that checked the flag just before
// cannot then wait on the old value.
static void stop_all(int count) {
  __atomic_store_n(&stop_flag, 1, __ATOMIC_RELEASE);
  for (int i = 0; i < count; i++) {
    __atomic_add_fetch(&targets[i].signals, 1, __ATOMIC_RELEASE);
    futex(&targets[i].signals, FUTEX_WAKE_PRIVATE, 1);
  }
}

static void* busy_main(void* arg) {
  struct target* t = arg;
  self = t;
  t->tid = (pid_t)syscall(SYS_gettid);
  int n = 0;
  while (n < kMinLoops) busy_iteration(t, n++);
  publish(&t->loops, kMinLoops);
  busy_loop(t, n);
  return NULL;
}

// --- default mode: the forker ---

struct fork_results {
  int fork_ok, fork_bad;
  int vfork_ok, vfork_bad;
};
static struct fork_results fork_results;

static int child_work(int i) {
  int fd = open("/dev/zero", O_RDONLY);
  if (fd < 0) return 1;
  char buf[64];
  long total = 0;
  for (int n = 0; n < kChildReads; n++) {
    total += read(fd, buf, sizeof buf);
    if (getppid() != pid) return 2;  // the forker's process is the parent
  }
  return total == (long)kChildReads * (long)sizeof buf ? 40 + i : 3;
}

static int wait_child(pid_t child) {
  int status = 0;
  pid_t r;
  while ((r = waitpid(child, &status, 0)) < 0 && errno == EINTR) {
  }
  if (r != child || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

static void* forker_main(void* arg) {
  struct target* t = arg;
  self = t;
  t->tid = (pid_t)syscall(SYS_gettid);
  int n = 0;
  while (n < kMinLoops) busy_iteration(t, n++);
  publish(&t->loops, kMinLoops);
  // Forks and vforks while the storm is on (this thread is a target too).
  for (int i = 0; i < kForks; i++) {
    for (int k = 0; k < 20; k++) busy_iteration(t, n++);
    pid_t child = fork();
    if (child == 0) _exit(child_work(i));
    if (child < 0 || wait_child(child) != 40 + i)
      fork_results.fork_bad++;
    else
      fork_results.fork_ok++;
    child = vfork();
    if (child == 0) _exit(60 + i);
    if (child < 0 || wait_child(child) != 60 + i)
      fork_results.vfork_bad++;
    else
      fork_results.vfork_ok++;
  }
  // Stay a signal target until the storm is over.
  busy_loop(t, n);
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

struct sender_result {
  int send_errors;
};

static void* sender_main(void* arg) {
  struct sender_result* r = arg;
  for (int round = 0; round < kRounds; round++) {
    for (int i = 0; i < kTargets; i++) {
      struct target* t = &targets[i];
      if (pthread_kill(t->thread, SIGUSR1) != 0) {
        r->send_errors++;
        continue;
      }
      wait_at_least(&t->acked, round + 1);
    }
  }
  for (int seq = 0; seq < kQueued; seq++) {
    for (int i = 0; i < kTargets; i++) {
      union sigval v;
      v.sival_int = seq;
      int rc;
      while ((rc = pthread_sigqueue(targets[i].thread, SIGRTMIN + 1, v)) == EAGAIN) sched_yield();
      if (rc != 0) r->send_errors++;
    }
  }
  for (int i = 0; i < kTargets; i++) wait_at_least(&targets[i].queued, kQueued);
  return NULL;
}

static int storm(void) {
  set_handler(SIGUSR1, on_usr1);
  set_handler(SIGRTMIN + 1, on_rt);
  for (int i = 0; i < kTargets; i++) {
    struct target* t = &targets[i];
    t->index = i;
    if (pipe(t->fds) != 0) return 1;
    if (pthread_create(&t->thread, NULL, i < kBusy ? busy_main : forker_main, t) != 0) return 1;
  }
  // The storm starts once every site is hot.
  for (int i = 0; i < kTargets; i++) wait_at_least(&targets[i].loops, kMinLoops);
  struct sender_result result = {0};
  pthread_t sender;
  if (pthread_create(&sender, NULL, sender_main, &result) != 0) return 1;
  pthread_join(sender, NULL);
  stop_all(kTargets);

  int failed = result.send_errors != 0;
  for (int i = 0; i < kTargets; i++) {
    struct target* t = &targets[i];
    pthread_join(t->thread, NULL);
    printf(
        "%s %d: acknowledged %d/%d, queued received %d/%d, out of order %d, bad siginfo %d, "
        "handler errors %d, data errors %d, bytes %s\n",
        i < kBusy ? "busy" : "forker", i, t->acked, kRounds, t->queued, kQueued, t->order_errors,
        t->info_errors, t->handler_errors, t->data_errors,
        t->bytes >= kMinLoops ? "flowed" : "MISSING");
    if (t->acked != kRounds || t->queued != kQueued || t->order_errors || t->info_errors ||
        t->handler_errors || t->data_errors || t->bytes < kMinLoops)
      failed = 1;
  }
  printf("forks: %d ok, %d bad; vforks: %d ok, %d bad\n", fork_results.fork_ok,
         fork_results.fork_bad, fork_results.vfork_ok, fork_results.vfork_bad);
  if (fork_results.fork_ok != kForks || fork_results.vfork_ok != kForks) failed = 1;
  printf("send errors: %d\n", result.send_errors);
  printf("%s\n", failed ? "FAILED" : "ok");
  return failed;
}

// --- exec mode ---

static volatile int exec_rounds;  // storm rounds sent in exec mode

// Signals the busy threads in turn, acknowledged, until the exec kills it.
static void* exec_sender_main(void* arg) {
  (void)arg;
  for (int i = 0; i < kBusy; i++) wait_at_least(&targets[i].loops, kMinLoops);
  for (int round = 0;; round++) {
    for (int i = 0; i < kBusy; i++) {
      pthread_kill(targets[i].thread, SIGUSR1);
      wait_at_least(&targets[i].acked, round + 1);
    }
    publish(&exec_rounds, round + 1);
  }
  return NULL;
}

static void* exec_main(void* arg) {
  (void)arg;
  wait_at_least(&exec_rounds, 20);  // mid-storm
  char pid_text[32];
  snprintf(pid_text, sizeof pid_text, "%d", (int)pid);
  printf("stage1: exec from a thread, leader=%d, while %d threads loop and get signals\n",
         (pid_t)syscall(SYS_gettid) == pid, kBusy);
  fflush(stdout);
  char* argv[] = {self_argv0, "stage2", pid_text, NULL};
  execv("/proc/self/exe", argv);
  perror("execv");
  exit(1);
}

static int exec_from_thread(void) {
  set_handler(SIGUSR1, on_usr1);
  for (int i = 0; i < kBusy; i++) {
    struct target* t = &targets[i];
    t->index = i;
    if (pipe(t->fds) != 0) return 1;
    if (pthread_create(&t->thread, NULL, busy_main, t) != 0) return 1;
  }
  pthread_t sender, execer;
  if (pthread_create(&sender, NULL, exec_sender_main, NULL) != 0 ||
      pthread_create(&execer, NULL, exec_main, NULL) != 0)
    return 1;
  pthread_join(execer, NULL);  // never returns: the exec replaces the process
  fprintf(stderr, "join returned\n");
  return 1;
}

static int stage2(const char* old_pid) {
  int same_pid = atoi(old_pid) == (int)pid;
  int leader = (pid_t)syscall(SYS_gettid) == pid;
  int fd = open("/dev/zero", O_RDONLY);
  long total = 0;
  char buf[64];
  int bad = fd < 0;
  for (int n = 0; n < kChildReads && !bad; n++) {
    total += read(fd, buf, sizeof buf);
    if (getppid() != ppid) bad = 1;
  }
  printf("stage2: same pid=%d, leader=%d, %ld bytes read, errors %d\n", same_pid, leader, total,
         bad);
  return same_pid && leader && !bad && total == (long)kChildReads * (long)sizeof buf ? 0 : 1;
}

int main(int argc, char** argv) {
  self_argv0 = argv[0];
  pid = getpid();
  ppid = getppid();
  if (argc > 2 && strcmp(argv[1], "stage2") == 0) return stage2(argv[2]);
  if (argc > 1 && strcmp(argv[1], "exec") == 0) return exec_from_thread();
  return storm();
}
