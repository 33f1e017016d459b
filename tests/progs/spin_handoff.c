// Two threads hand a token back and forth by spinning on one shared word,
// with a syscall on each side between hand-offs: no futex, so the kernel
// never sees them meet. A replay that runs the code between syscalls in the
// recorded order holds the thread that would set the word; it must notice
// that the other spins, and let it go on, rather than wait for ever.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

enum { kRounds = 8 };

static int turn;  // even: main's turn; odd: the partner's
static long partner_calls;

static void wait_for(int want) {
  while (__atomic_load_n(&turn, __ATOMIC_ACQUIRE) != want) __builtin_ia32_pause();
}

static void* partner(void* arg) {
  (void)arg;
  for (int i = 0; i < kRounds; i++) {
    wait_for(2 * i + 1);
    if (syscall(SYS_getppid) > 0) partner_calls++;
    __atomic_store_n(&turn, 2 * i + 2, __ATOMIC_RELEASE);
  }
  return NULL;
}

int main(void) {
  pthread_t thread;
  if (pthread_create(&thread, NULL, partner, NULL) != 0) return 1;
  long main_calls = 0;
  for (int i = 0; i < kRounds; i++) {
    wait_for(2 * i);
    if (syscall(SYS_getpid) > 0) main_calls++;
    __atomic_store_n(&turn, 2 * i + 1, __ATOMIC_RELEASE);
  }
  pthread_join(thread, NULL);
  printf("rounds %d, main calls %ld, partner calls %ld\n", kRounds, main_calls, partner_calls);
  return 0;
}
