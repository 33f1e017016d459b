#include "tracer/tracefile/reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "tracer/tracefile/bytes.hpp"

namespace hytrace::tracefile {

using detail::load_le;

// The bytes of a trace: a file read with pread, or memory. The size is
// taken once, so a file that grows while it is read ends where it was.
class TraceReader::Source {
 public:
  virtual ~Source() = default;
  uint64_t size() const { return size_; }
  // Exactly n bytes at offset (within size()); an errno on failure.
  virtual int read(uint64_t offset, void* out, size_t n) = 0;
  // Set when the bytes could not even be opened.
  std::optional<ReadError> problem;

 protected:
  uint64_t size_ = 0;
};

namespace {

class FileSource final : public TraceReader::Source {
 public:
  explicit FileSource(const std::string& path) {
    // O_NONBLOCK: opening a FIFO must not wait for a writer.
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st {};
    if (fd_ < 0 || fstat(fd_, &st) != 0) {
      problem = ReadError{0, std::strerror(errno)};
    } else if (S_ISDIR(st.st_mode)) {
      problem = ReadError{0, std::strerror(EISDIR)};
    } else if (!S_ISREG(st.st_mode)) {
      problem = ReadError{0, "not a regular file"};  // a trace is read by offset
    } else {
      size_ = static_cast<uint64_t>(st.st_size);
    }
  }
  ~FileSource() override {
    if (fd_ >= 0) close(fd_);
  }
  int read(uint64_t offset, void* out, size_t n) override {
    auto* p = static_cast<uint8_t*>(out);
    while (n > 0) {
      const ssize_t got = pread(fd_, p, n, static_cast<off_t>(offset));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) return errno;
      if (got == 0) return EIO;  // shorter than it was at open: truncated under us
      p += got;
      offset += static_cast<uint64_t>(got);
      n -= static_cast<size_t>(got);
    }
    return 0;
  }

 private:
  int fd_ = -1;
};

class MemorySource final : public TraceReader::Source {
 public:
  explicit MemorySource(std::span<const uint8_t> bytes) : bytes_(bytes) { size_ = bytes.size(); }
  int read(uint64_t offset, void* out, size_t n) override {
    if (n > 0) std::memcpy(out, bytes_.data() + offset, n);  // an empty payload's buffer may be null
    return 0;
  }

 private:
  std::span<const uint8_t> bytes_;
};

bool starts_like(std::span<const uint8_t> bytes, std::span<const uint8_t> magic) {
  const size_t n = std::min(bytes.size(), magic.size());
  return std::equal(bytes.begin(), bytes.begin() + n, magic.begin());
}

}  // namespace

TraceReader TraceReader::open(const std::string& path, ReadOptions options) {
  return TraceReader(std::make_unique<FileSource>(path), options);
}

TraceReader TraceReader::from_bytes(std::span<const uint8_t> bytes, ReadOptions options) {
  return TraceReader(std::make_unique<MemorySource>(bytes), options);
}

TraceReader::TraceReader(std::unique_ptr<Source> source, ReadOptions options)
    : source_(std::move(source)), options_(options) {
  totals_.file_bytes = source_->size();
  if (source_->problem) {
    error_ = source_->problem;
    return;
  }
  read_header();
}

TraceReader::TraceReader(TraceReader&&) noexcept = default;
TraceReader& TraceReader::operator=(TraceReader&&) noexcept = default;
TraceReader::~TraceReader() = default;

void TraceReader::fail(uint64_t offset, std::string message) {
  if (!error_) error_ = ReadError{offset, std::move(message)};
  done_ = true;
}

void TraceReader::fail_chunk(const std::string& problem) {
  fail(chunk_offset_, fmt::format("chunk at offset {}: {}", chunk_offset_, problem));
}

void TraceReader::read_header() {
  const uint64_t size = source_->size();
  if (size == 0) return fail(0, "empty file");
  std::array<uint8_t, kFileHeaderSize> h{};
  const size_t n = static_cast<size_t>(std::min<uint64_t>(size, kFileHeaderSize));
  if (int err = source_->read(0, h.data(), n)) return fail(0, std::strerror(err));
  const std::span<const uint8_t> got(h.data(), n);
  if (!starts_like(got, kFileMagic)) return fail(0, "not a hytrace trace");
  if (n < kFileHeaderSize) {
    return fail(n, fmt::format("truncated header ({} of {} bytes)", n, kFileHeaderSize));
  }
  const uint32_t version = load_le<uint32_t>(&h[8]);
  if (version != kFormatVersion) {
    return fail(8, fmt::format("trace format version {}; this hytrace reads version {}", version,
                               kFormatVersion));
  }
  if (load_le<uint32_t>(&h[12]) != 0 || load_le<uint32_t>(&h[20]) != 0) {
    return fail(12, "header at offset 12: unknown flags");
  }
  const uint32_t json_length = load_le<uint32_t>(&h[16]);
  if (json_length > kMaxHeaderJson) {
    return fail(16, fmt::format("header at offset 16: JSON length {} is over the limit of {}",
                                json_length, kMaxHeaderJson));
  }
  const uint64_t header_size = kFileHeaderSize + json_length;
  if (size < header_size) {
    return fail(size, fmt::format("truncated header ({} of {} bytes)", size, header_size));
  }
  std::vector<uint8_t> json(json_length);
  if (int err = source_->read(kFileHeaderSize, json.data(), json.size())) {
    return fail(kFileHeaderSize, std::strerror(err));
  }
  if (options_.verify_checksums &&
      hash64(std::span(h).first(24), json) != load_le<uint64_t>(&h[24])) {
    return fail(24, "header at offset 24: checksum mismatch");
  }
  std::string problem;
  auto info = parse_header_json(json, problem);
  if (!info) return fail(kFileHeaderSize, "header at offset 32: JSON " + problem);
  info_ = std::move(*info);
  totals_.header_bytes = header_size;
  offset_ = header_size;
}

// Loads the chunk at offset_; false at the end (clean or incomplete) or on a
// problem.
bool TraceReader::load_chunk() {
  const uint64_t remaining = source_->size() - offset_;
  chunk_offset_ = offset_;
  in_chunk_ = false;
  if (remaining == 0) return false;
  std::array<uint8_t, kChunkHeaderSize> h{};
  const size_t n = static_cast<size_t>(std::min<uint64_t>(remaining, kChunkHeaderSize));
  if (int err = source_->read(offset_, h.data(), n)) {
    fail_chunk(std::strerror(err));
    return false;
  }
  if (!starts_like(std::span(h.data(), n), kChunkMagic)) {
    fail_chunk("not a chunk (bad magic)");
    return false;
  }
  if (n < kChunkHeaderSize) {  // a header cut short: the writer stopped here
    trailing_ = remaining;
    return false;
  }
  if (options_.verify_checksums && header_check_of(h) != load_le<uint32_t>(&h[36])) {
    fail_chunk("header checksum mismatch");
    return false;
  }
  chunk_ = decode_chunk_header(h);
  std::string problem;
  if (chunk_.flags & ~kChunkKnownFlags) {
    problem = fmt::format("unknown flags {:#x}", chunk_.flags);
  } else if (chunk_.stored_length > kMaxChunkBytes || chunk_.raw_length > kMaxChunkBytes) {
    problem = fmt::format("a length over the limit of {} bytes", kMaxChunkBytes);
  } else if (!(chunk_.flags & kChunkZstd) && chunk_.stored_length != chunk_.raw_length) {
    problem = "stored uncompressed, yet its two lengths differ";
  } else if (chunk_.event_count == 0) {
    problem = "holds no events";
  } else if (chunk_.event_count > chunk_.raw_length / kEventFrameSize) {
    problem = fmt::format("{} events cannot fit in {} bytes", chunk_.event_count, chunk_.raw_length);
  } else if (chunk_.first_seq > chunk_.last_seq) {
    problem = fmt::format("its sequence range {}..{} is reversed", chunk_.first_seq, chunk_.last_seq);
  }
  if (!problem.empty()) {
    fail_chunk(problem);
    return false;
  }
  if (remaining - kChunkHeaderSize < chunk_.stored_length) {  // a payload cut short
    trailing_ = remaining;
    return false;
  }
  stored_.resize(chunk_.stored_length);
  if (int err = source_->read(offset_ + kChunkHeaderSize, stored_.data(), stored_.size())) {
    fail_chunk(std::strerror(err));
    return false;
  }
  if (options_.verify_checksums && checksum_of(h, stored_) != chunk_.checksum) {
    fail_chunk("checksum mismatch");
    return false;
  }
  if (chunk_.flags & kChunkZstd) {
    // One zstd frame, declaring the size the header says, decompressed into
    // a buffer of exactly that size: a frame cannot make it grow.
    const size_t frame = ZSTD_findFrameCompressedSize(stored_.data(), stored_.size());
    const unsigned long long declared = ZSTD_getFrameContentSize(stored_.data(), stored_.size());
    if (ZSTD_isError(frame) || frame != stored_.size()) {
      problem = "the payload is not one zstd frame";
    } else if (declared != chunk_.raw_length) {
      problem = fmt::format("the zstd frame does not declare the raw length ({})", chunk_.raw_length);
    } else {
      raw_.resize(chunk_.raw_length);
      const size_t got = ZSTD_decompress(raw_.data(), raw_.size(), stored_.data(), stored_.size());
      if (ZSTD_isError(got)) {
        problem = std::string("zstd: ") + ZSTD_getErrorName(got);
      } else if (got != chunk_.raw_length) {
        problem = fmt::format("decompresses to {} bytes, its header says {}", got, chunk_.raw_length);
      }
    }
    if (!problem.empty()) {
      fail_chunk(problem);
      return false;
    }
  } else {
    raw_.swap(stored_);
  }
  offset_ += kChunkHeaderSize + chunk_.stored_length;
  totals_.chunks += 1;
  totals_.stored_bytes += chunk_.stored_length;
  totals_.raw_bytes += chunk_.raw_length;
  pos_ = 0;
  chunk_events_ = 0;
  in_chunk_ = true;
  return true;
}

// Decodes the event at pos_ of the current chunk into `out` (left empty
// for a skipped type); false on a problem.
bool TraceReader::next_in_chunk(std::optional<Event>& out) {
  const uint32_t index = chunk_events_;
  Decoded d = decode(std::span(raw_).subspan(pos_));
  if (d.status == Decoded::Status::kError) {
    fail_chunk(fmt::format("event {}: {}", index, d.error));
    return false;
  }
  pos_ += d.size;
  if (++chunk_events_ > chunk_.event_count) {
    fail_chunk(fmt::format("holds more events than its header's {}", chunk_.event_count));
    return false;
  }
  if (ended_) {
    fail_chunk(fmt::format("event {} comes after the end event", index));
    return false;
  }
  if (d.status == Decoded::Status::kUnknown) {
    totals_.unknown_events += 1;
    return true;
  }
  const auto [low, high] = seq_range(*d.event);
  if (low < chunk_.first_seq || high > chunk_.last_seq) {
    fail_chunk(fmt::format("event {}: seq {}..{} is outside the chunk's {}..{}", index, low, high,
                           chunk_.first_seq, chunk_.last_seq));
    return false;
  }
  if (const auto* end = std::get_if<EndEvent>(&*d.event)) {
    const uint64_t before = totals_.events + totals_.unknown_events;
    if (end->events != before) {
      fail_chunk(fmt::format("the end event counts {} events before it, the trace holds {}",
                             end->events, before));
      return false;
    }
    ended_ = true;
  }
  totals_.events += 1;
  out = std::move(d.event);
  return true;
}

std::optional<Event> TraceReader::next() {
  while (!done_) {
    if (in_chunk_ && pos_ < raw_.size()) {
      std::optional<Event> event;
      if (!next_in_chunk(event)) return std::nullopt;
      if (event) return event;
      continue;
    }
    if (in_chunk_ && chunk_events_ != chunk_.event_count) {
      fail_chunk(fmt::format("holds {} events, its header says {}", chunk_events_, chunk_.event_count));
      return std::nullopt;
    }
    if (!load_chunk()) done_ = true;
  }
  return std::nullopt;
}

std::string TraceReader::cut_short() const {
  if (trailing_ > 0) {
    return fmt::format("the last {} bytes (from offset {}) are not a complete chunk: the recording "
                       "was cut short; read up to there",
                       trailing_, totals_.file_bytes - trailing_);
  }
  if (!ended_) return "no end event: the recording was cut short after its last complete chunk";
  return {};
}

}  // namespace hytrace::tracefile
