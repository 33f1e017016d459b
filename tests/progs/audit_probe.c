// Makes the syscalls its arguments name, one after another, and prints what
// each returned, for the audit tests (tests/integration/audit_test.py):
//   getppid      getppid()
//   dup:N        dup(N)
//   open:PATH    openat(AT_FDCWD, PATH, O_RDONLY)
//   write:PATH   openat(AT_FDCWD, PATH, O_WRONLY)
//   futimens:PATH  futimens(2) of PATH opened read-only (utimensat with a NULL path)
//   connect:PORT a TCP connect to 127.0.0.1:PORT
//   int80        getpid through int 0x80 (the i386 ABI)
//   int80-open:PATH  open(PATH, O_RDONLY) through int 0x80
//   exec:PATH    execl(PATH): reported only when it fails
//   int80-chown:PATH  chown32(PATH, -1, -1) through int 0x80
//   peek-into:ADDR  PTRACE_PEEKDATA of an attached child, the word stored at ADDR
//   io_uring     io_uring_setup of one entry
//   open-by-handle  open_by_handle_at of /etc/hostname's handle
//   x32          getpid with __X32_SYSCALL_BIT
//   trap         installs a SIGSYS handler that reports the refused call and goes on
//   own-filter   installs a filter of its own that sends getppid to a tracer
//                (SECCOMP_RET_TRACE, as the policy's stops do)
//   listener     installs an allow-all filter with a user-notification listener
//   kill-parent  SIGKILL to its parent (under hytrace: the tracer)
//   peek-parent  process_vm_readv of 8 bytes of its parent's stack
//   attach-parent  PTRACE_SEIZE of its parent
// A line per call: "NAME = RESULT" or "NAME = -1 ERRNO_NUMBER".
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static void report(const char* what, long result) {
  if (result < 0) {
    printf("%s = -1 %d\n", what, errno);
  } else {
    printf("%s = %ld\n", what, result);
  }
  fflush(stdout);
}

static void on_sigsys(int sig, siginfo_t* info, void* context) {
  (void)sig;
  (void)context;
  char line[64];
  const int n = snprintf(line, sizeof line, "SIGSYS syscall %d\n", info->si_syscall);
  (void)!write(1, line, (size_t)n);
}

static long int80_getpid(void) {
  long result;
  __asm__ volatile("int $0x80" : "=a"(result) : "a"(20L /* i386 getpid */) : "memory");
  if (result < 0 && result > -4096) {
    errno = (int)-result;
    return -1;
  }
  return result;
}

// open(path, O_RDONLY) through int 0x80, with the path copied below 4 GiB
// (i386 pointers are 32-bit).
static long int80_open(const char* path) {
  char* low = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
  if (low == MAP_FAILED) return -1;
  snprintf(low, 4096, "%s", path);
  long result;
  __asm__ volatile("int $0x80" : "=a"(result) : "a"(5L /* i386 open */), "b"(low), "c"(0L) : "memory");
  munmap(low, 4096);
  if (result < 0 && result > -4096) {
    errno = (int)-result;
    return -1;
  }
  close((int)result);
  return 0;
}

// chown32(path, -1, -1) through int 0x80: i386's own name for chown,
// changing nothing.
static long int80_chown(const char* path) {
  char* low = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
  if (low == MAP_FAILED) return -1;
  snprintf(low, 4096, "%s", path);
  long result;
  __asm__ volatile("int $0x80" : "=a"(result) : "a"(212L /* i386 chown32 */), "b"(low), "c"(-1L), "d"(-1L) : "memory");
  munmap(low, 4096);
  if (result < 0 && result > -4096) {
    errno = (int)-result;
    return -1;
  }
  return 0;
}

// PTRACE_PEEKDATA of a child it attached, the word stored at `into`: the
// kernel fails it with EFAULT where that is not writable.
static long peek_into(unsigned long into) {
  const pid_t child = fork();
  if (child == 0) {
    pause();
    _exit(0);
  }
  int status;
  long result = -1;
  if (ptrace(PTRACE_ATTACH, child, 0, 0) == 0 && waitpid(child, &status, __WALL) == child) {
    static long word = 42;
    result = syscall(SYS_ptrace, PTRACE_PEEKDATA, child, &word, into);
  }
  const int error = errno;
  kill(child, SIGKILL);
  waitpid(child, &status, __WALL);
  errno = error;
  return result;
}

static long tcp_connect(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const long result = connect(fd, (struct sockaddr*)&addr, sizeof addr);
  const int saved = errno;
  close(fd);
  errno = saved;
  return result;
}

static long install_filter(struct sock_filter* code, unsigned short len, unsigned flags) {
  struct sock_fprog prog = {.len = len, .filter = code};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -1;
  return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
}

static long own_trace_filter(void) {
  struct sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE | 5),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  return install_filter(code, 4, 0);
}

static long listener_filter(void) {
  struct sock_filter code[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
  const long fd = install_filter(code, 1, SECCOMP_FILTER_FLAG_NEW_LISTENER);
  return fd < 0 ? -1 : 0;
}

// Any readable word of the parent: the start of its stack, from /proc.
static long peek_parent(void) {
  char path[64];
  const pid_t parent = getppid();
  if (parent <= 1) return -1;
  snprintf(path, sizeof path, "/proc/%d/stat", (int)parent);
  FILE* f = fopen(path, "r");
  if (!f) return -1;
  unsigned long start_stack = 0;
  // Field 28 is startstack; the name (field 2) has no spaces for hytrace.
  if (fscanf(f, "%*d %*s %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %*u %*u "
             "%*d %*u %*u %*u %lu", &start_stack) != 1) {
    fclose(f);
    errno = EINVAL;
    return -1;
  }
  fclose(f);
  char word[8];
  struct iovec local = {word, sizeof word}, remote = {(void*)(start_stack - sizeof word), sizeof word};
  return process_vm_readv(parent, &local, 1, &remote, 1, 0) == (ssize_t)sizeof word ? 0 : -1;
}

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    if (strcmp(a, "getppid") == 0) {
      report(a, syscall(SYS_getppid) > 0 ? 1 : -1);  // the parent's pid differs between runs
    } else if (strncmp(a, "dup:", 4) == 0) {
      const long fd = dup(atoi(a + 4));
      report(a, fd < 0 ? -1 : 0);
      if (fd >= 0) close((int)fd);
    } else if (strncmp(a, "open:", 5) == 0) {
      const long fd = openat(AT_FDCWD, a + 5, O_RDONLY | O_CLOEXEC);
      report(a, fd < 0 ? -1 : 0);
      if (fd >= 0) close((int)fd);
    } else if (strncmp(a, "write:", 6) == 0) {
      const long fd = openat(AT_FDCWD, a + 6, O_WRONLY | O_CLOEXEC);
      report(a, fd < 0 ? -1 : 0);
      if (fd >= 0) close((int)fd);
    } else if (strncmp(a, "futimens:", 9) == 0) {
      const int fd = openat(AT_FDCWD, a + 9, O_RDONLY | O_CLOEXEC);
      report(a, fd < 0 ? -1 : futimens(fd, NULL));
      if (fd >= 0) close(fd);
    } else if (strncmp(a, "connect:", 8) == 0) {
      report(a, tcp_connect(atoi(a + 8)));
    } else if (strncmp(a, "exec:", 5) == 0) {
      execl(a + 5, a + 5, (char*)NULL);
      report(a, -1);  // only when it failed
    } else if (strcmp(a, "io_uring") == 0) {
      char params[120] = {0};  // struct io_uring_params
      const long fd = syscall(SYS_io_uring_setup, 1, params);
      report(a, fd < 0 ? -1 : 0);
      if (fd >= 0) close((int)fd);
    } else if (strcmp(a, "open-by-handle") == 0) {
      char handle[8 + 128] = {0};  // struct file_handle with room for any handle
      *(unsigned*)handle = 128;
      int mount_id = 0;
      long fd = syscall(SYS_name_to_handle_at, AT_FDCWD, "/etc/hostname", handle, &mount_id, 0);
      if (fd == 0) fd = syscall(SYS_open_by_handle_at, AT_FDCWD, handle, O_RDONLY);
      report(a, fd < 0 ? -1 : 0);
      if (fd > 0) close((int)fd);
    } else if (strncmp(a, "int80-chown:", 12) == 0) {
      report(a, int80_chown(a + 12));
    } else if (strncmp(a, "peek-into:", 10) == 0) {
      report(a, peek_into(strtoul(a + 10, NULL, 0)));
    } else if (strncmp(a, "int80-open:", 11) == 0) {
      report(a, int80_open(a + 11));
    } else if (strcmp(a, "int80") == 0) {
      report(a, int80_getpid() == getpid() ? 0 : -1);
    } else if (strcmp(a, "x32") == 0) {
      report(a, syscall(SYS_getpid | 0x40000000) == getpid() ? 0 : -1);
    } else if (strcmp(a, "own-filter") == 0) {
      report(a, own_trace_filter());
    } else if (strcmp(a, "listener") == 0) {
      report(a, listener_filter());
    } else if (strcmp(a, "kill-parent") == 0) {
      // Never kill(-1): a denied getppid returns -1.
      const pid_t parent = getppid();
      report(a, parent > 1 ? kill(parent, SIGKILL) : -1);
    } else if (strcmp(a, "peek-parent") == 0) {
      report(a, peek_parent());
    } else if (strcmp(a, "attach-parent") == 0) {
      report(a, ptrace(PTRACE_SEIZE, getppid(), 0, 0));
    } else if (strcmp(a, "trap") == 0) {
      struct sigaction sa = {.sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO};
      sigemptyset(&sa.sa_mask);
      sigaction(SIGSYS, &sa, NULL);
      report(a, 0);
    } else {
      fprintf(stderr, "audit_probe: unknown step '%s'\n", a);
      return 2;
    }
  }
  return 0;
}
