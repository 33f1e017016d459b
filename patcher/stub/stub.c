/* The in-tracee stub: freestanding (no libc), linked at the gate's fixed
 * address and embedded in hytrace. A patched site's trampoline calls
 * hytrace_stub_entry with the registers of the original syscall instruction;
 * the stub records an entry event, performs the syscall from the one
 * instruction the seccomp filter allows, records the exit event with the
 * bytes the tracer will show, and returns the result in %rax.
 *
 * Every register the syscall instruction preserves is preserved (all but
 * %rax, %rcx and %r11), and so are the flags. The trampoline has already
 * stepped over the red zone. Memory of the program is only read through
 * process_vm_readv, so a bad pointer gives the syscall its EFAULT instead of
 * crashing the stub (except the bytes a call wrote and succeeded on, which
 * are copied directly). */
#include <asm/unistd.h>

#include "layout.h"

/* A C-callable syscall(nr, a0..a5) with its own syscall instruction; NAME_end
 * labels the address after it. */
#define SYSCALL_THUNK(name)   \
  ".globl " name "\n"          \
  name ":\n"                   \
  "  mov %rdi, %rax\n"         \
  "  mov %rsi, %rdi\n"         \
  "  mov %rdx, %rsi\n"         \
  "  mov %rcx, %rdx\n"         \
  "  mov %r8, %r10\n"          \
  "  mov %r9, %r8\n"           \
  "  mov 8(%rsp), %r9\n"       \
  "  syscall\n"                \
  ".globl " name "_end\n"      \
  name "_end:\n"               \
  "  ret\n"

long hytrace_gate_syscall(long nr, long a0, long a1, long a2, long a3, long a4, long a5);
long hytrace_traced_syscall(long nr, long a0, long a1, long a2, long a3, long a4, long a5);

__asm__(
    ".text\n"
    ".globl hytrace_stub_entry\n"
    "hytrace_stub_entry:\n"
    "  pushfq\n"
    "  push %rdi\n"
    "  push %rsi\n"
    "  push %rdx\n"
    "  push %r10\n"
    "  push %r8\n"
    "  push %r9\n"
    "  push %rax\n"
    "  push %rbx\n"
    "  mov %rsp, %rbx\n"
    "  mov %rsp, %rdi\n"
    "  and $-16, %rsp\n"
    "  call hytrace_stub_main\n"
    "  mov %rbx, %rsp\n"
    "  pop %rbx\n"
    "  add $8, %rsp\n"
    "  pop %r9\n"
    "  pop %r8\n"
    "  pop %r10\n"
    "  pop %rdx\n"
    "  pop %rsi\n"
    "  pop %rdi\n"
    "  popfq\n"
    "  ret\n"
    /* The allowed syscall instruction: the filter compares the address
     * after it (hytrace_gate_syscall_end) with the instruction pointer. */
    SYSCALL_THUNK("hytrace_gate_syscall")
    /* A syscall instruction the filter does not allow: the fallback when the
     * stub cannot record, so the call still reaches the tracer. */
    SYSCALL_THUNK("hytrace_traced_syscall"));

/* What hytrace_stub_entry pushed, lowest address first. */
struct saved_registers {
  uint64_t rbx, rax, r9, r8, r10, rdx, rsi, rdi, flags;
};

struct iovec_ {
  uint64_t base;
  uint64_t len;
};

static long gate(long nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
                 uint64_t a5) {
  return hytrace_gate_syscall(nr, (long)a0, (long)a1, (long)a2, (long)a3, (long)a4, (long)a5);
}

/* Copies up to len bytes of the program's memory; returns how many. */
static uint32_t copy_in(uint32_t tid, void* to, uint64_t from, uint32_t len) {
  if (len == 0) return 0;
  struct iovec_ local = {(uint64_t)to, len};
  struct iovec_ remote = {from, len};
  long n = gate(__NR_process_vm_readv, tid, (uint64_t)&local, 1, (uint64_t)&remote, 1, 0);
  return n > 0 ? (uint32_t)n : 0;
}

static uint32_t round8(uint32_t n) { return (n + 7u) & ~7u; }

struct timespec_ {
  int64_t sec;
  int64_t nsec;
};

static uint64_t now_ns(void) {
  struct timespec_ ts = {0, 0};
  gate(__NR_clock_gettime, 1 /* CLOCK_MONOTONIC */, (uint64_t)&ts, 0, 0, 0, 0);
  return (uint64_t)ts.sec * 1000000000u + (uint64_t)ts.nsec;
}

/* Bytes a capture rule may need, before knowing the actual length. */
static uint32_t rule_room(const struct hytrace_capture_rule* rule, int exit, const uint64_t* args) {
  const int at_exit = rule->kind == HYTRACE_CAPTURE_LEN_RESULT || rule->kind == HYTRACE_CAPTURE_FIXED;
  if (rule->kind == HYTRACE_CAPTURE_NONE || at_exit != exit) return 0;
  uint32_t most = rule->max;
  if (rule->kind == HYTRACE_CAPTURE_LEN_RESULT && args[rule->len_arg] < most) most = (uint32_t)args[rule->len_arg];
  return (uint32_t)sizeof(struct hytrace_capture) + round8(most);
}

static uint32_t capture_length(const struct hytrace_capture_rule* rule, const uint64_t* args,
                               long result) {
  switch (rule->kind) {
    case HYTRACE_CAPTURE_CSTRING:
      return result < 0 ? 0 : rule->max;
    case HYTRACE_CAPTURE_FIXED:  /* even after an error: nanosleep's remainder */
    case HYTRACE_CAPTURE_FIXED_IN:
      return rule->max;
    case HYTRACE_CAPTURE_LEN_ARG:
      return args[rule->len_arg] < rule->max ? (uint32_t)args[rule->len_arg] : rule->max;
    case HYTRACE_CAPTURE_LEN_RESULT:
      return result <= 0 ? 0 : ((uint64_t)result < rule->max ? (uint32_t)result : rule->max);
  }
  return 0;
}

static int redirected(const struct hytrace_capture_rule* rule) {
  return rule->kind == HYTRACE_CAPTURE_LEN_RESULT && (rule->flags & HYTRACE_CAPTURE_REDIRECT);
}

/* Fills one capture at `at`; returns the bytes used. A redirected capture
 * already holds what the kernel wrote: those bytes go to the program. */
static uint32_t capture(uint8_t* at, const struct hytrace_capture_rule* rule, const uint64_t* args,
                        long result, uint32_t tid) {
  struct hytrace_capture* c = (struct hytrace_capture*)at;
  uint8_t* bytes = at + sizeof(*c);
  c->addr = args[rule->arg];
  c->pad = 0;
  const uint32_t want = capture_length(rule, args, result);
  uint32_t n = 0;
  if (c->addr && want && redirected(rule)) {
    uint8_t* to = (uint8_t*)c->addr;
    for (n = 0; n < want; ++n) to[n] = bytes[n];
  } else if (c->addr && want && rule->kind == HYTRACE_CAPTURE_LEN_RESULT) {
    /* The kernel has just written these bytes (result > 0): the memory is
     * there, and a plain copy is far cheaper than a syscall. (A fixed-size
     * output may not have been written at all, as by wait4 with WNOHANG.) */
    const uint8_t* from = (const uint8_t*)c->addr;
    for (n = 0; n < want; ++n) bytes[n] = from[n];
  } else if (c->addr) {
    n = copy_in(tid, bytes, c->addr, want);
  }
  if (rule->kind == HYTRACE_CAPTURE_CSTRING) {
    uint32_t end = 0;
    while (end < n && bytes[end] != 0) ++end;
    n = end < n ? end + 1 : n; /* keep the NUL when it was found */
  }
  c->length = n;
  return (uint32_t)sizeof(*c) + round8(n);
}

/* Record's rules: 0 when an output could be cut short (its buffer is over
 * the rule's max), so the call must go to the tracer. */
static int exact_fits(const struct hytrace_capture_rule* rules, const uint64_t* args) {
  for (int i = 0; i < HYTRACE_STUB_MAX_CAPTURES; ++i) {
    const struct hytrace_capture_rule* rule = &rules[i];
    if ((rule->flags & HYTRACE_CAPTURE_EXACT) && rule->kind == HYTRACE_CAPTURE_LEN_RESULT &&
        args[rule->len_arg] > rule->max)
      return 0;
  }
  return 1;
}

/* The arguments the kernel gets: a redirected output points into the exit
 * record, laid out as record() will fill it (captures in rule order). */
static void redirect_outputs(const struct hytrace_capture_rule* rules, const uint64_t* args,
                             struct hytrace_record* exit, uint64_t* call_args) {
  uint8_t* at = (uint8_t*)(exit + 1);
  for (int i = 0; i < HYTRACE_STUB_MAX_CAPTURES; ++i) {
    const uint32_t room = rule_room(&rules[i], 1, args);
    if (!room) continue;
    if (redirected(&rules[i]) && args[rules[i].arg])
      call_args[rules[i].arg] = (uint64_t)(at + sizeof(struct hytrace_capture));
    at += room;
  }
}

static uint32_t record_room(const struct hytrace_capture_rule* rules, int exit, const uint64_t* args) {
  uint32_t room = (uint32_t)sizeof(struct hytrace_record);
  for (int i = 0; i < HYTRACE_STUB_MAX_CAPTURES; ++i) room += rule_room(&rules[i], exit, args);
  return room;
}

/* Reserves `room` bytes for the entry and the exit record of one call and
 * returns the entry record, its position in *position; or 0 when the ring
 * has no room. The header is the program's memory too: whatever its head
 * and tail say, the pair lands inside the ring (the ring's size comes from
 * the data page, an offset is a position modulo that size, and a pair that
 * would pass the ring's end is put at its start), and a head that cannot
 * be used makes the call fall back. A program that keeps rewriting the head
 * cannot keep the stub here either: after a few failed swaps it falls back. */
#define RESERVE_TRIES 64
static struct hytrace_record* reserve(const struct hytrace_stub_data* d, uint64_t room, uint64_t* position) {
  struct hytrace_buffer_header* h = (struct hytrace_buffer_header*)d->buffer;
  const uint64_t ring = d->buffer_size > sizeof(*h) ? d->buffer_size - sizeof(*h) : 0;
  uint8_t* const records = (uint8_t*)d->buffer + sizeof(*h);
  uint64_t head = __atomic_load_n(&h->head, __ATOMIC_RELAXED);
  for (int tries = 0; ring % 8 == 0 && room <= ring && tries < RESERVE_TRIES; ++tries) {
    /* Acquire: the tracer's reads of the slots before the tail are done. */
    const uint64_t tail = __atomic_load_n(&h->tail, __ATOMIC_ACQUIRE);
    const uint64_t used = head - tail;
    const uint64_t offset = head % ring;
    const uint64_t pad = ring - offset < room ? ring - offset : 0;
    if (head % 8 != 0 || used > ring || pad + room > ring - used) break;
    if (__atomic_compare_exchange_n(&h->head, &head, head + pad + room, 1, __ATOMIC_RELAXED,
                                    __ATOMIC_RELAXED)) {
      if (!pad) {
        *position = head;
        return (struct hytrace_record*)(records + offset);
      }
      __atomic_store_n((uint64_t*)(records + offset), HYTRACE_PADDED(head), __ATOMIC_RELEASE);
      *position = head + pad;
      return (struct hytrace_record*)records; /* the ring's start */
    }
  }
  __atomic_fetch_add(&h->dropped, 1, __ATOMIC_RELAXED);
  return 0;
}

/* Fills the record `r` at `position` (its length is set) and commits it;
 * returns its seq. */
static uint64_t record(const struct hytrace_stub_data* d, struct hytrace_record* r, uint64_t position,
                       uint16_t kind, long nr, const uint64_t* args, long result, uint64_t entry_seq,
                       uint32_t tid) {
  const struct hytrace_capture_rule* rules = d->rules[nr];
  const int exit = kind == HYTRACE_RECORD_EXIT;
  const uint64_t seq = __atomic_add_fetch((uint64_t*)d->seq_counter, 1, __ATOMIC_RELAXED);
  r->seq = seq;
  r->tid = tid;
  r->kind = kind;
  r->nr = nr;
  for (int i = 0; i < 6; ++i) r->args[i] = args[i];
  r->result = result;
  r->entry_seq = entry_seq;
  uint8_t* next = (uint8_t*)(r + 1);
  uint16_t captures = 0;
  for (int i = 0; i < HYTRACE_STUB_MAX_CAPTURES; ++i) {
    if (!rule_room(&rules[i], exit, args)) continue;
    next += capture(next, &rules[i], args, result, tid);
    ++captures;
  }
  r->captures = captures;
  __atomic_store_n(&r->commit, HYTRACE_COMMITTED(position), __ATOMIC_RELEASE);
  return seq;
}

/* The caller's tid: from the gs base the tracer tagged, else the kernel. */
static uint32_t caller_tid(const struct hytrace_stub_data* d) {
  if (d->tid_in_gs) {
    uint64_t gs;
    __asm__ volatile("rdgsbase %0" : "=r"(gs));
    const uint32_t tid = (uint32_t)gs;
    if ((gs & HYTRACE_GS_TAG_MASK) == HYTRACE_GS_TID_TAG && tid != 0) return tid;
  }
  return (uint32_t)gate(__NR_gettid, 0, 0, 0, 0, 0, 0);
}

long hytrace_stub_main(struct saved_registers* regs) {
  const struct hytrace_stub_data* d = (const struct hytrace_stub_data*)HYTRACE_GATE_DATA;
  const long nr = (long)regs->rax;
  const uint64_t args[6] = {regs->rdi, regs->rsi, regs->rdx, regs->r10, regs->r8, regs->r9};
  if (d->magic != HYTRACE_STUB_MAGIC || nr < 0 || nr >= HYTRACE_STUB_MAX_NR || !hytrace_serves(d, nr, args) ||
      !exact_fits(d->rules[nr], args)) {
    return hytrace_traced_syscall(nr, (long)args[0], (long)args[1], (long)args[2], (long)args[3],
                                  (long)args[4], (long)args[5]);
  }
  /* The rooms stay in registers: the record's copy of them is in memory
   * the program can change while the stub runs. */
  const uint32_t entry_room = record_room(d->rules[nr], 0, args);
  const uint32_t exit_room = record_room(d->rules[nr], 1, args);
  uint64_t position = 0;
  struct hytrace_record* entry = reserve(d, (uint64_t)entry_room + exit_room, &position);
  if (!entry) {
    return hytrace_traced_syscall(nr, (long)args[0], (long)args[1], (long)args[2], (long)args[3],
                                  (long)args[4], (long)args[5]);
  }
  entry->length = entry_room;
  entry->exit_length = exit_room;
  entry->duration_ns = 0;
  struct hytrace_record* exit = (struct hytrace_record*)((uint8_t*)entry + entry_room);
  exit->length = exit_room;
  exit->exit_length = 0;
  const uint32_t tid = caller_tid(d);
  const uint64_t entry_seq = record(d, entry, position, HYTRACE_RECORD_ENTRY, nr, args, 0, 0, tid);
  uint64_t call_args[6];
  for (int i = 0; i < 6; ++i) call_args[i] = args[i];
  redirect_outputs(d->rules[nr], args, exit, call_args);
  const uint64_t start = d->timed ? now_ns() : 0;
  const long result = gate(nr, call_args[0], call_args[1], call_args[2], call_args[3], call_args[4],
                           call_args[5]);
  exit->duration_ns = d->timed ? now_ns() - start : 0;
  record(d, exit, position + entry_room, HYTRACE_RECORD_EXIT, nr, args, result, entry_seq, tid);
  return result;
}
