// Internal to hytrace_tracefile: little-endian integers in byte buffers, and
// a cursor that reads them without ever going past its end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>

namespace hytrace::tracefile::detail {

template <class T>
void put_le(std::string& out, T value) {
  for (size_t i = 0; i < sizeof(T); ++i) {
    out.push_back(static_cast<char>(static_cast<uint64_t>(value) >> (8 * i)));
  }
}

template <class T>
void store_le(uint8_t* at, T value) {
  for (size_t i = 0; i < sizeof(T); ++i) at[i] = static_cast<uint8_t>(static_cast<uint64_t>(value) >> (8 * i));
}

template <class T>
T load_le(const uint8_t* at) {
  uint64_t v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v |= static_cast<uint64_t>(at[i]) << (8 * i);
  return static_cast<T>(v);
}

// Reads fixed-width fields from a span. A read past the end fails, leaves
// the value zero and makes every later read fail too: a decoder checks ok()
// once at the end instead of after every field.
class Cursor {
 public:
  explicit Cursor(std::span<const uint8_t> bytes) : bytes_(bytes) {}

  template <class T>
  T get() {
    if (!take(sizeof(T))) return T{};
    return load_le<T>(bytes_.data() + pos_ - sizeof(T));
  }
  // n bytes into out; fails (and leaves out empty) when fewer are left.
  void get_bytes(std::string& out, size_t n) {
    out.clear();
    if (!take(n)) return;
    out.assign(reinterpret_cast<const char*>(bytes_.data() + pos_ - n), n);
  }
  void get_raw(void* out, size_t n) {
    if (!take(n)) {
      std::memset(out, 0, n);
      return;
    }
    std::memcpy(out, bytes_.data() + pos_ - n, n);
  }
  // A count of items each at least min_size bytes long: fails when that
  // many could not fit in what is left, so a forged count allocates nothing.
  uint32_t get_count(size_t min_size) {
    const uint32_t n = get<uint32_t>();
    if (ok_ && static_cast<uint64_t>(n) * min_size > remaining()) fail();
    return ok_ ? n : 0;
  }
  void fail() {
    ok_ = false;
    pos_ = bytes_.size();
  }
  bool ok() const { return ok_; }
  size_t pos() const { return pos_; }
  size_t remaining() const { return bytes_.size() - pos_; }

 private:
  bool take(size_t n) {
    if (!ok_ || n > remaining()) {
      fail();
      return false;
    }
    pos_ += n;
    return true;
  }

  std::span<const uint8_t> bytes_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace hytrace::tracefile::detail
