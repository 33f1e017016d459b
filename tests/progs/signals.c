// Signal delivery cases, all synchronised without sleeping:
//  A. read on an empty pipe, interval timer SIGALRM, handler without
//     SA_RESTART: the read fails with EINTR.
//  B. the same with SA_RESTART: the read is restarted after every tick; the
//     handler (which makes syscalls: getpid, write) writes the data into the
//     pipe on its 5th call, so the restarted read returns that data.
//  C. nanosleep(10 s) interrupted by the interval timer: EINTR, and
//     0 < rem <= 10 s + timer slack (the kernel reports what is left of the
//     slack-extended expiry, so a tick already pending when the sleep starts
//     gives a remainder just above 10 s).
//  D. nested handlers: SIGUSR1's handler raises SIGUSR2, whose handler raises
//     SIGUSR1 again (blocked, so it runs after the first SIGUSR1 handler).
//  E. a handler running on an alternate signal stack (sigaltstack).
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int failures = 0;

static void check(int ok, const char* what) {
  if (!ok) {
    printf("CHECK FAILED: %s\n", what);
    failures++;
  }
}

static void set_handler(int sig, void (*fn)(int), int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = fn;
  sa.sa_flags = flags;
  sigemptyset(&sa.sa_mask);
  if (sigaction(sig, &sa, NULL) != 0) perror("sigaction");
}

static void interval_timer(long usec) {
  struct itimerval it;
  memset(&it, 0, sizeof it);
  it.it_interval.tv_usec = usec;
  it.it_value.tv_usec = usec;
  if (setitimer(ITIMER_REAL, &it, NULL) != 0) perror("setitimer");
}

static const char* errno_name(int e) {
  switch (e) {
    case 0: return "0";
    case EINTR: return "EINTR";
    case EAGAIN: return "EAGAIN";
    default: return "other";
  }
}

// ---- A and B ----
static volatile sig_atomic_t alarm_calls = 0;
static volatile sig_atomic_t handler_pid_ok = 1;
static int pipe_fds[2];
static pid_t main_pid;
static const char kPayload[] = "restarted-data";

static void count_alarm(int sig) {
  (void)sig;
  alarm_calls++;
}

static void restart_alarm(int sig) {
  (void)sig;
  int saved = errno;
  alarm_calls++;
  if (getpid() != main_pid) handler_pid_ok = 0;
  if (alarm_calls == 5) {
    if (write(pipe_fds[1], kPayload, sizeof kPayload - 1) != (ssize_t)(sizeof kPayload - 1))
      handler_pid_ok = 0;
  }
  errno = saved;
}

static void part_a(void) {
  char buf[64];
  set_handler(SIGALRM, count_alarm, 0);
  alarm_calls = 0;
  interval_timer(2000);
  errno = 0;
  ssize_t n = read(pipe_fds[0], buf, 10);
  int e = errno;
  interval_timer(0);
  printf("A: read without SA_RESTART: ret=%zd errno=%s handler ran=%d\n", n, errno_name(e),
         alarm_calls > 0);
  check(n == -1 && e == EINTR && alarm_calls > 0, "A");
}

static void part_b(void) {
  char buf[64];
  memset(buf, 0, sizeof buf);
  set_handler(SIGALRM, restart_alarm, SA_RESTART);
  alarm_calls = 0;
  interval_timer(2000);
  errno = 0;
  ssize_t n = read(pipe_fds[0], buf, sizeof buf - 1);
  int e = errno;
  interval_timer(0);
  printf("B: read with SA_RESTART: ret=%zd errno=%s data='%s' handler calls>=5: %d pid ok: %d\n",
         n, errno_name(e), n > 0 ? buf : "", alarm_calls >= 5, (int)handler_pid_ok);
  check(n == (ssize_t)(sizeof kPayload - 1) && strcmp(buf, kPayload) == 0 && alarm_calls >= 5 &&
            handler_pid_ok,
        "B");
}

// ---- C ----
static void part_c(void) {
  set_handler(SIGALRM, count_alarm, SA_RESTART);  // nanosleep ignores SA_RESTART
  const long long slack_ns = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
  alarm_calls = 0;
  interval_timer(5000);
  struct timespec req = {10, 0}, rem = {0, 0};
  errno = 0;
  int r = nanosleep(&req, &rem);
  int e = errno;
  interval_timer(0);
  int rem_positive = rem.tv_sec > 0 || rem.tv_nsec > 0;
  int rem_below = rem.tv_sec * 1000000000LL + rem.tv_nsec <= 10 * 1000000000LL + slack_ns;
  printf("C: nanosleep(10s): ret=%d errno=%s remaining>0: %d remaining<=10s+slack: %d\n", r,
         errno_name(e), rem_positive, rem_below);
  check(r == -1 && e == EINTR && rem_positive && rem_below, "C");
}

// ---- D ----
static char nest_log[128];
static volatile sig_atomic_t nest_len = 0;
static volatile sig_atomic_t usr1_calls = 0, usr2_calls = 0;

static void log_text(const char* s) {
  while (*s && nest_len < (sig_atomic_t)sizeof nest_log - 1) nest_log[nest_len++] = *s++;
  nest_log[nest_len] = 0;
}

static void on_usr1(int sig) {
  (void)sig;
  usr1_calls++;
  log_text("1< ");
  if (usr1_calls == 1) raise(SIGUSR2);
  log_text("1> ");
}

static void on_usr2(int sig) {
  (void)sig;
  usr2_calls++;
  log_text("2< ");
  if (usr2_calls == 1) raise(SIGUSR1);  // blocked: runs after the outer handler
  log_text("2> ");
}

static void part_d(void) {
  set_handler(SIGUSR1, on_usr1, SA_RESTART);
  set_handler(SIGUSR2, on_usr2, SA_RESTART);
  raise(SIGUSR1);
  printf("D: nested handlers: %s\n", nest_log);
  check(strcmp(nest_log, "1< 2< 2> 1> 1< 1> ") == 0, "D");
}

// ---- E ----
static char alt_stack[65536] __attribute__((aligned(16)));
static volatile sig_atomic_t on_alt = 0, ss_onstack = 0, alt_pid_ok = 0;

static void on_alt_stack(int sig) {
  (void)sig;
  char local;
  uintptr_t p = (uintptr_t)&local;
  on_alt = p >= (uintptr_t)alt_stack && p < (uintptr_t)alt_stack + sizeof alt_stack;
  stack_t cur;
  if (sigaltstack(NULL, &cur) == 0) ss_onstack = (cur.ss_flags & SS_ONSTACK) != 0;
  alt_pid_ok = getpid() == main_pid;
  static const char msg[] = "E: handler writing from the alternate stack\n";
  if (write(1, msg, sizeof msg - 1) < 0) alt_pid_ok = 0;
}

static void part_e(void) {
  stack_t ss;
  memset(&ss, 0, sizeof ss);
  ss.ss_sp = alt_stack;
  ss.ss_size = sizeof alt_stack;
  if (sigaltstack(&ss, NULL) != 0) perror("sigaltstack");
  set_handler(SIGWINCH, on_alt_stack, SA_ONSTACK | SA_RESTART);
  fflush(stdout);
  raise(SIGWINCH);
  char local;
  uintptr_t p = (uintptr_t)&local;
  int main_on_alt = p >= (uintptr_t)alt_stack && p < (uintptr_t)alt_stack + sizeof alt_stack;
  printf("E: handler on alternate stack: %d SS_ONSTACK: %d pid ok: %d main off it: %d\n",
         (int)on_alt, (int)ss_onstack, (int)alt_pid_ok, !main_on_alt);
  check(on_alt && ss_onstack && alt_pid_ok && !main_on_alt, "E");
}

int main(void) {
  main_pid = getpid();
  if (pipe(pipe_fds) != 0) {
    perror("pipe");
    return 1;
  }
  part_a();
  part_b();
  part_c();
  part_d();
  part_e();
  printf("%s\n", failures ? "FAILED" : "ok");
  return failures ? 1 : 0;
}
