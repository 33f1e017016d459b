// Numbers, quoted strings and buffers, and reading them from memory.
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <iterator>
#include <vector>

#include <fmt/format.h>

#include "syscalls/format.hpp"
#include "syscalls/render.hpp"

namespace hytrace::syscalls {
namespace {

constexpr size_t kPageSize = 4096;
constexpr size_t kPathMax = 4096;  // PATH_MAX: paths are not cut at -s
// However large -s is, no more than this is read for one string or buffer.
constexpr size_t kMaxShown = size_t{1} << 20;

// Bytes up to the next page boundary: a read that stops at one never
// fails because of the page after it.
size_t to_page_end(uint64_t addr) { return kPageSize - (addr % kPageSize); }

// A buffer on the stack for the usual sizes, on the heap for -s 100000.
class Scratch {
 public:
  explicit Scratch(size_t size) {
    if (size > small_.size()) large_.resize(size);
  }
  unsigned char* data() { return large_.empty() ? small_.data() : large_.data(); }

 private:
  std::array<unsigned char, 1024> small_;
  std::vector<unsigned char> large_;
};

// Reads up to max bytes of a C string. Returns the bytes read (without the
// NUL) or -1 when unreadable before a NUL or max bytes; *terminated tells
// whether a NUL was found.
long read_cstring(MemoryReader& mem, uint64_t addr, unsigned char* buf, size_t max,
                  bool* terminated) {
  size_t got = 0;
  size_t step = 256;  // most strings are short; grow for long ones
  while (got < max) {
    size_t chunk = std::min({max - got, to_page_end(addr + got), step});
    step *= 4;
    size_t n = mem.read(addr + got, buf + got, chunk);
    for (size_t i = got; i < got + n; ++i) {
      if (buf[i] == '\0') {
        *terminated = true;
        return static_cast<long>(i);
      }
    }
    got += n;
    if (n < chunk) return -1;
  }
  *terminated = false;
  return static_cast<long>(got);
}

char octal_digit(unsigned value) { return static_cast<char>('0' + (value & 7)); }

void put_escaped(std::string& out, unsigned char c, bool next_is_octal_digit) {
  switch (c) {
    case '"': out += "\\\""; return;
    case '\\': out += "\\\\"; return;
    case '\f': out += "\\f"; return;
    case '\n': out += "\\n"; return;
    case '\r': out += "\\r"; return;
    case '\t': out += "\\t"; return;
    case '\v': out += "\\v"; return;
    default: break;
  }
  if (c >= ' ' && c < 0x7f) {
    out += static_cast<char>(c);
    return;
  }
  // \ooo, shortened as C allows unless a digit follows.
  out += '\\';
  if (next_is_octal_digit || c >= 0100) out += octal_digit(c >> 6);
  if (next_is_octal_digit || c >= 010) out += octal_digit(c >> 3);
  out += octal_digit(c);
}

}  // namespace

size_t LocalMemory::read(uint64_t addr, void* buf, size_t len) {
  if (len == 0) return 0;
  iovec local{buf, len};
  iovec remote{reinterpret_cast<void*>(addr), len};
  ssize_t n = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
  return n < 0 ? 0 : static_cast<size_t>(n);
}

std::string quote(const void* data, size_t len, size_t limit, bool more_follows) {
  std::string out;
  detail::put_quoted(out, static_cast<const unsigned char*>(data), len, limit, more_follows, false);
  return out;
}

namespace detail {

void put_dec(std::string& out, int64_t value) {
  fmt::format_to(std::back_inserter(out), "{}", value);
}

void put_udec(std::string& out, uint64_t value) {
  fmt::format_to(std::back_inserter(out), "{}", value);
}

void put_hex(std::string& out, uint64_t value) {
  if (value == 0) {
    out += '0';
  } else {
    fmt::format_to(std::back_inserter(out), "{:#x}", value);
  }
}

void put_ptr(std::string& out, uint64_t value) {
  if (value == 0) {
    out += "NULL";
  } else {
    fmt::format_to(std::back_inserter(out), "{:#x}", value);
  }
}

void put_octal_mode(std::string& out, uint64_t mode) {
  fmt::format_to(std::back_inserter(out), "0{:02o}", mode);
}

void put_quoted(std::string& out, const unsigned char* data, size_t len, size_t limit,
                bool more_follows, bool hex) {
  size_t shown = std::min(len, limit);
  out += '"';
  for (size_t i = 0; i < shown; ++i) {
    if (hex) {
      fmt::format_to(std::back_inserter(out), "\\x{:02x}", data[i]);
      continue;
    }
    bool next_digit = i + 1 < shown && data[i + 1] >= '0' && data[i + 1] <= '7';
    put_escaped(out, data[i], next_digit);
  }
  out += '"';
  if (len > limit || more_follows) out += "...";
}

bool read_exact(MemoryReader& mem, uint64_t addr, void* buf, size_t len) {
  return mem.read(addr, buf, len) == len;
}

void put_string_at(std::string& out, MemoryReader& mem, uint64_t addr, size_t limit) {
  if (addr == 0) {
    out += "NULL";
    return;
  }
  // One byte past the limit tells whether the string goes on.
  limit = std::min(limit, kMaxShown);
  size_t max = limit + 1;
  Scratch buf(max);
  bool terminated = false;
  long n = read_cstring(mem, addr, buf.data(), max, &terminated);
  if (n < 0) {
    put_hex(out, addr);
    return;
  }
  put_quoted(out, buf.data(), static_cast<size_t>(n), limit, false, false);
}

void put_path_at(std::string& out, MemoryReader& mem, uint64_t addr) {
  put_string_at(out, mem, addr, kPathMax);
}

void put_buffer_at(std::string& out, MemoryReader& mem, uint64_t addr, size_t len, size_t limit,
                   bool hex) {
  limit = std::min(limit, kMaxShown);
  size_t want = std::min(len, limit);
  Scratch buf(want);
  if (want > 0 && !read_exact(mem, addr, buf.data(), want)) {
    put_hex(out, addr);
    return;
  }
  put_quoted(out, buf.data(), want, limit, len > limit, hex);
}

void put_string_array(std::string& out, MemoryReader& mem, uint64_t addr, const FormatOptions& opts) {
  if (addr == 0) {
    out += "NULL";
    return;
  }
  uint64_t item = 0;
  if (!read_value(mem, addr, item)) {
    put_hex(out, addr);
    return;
  }
  out += '[';
  for (size_t i = 0; item != 0; ++i) {
    if (i > 0) out += ", ";
    if (i == opts.array_limit) {
      out += "...";
      break;
    }
    put_string_at(out, mem, item, opts.string_limit);
    if (!read_value(mem, addr + (i + 1) * sizeof item, item)) {
      out += ", ...";
      break;
    }
  }
  out += ']';
}

long count_pointers(MemoryReader& mem, uint64_t addr) {
  constexpr long kMaxCount = 1 << 20;
  std::array<uint64_t, 64> chunk;
  long count = 0;
  uint64_t at = addr;
  while (count < kMaxCount) {
    size_t bytes = std::min(sizeof chunk, to_page_end(at));
    size_t n = mem.read(at, chunk.data(), bytes) / sizeof(uint64_t);
    for (size_t i = 0; i < n; ++i) {
      if (chunk[i] == 0) return count + static_cast<long>(i);
    }
    if (n * sizeof(uint64_t) < bytes) return -1;
    count += static_cast<long>(n);
    at += bytes;
  }
  return count;
}

}  // namespace detail
}  // namespace hytrace::syscalls
