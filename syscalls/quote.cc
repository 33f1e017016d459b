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

// The longest escape of one byte: \ooo or \xhh.
constexpr size_t kMostEscaped = 4;

// Writes the byte's escape at `at` (room for kMostEscaped), returns its end.
char* put_escaped(char* at, unsigned char c, bool next_is_octal_digit) {
  const auto two = [&](char second) {
    at[0] = '\\';
    at[1] = second;
    return at + 2;
  };
  switch (c) {
    case '"': return two('"');
    case '\\': return two('\\');
    case '\f': return two('f');
    case '\n': return two('n');
    case '\r': return two('r');
    case '\t': return two('t');
    case '\v': return two('v');
    default: break;
  }
  if (c >= ' ' && c < 0x7f) {
    *at++ = static_cast<char>(c);
    return at;
  }
  // \ooo, shortened as C allows unless a digit follows.
  *at++ = '\\';
  if (next_is_octal_digit || c >= 0100) *at++ = octal_digit(c >> 6);
  if (next_is_octal_digit || c >= 010) *at++ = octal_digit(c >> 3);
  *at++ = octal_digit(c);
  return at;
}

char* put_hex_escaped(char* at, unsigned char c) {
  static constexpr char kDigits[] = "0123456789abcdef";
  at[0] = '\\';
  at[1] = 'x';
  at[2] = kDigits[c >> 4];
  at[3] = kDigits[c & 15];
  return at + 4;
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

// Numbers are in every argument trace shows: format_int and the hex
// digits below write them straight, without format_to's parsing of "{}"
// and its iterator over `out`. The text is the same.
void put_dec(std::string& out, int64_t value) {
  const fmt::format_int text(value);
  out.append(text.data(), text.size());
}

void put_udec(std::string& out, uint64_t value) {
  const fmt::format_int text(value);
  out.append(text.data(), text.size());
}

namespace {

// "0x" and the lowercase digits, without leading zeros: "{:#x}" of a
// nonzero value.
void put_0x(std::string& out, uint64_t value) {
  static constexpr char kDigits[] = "0123456789abcdef";
  char text[2 + 16];
  char* at = std::end(text);
  for (; value != 0; value >>= 4) *--at = kDigits[value & 15];
  *--at = 'x';
  *--at = '0';
  out.append(at, static_cast<size_t>(std::end(text) - at));
}

}  // namespace

void put_hex(std::string& out, uint64_t value) {
  if (value == 0) {
    out += '0';
  } else {
    put_0x(out, value);
  }
}

void put_ptr(std::string& out, uint64_t value) {
  if (value == 0) {
    out += "NULL";
  } else {
    put_0x(out, value);
  }
}

void put_octal_mode(std::string& out, uint64_t mode) {
  fmt::format_to(std::back_inserter(out), "0{:02o}", mode);
}

// Escapes into room made once, not a byte at a time: trace shows every
// buffer a call read or wrote this way.
void put_quoted(std::string& out, const unsigned char* data, size_t len, size_t limit,
                bool more_follows, bool hex) {
  size_t shown = std::min(len, limit);
  const size_t start = out.size();
  out.resize(start + 1 + shown * kMostEscaped + 1);
  char* at = out.data() + start;
  *at++ = '"';
  for (size_t i = 0; i < shown; ++i) {
    if (hex) {
      at = put_hex_escaped(at, data[i]);
      continue;
    }
    bool next_digit = i + 1 < shown && data[i + 1] >= '0' && data[i + 1] <= '7';
    at = put_escaped(at, data[i], next_digit);
  }
  *at++ = '"';
  out.resize(static_cast<size_t>(at - out.data()));
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
