// The formatter's cost per traced call: render_entry + render_exit +
// line_text, as the trace mode does for every syscall it shows.
//
// Each call is measured with two memory readers:
//   LocalMemory   the library's reader of this process's memory. It copies
//                 with process_vm_readv, one syscall per read, as the tracer's
//                 reader of the tracee does: formatting + memory reads.
//   DirectMemory  memcpy, no syscall: the formatting alone.
// Counters per formatted call: mem_reads (reads asked of the reader) and
// line_bytes (length of the line).
//
//   build/bench/bench_format
//   build/bench/bench_format --benchmark_filter=execve --benchmark_format=json
#include <asm/unistd_64.h>
#include <fcntl.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>

#include <benchmark/benchmark.h>

#include "syscalls/format.hpp"

namespace {

using hytrace::syscalls::Call;
using hytrace::syscalls::FormatOptions;
using hytrace::syscalls::LocalMemory;
using hytrace::syscalls::MemoryReader;

// Everything the calls point at lives in this one arena, so DirectMemory can
// clip its copies to it (the formatter reads strings in chunks up to the end
// of the page: a bare memcpy would read past the objects).
struct Arena {
  alignas(4096) unsigned char bytes[8192];
  size_t used = 0;

  void* take(size_t size) {
    void* p = bytes + used;
    used += (size + 15) & ~size_t{15};
    return p;
  }
  uint64_t string(const char* s) {
    char* p = static_cast<char*>(take(std::strlen(s) + 1));
    std::strcpy(p, s);
    return reinterpret_cast<uintptr_t>(p);
  }
  uint64_t pointers(std::initializer_list<const char*> strings) {  // NULL-terminated array
    auto* array = static_cast<uint64_t*>(take((strings.size() + 1) * sizeof(uint64_t)));
    size_t i = 0;
    for (const char* s : strings) array[i++] = string(s);
    array[i] = 0;
    return reinterpret_cast<uintptr_t>(array);
  }
  bool contains(uint64_t addr) const {
    auto base = reinterpret_cast<uintptr_t>(bytes);
    return addr >= base && addr < base + sizeof bytes;
  }
};
Arena g_arena;

enum class Reader { kLocal, kDirect };

class BenchMemory final : public MemoryReader {
 public:
  explicit BenchMemory(Reader kind) : kind_(kind) {}
  size_t read(uint64_t addr, void* buf, size_t len) override {
    ++reads;
    if (kind_ == Reader::kLocal) return local_.read(addr, buf, len);
    if (!g_arena.contains(addr)) return 0;
    const auto end = reinterpret_cast<uintptr_t>(g_arena.bytes) + sizeof g_arena.bytes;
    const size_t n = std::min<uint64_t>(len, end - addr);
    std::memcpy(buf, reinterpret_cast<const void*>(addr), n);
    return n;
  }
  size_t reads = 0;

 private:
  Reader kind_;
  LocalMemory local_;
};

Call make_call(long nr, std::initializer_list<uint64_t> args) {
  Call call;
  call.nr = nr;
  size_t i = 0;
  for (uint64_t a : args) call.args[i++] = a;
  return call;
}

// One traced call, entry to line: what the trace mode does per shown syscall.
void format_call(benchmark::State& state, Reader reader, const Call& call, long result) {
  BenchMemory mem(reader);
  const FormatOptions opts;
  size_t bytes = 0;
  for (auto _ : state) {
    auto rc = hytrace::syscalls::render_entry(call, mem, opts);
    hytrace::syscalls::render_exit(rc, call, result, mem, opts);
    std::string line = hytrace::syscalls::line_text(rc);
    bytes += line.size();
    benchmark::DoNotOptimize(line);
  }
  const auto n = static_cast<double>(state.iterations());
  state.SetItemsProcessed(state.iterations());
  state.counters["line_bytes"] = static_cast<double>(bytes) / n;
  state.counters["mem_reads"] = static_cast<double>(mem.reads) / n;
}

// openat(AT_FDCWD, "/usr/lib/x86_64-linux-gnu/libc.so.6", O_RDONLY|O_CLOEXEC) = 3
void BM_openat(benchmark::State& state, Reader reader) {
  static const uint64_t path = g_arena.string("/usr/lib/x86_64-linux-gnu/libc.so.6");
  format_call(state, reader, make_call(__NR_openat, {static_cast<uint64_t>(AT_FDCWD), path, O_RDONLY | O_CLOEXEC, 0}),
              3);
}

// read(3, "\177ELF\2\1\1\3\0\0\0\0\0\0\0\0\3\0>\0\1\0\0\0\250\257\266\275\304\313\322\331"..., 64) = 64
// (the buffer is shown at exit)
void BM_read64(benchmark::State& state, Reader reader) {
  static const uint64_t buf = [] {
    auto* p = static_cast<unsigned char*>(g_arena.take(64));
    std::memcpy(p, "\177ELF\2\1\1\3\0\0\0\0\0\0\0\0\3\0>\0\1\0\0\0", 24);
    for (size_t i = 24; i < 64; ++i) p[i] = static_cast<unsigned char>(i * 7);
    return reinterpret_cast<uintptr_t>(p);
  }();
  format_call(state, reader, make_call(__NR_read, {3, buf, 64}), 64);
}

// mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7fee5276e000
void BM_mmap(benchmark::State& state, Reader reader) {
  format_call(state, reader,
              make_call(__NR_mmap, {0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                                    static_cast<uint64_t>(-1), 0}),
              0x7fee5276e000);
}

// execve("/usr/bin/gcc", ["gcc", "-O0", "-c", "-o", "unit1.o", "unit1.c"], 0x55b47a8f90b0 /* 4 vars */) = 0
void BM_execve(benchmark::State& state, Reader reader) {
  static const uint64_t prog = g_arena.string("/usr/bin/gcc");
  static const uint64_t argv = g_arena.pointers({"gcc", "-O0", "-c", "-o", "unit1.o", "unit1.c"});
  static const uint64_t envp = g_arena.pointers({"PATH=/usr/bin:/bin", "HOME=/root", "LC_ALL=C", "TERM=xterm"});
  format_call(state, reader, make_call(__NR_execve, {prog, argv, envp}), 0);
}

BENCHMARK_CAPTURE(BM_openat, LocalMemory, Reader::kLocal);
BENCHMARK_CAPTURE(BM_openat, DirectMemory, Reader::kDirect);
BENCHMARK_CAPTURE(BM_read64, LocalMemory, Reader::kLocal);
BENCHMARK_CAPTURE(BM_read64, DirectMemory, Reader::kDirect);
BENCHMARK_CAPTURE(BM_mmap, LocalMemory, Reader::kLocal);
BENCHMARK_CAPTURE(BM_mmap, DirectMemory, Reader::kDirect);
BENCHMARK_CAPTURE(BM_execve, LocalMemory, Reader::kLocal);
BENCHMARK_CAPTURE(BM_execve, DirectMemory, Reader::kDirect);

}  // namespace

BENCHMARK_MAIN();
