// Signal handlers (SA_SIGINFO) that change the interrupted instruction
// pointer in their ucontext before returning, while hot syscall sites (under
// hytrace: patched, or waiting to be) are in use by several threads.
//
// Default mode, "escape": SIGUSR1 handlers set RIP to escape(), on the
// interrupted stack, so the interrupted code never resumes; escape()
// acknowledges and longjmps back to the victim's loop.
//  - victim 0 is blocked in read() on an empty pipe (SA_RESTART: the kernel
//    has already rewound to the syscall to restart it; the read is abandoned
//    instead). Its final read gets the one byte written at the end: no
//    abandoned read consumed anything.
//  - victim 1 loops over getppid()/syscall(SYS_getppid)/write()/read() on a
//    pipe of its own and is redirected wherever it happens to be.
//  - a third thread makes hot syscalls around a load from address 0 in an
//    assembly function; its SIGSEGV handler checks that the fault is at
//    exactly that instruction and moves RIP past it.
//
// "detour" mode (argv[1]): the way Go preempts goroutines. The SIGUSR1
// handler (on an alternate stack) pushes the interrupted RIP on the
// interrupted stack below its red zone and sets RIP to detour_entry, which
// saves every register, makes hot syscalls, restores them and returns to
// the interrupted instruction. Victim 0's blocked read is thus restarted by
// the program itself: the detour returns to the `syscall` instruction the
// kernel rewound to. Victim 1's loop checks every byte it reads back.
//
// Every signal is acknowledged before the next; counts and data are printed.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "sync.h"

enum { kRounds = 25, kWarmLoops = 20, kDetourCalls = 20, kFaults = 100, kAltStack = 65536 };
enum kind { BLOCKED_READ, BUSY };

struct victim {
  int index;
  enum kind kind;
  pthread_t thread;
  volatile pid_t tid;
  int fds[2];
  jmp_buf env;
  volatile int armed;  // the round the victim is ready for
  volatile int warm;   // busy: the round in which it has looped kWarmLoops times
  volatile int acked;  // escapes or detours completed
  volatile int stop;   // detour mode: the busy loop ends
  int bad_siginfo;
  int resumed;  // escape mode: the interrupted code went on (never should)
  int data_errors;
  int detour_errors;
  char final_byte;
};

static struct victim victims[2];
static __thread struct victim* self;
static pid_t pid, ppid;
static int detour_mode;

// Assembly: the faulting function, and the detour of detour mode.
long fault_between_syscalls(void);
extern const char fault_insn[];
void detour_entry(void);
void detour_body(void);
__asm__(
    ".text\n"
    ".p2align 4\n"
    ".globl fault_between_syscalls\n"
    ".type fault_between_syscalls, @function\n"
    "fault_between_syscalls:\n"
    "  mov $110, %eax\n"  // getppid
    "  syscall\n"
    "  mov %rax, %rdx\n"
    ".globl fault_insn\n"
    "fault_insn:\n"
    "  movl 0, %ecx\n"   // 7 bytes; the SIGSEGV handler skips them
    "  mov $39, %eax\n"  // getpid
    "  syscall\n"
    "  add %rdx, %rax\n"
    "  ret\n"
    ".size fault_between_syscalls, .-fault_between_syscalls\n"
    "\n"
    ".p2align 4\n"
    ".globl detour_entry\n"
    ".type detour_entry, @function\n"
    "detour_entry:\n"  // (%rsp): the interrupted RIP; above it, 128 bytes of red zone
    "  pushfq\n"
    "  push %rax\n"
    "  push %rcx\n"
    "  push %rdx\n"
    "  push %rsi\n"
    "  push %rdi\n"
    "  push %r8\n"
    "  push %r9\n"
    "  push %r10\n"
    "  push %r11\n"
    "  push %rbp\n"
    "  mov %rsp, %rbp\n"
    "  and $-64, %rsp\n"
    "  sub $512, %rsp\n"
    "  fxsave64 (%rsp)\n"
    "  cld\n"
    "  call detour_body\n"
    "  fxrstor64 (%rsp)\n"
    "  mov %rbp, %rsp\n"
    "  pop %rbp\n"
    "  pop %r11\n"
    "  pop %r10\n"
    "  pop %r9\n"
    "  pop %r8\n"
    "  pop %rdi\n"
    "  pop %rsi\n"
    "  pop %rdx\n"
    "  pop %rcx\n"
    "  pop %rax\n"
    "  popfq\n"
    "  ret $128\n"
    ".size detour_entry, .-detour_entry\n");

// Escape mode: runs where the interrupted code was, on its stack.
static void escape(struct victim* v) {
  int n = v->acked;
  publish(&v->acked, n + 1);
  longjmp(v->env, 1);
}

// Detour mode: runs between the interrupted instruction and its resumption.
void detour_body(void) {
  int saved = errno;
  struct victim* v = self;
  for (int i = 0; i < kDetourCalls; i++) {
    if (syscall(SYS_getppid) != ppid || getppid() != ppid) v->detour_errors++;
  }
  publish(&v->acked, v->acked + 1);
  errno = saved;
}

static void on_usr1(int sig, siginfo_t* si, void* ctx) {
  (void)sig;
  ucontext_t* uc = ctx;
  greg_t* g = uc->uc_mcontext.gregs;
  struct victim* v = self;
  if (si->si_code != SI_TKILL || si->si_pid != pid) v->bad_siginfo++;
  if (!detour_mode) {
    // A fresh frame below the interrupted one (the signal frame, which lies
    // there too, is gone by the time escape runs), aligned as at a call.
    uintptr_t sp = ((uintptr_t)g[REG_RSP] - 512) & ~(uintptr_t)15;
    g[REG_RSP] = (greg_t)(sp - 8);
    g[REG_RDI] = (greg_t)v;
    g[REG_RIP] = (greg_t)escape;
  } else {
    // We run on the alternate stack: below the red zone of the interrupted
    // stack is free. Push the interrupted RIP there, as a call would.
    uintptr_t sp = (uintptr_t)g[REG_RSP] - 128 - 8;
    *(greg_t*)sp = g[REG_RIP];
    g[REG_RSP] = (greg_t)sp;
    g[REG_RIP] = (greg_t)detour_entry;
  }
}

static volatile int faults;
static volatile int bad_faults;

static void on_segv(int sig, siginfo_t* si, void* ctx) {
  (void)sig;
  ucontext_t* uc = ctx;
  greg_t* g = uc->uc_mcontext.gregs;
  if (g[REG_RIP] != (greg_t)fault_insn || si->si_addr != NULL || si->si_code != SEGV_MAPERR) {
    bad_faults++;
    // Skipping an unknown instruction would be nonsense: stop here.
    static const char msg[] = "SIGSEGV at an unexpected place\n";
    (void)!write(2, msg, sizeof msg - 1);
    _exit(3);
  }
  g[REG_RIP] += 7;
  faults++;
}

static void busy_iteration(struct victim* v, int n) {
  char out = (char)('a' + n % 26), in = 0;
  if (getppid() != ppid || syscall(SYS_getppid) != ppid) v->data_errors++;
  if (write(v->fds[1], &out, 1) != 1) v->data_errors++;
  if (read(v->fds[0], &in, 1) != 1) v->data_errors++;
  // An escape may abandon an iteration between its write and its read, so
  // bytes are compared only in detour mode, where nothing is abandoned.
  if (detour_mode && in != out) v->data_errors++;
}

static void* victim_main(void* arg) {
  struct victim* v = arg;
  self = v;
  v->tid = (pid_t)syscall(SYS_gettid);
  if (detour_mode) {
    stack_t ss;
    ss.ss_sp = malloc(kAltStack);
    ss.ss_size = kAltStack;
    ss.ss_flags = 0;
    if (ss.ss_sp == NULL || sigaltstack(&ss, NULL) != 0) v->detour_errors++;
    publish(&v->armed, 1);
    if (v->kind == BLOCKED_READ) {
      // One read across every detour, resumed by the detour itself.
      char c = 0;
      ssize_t n;
      while ((n = read(v->fds[0], &c, 1)) < 0 && errno == EINTR) v->data_errors++;
      v->final_byte = n == 1 ? c : '?';
    } else {
      for (int n = 0; !__atomic_load_n(&v->stop, __ATOMIC_ACQUIRE); n++) {
        busy_iteration(v, n);
        if (n == kWarmLoops) publish(&v->warm, 1);
      }
    }
    return NULL;
  }
  for (volatile int round = 1; round <= kRounds; round++) {
    if (setjmp(v->env) != 0) continue;  // escaped: on to the next round
    publish(&v->armed, round);
    if (v->kind == BLOCKED_READ) {
      char c;
      ssize_t n = read(v->fds[0], &c, 1);  // nobody writes before the last round
      (void)n;
      v->resumed++;
    } else {
      for (int n = 0;; n++) {
        busy_iteration(v, n);
        if (n == kWarmLoops) publish(&v->warm, round);
      }
    }
  }
  if (v->kind == BLOCKED_READ) {
    char c = 0;
    publish(&v->armed, kRounds + 1);
    v->final_byte = read(v->fds[0], &c, 1) == 1 ? c : '?';
  }
  return NULL;
}

static void* faulter_main(void* arg) {
  long* bad_results = arg;
  for (int i = 0; i < kFaults; i++) {
    if (fault_between_syscalls() != (long)ppid + (long)pid) ++*bad_results;
  }
  return NULL;
}

static void set_handler(int sig, void (*fn)(int, siginfo_t*, void*), int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = fn;
  sa.sa_flags = SA_SIGINFO | flags;
  sigemptyset(&sa.sa_mask);
  sigaction(sig, &sa, NULL);
}

int main(int argc, char** argv) {
  detour_mode = argc > 1 && strcmp(argv[1], "detour") == 0;
  pid = getpid();
  ppid = getppid();
  set_handler(SIGUSR1, on_usr1, SA_RESTART | (detour_mode ? SA_ONSTACK : 0));
  set_handler(SIGSEGV, on_segv, 0);
  for (int i = 0; i < 2; i++) {
    struct victim* v = &victims[i];
    v->index = i;
    v->kind = i == 0 ? BLOCKED_READ : BUSY;
    if (pipe(v->fds) != 0) return 1;
    if (pthread_create(&v->thread, NULL, victim_main, v) != 0) return 1;
  }
  long bad_results = 0;
  pthread_t faulter;
  if (!detour_mode && pthread_create(&faulter, NULL, faulter_main, &bad_results) != 0) return 1;

  for (int round = 1; round <= kRounds; round++) {
    for (int i = 0; i < 2; i++) {
      struct victim* v = &victims[i];
      wait_at_least(&v->armed, detour_mode ? 1 : round);
      if (v->kind == BLOCKED_READ) {
        while (!in_syscall(v->tid, SYS_read, (uint64_t)v->fds[0])) sched_yield();
      } else {
        wait_at_least(&v->warm, detour_mode ? 1 : round);
      }
      pthread_kill(v->thread, SIGUSR1);
      wait_at_least(&v->acked, round);
    }
  }
  // The end: the blocked reader gets its byte, the busy loop stops.
  struct victim* r = &victims[0];
  wait_at_least(&r->armed, detour_mode ? 1 : kRounds + 1);
  while (!in_syscall(r->tid, SYS_read, (uint64_t)r->fds[0])) sched_yield();
  if (write(r->fds[1], "Z", 1) != 1) return 1;
  __atomic_store_n(&victims[1].stop, 1, __ATOMIC_RELEASE);
  int failed = 0;
  for (int i = 0; i < 2; i++) {
    struct victim* v = &victims[i];
    pthread_join(v->thread, NULL);
    printf("victim %d (%s): %s %d/%d, bad siginfo %d, resumed %d, data errors %d, detour errors %d",
           i, v->kind == BLOCKED_READ ? "blocked in read" : "busy",
           detour_mode ? "detours" : "escapes", v->acked, kRounds, v->bad_siginfo, v->resumed,
           v->data_errors, v->detour_errors);
    if (v->kind == BLOCKED_READ) printf(", final read '%c'", v->final_byte);
    printf("\n");
    if (v->acked != kRounds || v->bad_siginfo || v->resumed || v->data_errors || v->detour_errors ||
        (v->kind == BLOCKED_READ && v->final_byte != 'Z'))
      failed = 1;
  }
  if (!detour_mode) {
    pthread_join(faulter, NULL);
    printf("faulter: %d/%d faults skipped, bad faults %d, bad results %ld\n", faults, kFaults,
           bad_faults, bad_results);
    if (faults != kFaults || bad_faults || bad_results) failed = 1;
  }
  printf("%s\n", failed ? "FAILED" : "ok");
  return failed;
}
