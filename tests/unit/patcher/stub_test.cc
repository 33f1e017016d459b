// The stub run in this very process: the gate mapped at its fixed address,
// a buffer, and calls through the entry point with the registers of a
// syscall instruction. No ptrace and no filter: both syscall instructions
// simply run.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "patcher/stub_blob.hpp"

namespace hytrace::patcher::stub {
namespace {

// Every general register and the flags, in and out of a call to the stub.
struct Regs {
  uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp, r8, r9, r10, r11, r12, r13, r14, r15, flags;
};

extern "C" void hytrace_test_call_stub(Regs* regs, uint64_t entry);
asm(R"(
  .text
  .globl hytrace_test_call_stub
hytrace_test_call_stub:
  push %rbx; push %rbp; push %r12; push %r13; push %r14; push %r15
  push %rdi                      # Regs*
  push %rsi                      # entry
  mov 120(%rdi), %rax; push %rax; popfq
  mov 8(%rdi), %rbx;  mov 16(%rdi), %rcx; mov 24(%rdi), %rdx; mov 32(%rdi), %rsi
  mov 48(%rdi), %rbp; mov 56(%rdi), %r8;  mov 64(%rdi), %r9;  mov 72(%rdi), %r10
  mov 80(%rdi), %r11; mov 88(%rdi), %r12; mov 96(%rdi), %r13; mov 104(%rdi), %r14
  mov 112(%rdi), %r15; mov 0(%rdi), %rax; mov 40(%rdi), %rdi
  lea -128(%rsp), %rsp
  call *128(%rsp)                # entry, as a trampoline's call through its slot
  lea 128(%rsp), %rsp
  xchg %rdi, 8(%rsp)             # Regs* back, program's rdi saved
  mov %rax, 0(%rdi);  mov %rbx, 8(%rdi);  mov %rcx, 16(%rdi); mov %rdx, 24(%rdi)
  mov %rsi, 32(%rdi); mov %rbp, 48(%rdi); mov %r8, 56(%rdi);  mov %r9, 64(%rdi)
  mov %r10, 72(%rdi); mov %r11, 80(%rdi); mov %r12, 88(%rdi); mov %r13, 96(%rdi)
  mov %r14, 104(%rdi); mov %r15, 112(%rdi)
  pushfq; pop %rax; mov %rax, 120(%rdi)
  mov 8(%rsp), %rax; mov %rax, 40(%rdi)
  add $16, %rsp
  pop %r15; pop %r14; pop %r13; pop %r12; pop %rbp; pop %rbx
  ret
)");

class Stub : public testing::Test {
 protected:
  void SetUp() override {
    void* gate = mmap(reinterpret_cast<void*>(kGateBase), kGateSize, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    ASSERT_EQ(gate, reinterpret_cast<void*>(kGateBase)) << "the gate's address is taken";
    std::memcpy(gate, kBlob, kBlobSize);
    ASSERT_EQ(mprotect(gate, kGateCodeSize, PROT_READ | PROT_EXEC), 0);
    buffer_.assign(1 << 16, 0);
    header()->size = buffer_.size();
    data()->magic = HYTRACE_STUB_MAGIC;
    data()->buffer = reinterpret_cast<uint64_t>(buffer_.data());
    data()->buffer_size = buffer_.size();
    data()->seq_counter = reinterpret_cast<uint64_t>(&seq_);
  }
  void TearDown() override { munmap(reinterpret_cast<void*>(kGateBase), kGateSize); }

  hytrace_stub_data* data() { return reinterpret_cast<hytrace_stub_data*>(kGateData); }
  hytrace_buffer_header* header() { return reinterpret_cast<hytrace_buffer_header*>(buffer_.data()); }
  uint64_t ring() const { return buffer_.size() - sizeof(hytrace_buffer_header); }
  const hytrace_record* at(uint64_t position) const {
    return reinterpret_cast<const hytrace_record*>(buffer_.data() + sizeof(hytrace_buffer_header) + position % ring());
  }
  // The records from the header's tail to its head, stepping over pads.
  std::vector<const hytrace_record*> records() const {
    std::vector<const hytrace_record*> out;
    const auto* h = reinterpret_cast<const hytrace_buffer_header*>(buffer_.data());
    for (uint64_t position = h->tail; position < h->head;) {
      const hytrace_record* r = at(position);
      if (r->commit == HYTRACE_PADDED(position)) {
        position += ring() - position % ring();
        continue;
      }
      EXPECT_EQ(r->commit, HYTRACE_COMMITTED(position));
      out.push_back(r);
      position += r->length;
    }
    return out;
  }
  static const hytrace_capture* first_capture(const hytrace_record* r) {
    return reinterpret_cast<const hytrace_capture*>(r + 1);
  }
  static Regs syscall_regs(long nr, std::initializer_list<uint64_t> args) {
    Regs r;
    uint64_t fill = 0x1111111111111111;
    for (uint64_t* p = &r.rax; p <= &r.r15; ++p, fill += 0x0101010101010101) *p = fill;
    r.flags = 0x202 | 0x1 | 0x40;  // IF, CF, ZF
    r.rax = static_cast<uint64_t>(nr);
    uint64_t* slots[] = {&r.rdi, &r.rsi, &r.rdx, &r.r10, &r.r8, &r.r9};
    size_t i = 0;
    for (uint64_t a : args) *slots[i++] = a;
    return r;
  }

  std::vector<uint8_t> buffer_;
  uint64_t seq_ = 100;
};

TEST_F(Stub, ServedSyscallIsRecordedAndEveryOtherRegisterKept) {
  data()->served[SYS_getppid] = 1;
  const Regs in = syscall_regs(SYS_getppid, {});
  Regs out = in;
  hytrace_test_call_stub(&out, kStubEntry);
  EXPECT_EQ(static_cast<long>(out.rax), getppid());
  for (size_t i = 1; i < sizeof(Regs) / 8 - 1; ++i) {
    const uint64_t* a = &in.rax + i;
    const uint64_t* b = &out.rax + i;
    if (b == &out.rcx || b == &out.r11) continue;  // the syscall instruction clobbers these
    EXPECT_EQ(*a, *b) << "register #" << i;
  }
  EXPECT_EQ(out.flags & 0xcd5, in.flags & 0xcd5) << "arithmetic flags";

  const auto recs = records();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0]->kind, HYTRACE_RECORD_ENTRY);
  EXPECT_EQ(recs[1]->kind, HYTRACE_RECORD_EXIT);
  for (const auto* r : recs) {
    EXPECT_EQ(r->nr, SYS_getppid);
    EXPECT_EQ(r->tid, static_cast<uint32_t>(gettid()));
  }
  EXPECT_EQ(recs[0]->seq, 101u);
  EXPECT_EQ(recs[1]->seq, 102u);
  EXPECT_EQ(recs[1]->entry_seq, 101u);
  EXPECT_EQ(recs[1]->result, getppid());
}

// For -c, the stub times each call itself (the tracer sees neither end):
// the exit record carries the duration, 0 when timing is off.
TEST_F(Stub, TimedCallsCarryTheirDuration) {
  data()->served[SYS_getppid] = 1;
  Regs untimed = syscall_regs(SYS_getppid, {});
  hytrace_test_call_stub(&untimed, kStubEntry);
  data()->timed = 1;
  Regs timed = syscall_regs(SYS_getppid, {});
  hytrace_test_call_stub(&timed, kStubEntry);
  const auto recs = records();
  ASSERT_EQ(recs.size(), 4u);
  EXPECT_EQ(recs[1]->duration_ns, 0u);
  EXPECT_GT(recs[3]->duration_ns, 0u);
  EXPECT_LT(recs[3]->duration_ns, 10'000'000'000u);  // a plausible span, not garbage
  EXPECT_EQ(recs[2]->duration_ns, 0u);              // entry records carry none
}

TEST_F(Stub, UnservedSyscallRunsWithoutARecord) {
  Regs regs = syscall_regs(SYS_getpid, {});
  hytrace_test_call_stub(&regs, kStubEntry);
  EXPECT_EQ(static_cast<long>(regs.rax), getpid());
  EXPECT_TRUE(records().empty());
}

TEST_F(Stub, CapturesAPathAtEntryAndReadBytesAtExit) {
  data()->served[SYS_openat] = 1;
  data()->rules[SYS_openat][0] = {HYTRACE_CAPTURE_CSTRING, 1, 0, 0, 4096};
  data()->served[SYS_read] = 1;
  data()->rules[SYS_read][0] = {HYTRACE_CAPTURE_LEN_RESULT, 1, 0, 0, 5};
  static const char path[] = "/proc/self/comm";
  Regs regs = syscall_regs(SYS_openat, {static_cast<uint64_t>(AT_FDCWD),
                                        reinterpret_cast<uint64_t>(path), O_RDONLY});
  hytrace_test_call_stub(&regs, kStubEntry);
  const int fd = static_cast<int>(regs.rax);
  ASSERT_GE(fd, 0);
  char buf[64] = {};
  regs = syscall_regs(SYS_read, {static_cast<uint64_t>(fd), reinterpret_cast<uint64_t>(buf), 64});
  hytrace_test_call_stub(&regs, kStubEntry);
  close(fd);
  ASSERT_GT(static_cast<long>(regs.rax), 5);

  const auto recs = records();
  ASSERT_EQ(recs.size(), 4u);
  const hytrace_capture* p = first_capture(recs[0]);
  EXPECT_EQ(recs[0]->captures, 1);
  EXPECT_EQ(p->addr, reinterpret_cast<uint64_t>(path));
  EXPECT_EQ(p->length, sizeof path);  // with its NUL
  EXPECT_STREQ(reinterpret_cast<const char*>(p + 1), path);
  EXPECT_EQ(recs[1]->captures, 0);  // openat's exit captures nothing
  const hytrace_capture* b = first_capture(recs[3]);
  EXPECT_EQ(recs[3]->captures, 1);
  EXPECT_EQ(b->length, 5u);  // the rule's max
  EXPECT_EQ(std::memcmp(b + 1, buf, 5), 0);
}

TEST_F(Stub, BadPointerGetsEfaultNotACrash) {
  data()->served[SYS_openat] = 1;
  data()->rules[SYS_openat][0] = {HYTRACE_CAPTURE_CSTRING, 1, 0, 0, 4096};
  Regs regs = syscall_regs(SYS_openat, {static_cast<uint64_t>(AT_FDCWD), 8, O_RDONLY});
  hytrace_test_call_stub(&regs, kStubEntry);
  EXPECT_EQ(static_cast<long>(regs.rax), -EFAULT);
  ASSERT_EQ(records().size(), 2u);
  EXPECT_EQ(first_capture(records()[0])->length, 0u);
}

// fcntl is served for the commands that touch no memory only: F_GETFD
// gets its records, F_GETLK (which writes a struct flock) takes the traced
// path, and so does any command when the rule is forged.
TEST_F(Stub, ACommandRuleServesItsCommandsOnly) {
  const int fd = open("/proc/self/comm", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  data()->served[SYS_fcntl] = HYTRACE_SERVED_BY_COMMAND;
  data()->commands[1] = {SYS_fcntl, 1, 2, 0, {F_GETFD, F_GETFL}};
  Regs getfd = syscall_regs(SYS_fcntl, {static_cast<uint64_t>(fd), (1ull << 32) | F_GETFD});
  hytrace_test_call_stub(&getfd, kStubEntry);
  EXPECT_EQ(static_cast<long>(getfd.rax), FD_CLOEXEC);
  ASSERT_EQ(records().size(), 2u);
  struct flock lock {};
  lock.l_type = F_RDLCK;
  Regs getlk = syscall_regs(SYS_fcntl, {static_cast<uint64_t>(fd), F_GETLK, reinterpret_cast<uint64_t>(&lock)});
  hytrace_test_call_stub(&getlk, kStubEntry);
  EXPECT_EQ(static_cast<long>(getlk.rax), 0);
  EXPECT_EQ(records().size(), 2u);  // none more
  data()->commands[1].arg = 6;     // no such argument
  Regs forged = syscall_regs(SYS_fcntl, {static_cast<uint64_t>(fd), F_GETFD});
  hytrace_test_call_stub(&forged, kStubEntry);
  EXPECT_EQ(static_cast<long>(forged.rax), FD_CLOEXEC);
  EXPECT_EQ(records().size(), 2u);
  close(fd);
}

TEST_F(Stub, FullRingFallsBackAndCountsTheDrop) {
  data()->served[SYS_getppid] = 1;
  header()->head = 2 * ring() + 8;
  header()->tail = ring() + 16;  // 8 bytes free
  Regs regs = syscall_regs(SYS_getppid, {});
  hytrace_test_call_stub(&regs, kStubEntry);
  EXPECT_EQ(static_cast<long>(regs.rax), getppid());
  EXPECT_EQ(header()->dropped, 1u);
  EXPECT_EQ(header()->head, 2 * ring() + 8);
}

// A pair that would pass the ring's end goes to its start, after a pad; the
// tail is the tracer's, so the bytes before it may be reused.
TEST_F(Stub, APairAtTheRingsEndWrapsAfterAPad) {
  data()->served[SYS_getppid] = 1;
  const uint64_t start = 3 * ring() - 2 * sizeof(hytrace_record) + 8;  // 8 bytes short
  header()->head = header()->tail = start;
  Regs regs = syscall_regs(SYS_getppid, {});
  hytrace_test_call_stub(&regs, kStubEntry);
  EXPECT_EQ(static_cast<long>(regs.rax), getppid());
  EXPECT_EQ(at(start)->commit, HYTRACE_PADDED(start));
  EXPECT_EQ(header()->head, 3 * ring() + 2 * sizeof(hytrace_record));
  const auto recs = records();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0], at(3 * ring()));
  EXPECT_EQ(recs[0]->kind, HYTRACE_RECORD_ENTRY);
  EXPECT_EQ(recs[1]->kind, HYTRACE_RECORD_EXIT);
  EXPECT_EQ(recs[1]->commit, HYTRACE_COMMITTED(3 * ring() + sizeof(hytrace_record)));
}

// The buffer's header is the program's memory: whatever its head and tail
// say, the stub writes only inside the ring (its size is the read-only data
// page's), and a head it cannot use makes the call take the traced path.
TEST_F(Stub, ForgedHeadAndTailNeverMakeTheStubWriteOutsideTheRing) {
  data()->served[SYS_getppid] = 1;
  constexpr size_t kGuard = 4096;
  constexpr size_t kSize = 1 << 16;
  constexpr uint64_t kRing = kSize - sizeof(hytrace_buffer_header);
  const std::pair<uint64_t, uint64_t> forged[] = {
      {~0ull & ~7ull, ~0ull & ~7ull},  // the last positions there are
      {~0ull - 200, 0},                // misaligned, far ahead
      {0, ~0ull & ~7ull},              // the tail ahead of the head
      {8, 0},                          // a few bytes in
      {kRing - 8, 0},                  // one word before the end: wraps
      {kRing - 8, kRing - 8},
      {5 * kRing - 112, 4 * kRing},    // a pair does not fit before the end
      {0x0101010101010101, 0x0101010101010101},  // a byte pattern
      {0x5a5a5a5a5a5a5a58, 0x5a5a5a5a5a5a5a58 - kRing},  // full
  };
  for (const auto& [head, tail] : forged) {
    std::vector<uint8_t> region(kGuard + kSize + kGuard, 0x5a);
    uint8_t* buffer = region.data() + kGuard;
    auto* h = reinterpret_cast<hytrace_buffer_header*>(buffer);
    h->size = ~0ull;  // not believed either
    h->head = head;
    h->tail = tail;
    data()->buffer = reinterpret_cast<uint64_t>(buffer);
    data()->buffer_size = kSize;
    const std::vector<uint8_t> before = region;
    Regs regs = syscall_regs(SYS_getppid, {});
    hytrace_test_call_stub(&regs, kStubEntry);
    EXPECT_EQ(static_cast<long>(regs.rax), getppid()) << "head " << head;
    // Outside the ring, only the header's head and dropped counter changed.
    h->head = head;
    h->dropped = 0x5a5a5a5a5a5a5a5a;
    EXPECT_TRUE(std::equal(region.begin(), region.begin() + kGuard + sizeof(hytrace_buffer_header), before.begin()))
        << "head " << head << ": the stub wrote into the header or below it";
    EXPECT_TRUE(std::equal(region.end() - kGuard, region.end(), before.end() - kGuard))
        << "head " << head << ": the stub wrote past the buffer";
  }
}

}  // namespace
}  // namespace hytrace::patcher::stub
