/* The stub's memory layout, shared by the freestanding stub (C) and the
 * tracer (C++). Keep the two in sync: the C++ side checks sizes and offsets
 * with static_asserts (patcher/stub_blob.hpp).
 *
 *   kGateBase          stub code (read-exec), linked at this fixed address:
 *                      the seccomp filter allows the one syscall instruction
 *                      of hytrace_gate_syscall, so its address must be known
 *                      before the program's first exec
 *   kGateData          per-process data (read-write, private): where the
 *                      event buffer and the sequence counter are, which
 *                      syscalls the stub serves and what bytes to capture
 *   (elsewhere)        the event buffer, shared with the tracer
 *
 * 0x580000000000 (88 TiB) is free in the address-space layouts of the
 * sanitizers a traced program may be built with: above PIE binaries and
 * their heaps (0x55..-0x56..), below ASan's allocator (0x600000000000), in
 * a hole of TSan's layout (0x5680..-0x6000..) and in MSan's application
 * range (0x5100..-0x6000..). 0x600000000000 was tried first: ASan's.
 */
#ifndef HYTRACE_STUB_LAYOUT_H
#define HYTRACE_STUB_LAYOUT_H

#include <stdint.h>

#define HYTRACE_GATE_BASE 0x580000000000ull
#define HYTRACE_GATE_CODE_SIZE 0x4000ull
#define HYTRACE_GATE_DATA (HYTRACE_GATE_BASE + HYTRACE_GATE_CODE_SIZE)
#define HYTRACE_GATE_DATA_SIZE 0x8000ull
#define HYTRACE_GATE_SIZE (HYTRACE_GATE_CODE_SIZE + HYTRACE_GATE_DATA_SIZE)

#define HYTRACE_STUB_MAX_NR 512
#define HYTRACE_STUB_MAX_CAPTURES 4

/* Which bytes of a pointer argument a record carries, so the tracer can show
 * them as they were (the program may reuse the memory before the drain). */
enum hytrace_capture_kind {
  HYTRACE_CAPTURE_NONE = 0,
  HYTRACE_CAPTURE_CSTRING = 1,    /* at entry, up to NUL (included) or max */
  HYTRACE_CAPTURE_LEN_ARG = 2,    /* at entry, args[len_arg] bytes, at most max */
  HYTRACE_CAPTURE_LEN_RESULT = 3, /* at exit when result > 0, result bytes, at most max
                                     and at most args[len_arg] (the buffer's size) */
  HYTRACE_CAPTURE_FIXED = 4,      /* at exit, max bytes (also after an error) */
  HYTRACE_CAPTURE_FIXED_IN = 5,   /* at entry, max bytes */
};

/* Record's rules (hytrace_capture_rule.flags). */
enum hytrace_capture_flag {
  /* LEN_RESULT: a buffer over `max` makes the call fall back to the tracer,
   * so a capture is never cut short. */
  HYTRACE_CAPTURE_EXACT = 1,
  /* LEN_RESULT: the kernel writes into the exit record's capture and the
   * stub copies it to the program's buffer, so the record holds what the
   * kernel wrote even when another thread writes the buffer meanwhile. */
  HYTRACE_CAPTURE_REDIRECT = 2,
};

struct hytrace_capture_rule {
  uint8_t kind;
  uint8_t arg;     /* the pointer argument */
  uint8_t len_arg; /* for LEN_ARG and LEN_RESULT */
  uint8_t flags;   /* hytrace_capture_flag bits */
  uint32_t max;
};

/* hytrace_stub_data.served: how the stub serves a syscall. */
enum hytrace_served {
  HYTRACE_NOT_SERVED = 0,
  HYTRACE_SERVED = 1,
  /* Only for the commands of its hytrace_command_rule (fcntl's commands
   * that take and return integers only: their calls touch no memory). */
  HYTRACE_SERVED_BY_COMMAND = 2,
};

#define HYTRACE_STUB_COMMAND_RULES 2
#define HYTRACE_STUB_MAX_COMMANDS 32

struct hytrace_command_rule {
  uint32_t nr;
  uint8_t arg; /* the command argument (the kernel takes its low 32 bits) */
  uint8_t count;
  uint16_t pad;
  uint32_t values[HYTRACE_STUB_MAX_COMMANDS];
};

struct hytrace_stub_data {
  uint64_t magic;        /* HYTRACE_STUB_MAGIC once the tracer has filled it */
  uint64_t buffer;       /* address of the event buffer in this process */
  uint64_t seq_counter;  /* address of the global sequence counter */
  uint64_t timed;        /* 1: time each call (CLOCK_MONOTONIC, two more syscalls) */
  uint64_t buffer_size;  /* bytes in the event buffer: the stub trusts this, never the
                            buffer's own header, which the program can overwrite */
  uint64_t tid_in_gs;    /* 1: the tracer keeps HYTRACE_GS_TID_TAG | tid in each task's
                            gs base, read by rdgsbase (the CPU has FSGSBASE) */
  uint8_t served[HYTRACE_STUB_MAX_NR]; /* enum hytrace_served */
  struct hytrace_capture_rule rules[HYTRACE_STUB_MAX_NR][HYTRACE_STUB_MAX_CAPTURES];
  struct hytrace_command_rule commands[HYTRACE_STUB_COMMAND_RULES];
};

/* Whether the stub performs syscall `nr` (below HYTRACE_STUB_MAX_NR) with
 * these arguments. Shared by the stub and the tracer, which asks it before
 * it patches a site for a call. */
static inline int hytrace_serves(const struct hytrace_stub_data* d, long nr, const uint64_t* args) {
  if (d->served[nr] == HYTRACE_SERVED) return 1;
  if (d->served[nr] != HYTRACE_SERVED_BY_COMMAND) return 0;
  for (int r = 0; r < HYTRACE_STUB_COMMAND_RULES; ++r) {
    const struct hytrace_command_rule* rule = &d->commands[r];
    if (rule->nr != (uint32_t)nr || rule->arg >= 6) continue;
    const uint32_t command = (uint32_t)args[rule->arg];
    for (int i = 0; i < rule->count && i < HYTRACE_STUB_MAX_COMMANDS; ++i) {
      if (rule->values[i] == command) return 1;
    }
  }
  return 0;
}
#define HYTRACE_STUB_MAGIC 0x6879747261636531ull /* "hytrace1" */

/* A record names its thread. Asking the kernel (gettid) would be a second
 * syscall per call; instead the tracer sets each task's gs base, which
 * x86-64 Linux programs leave unused, to the tag and the tid, at the task's
 * first stop and at each exec. A value without the tag (the program set its
 * own gs base) makes the stub ask the kernel. The tag is a user address the
 * kernel accepts as a base and nothing maps. */
#define HYTRACE_GS_TID_TAG 0x687400000000ull
#define HYTRACE_GS_TAG_MASK 0xffffffff00000000ull
#define HYTRACE_GS_TID(tid) (HYTRACE_GS_TID_TAG | (uint32_t)(tid))

/* The event buffer: a header, then a ring of records. A position counts
 * bytes of records from the ring's start since the buffer was made and
 * never wraps; its offset in the buffer is sizeof(header) + position % ring,
 * where ring is the buffer's size less the header's.
 *
 * A call reserves its entry record and its exit record together before it
 * runs, by one compare-and-swap on `head`: the exit record waits in place
 * while the call runs, so an exit is never lost to a full ring. The pair is
 * contiguous: one that would pass the ring's end is put at its start, and
 * the bytes before the end become a pad. A reservation needs the ring's free
 * room, up to `tail`, which the tracer advances over what it has read (and
 * never past an exit still pending); when the room is not there the stub
 * writes nothing and falls back to a traced syscall, whose stop lets the
 * tracer drain.
 *
 * Each record starts with its commit word, stored last with release order:
 * HYTRACE_COMMITTED(position) for a record, HYTRACE_PADDED(position) for a
 * pad to the ring's end. The tracer clears the bytes it has read before it
 * moves the tail over them, so a slot holds zeros until its record is
 * written (old bytes are the program's data, which could hold any word). */
struct hytrace_buffer_header {
  uint64_t head; /* position after the last reservation */
  uint64_t tail; /* written by the tracer: positions before it may be reused */
  uint64_t size; /* bytes in the buffer (for the tracer's checks; the stub uses
                    hytrace_stub_data.buffer_size) */
  uint64_t dropped;
  uint64_t pad[4];
};

#define HYTRACE_COMMITTED(position) ((position) + 1)
#define HYTRACE_PADDED(position) ((position) + 2)

enum hytrace_record_kind { HYTRACE_RECORD_ENTRY = 1, HYTRACE_RECORD_EXIT = 2 };

struct hytrace_record {
  uint64_t commit;  /* HYTRACE_COMMITTED(its position) once written */
  uint32_t length;  /* of the whole record, a multiple of 8 */
  uint32_t tid;
  uint64_t seq;
  uint16_t kind;
  uint16_t captures;    /* how many hytrace_capture follow */
  uint32_t exit_length; /* entry records: the length of the exit record after them */
  int64_t nr;
  uint64_t args[6];
  int64_t result;     /* exit records */
  uint64_t entry_seq; /* exit records: the seq of their entry record */
  uint64_t duration_ns; /* exit records, when timed: how long the call took; else 0 */
};

struct hytrace_capture {
  uint64_t addr;
  uint32_t length; /* bytes that follow, padded to 8 */
  uint32_t pad;
};

#endif
