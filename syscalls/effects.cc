// The interpreter of effects.tbl's rules: the regions one call reads and
// writes, from its arguments, the memory behind them and its result.
#include "syscalls/effects.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <limits>

#include "syscalls/catalogue.hpp"
#include "syscalls/detail.hpp"
#include "syscalls/effects_rules.hpp"
#include "syscalls/render.hpp"

namespace hytrace::syscalls {

using detail::Count;
using detail::Dir;
using detail::Shape;
using detail::Term;

namespace {

constexpr uint64_t kNoCap = std::numeric_limits<uint64_t>::max();

uint64_t clamp_mul(uint64_t value, uint64_t elem) {
  if (elem != 0 && value > kMaxRegionBytes / elem) return kMaxRegionBytes;
  return std::min(value * elem, kMaxRegionBytes);
}

// The int (socklen_t, a size) behind a pointer; 0 when unreadable.
uint64_t int_behind(MemoryReader& mem, uint64_t addr) {
  uint32_t value = 0;
  if (addr == 0 || !detail::read_value(mem, addr, value)) return 0;
  return value;
}

bool failed(long result) { return result < 0 && result >= -detail::kMaxErrno; }

// A message header as the kernel takes it at entry: where its parts are and
// how big the program said they are.
struct Msg {
  uint64_t header = 0;
  uint64_t name = 0;
  uint64_t namelen = 0;
  std::vector<Region> iov;
  uint64_t control = 0;
  uint64_t controllen = 0;
};

// Offsets in struct msghdr and struct mmsghdr (checked below).
constexpr uint64_t kMsgNameLen = offsetof(struct msghdr, msg_namelen);
constexpr uint64_t kMsgControlLen = offsetof(struct msghdr, msg_controllen);
constexpr uint64_t kMsgFlags = offsetof(struct msghdr, msg_flags);
constexpr uint64_t kMmsgLen = offsetof(struct mmsghdr, msg_len);
static_assert(kMsgNameLen == 8 && kMsgControlLen == 40 && kMsgFlags == 48 && kMmsgLen == 56);

std::vector<Region> read_iovecs(MemoryReader& mem, uint64_t addr, uint64_t count) {
  std::vector<Region> out;
  count = std::min(count, kMaxVectors);
  for (uint64_t i = 0; i < count; ++i) {
    struct iovec v {};
    if (!detail::read_value(mem, addr + i * sizeof v, v)) break;
    out.push_back({reinterpret_cast<uint64_t>(v.iov_base), std::min<uint64_t>(v.iov_len, kMaxRegionBytes)});
  }
  return out;
}

Msg read_msg(MemoryReader& mem, uint64_t addr) {
  Msg m;
  m.header = addr;
  struct msghdr h {};
  if (!detail::read_value(mem, addr, h)) return m;
  m.name = reinterpret_cast<uint64_t>(h.msg_name);
  m.namelen = h.msg_namelen;
  m.iov = read_iovecs(mem, reinterpret_cast<uint64_t>(h.msg_iov), h.msg_iovlen);
  m.control = reinterpret_cast<uint64_t>(h.msg_control);
  m.controllen = std::min<uint64_t>(h.msg_controllen, kMaxRegionBytes);
  return m;
}

void add(std::vector<Region>& out, uint64_t addr, uint64_t len) {
  if (addr != 0 && len != 0) out.push_back({addr, std::min(len, kMaxRegionBytes)});
}

// What the kernel reads of a message: the header, the name, the iovec array
// and its buffers, the control data.
void add_msg_reads(std::vector<Region>& out, const Msg& m, uint64_t iov_array) {
  add(out, m.header, sizeof(struct msghdr));
  add(out, m.name, m.namelen);
  add(out, iov_array, m.iov.size() * sizeof(struct iovec));
  for (const Region& v : m.iov) add(out, v.addr, v.len);
  add(out, m.control, m.controllen);
}

// `total` bytes filled into the buffers in order.
void add_filled(std::vector<Region>& out, const std::vector<Region>& iov, uint64_t total) {
  for (const Region& v : iov) {
    if (total == 0) break;
    const uint64_t n = std::min(v.len, total);
    add(out, v.addr, n);
    total -= n;
  }
}

// What recvmsg wrote for a message that received `received` bytes.
void add_msg_writes(std::vector<Region>& out, const Msg& m, uint64_t received, MemoryReader& mem) {
  add(out, m.name, std::min(m.namelen, int_behind(mem, m.header + kMsgNameLen)));
  add_filled(out, m.iov, received);
  uint64_t controllen = 0;
  detail::read_value(mem, m.header + kMsgControlLen, controllen);
  add(out, m.control, std::min(m.controllen, controllen));
  add(out, m.header + kMsgNameLen, sizeof(socklen_t));
  add(out, m.header + kMsgControlLen, sizeof(size_t));
  add(out, m.header + kMsgFlags, sizeof(int));
}

uint64_t iov_array_of(MemoryReader& mem, uint64_t header) {
  struct msghdr h {};
  return detail::read_value(mem, header, h) ? reinterpret_cast<uint64_t>(h.msg_iov) : 0;
}

// A string the kernel reads: up to and with its NUL, at most kMaxStringBytes.
uint64_t string_bytes(MemoryReader& mem, uint64_t addr) {
  char chunk[256];
  uint64_t total = 0;
  while (total < kMaxStringBytes) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(sizeof chunk, kMaxStringBytes - total));
    const size_t got = mem.read(addr + total, chunk, want);
    const char* nul = static_cast<const char*>(std::memchr(chunk, 0, got));
    if (nul) return total + static_cast<uint64_t>(nul - chunk) + 1;
    total += got;
    if (got < want) break;
  }
  return total;
}

}  // namespace

struct Effects::PendingWrite {
  Term term;
  uint64_t addr = 0;
  uint64_t size = 0;  // when size_known: the size, as it was at entry
  uint64_t cap = kNoCap;
  bool size_known = false;
  bool cap_known = false;
  std::vector<Region> iov;  // kIov: the buffers as the kernel took them
  std::vector<Msg> msgs;    // kMsghdr, kMmsghdr
};

Effects::Effects() = default;
Effects::Effects(const Effects&) = default;
Effects::Effects(Effects&&) noexcept = default;
Effects& Effects::operator=(const Effects&) = default;
Effects& Effects::operator=(Effects&&) noexcept = default;
Effects::~Effects() = default;

namespace {

// A count's value at entry; false when it is known only after the call.
bool count_at_entry(const Count& c, const Call& call, MemoryReader& mem, uint64_t& value) {
  switch (c.kind) {
    case Count::Kind::kNone: value = kNoCap; return true;
    case Count::Kind::kLiteral: value = clamp_mul(c.literal, c.elem); return true;
    case Count::Kind::kArg: value = clamp_mul(call.args[c.arg], c.elem); return true;
    case Count::Kind::kPages: value = clamp_mul(call.args[c.arg] / 4096 + (call.args[c.arg] % 4096 != 0), c.elem); return true;
    case Count::Kind::kAtEntry: value = clamp_mul(int_behind(mem, call.args[c.arg]), c.elem); return true;
    case Count::Kind::kAtExit:
    case Count::Kind::kResult: return false;
  }
  return false;
}

uint64_t count_at_exit(const Count& c, const Call& call, long result, MemoryReader& mem) {
  if (c.kind == Count::Kind::kAtExit) return clamp_mul(int_behind(mem, call.args[c.arg]), c.elem);
  return clamp_mul(result > 0 ? static_cast<uint64_t>(result) : 0, c.elem);
}

// Entries of an array (kIov, kMmsghdr): the count without element size.
uint64_t entries(const Count& c, const Call& call, MemoryReader& mem) {
  uint64_t n = 0;
  count_at_entry(Count{c.kind, c.arg, c.literal, 1}, call, mem, n);
  return std::min(n, kMaxVectors);
}

}  // namespace

std::optional<Effects> Effects::at_entry(const Call& call, MemoryReader& mem) {
  if (call.abi != Abi::kX86_64) return std::nullopt;
  auto slots = detail::generated_slot_by_nr();
  if (call.nr < 0 || static_cast<size_t>(call.nr) >= slots.size()) return std::nullopt;
  const int16_t slot = slots[static_cast<size_t>(call.nr)];
  if (slot < 0) return std::nullopt;
  const detail::EffectsRow& row = detail::generated_effects()[static_cast<size_t>(slot)];
  if (row.coverage == Coverage::kUnknown) return std::nullopt;
  std::vector<Term> terms(row.terms, row.terms + row.nterms);
  if (row.handler != detail::Handler::kNone && !detail::command_terms(row.handler, call, mem, terms)) {
    return std::nullopt;
  }
  Effects fx;
  fx.call_ = call;
  for (const Term& t : terms) {
    const uint64_t addr = t.fixed_addr ? t.fixed_addr : call.args[t.arg];
    if (addr == 0) continue;
    PendingWrite w;
    w.term = t;
    w.addr = addr;
    w.size_known = count_at_entry(t.size, call, mem, w.size);
    w.cap_known = count_at_entry(t.cap, call, mem, w.cap);
    const bool reads = static_cast<uint8_t>(t.dir) & static_cast<uint8_t>(Dir::kIn);
    switch (t.shape) {
      case Shape::kBytes:
        if (reads && w.size_known && w.cap_known) add(fx.reads_, addr, std::min(w.size, w.cap));
        break;
      case Shape::kCString:
        add(fx.reads_, addr, string_bytes(mem, addr));
        break;
      case Shape::kIov: {
        const uint64_t n = entries(t.size, call, mem);
        w.iov = read_iovecs(mem, addr, n);
        // The kernel reads the array whichever way the data goes.
        add(fx.reads_, addr, w.iov.size() * sizeof(struct iovec));
        if (reads && !t.by_result) {
          for (const Region& v : w.iov) add(fx.reads_, v.addr, v.len);
        }
        break;
      }
      case Shape::kMsghdr:
      case Shape::kMmsghdr: {
        const uint64_t n = t.shape == Shape::kMsghdr ? 1 : entries(t.size, call, mem);
        const uint64_t stride = t.shape == Shape::kMsghdr ? sizeof(struct msghdr) : sizeof(struct mmsghdr);
        for (uint64_t i = 0; i < n; ++i) {
          w.msgs.push_back(read_msg(mem, addr + i * stride));
          // The kernel reads the header and the iovec array whichever way the
          // data goes; recvmsg reads neither the name, the buffers nor the
          // control data.
          if (!reads || t.by_result) {
            add(fx.reads_, addr + i * stride, sizeof(struct msghdr));
            add(fx.reads_, iov_array_of(mem, addr + i * stride), w.msgs.back().iov.size() * sizeof(struct iovec));
          } else if (reads) {
            add_msg_reads(fx.reads_, w.msgs.back(), iov_array_of(mem, addr + i * stride));
          }
        }
        break;
      }
    }
    if (static_cast<uint8_t>(t.dir) & static_cast<uint8_t>(Dir::kOut)) fx.pending_.push_back(std::move(w));
  }
  return fx;
}

std::vector<Region> Effects::writes(long result, MemoryReader& mem) const {
  std::vector<Region> out;
  const uint64_t filled = result > 0 ? static_cast<uint64_t>(result) : 0;
  for (const PendingWrite& w : pending_) {
    const Term& t = w.term;
    if (failed(result) && !t.on_error) continue;
    switch (t.shape) {
      case Shape::kBytes: {
        const uint64_t size = w.size_known ? w.size : count_at_exit(t.size, call_, result, mem);
        const uint64_t cap = w.cap_known ? w.cap : count_at_exit(t.cap, call_, result, mem);
        add(out, w.addr, std::min(size, cap));
        break;
      }
      case Shape::kCString:
        break;  // never written
      case Shape::kIov:
        if (t.by_result) {
          add_filled(out, w.iov, filled);
        } else {
          for (const Region& v : w.iov) add(out, v.addr, v.len);
        }
        break;
      case Shape::kMsghdr:
        if (!w.msgs.empty()) add_msg_writes(out, w.msgs.front(), filled, mem);
        break;
      case Shape::kMmsghdr: {
        const uint64_t n = std::min<uint64_t>(filled, w.msgs.size());
        for (uint64_t i = 0; i < n; ++i) {
          const Msg& m = w.msgs[i];
          add_msg_writes(out, m, int_behind(mem, m.header + kMmsgLen), mem);
          add(out, m.header + kMmsgLen, sizeof(unsigned int));
        }
        break;
      }
    }
  }
  return out;
}

Coverage coverage_of(long nr) {
  const SyscallInfo* info = lookup(nr);
  if (!info) return Coverage::kUnknown;
  const auto index = static_cast<size_t>(info - detail::generated_table().data());
  return detail::generated_effects()[index].coverage;
}

}  // namespace hytrace::syscalls
