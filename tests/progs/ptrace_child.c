// A program that traces a child of its own, as debuggers and crash
// reporters do: attach, the attach stop, a second attach refused, peek and
// poke, registers (GETREGS, SETREGS, GETREGSET), the stop's siginfo, a
// signal stop passed on at detach, requests on a task it no longer
// traces, and a tracer that exits with PTRACE_O_EXITKILL set. Under hytrace, which is already every task's tracer, these are
// served by hytrace (tracer/ptrace_emulation.hpp); the output must be the
// same as natively.
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile long word = 0x1111;
static volatile sig_atomic_t got_usr1;

static void on_usr1(int sig) {
  (void)sig;
  got_usr1 = 1;
}

static const char* stop_name(int status) {
  if (!WIFSTOPPED(status)) return "not a stop";
  const int sig = WSTOPSIG(status);
  return sig == SIGSTOP ? "SIGSTOP" : sig == SIGUSR1 ? "SIGUSR1" : sig == SIGTRAP ? "SIGTRAP" : "other";
}

static void child_main(int ready, int go) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &sa, NULL);
  char c = 'r';
  if (write(ready, &c, 1) != 1) _exit(2);
  // The parent attaches while this read waits: it is interrupted by the
  // stop, and restarted.
  if (read(go, &c, 1) != 1) _exit(3);
  printf("child: word %#lx, SIGUSR1 handled %d\n", word, (int)got_usr1);
  _exit(0);
}

// A sibling seizes a child of ours with PTRACE_O_EXITKILL and exits: the
// kernel kills the child as the tracer exits, so by the time the tracer is
// reaped, closing the child's pipe can no longer let it exit on its own.
// The child says it is ready first, so it is always killed in its read.
static void exit_kill(void) {
  int go[2], ready[2];
  if (pipe(go) != 0 || pipe(ready) != 0) exit(1);
  const pid_t victim = fork();
  if (victim < 0) exit(1);
  if (victim == 0) {
    close(go[1]);
    char c = 'r';
    if (write(ready[1], &c, 1) != 1) _exit(6);
    _exit(read(go[0], &c, 1) == 0 ? 0 : 4);
  }
  close(go[0]);
  close(ready[1]);
  char c;
  if (read(ready[0], &c, 1) != 1) exit(1);
  const pid_t tracer = fork();
  if (tracer < 0) exit(1);
  if (tracer == 0) _exit(ptrace(PTRACE_SEIZE, victim, 0, (void*)PTRACE_O_EXITKILL) == 0 ? 0 : 5);
  int status = 0;
  if (waitpid(tracer, &status, 0) != tracer) exit(1);
  printf("exitkill tracer exit: %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  close(go[1]);
  if (waitpid(victim, &status, 0) != victim) exit(1);
  if (WIFSIGNALED(status)) printf("exitkill victim: killed by signal %d\n", WTERMSIG(status));
  else printf("exitkill victim: exited %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

// A tracee attached with PTRACE_ATTACH (not SEIZE) that execs gets a
// SIGTRAP from the kernel once the new program is in place.
static void exec_trap(void) {
  int go[2];
  if (pipe(go) != 0) exit(1);
  const pid_t child = fork();
  if (child < 0) exit(1);
  if (child == 0) {
    close(go[1]);
    char c;
    if (read(go[0], &c, 1) != 1) _exit(1);
    execl("/proc/self/exe", "ptrace_child", "exit7", (char*)NULL);
    _exit(1);
  }
  close(go[0]);
  int status = 0;
  if (ptrace(PTRACE_ATTACH, child, 0, 0) != 0 || waitpid(child, &status, __WALL) != child) exit(1);
  if (ptrace(PTRACE_CONT, child, 0, 0) != 0 || write(go[1], "g", 1) != 1) exit(1);
  if (waitpid(child, &status, __WALL) != child) exit(1);
  printf("after exec: %s\n", stop_name(status));
  siginfo_t info;
  memset(&info, 0, sizeof info);
  if (ptrace(PTRACE_GETSIGINFO, child, 0, &info) != 0) exit(1);
  printf("its siginfo: %s\n", info.si_code == SI_USER ? "SI_USER" : "other");
  if (ptrace(PTRACE_CONT, child, 0, 0) != 0 || waitpid(child, &status, __WALL) != child) exit(1);
  printf("exec'd child exit: %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  close(go[1]);
}

// A wait for any child while a tracee runs on: the plain child's exit is
// what it returns, whether that child ended before the wait or during it.
static void real_child_exit(void) {
  int hold[2];
  if (pipe(hold) != 0) exit(1);
  const pid_t traced = fork();
  if (traced < 0) exit(1);
  if (traced == 0) {
    close(hold[1]);
    char c;
    _exit(read(hold[0], &c, 1) == 0 ? 0 : 1);
  }
  close(hold[0]);
  int status = 0;
  if (ptrace(PTRACE_ATTACH, traced, 0, 0) != 0 || waitpid(traced, &status, __WALL) != traced) exit(1);
  if (ptrace(PTRACE_CONT, traced, 0, 0) != 0) exit(1);  // on into its read, which waits
  for (int round = 0; round < 2; round++) {
    const pid_t plain = fork();
    if (plain < 0) exit(1);
    if (plain == 0) _exit(5 + round);
    if (round == 1) usleep(20000);  // mostly ended before the wait: either way, the same answer
    const pid_t got = waitpid(-1, &status, __WALL);
    printf("wait for any, round %d: %s, exit %d\n", round, got == plain ? "the plain child" : "another",
           WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  }
  close(hold[1]);
  if (waitpid(traced, &status, __WALL) != traced) exit(1);
  printf("tracee exit: %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

int main(int argc, char** argv) {
  if (argc == 2 && strcmp(argv[1], "exit7") == 0) return 7;
  setvbuf(stdout, NULL, _IONBF, 0);
  int ready[2], go[2];
  if (pipe(ready) != 0 || pipe(go) != 0) return 1;
  const pid_t child = fork();
  if (child < 0) return 1;
  if (child == 0) {
    close(ready[0]);
    close(go[1]);  // a parent that fails does not leave it waiting
    child_main(ready[1], go[0]);
  }
  close(go[0]);
  char c;
  if (read(ready[0], &c, 1) != 1) return 1;

  if (ptrace(PTRACE_ATTACH, child, 0, 0) != 0) {
    perror("PTRACE_ATTACH");
    return 1;
  }
  int status = 0;
  if (waitpid(child, &status, __WALL) != child) return 1;
  printf("attach stop: %s\n", stop_name(status));
  printf("attach again: %s\n", ptrace(PTRACE_ATTACH, child, 0, 0) == 0 ? "ok" : strerrorname_np(errno));

  errno = 0;
  const long peeked = ptrace(PTRACE_PEEKDATA, child, (void*)&word, 0);
  printf("peek: %#lx (%s)\n", peeked, errno ? strerrorname_np(errno) : "ok");
  printf("poke: %s\n", ptrace(PTRACE_POKEDATA, child, (void*)&word, (void*)0x2222) == 0 ? "ok" : "failed");

  struct user_regs_struct regs, again;
  memset(&again, 0, sizeof again);
  if (ptrace(PTRACE_GETREGS, child, 0, &regs) != 0) return 1;
  printf("regs: %s\n", regs.rsp != 0 && regs.rip != 0 ? "non-zero rsp and rip" : "zero");
  printf("setregs: %s\n", ptrace(PTRACE_SETREGS, child, 0, &regs) == 0 ? "ok" : "failed");
  struct iovec iov = {&again, sizeof again};
  const long got = ptrace(PTRACE_GETREGSET, child, (void*)NT_PRSTATUS, &iov);
  printf("regset: %s, %s\n", got == 0 && iov.iov_len == sizeof again ? "full length" : "short",
         memcmp(&regs, &again, sizeof regs) == 0 ? "same registers" : "different registers");
  siginfo_t info;
  if (ptrace(PTRACE_GETSIGINFO, child, 0, &info) != 0) return 1;
  printf("siginfo: %s\n", info.si_signo == SIGSTOP ? "SIGSTOP" : "other");
  printf("WNOHANG while stopped and reaped: %d\n", (int)waitpid(child, &status, WNOHANG | __WALL));

  // A signal stop of the tracee's own, passed on at detach.
  if (ptrace(PTRACE_CONT, child, 0, 0) != 0) return 1;
  kill(child, SIGUSR1);
  // Seen first by waitid, left there (WNOWAIT), then reaped by a wait for
  // the process group.
  siginfo_t seen;
  memset(&seen, 0, sizeof seen);
  if (waitid(P_PID, (id_t)child, &seen, WSTOPPED | WEXITED | WNOWAIT | __WALL) != 0) return 1;
  printf("waitid: pid %s, %s, %s\n", seen.si_pid == child ? "the child's" : "other",
         seen.si_code == CLD_TRAPPED ? "CLD_TRAPPED" : "other code", seen.si_status == SIGUSR1 ? "SIGUSR1" : "other");
  if (waitpid(0, &status, __WALL) != child) return 1;
  printf("second stop: %s\n", stop_name(status));
  printf("detach: %s\n", ptrace(PTRACE_DETACH, child, 0, (void*)SIGUSR1) == 0 ? "ok" : "failed");
  errno = 0;
  ptrace(PTRACE_PEEKDATA, child, (void*)&word, 0);
  printf("peek after detach: %s\n", errno ? strerrorname_np(errno) : "ok");

  if (write(go[1], "g", 1) != 1) return 1;
  if (waitpid(child, &status, 0) != child) return 1;
  printf("child exit: %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  exit_kill();
  exec_trap();
  real_child_exit();
  return 0;
}
