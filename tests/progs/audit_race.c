// Tries to open a file that an audit path rule denies by changing, from a
// second thread, what an open names between hytrace's check and the
// kernel's use of it (tests/integration/audit_test.py, case "race"):
//   audit_race memory DIR N  the path bytes flip between DIR/public/file and
//                            DIR/secret/file
//   audit_race cwd DIR N     open("file") while the cwd flips between
//                            DIR/public and DIR/secret (fchdir)
//   audit_race dirfd DIR N   openat(D, "file") while D flips between the two
//                            directories (dup2)
//   audit_race exec DIR N    N children each exec ./prog while the cwd flips
//                            between DIR/public and DIR/secret, where prog is
//                            a copy of this program: it says where it runs
//   audit_race procmem PATH  open(PATH, O_RDWR): PATH a spelling of
//                            /proc/self/mem
//   audit_race whoami        prints the name of the directory it runs from
// DIR/public/file holds "public", DIR/secret/file "secret". Each of the N
// opens that succeeds is read; the line printed counts the reads that got
// "secret": "memory: secret 0 of 400" (and the opens that failed).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static atomic_int done;
static _Alignas(8) char path[4096];
static size_t flip_at;  // where "public" or "secret" is in `path`
static int public_dir, secret_dir, dir_slot;

// "public/f" and "secret/f" as one aligned 8-byte store each: the path is
// never torn, only one or the other.
static void* flip_bytes(void* arg) {
  (void)arg;
  uint64_t secret, public;
  memcpy(&secret, "secret/f", 8);
  memcpy(&public, "public/f", 8);
  _Atomic uint64_t* at = (_Atomic uint64_t*)(path + flip_at);
  while (!atomic_load_explicit(&done, memory_order_relaxed)) {
    atomic_store_explicit(at, secret, memory_order_relaxed);
    atomic_store_explicit(at, public, memory_order_relaxed);
  }
  return NULL;
}

static void* flip_cwd(void* arg) {
  (void)arg;
  while (!atomic_load_explicit(&done, memory_order_relaxed)) {
    if (fchdir(secret_dir) != 0 || fchdir(public_dir) != 0) abort();
  }
  return NULL;
}

static void* flip_dirfd(void* arg) {
  (void)arg;
  while (!atomic_load_explicit(&done, memory_order_relaxed)) {
    if (dup2(secret_dir, dir_slot) < 0 || dup2(public_dir, dir_slot) < 0) abort();
  }
  return NULL;
}

static int open_dir(const char* dir, const char* name) {
  char p[4096];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  const int fd = open(p, O_PATH | O_DIRECTORY);  // no access a path rule is about
  if (fd < 0) {
    perror(p);
    exit(2);
  }
  return fd;
}

// Forks n children that each exec ./prog while a thread flips the cwd, and
// counts the ones that ran from DIR/secret.
static int exec_race(int n) {
  int secret = 0;
  for (int i = 0; i < n; ++i) {
    int out[2];
    if (pipe(out) != 0) return 2;
    const pid_t child = fork();
    if (child == 0) {
      dup2(out[1], 1);
      pthread_t flipper;
      if (fchdir(public_dir) != 0 || pthread_create(&flipper, NULL, flip_cwd, NULL) != 0) _exit(2);
      execl("./prog", "prog", "whoami", (char*)NULL);
      _exit(3);
    }
    close(out[1]);
    char buf[64] = {0};
    if (read(out[0], buf, sizeof buf - 1) > 0 && strncmp(buf, "secret", 6) == 0) ++secret;
    close(out[0]);
    waitpid(child, NULL, 0);
  }
  printf("exec: secret %d of %d\n", secret, n);
  return 0;
}

int main(int argc, char** argv) {
  if (argc == 3 && strcmp(argv[1], "procmem") == 0) {
    const int fd = open(argv[2], O_RDWR);
    printf("procmem = %d\n", fd < 0 ? -errno : 0);
    return 0;
  }
  if (argc == 2 && strcmp(argv[1], "whoami") == 0) {
    char exe[4096];
    const ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return 2;
    exe[n] = '\0';
    *strrchr(exe, '/') = '\0';
    printf("%s\n", strrchr(exe, '/') + 1);
    return 0;
  }
  if (argc != 4) {
    fprintf(stderr, "usage: %s memory|cwd|dirfd|exec DIR N | procmem PATH | whoami\n", argv[0]);
    return 2;
  }
  const char* mode = argv[1];
  const char* dir = argv[2];
  const int n = atoi(argv[3]);
  public_dir = open_dir(dir, "public");
  secret_dir = open_dir(dir, "secret");
  dir_slot = dup(public_dir);
  const char* target = "file";
  int at = AT_FDCWD;
  void* (*flip)(void*) = NULL;
  if (strcmp(mode, "memory") == 0) {
    // DIR, then as many '/' as align "public" to 8 bytes.
    const size_t slashes = 8 - strlen(dir) % 8;
    snprintf(path, sizeof path, "%s%.*spublic/file", dir, (int)slashes, "////////");
    flip_at = strlen(dir) + slashes;
    target = path;
    flip = flip_bytes;
  } else if (strcmp(mode, "cwd") == 0) {
    if (fchdir(public_dir) != 0) return 2;
    flip = flip_cwd;
  } else if (strcmp(mode, "dirfd") == 0) {
    at = dir_slot;
    flip = flip_dirfd;
  } else if (strcmp(mode, "exec") == 0) {
    return exec_race(n);
  } else {
    fprintf(stderr, "%s: unknown mode %s\n", argv[0], mode);
    return 2;
  }
  pthread_t flipper;
  if (pthread_create(&flipper, NULL, flip, NULL) != 0) return 2;
  int secret = 0, failed = 0;
  for (int i = 0; i < n; ++i) {
    const int fd = openat(at, target, O_RDONLY);
    if (fd < 0) {
      ++failed;
      continue;
    }
    char buf[16] = {0};
    if (read(fd, buf, sizeof buf - 1) > 0 && strncmp(buf, "secret", 6) == 0) ++secret;
    close(fd);
  }
  atomic_store(&done, 1);
  pthread_join(flipper, NULL);
  printf("%s: secret %d of %d\n", mode, secret, n);
  fprintf(stderr, "%s: %d opens failed\n", mode, failed);
  return 0;
}
