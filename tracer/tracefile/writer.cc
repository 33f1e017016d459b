#include "tracer/tracefile/writer.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <system_error>
#include <thread>

namespace hytrace::tracefile {
namespace {

// The fullest chunk: just under chunk_bytes' limit, then the largest event.
static_assert(kMaxChunkBytes / 4 + kEventFrameSize + kMaxEventBody <= kMaxChunkBytes);

// A full chunk on its way to the writer thread.
struct Chunk {
  std::string raw;
  uint64_t first_seq = 0, last_seq = 0;
  uint32_t events = 0;
};

// Every byte, or the errno of the write that failed.
int write_all(int fd, const uint8_t* data, size_t size) {
  while (size > 0) {
    const ssize_t n = write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return EIO;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return 0;
}

}  // namespace

// What the appending thread and the writer thread share.
struct TraceWriter::Shared {
  int fd = -1;
  std::string name;
  int level = 1;
  bool compress = true;
  size_t max_queued = 8;

  std::mutex mutex;
  std::condition_variable work;   // a chunk queued, or closing
  std::condition_variable room;   // a chunk written: room in the queue, or all done
  std::deque<Chunk> queue;
  std::vector<std::string> spare;  // written chunks' buffers, for reuse
  bool busy = false;               // the thread holds a chunk
  bool closing = false;
  std::string error;               // the first error
  std::atomic<bool> failed{false};
  std::atomic<uint64_t> offset{0};  // bytes in the file that are whole
  std::thread thread;

  void fail(const std::string& text) {
    std::lock_guard lock(mutex);
    if (!failed) error = text;
    failed = true;
    room.notify_all();
  }
  void fail_errno(int err, const char* doing) {
    fail("cannot " + std::string(doing) + " " + name + " at offset " + std::to_string(offset) +
         ": " + std::strerror(err));
  }
  // A chunk whose write failed half way is cut off again, so the file ends
  // at its last whole chunk; where the file cannot be truncated (a pipe)
  // the reader still sees an incomplete tail.
  void write_bytes(const uint8_t* data, size_t size) {
    if (int err = write_all(fd, data, size)) {
      fail_errno(err, "write");
      if (ftruncate(fd, static_cast<off_t>(offset.load())) == 0) lseek(fd, 0, SEEK_END);
      return;
    }
    offset += size;
  }
  void run();
};

void TraceWriter::Shared::run() {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  if (!cctx) fail("cannot write " + name + ": zstd could not allocate its context");
  std::vector<uint8_t> out;
  for (;;) {
    std::unique_lock lock(mutex);
    work.wait(lock, [&] { return !queue.empty() || closing; });
    if (queue.empty()) break;
    Chunk chunk = std::move(queue.front());
    queue.pop_front();
    busy = true;
    lock.unlock();

    if (!failed) {
      const auto* raw = reinterpret_cast<const uint8_t*>(chunk.raw.data());
      out.resize(kChunkHeaderSize + ZSTD_compressBound(chunk.raw.size()));
      size_t n = compress ? ZSTD_compressCCtx(cctx, out.data() + kChunkHeaderSize,
                                              out.size() - kChunkHeaderSize, raw, chunk.raw.size(), level)
                          : chunk.raw.size();
      ChunkHeader h{.raw_length = static_cast<uint32_t>(chunk.raw.size()),
                    .first_seq = chunk.first_seq, .last_seq = chunk.last_seq,
                    .event_count = chunk.events};
      // Incompressible events (random bytes) are stored as they are.
      if (ZSTD_isError(n) || n >= chunk.raw.size()) {
        n = chunk.raw.size();
        std::memcpy(out.data() + kChunkHeaderSize, raw, n);
      } else {
        h.flags = kChunkZstd;
      }
      h.stored_length = static_cast<uint32_t>(n);
      const auto header = encode_chunk_header(h, {out.data() + kChunkHeaderSize, n});
      std::copy(header.begin(), header.end(), out.begin());
      write_bytes(out.data(), kChunkHeaderSize + n);
    }

    lock.lock();
    busy = false;
    chunk.raw.clear();
    spare.push_back(std::move(chunk.raw));
    room.notify_all();
  }
  ZSTD_freeCCtx(cctx);
}

TraceWriter::TraceWriter(const std::string& path, const TraceInfo& info, Options options)
    : shared_(std::make_unique<Shared>()), options_(options) {
  const std::vector<uint8_t> header = encode_file_header(info);  // may throw: before the file exists
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "cannot create trace '" + path + "'");
  shared_->fd = fd;
  shared_->name = "trace '" + path + "'";
  start(header);
}

TraceWriter::TraceWriter(int fd, std::string name, const TraceInfo& info, Options options)
    : shared_(std::make_unique<Shared>()), options_(options) {
  shared_->fd = fd;
  shared_->name = std::move(name);
  std::vector<uint8_t> header;
  try {
    header = encode_file_header(info);
  } catch (...) {
    close(fd);
    throw;
  }
  start(header);
}

void TraceWriter::start(const std::vector<uint8_t>& header) {
  // A chunk is sealed once it reaches chunk_bytes, so it holds less than
  // that plus one event: 16 + 32 MiB stays within the reader's 64 MiB.
  options_.chunk_bytes = std::clamp<size_t>(options_.chunk_bytes, 1, kMaxChunkBytes / 4);
  shared_->level = options_.level;
  shared_->compress = options_.compress;
  shared_->max_queued = std::max<size_t>(options_.max_queued, 1);
  current_.reserve(options_.chunk_bytes + options_.chunk_bytes / 8);
  shared_->write_bytes(header.data(), header.size());
  // The thread takes no signal: SIGINT, SIGTERM and the engine's SIGALRM
  // must interrupt the engine's waits, which a signal that the kernel gave
  // to this thread would not.
  sigset_t all, before;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &before);
  shared_->thread = std::thread([s = shared_.get()] { s->run(); });  // nothing may throw after it
  pthread_sigmask(SIG_SETMASK, &before, nullptr);
}

TraceWriter::~TraceWriter() { finish(); }

void TraceWriter::append(const Event& event) {
  if (finished_ || shared_->failed.load(std::memory_order_relaxed)) return;
  try {
    encode(event, current_);
  } catch (const std::length_error& e) {
    // The events before it are still written: the trace ends just before it.
    flush();
    wait_written();
    shared_->fail("cannot write " + shared_->name + ": " + e.what());
    return;
  }
  const auto [low, high] = seq_range(event);
  first_seq_ = current_events_ ? std::min(first_seq_, low) : low;
  last_seq_ = current_events_ ? std::max(last_seq_, high) : high;
  ++current_events_;
  ++events_;
  if (current_.size() >= options_.chunk_bytes) seal_current();
}

void TraceWriter::flush() {
  if (!finished_ && current_events_ > 0) seal_current();
}

void TraceWriter::seal_current() {
  Shared& s = *shared_;
  Chunk chunk{std::move(current_), first_seq_, last_seq_, current_events_};
  current_events_ = 0;
  std::unique_lock lock(s.mutex);
  s.room.wait(lock, [&] { return s.queue.size() < s.max_queued || s.failed; });
  if (!s.spare.empty()) {
    current_ = std::move(s.spare.back());
    s.spare.pop_back();
  } else {
    current_ = std::string();
    current_.reserve(options_.chunk_bytes + options_.chunk_bytes / 8);
  }
  if (s.failed) return;  // nothing more goes to the file
  s.queue.push_back(std::move(chunk));
  s.work.notify_one();
}

void TraceWriter::wait_written() {
  Shared& s = *shared_;
  std::unique_lock lock(s.mutex);
  s.room.wait(lock, [&] { return (s.queue.empty() && !s.busy) || s.failed; });
}

std::string TraceWriter::status() const {
  std::lock_guard lock(shared_->mutex);
  return shared_->error;
}

uint64_t TraceWriter::bytes_written() const { return shared_->offset; }

std::string TraceWriter::finish() {
  if (finished_) return finish_status_;
  flush();
  finished_ = true;
  Shared& s = *shared_;
  {
    std::lock_guard lock(s.mutex);
    s.closing = true;
  }
  s.work.notify_one();
  s.thread.join();
  // A pipe or a character device cannot be synced, and need not be.
  if (fsync(s.fd) != 0 && errno != EINVAL && errno != EROFS) s.fail_errno(errno, "sync");
  if (close(s.fd) != 0) s.fail_errno(errno, "close");
  s.fd = -1;
  finish_status_ = status();
  return finish_status_;
}

}  // namespace hytrace::tracefile
