// A program that overwrites hytrace's event buffer, as a stray memset or a
// hostile program would: hot reads (so the read site is patched and the
// buffer mapped), then every shared writable memfd mapping of
// /proc/self/maps filled with a pattern, then more reads. Under hytrace the
// program must run as it does natively (natively there is nothing to find).
//
//   prog_patch_scribble PATTERN [READS]
//
// PATTERN: a byte ("0xff": every byte of every such mapping), "lengths"
// (alternating huge and zero 32-bit words everywhere, header included),
// "zero-records" or "huge-records" (the first 64 bytes, the buffer's
// header, kept; then records that say they are committed, of length 0 or
// of a length past the buffer), or "forged-tid" (no memory written: the gs
// base, where hytrace's stubs find their thread id, set to hytrace's tag
// with tid 1, a task of another process). READS: per phase, 50000 unless
// given.
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

enum { kHeader = 64 };

// The 8-byte word written at every 8-byte offset from `from`.
static void fill_words(unsigned char* start, unsigned char* end, size_t from, uint32_t lo, uint32_t hi) {
  for (unsigned char* p = start + from; p + 8 <= end; p += 8) {
    memcpy(p, &lo, 4);
    memcpy(p + 4, &hi, 4);
  }
}

static void scribble(unsigned char* start, unsigned char* end, const char* pattern) {
  if (strcmp(pattern, "lengths") == 0) {
    fill_words(start, end, 0, 0xfffffff8u, 0);
  } else if (strcmp(pattern, "zero-records") == 0) {
    fill_words(start, end, kHeader, 0, 1);  // length 0, committed
  } else if (strcmp(pattern, "huge-records") == 0) {
    fill_words(start, end, kHeader, 0x7ffffff8u, 1);
  } else {
    memset(start, (int)strtol(pattern, NULL, 0), (size_t)(end - start));
  }
}

// Overwrites every shared writable memfd mapping. Prints nothing about
// them: a native run has none, and its output must be the same.
static void scribble_memfds(const char* pattern) {
  FILE* maps = fopen("/proc/self/maps", "r");
  if (!maps) exit(3);
  char line[512];
  unsigned long starts[64], ends[64];
  int n = 0;
  while (fgets(line, sizeof line, maps) && n < 64) {
    unsigned long start, end;
    char perms[8];
    int path_at = 0;
    if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &start, &end, perms, &path_at) < 3) continue;
    if (strcmp(perms, "rw-s") != 0 || strncmp(line + path_at, "/memfd:", 7) != 0) continue;
    starts[n] = start;
    ends[n++] = end;
  }
  fclose(maps);
  for (int i = 0; i < n; ++i) scribble((unsigned char*)starts[i], (unsigned char*)ends[i], pattern);
}

// FNV-1a over the results and the bytes read.
static uint64_t mix(uint64_t h, const void* data, size_t len) {
  const unsigned char* p = data;
  for (size_t i = 0; i < len; ++i) h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

static void reads(int fd, long n, const char* phase) {
  char buf[64];
  uint64_t sum = 0xcbf29ce484222325ull;
  long bytes = 0;
  for (long i = 0; i < n; ++i) {
    const ssize_t got = read(fd, buf, sizeof buf);
    sum = mix(sum, &got, sizeof got);
    if (got > 0) {
      sum = mix(sum, buf, (size_t)got);
      bytes += got;
    }
  }
  printf("%s: %ld reads, %ld bytes, checksum %016llx\n", phase, n, bytes, (unsigned long long)sum);
  fflush(stdout);
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s PATTERN [READS]\n", argv[0]);
    return 2;
  }
  const long n = argc > 2 ? atol(argv[2]) : 50000;
  const int fd = open("/dev/zero", O_RDONLY);
  if (fd < 0) return 1;
  reads(fd, n, "before");
  if (strcmp(argv[1], "forged-tid") == 0) {
    if (syscall(SYS_arch_prctl, ARCH_SET_GS, 0x687400000001ul) != 0) return 1;  // HYTRACE_GS_TID_TAG | 1
  } else {
    scribble_memfds(argv[1]);
  }
  printf("scribbled with %s\n", argv[1]);
  fflush(stdout);
  reads(fd, n, "after");
  // A last read of its own size, for the trace to show it.
  char last[7];
  printf("last: %zd\n", read(fd, last, sizeof last));
  return 0;
}
