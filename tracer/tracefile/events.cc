// Each event type's body is laid out once, by a `body` function that both
// encodes (Out) and decodes (In) it, so the two can never disagree. Bodies
// have no padding; lists are a u32 count then the items; strings and byte
// strings a u32 length then the bytes.
#include "tracer/tracefile/events.hpp"

#include <bit>
#include <cstring>
#include <stdexcept>
#include <type_traits>

#include "tracer/tracefile/bytes.hpp"

namespace hytrace::tracefile {
namespace {

using detail::Cursor;

// Counts the bytes of the fields: encode sizes the buffer once, then Out
// stores into it (append() is on the path that resumes the program, and
// growing a string byte by byte cost more than the rest of the event).
class Size {
 public:
  template <class T>
  void num(const T&) {
    n += sizeof(T);
  }
  template <class E>
  void enum8(const E&) {
    n += 1;
  }
  void boolean(const bool&) { n += 1; }
  void str(const std::string& s) { n += 4 + s.size(); }
  template <size_t N>
  void raw(const std::array<uint8_t, N>&) {
    n += N;
  }
  template <size_t N>
  void nums(const std::array<uint64_t, N>&) {
    n += 8 * N;
  }
  template <class T, class F>
  void list(const std::vector<T>& items, size_t /*min_size*/, F each) {
    n += 4;
    for (const T& item : items) each(*this, item);
  }
  size_t n = 0;
};

// Stores fields at `at`, which has room for them (Size said how much).
class Out {
 public:
  explicit Out(uint8_t* at) : at_(at) {}
  // One store, not store_le's byte loop (a tenth of an event's cost): the
  // trace is little-endian, as hytrace's only host, x86-64, is.
  template <class T>
  void num(const T& v) {
    static_assert(std::endian::native == std::endian::little && std::is_integral_v<T>);
    std::memcpy(at_, &v, sizeof(T));
    at_ += sizeof(T);
  }
  template <class E>
  void enum8(const E& e) {
    *at_++ = static_cast<uint8_t>(e);
  }
  void boolean(const bool& b) { *at_++ = b ? 1 : 0; }
  void str(const std::string& s) {
    num(static_cast<uint32_t>(s.size()));
    if (!s.empty()) std::memcpy(at_, s.data(), s.size());
    at_ += s.size();
  }
  template <size_t N>
  void raw(const std::array<uint8_t, N>& a) {
    std::memcpy(at_, a.data(), N);
    at_ += N;
  }
  template <size_t N>
  void nums(const std::array<uint64_t, N>& a) {
    for (uint64_t v : a) num(v);
  }
  template <class T, class F>
  void list(const std::vector<T>& items, size_t /*min_size*/, F each) {
    num(static_cast<uint32_t>(items.size()));
    for (const T& item : items) each(*this, item);
  }

 private:
  uint8_t* at_;
};

// Reads fields; the cursor keeps the first failure.
class In {
 public:
  explicit In(std::span<const uint8_t> body) : c_(body) {}
  template <class T>
  void num(T& v) {
    v = c_.get<T>();
  }
  template <class E>
  void enum8(E& e) {
    e = static_cast<E>(c_.get<uint8_t>());
  }
  void boolean(bool& b) {
    const uint8_t v = c_.get<uint8_t>();
    if (v > 1) c_.fail();
    b = v == 1;
  }
  void str(std::string& s) { c_.get_bytes(s, c_.get<uint32_t>()); }
  template <size_t N>
  void raw(std::array<uint8_t, N>& a) {
    c_.get_raw(a.data(), N);
  }
  template <size_t N>
  void nums(std::array<uint64_t, N>& a) {
    for (uint64_t& v : a) num(v);
  }
  // Items are added one by one as they decode: a forged count reserves
  // nothing, and get_count already refused one that cannot fit.
  template <class T, class F>
  void list(std::vector<T>& items, size_t min_size, F each) {
    const uint32_t n = c_.get_count(min_size);
    for (uint32_t i = 0; i < n && c_.ok(); ++i) {
      T item{};
      each(*this, item);
      items.push_back(std::move(item));
    }
  }
  bool ok() const { return c_.ok(); }
  size_t remaining() const { return c_.remaining(); }

 private:
  Cursor c_;
};

// The smallest encoded size of a list item, for get_count.
constexpr size_t kStrMin = 4;
constexpr size_t kRangeMin = 8 + 4;
constexpr size_t kPairSize = 16;
constexpr size_t kFileMin = 4 + 8 + 8 + 8;

template <class Io, class R>
void range(Io& io, R& r) {
  io.num(r.addr);
  io.str(r.bytes);
}

template <class Io, class S>
void strings(Io& io, S& v) {
  io.list(v, kStrMin, [](Io& i, auto& s) { i.str(s); });
}

template <class Io, class E>
void body(Io& io, E& e, std::type_identity<SyscallEvent>) {
  io.num(e.entry_seq);
  io.num(e.exit_seq);
  io.num(e.tid);
  io.enum8(e.abi);
  io.num(e.nr);
  io.nums(e.args);
  io.num(e.result);
  io.num(e.flags);
  io.str(e.unreplayable);
  io.list(e.writes, kRangeMin, [](Io& i, auto& r) { range(i, r); });
  io.list(e.reads, kRangeMin, [](Io& i, auto& r) { range(i, r); });
}

template <class Io, class E>
void body(Io& io, E& e, std::type_identity<SignalEvent>) {
  io.num(e.seq);
  io.num(e.tid);
  io.raw(e.siginfo);
  io.enum8(e.where);
  if (e.where == SignalEvent::Where::kAtEvent) {
    io.num(e.at_seq);
    return;
  }
  io.num(e.ip);
  io.nums(e.regs);
  io.num(e.stack_hash);
  io.str(e.xstate);
}

template <class Io, class E>
void body(Io& io, E& e, std::type_identity<ProcessEvent>) {
  io.num(e.seq);
  io.enum8(e.kind);
  io.num(e.tid);
  io.num(e.child);
  io.num(e.flags);
  io.num(e.status);
  io.list(e.writes, kRangeMin, [](Io& i, auto& r) { range(i, r); });
}

template <class Io, class E>
void body(Io& io, E& e, std::type_identity<ExecEvent>) {
  io.num(e.seq);
  io.num(e.tid);
  io.num(e.former_tid);
  io.str(e.path);
  strings(io, e.argv);
  strings(io, e.envp);
  io.str(e.cwd);
  io.list(e.auxv, kPairSize, [](Io& i, auto& p) {
    i.num(p.first);
    i.num(p.second);
  });
  io.raw(e.at_random);
  io.list(e.files, kFileMin, [](Io& i, auto& f) {
    i.str(f.path);
    i.num(f.size);
    i.num(f.mtime_ns);
    i.num(f.content_hash);
  });
}

template <class Io, class E>
void body(Io& io, E& e, std::type_identity<RdtscEvent>) {
  io.num(e.seq);
  io.num(e.tid);
  io.boolean(e.rdtscp);
  io.num(e.ip);
  io.num(e.value);
  io.num(e.aux);
}

template <class Io, class E>
void body(Io& io, E& e, std::type_identity<CpuidEvent>) {
  io.num(e.seq);
  io.num(e.tid);
  io.num(e.ip);
  io.num(e.leaf);
  io.num(e.subleaf);
  io.num(e.eax);
  io.num(e.ebx);
  io.num(e.ecx);
  io.num(e.edx);
}

template <class Io, class E>
void body(Io& io, E& e, std::type_identity<InjectedEvent>) {
  body(io, e, std::type_identity<SyscallEvent>{});  // the same shape
}

template <class Io, class E>
void body(Io& io, E& e, std::type_identity<MappingEvent>) {
  io.num(e.seq);
  io.num(e.tid);
  io.enum8(e.kind);
  io.num(e.addr);
  io.num(e.length);
  io.num(e.prot);
}

template <class Io, class E>
void body(Io& io, E& e, std::type_identity<EndEvent>) {
  io.num(e.seq);
  io.num(e.tid);
  io.num(e.status);
  io.num(e.events);
}

// The variant's order is the types' numbering: type = index + 1.
static_assert(std::variant_size_v<Event> == 9);
static_assert(std::is_same_v<std::variant_alternative_t<0, Event>, SyscallEvent>);
static_assert(std::is_same_v<std::variant_alternative_t<6, Event>, InjectedEvent>);
static_assert(std::is_same_v<std::variant_alternative_t<8, Event>, EndEvent>);

template <size_t I>
std::optional<Event> decode_as(std::span<const uint8_t> bytes) {
  using T = std::variant_alternative_t<I, Event>;
  T e{};
  In in(bytes);
  body(in, e, std::type_identity<T>{});
  if (!in.ok() || in.remaining() != 0) return std::nullopt;
  return Event(std::in_place_index<I>, std::move(e));
}

std::optional<Event> decode_body(uint16_t type, std::span<const uint8_t> bytes) {
  switch (type) {
    case 1: return decode_as<0>(bytes);
    case 2: return decode_as<1>(bytes);
    case 3: return decode_as<2>(bytes);
    case 4: return decode_as<3>(bytes);
    case 5: return decode_as<4>(bytes);
    case 6: return decode_as<5>(bytes);
    case 7: return decode_as<6>(bytes);
    case 8: return decode_as<7>(bytes);
    case 9: return decode_as<8>(bytes);
  }
  return std::nullopt;
}

bool is_known(uint16_t type) { return type >= 1 && type <= 9; }

std::string check_ranges(const std::vector<MemoryRange>& ranges) {
  for (const MemoryRange& r : ranges) {
    if (r.bytes.size() > UINT64_MAX - r.addr) return "a memory range wraps around the address space";
  }
  return {};
}

std::string check_syscall(const SyscallEvent& e) {
  if (e.flags & ~kSyscallKnownFlags) return "unknown syscall flags";
  if (static_cast<uint8_t>(e.abi) > static_cast<uint8_t>(syscalls::Abi::kX32)) return "unknown ABI";
  const bool unfinished = e.flags & kUnfinished;
  if (unfinished && e.exit_seq != 0) return "an unfinished syscall with an exit seq";
  if (!unfinished && e.exit_seq <= e.entry_seq) return "a syscall exit not after its entry";
  if (((e.flags & kUnreplayable) != 0) != !e.unreplayable.empty()) {
    return "the unreplayable flag and its reason disagree";
  }
  if (std::string r = check_ranges(e.writes); !r.empty()) return r;
  return check_ranges(e.reads);
}

std::string check_one(const SyscallEvent& e) { return check_syscall(e); }
std::string check_one(const InjectedEvent& e) { return check_syscall(e); }
std::string check_one(const SignalEvent& e) {
  return e.where > SignalEvent::Where::kInUserCode ? "unknown signal delivery point" : "";
}
std::string check_one(const ProcessEvent& e) {
  if (e.kind > ProcessEvent::Kind::kExit) return "unknown process event";
  return check_ranges(e.writes);
}
std::string check_one(const ExecEvent&) { return {}; }
std::string check_one(const RdtscEvent&) { return {}; }
std::string check_one(const CpuidEvent&) { return {}; }
std::string check_one(const MappingEvent& e) {
  if (e.kind > MappingEvent::Kind::kOther) return "unknown mapping kind";
  return e.length > UINT64_MAX - e.addr ? "a mapping wraps around the address space" : "";
}
std::string check_one(const EndEvent&) { return {}; }

}  // namespace

EventType type_of(const Event& event) { return static_cast<EventType>(event.index() + 1); }

const char* type_name(EventType type) {
  switch (type) {
    case EventType::kSyscall: return "syscall";
    case EventType::kSignal: return "signal";
    case EventType::kProcess: return "process";
    case EventType::kExec: return "exec";
    case EventType::kRdtsc: return "rdtsc";
    case EventType::kCpuid: return "cpuid";
    case EventType::kInjected: return "injected";
    case EventType::kMapping: return "mapping";
    case EventType::kEnd: return "end";
  }
  return "unknown";
}

std::pair<uint64_t, uint64_t> seq_range(const Event& event) {
  return std::visit(
      [](const auto& e) -> std::pair<uint64_t, uint64_t> {
        if constexpr (std::is_base_of_v<SyscallEvent, std::decay_t<decltype(e)>>) {
          return {e.entry_seq, e.exit_seq ? e.exit_seq : e.entry_seq};
        } else {
          return {e.seq, e.seq};
        }
      },
      event);
}

void encode(const Event& event, std::string& out) {
  std::visit(
      [&](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        Size size;
        body(size, e, std::type_identity<T>{});
        if (size.n > kMaxEventBody) {
          throw std::length_error("an event of " + std::to_string(size.n) +
                                  " bytes is over the trace's limit of 32 MiB");
        }
        const size_t start = out.size();
        out.resize(start + kEventFrameSize + size.n);
        Out o(reinterpret_cast<uint8_t*>(out.data()) + start);
        o.num(static_cast<uint16_t>(type_of(event)));
        o.num(uint16_t{0});
        o.num(static_cast<uint32_t>(size.n));
        body(o, e, std::type_identity<T>{});
      },
      event);
}

Decoded decode(std::span<const uint8_t> bytes) {
  Decoded d;
  if (bytes.size() < kEventFrameSize) {
    d.error = "an event frame runs past the chunk";
    return d;
  }
  d.type = detail::load_le<uint16_t>(bytes.data());
  const uint16_t reserved = detail::load_le<uint16_t>(bytes.data() + 2);
  const uint32_t length = detail::load_le<uint32_t>(bytes.data() + 4);
  if (length > bytes.size() - kEventFrameSize) {
    d.error = "an event's length (" + std::to_string(length) + ") runs past the chunk";
    return d;
  }
  const size_t size = kEventFrameSize + length;
  if (!is_known(d.type)) {
    d.status = Decoded::Status::kUnknown;
    d.size = size;
    return d;
  }
  if (reserved != 0) {
    d.error = "an event frame's reserved field is not 0";
    return d;
  }
  d.event = decode_body(d.type, bytes.subspan(kEventFrameSize, length));
  if (!d.event) {
    d.error = std::string(type_name(static_cast<EventType>(d.type))) +
              " event: its fields do not fit its length (" + std::to_string(length) + " bytes)";
    return d;
  }
  if (std::string problem = check(*d.event); !problem.empty()) {
    d.event.reset();
    d.error = std::string(type_name(static_cast<EventType>(d.type))) + " event: " + problem;
    return d;
  }
  d.status = Decoded::Status::kEvent;
  d.size = size;
  return d;
}

std::string check(const Event& event) {
  return std::visit([](const auto& e) { return check_one(e); }, event);
}

}  // namespace hytrace::tracefile
