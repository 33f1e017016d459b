// A fixed sequence of syscalls whose outputs (the bytes the kernel wrote
// into this program) are hashed here and printed, one line per call, so a
// test can check that a recording holds exactly those bytes:
//
//   <what> fd=<fd> buf=<address> n=<result> hash=<FNV-1a 64 of the bytes>
//
// fd is -1 for calls without one. The hash covers the bytes the call wrote:
// the result's worth for read/getdents64/recvmsg/getrandom, the whole
// structure for fstat/stat/clock_gettime/gettimeofday. For stat-like and time
// calls a few fields are printed too, so a test that only sees decoded
// structures can compare them.
//
// The sequence: a file it creates (reads of 100, 300 and the rest), two
// reads of /dev/urandom, fstat and stat of the file, getdents64 of a
// directory it creates, getrandom, a pipe's write and read, a socketpair's
// sendmsg and recvmsg (two iovecs each way), clock_gettime (libc) and
// gettimeofday (raw); all of it twice ("round 0", "round 1" lines). Raw
// syscall() where libc might take another path.
#define _GNU_SOURCE
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static uint64_t fnv1a(const void* data, size_t len) {
  const unsigned char* p = data;
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < len; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

static void die(const char* what) {
  perror(what);
  exit(2);
}

static void report(const char* what, long fd, const void* buf, long n, const void* bytes, size_t len) {
  printf("%s fd=%ld buf=%#" PRIxPTR " n=%ld hash=%016" PRIx64 "\n", what, fd, (uintptr_t)buf, n,
         fnv1a(bytes, len));
}

// A read of n bytes from fd into buf through the raw syscall.
static long raw_read(int fd, void* buf, size_t n) {
  long got = syscall(SYS_read, fd, buf, n);
  if (got < 0) die("read");
  return got;
}

static void one_round(void) {
  char dir[] = "/tmp/record_roundtrip.XXXXXX";
  if (!mkdtemp(dir)) die("mkdtemp");
  char path[256], sub[256];
  snprintf(path, sizeof path, "%s/data", dir);
  snprintf(sub, sizeof sub, "%s/entries", dir);

  // A file of 1000 known bytes, every value 0..255 in it.
  static unsigned char content[1000];
  for (size_t i = 0; i < sizeof content; ++i) content[i] = (unsigned char)(i * 7 + i / 256);
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0 || write(fd, content, sizeof content) != (ssize_t)sizeof content) die("write data");
  close(fd);

  static unsigned char buf[4096];
  fd = open(path, O_RDONLY);
  if (fd < 0) die("open data");
  const size_t sizes[] = {100, 300, 4096};
  for (size_t i = 0; i < 3; ++i) {
    long n = raw_read(fd, buf, sizes[i]);
    report("read_file", fd, buf, n, buf, (size_t)n);
  }

  // fstat and stat of it (the raw calls: libc would use newfstatat/statx).
  struct stat st;
  memset(&st, 0xa5, sizeof st);
  if (syscall(SYS_fstat, fd, &st) != 0) die("fstat");
  report("fstat", fd, &st, 0, &st, sizeof st);
  printf("fstat_fields size=%lld mode=%o nlink=%lu\n", (long long)st.st_size, (unsigned)st.st_mode,
         (unsigned long)st.st_nlink);
  close(fd);
  memset(&st, 0x5a, sizeof st);
  if (syscall(SYS_stat, path, &st) != 0) die("stat");
  report("stat", -1, &st, 0, &st, sizeof st);
  printf("stat_fields size=%lld mode=%o nlink=%lu\n", (long long)st.st_size, (unsigned)st.st_mode,
         (unsigned long)st.st_nlink);

  // Random bytes: two reads of /dev/urandom.
  fd = open("/dev/urandom", O_RDONLY);
  if (fd < 0) die("open urandom");
  for (size_t n = 64; n <= 200; n += 136) {
    long got = raw_read(fd, buf + 1024, n);
    report("read_urandom", fd, buf + 1024, got, buf + 1024, (size_t)got);
  }
  close(fd);

  // A directory with three entries.
  if (mkdir(sub, 0700) != 0) die("mkdir");
  const char* names[] = {"alpha", "beta", "gamma-with-a-longer-name"};
  for (size_t i = 0; i < 3; ++i) {
    char p[300];
    snprintf(p, sizeof p, "%s/%s", sub, names[i]);
    int f = open(p, O_WRONLY | O_CREAT, 0600);
    if (f < 0) die("create entry");
    close(f);
  }
  fd = open(sub, O_RDONLY | O_DIRECTORY);
  if (fd < 0) die("open entries");
  long n = syscall(SYS_getdents64, fd, buf + 2048, 2048);
  if (n <= 0) die("getdents64");
  report("getdents64", fd, buf + 2048, n, buf + 2048, (size_t)n);
  // struct linux_dirent64: u64 d_ino, i64 d_off, u16 d_reclen, ...
  int entries = 0;
  for (long at = 0; at < n; ++entries) {
    unsigned short reclen;
    memcpy(&reclen, buf + 2048 + at + 16, sizeof reclen);
    if (reclen == 0) break;
    at += reclen;
  }
  printf("getdents64_fields entries=%d\n", entries);
  close(fd);

  // getrandom.
  unsigned char random_bytes[48];
  n = syscall(SYS_getrandom, random_bytes, sizeof random_bytes, 0);
  if (n != (long)sizeof random_bytes) die("getrandom");
  report("getrandom", -1, random_bytes, n, random_bytes, (size_t)n);

  // A pipe: write, then read back.
  int p[2];
  if (pipe(p) != 0) die("pipe");
  static const char message[] = "through the pipe\n";
  if (syscall(SYS_write, p[1], message, sizeof message - 1) != (long)sizeof message - 1) die("pipe write");
  char pipe_buf[64];
  n = raw_read(p[0], pipe_buf, sizeof pipe_buf);
  report("read_pipe", p[0], pipe_buf, n, pipe_buf, (size_t)n);
  close(p[0]);
  close(p[1]);

  // A socketpair: sendmsg with two iovecs, recvmsg into two.
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) die("socketpair");
  char part1[] = "first part, ", part2[] = "second part";
  struct iovec out_iov[2] = {{part1, sizeof part1 - 1}, {part2, sizeof part2 - 1}};
  struct msghdr out = {.msg_iov = out_iov, .msg_iovlen = 2};
  const long sent = syscall(SYS_sendmsg, sv[0], &out, 0);
  if (sent != (long)(sizeof part1 + sizeof part2 - 2)) die("sendmsg");
  static char in1[8], in2[64];
  struct iovec in_iov[2] = {{in1, sizeof in1}, {in2, sizeof in2}};
  struct msghdr in = {.msg_iov = in_iov, .msg_iovlen = 2};
  n = syscall(SYS_recvmsg, sv[1], &in, 0);
  if (n != sent) die("recvmsg");
  char joined[128];
  memcpy(joined, in1, sizeof in1);
  memcpy(joined + sizeof in1, in2, (size_t)n - sizeof in1);
  report("recvmsg", sv[1], &in, n, joined, (size_t)n);
  close(sv[0]);
  close(sv[1]);

  // Time: clock_gettime through libc (the vDSO, or a syscall when it is
  // hidden, as under record), gettimeofday raw.
  struct timespec ts;
  memset(&ts, 0, sizeof ts);
  if (clock_gettime(CLOCK_REALTIME, &ts) != 0) die("clock_gettime");
  report("clock_gettime", -1, &ts, 0, &ts, sizeof ts);
  printf("clock_gettime_fields sec=%lld nsec=%ld\n", (long long)ts.tv_sec, (long)ts.tv_nsec);
  struct timeval tv;
  memset(&tv, 0, sizeof tv);
  if (syscall(SYS_gettimeofday, &tv, NULL) != 0) die("gettimeofday");
  report("gettimeofday", -1, &tv, 0, &tv, sizeof tv);
  printf("gettimeofday_fields sec=%lld usec=%ld\n", (long long)tv.tv_sec, (long)tv.tv_usec);

  // Clean up what it created.
  for (size_t i = 0; i < 3; ++i) {
    char q[300];
    snprintf(q, sizeof q, "%s/%s", sub, names[i]);
    unlink(q);
  }
  rmdir(sub);
  unlink(path);
  rmdir(dir);
}

// Two rounds: under `hytrace record` the first finds the sites (each call
// stops in ptrace), the second mostly runs through patched sites, whose
// calls the in-program stub serves and records.
int main(void) {
  for (int round = 0; round < 2; ++round) {
    printf("round %d\n", round);
    one_round();
  }
  return 0;
}
