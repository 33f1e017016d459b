// Files that are not whole traces, each with its own clear error, and a
// writer that cannot write.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/unit/tracefile/helpers.hpp"
#include "tracer/tracefile/bytes.hpp"

namespace hytrace::tracefile::testing {
namespace {

// The reader's first error for `bytes`, "" when none.
std::string error_of(const std::vector<uint8_t>& bytes) {
  TraceReader reader = TraceReader::from_bytes(bytes);
  read_all(reader);
  return reader.error() ? reader.error()->message : "";
}

std::vector<uint8_t> sample_file() {
  ScratchDir dir;
  const std::string path = dir.file("t.hyt");
  write_trace(path, sample_events());
  return read_file(path);
}

TEST(TraceErrors, EmptyFile) {
  EXPECT_EQ(error_of({}), "empty file");
}

TEST(TraceErrors, MissingFileAndDirectory) {
  ScratchDir dir;
  TraceReader missing = TraceReader::open(dir.file("none.hyt"));
  ASSERT_NE(missing.error(), nullptr);
  EXPECT_EQ(missing.error()->message, "No such file or directory");
  EXPECT_FALSE(missing.next());
  TraceReader directory = TraceReader::open(dir.file(""));
  ASSERT_NE(directory.error(), nullptr);
  EXPECT_EQ(directory.error()->message, "Is a directory");
  const std::string fifo = dir.file("fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  TraceReader pipe_reader = TraceReader::open(fifo);  // must not wait for a writer
  ASSERT_NE(pipe_reader.error(), nullptr);
  EXPECT_EQ(pipe_reader.error()->message, "not a regular file");
}

TEST(TraceErrors, NotATrace) {
  const std::string text = "#!/bin/sh\necho hello\n";
  EXPECT_EQ(error_of({text.begin(), text.end()}), "not a hytrace trace");
  EXPECT_EQ(error_of({0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0}), "not a hytrace trace");
  EXPECT_EQ(error_of({'X'}), "not a hytrace trace");
}

TEST(TraceErrors, TruncatedHeaderAtEveryLength) {
  const std::vector<uint8_t> file = sample_file();
  const size_t header = kFileHeaderSize + detail::load_le<uint32_t>(&file[16]);
  for (size_t n = 1; n < header; ++n) {
    const std::string error = error_of({file.begin(), file.begin() + n});
    EXPECT_EQ(error.rfind("truncated header (" + std::to_string(n) + " of ", 0), 0u) << n << ": " << error;
  }
  // The header alone is a trace with no events, cut short.
  TraceReader reader = TraceReader::from_bytes(std::span(file).first(header));
  EXPECT_FALSE(reader.next());
  EXPECT_EQ(reader.error(), nullptr);
  EXPECT_NE(reader.cut_short().find("no end event"), std::string::npos);
}

TEST(TraceErrors, AnotherFormatVersion) {
  std::vector<uint8_t> file = sample_file();
  detail::store_le(&file[8], uint32_t{2});
  EXPECT_EQ(error_of(file), "trace format version 2; this hytrace reads version 1");
}

TEST(TraceErrors, HeaderChecksumAndJson) {
  std::vector<uint8_t> file = sample_file();
  file[kFileHeaderSize + 3] ^= 1;
  EXPECT_EQ(error_of(file), "header at offset 24: checksum mismatch");

  // A header whose checksum is right but whose JSON is not an object.
  std::vector<uint8_t> h(kFileHeaderSize);
  std::copy(kFileMagic.begin(), kFileMagic.end(), h.begin());
  detail::store_le(&h[8], kFormatVersion);
  detail::store_le(&h[16], uint32_t{3});
  const std::vector<uint8_t> json = {'[', '1', ']'};
  detail::store_le(&h[24], hash64(std::span(h).first(24), json));
  h.insert(h.end(), json.begin(), json.end());
  EXPECT_EQ(error_of(h), "header at offset 32: JSON not a JSON object");

  detail::store_le(&h[16], kMaxHeaderJson + 1);
  EXPECT_EQ(error_of(h).rfind("header at offset 16: JSON length", 0), 0u);
}

TEST(TraceErrors, GarbageAfterTheLastChunk) {
  std::vector<uint8_t> file = sample_file();
  const size_t end = file.size();
  file.insert(file.end(), {'j', 'u', 'n', 'k'});
  EXPECT_EQ(error_of(file), "chunk at offset " + std::to_string(end) + ": not a chunk (bad magic)");
}

TEST(TraceErrors, ChunkFieldsAreBounded) {
  const std::vector<uint8_t> file = sample_file();
  const size_t at = kFileHeaderSize + detail::load_le<uint32_t>(&file[16]);
  // Rewrites a field of the chunk header and its header_check, so that the
  // field itself is what the reader must refuse.
  auto with = [&](size_t field, uint64_t value, size_t size) {
    std::vector<uint8_t> bytes = file;
    if (size == 4) detail::store_le(&bytes[at + field], static_cast<uint32_t>(value));
    if (size == 8) detail::store_le(&bytes[at + field], value);
    std::span<const uint8_t, kChunkHeaderSize> h(&bytes[at], kChunkHeaderSize);
    detail::store_le(&bytes[at + 36], header_check_of(h));
    return error_of(bytes);
  };
  const std::string prefix = "chunk at offset " + std::to_string(at) + ": ";
  EXPECT_EQ(with(4, 6, 4), prefix + "unknown flags 0x6");
  EXPECT_EQ(with(8, kMaxChunkBytes + 1, 4), prefix + "a length over the limit of 67108864 bytes");
  EXPECT_EQ(with(12, kMaxChunkBytes + 1, 4), prefix + "a length over the limit of 67108864 bytes");
  EXPECT_EQ(with(32, 0, 4), prefix + "holds no events");
  EXPECT_EQ(with(32, 1u << 30, 4), prefix + "1073741824 events cannot fit in " +
                                       std::to_string(detail::load_le<uint32_t>(&file[at + 12])) + " bytes");
  EXPECT_EQ(with(16, 1000, 8), prefix + "its sequence range 1000..28 is reversed");
  // A payload longer than the file: the rest of it was never written.
  EXPECT_EQ(with(8, file.size(), 4), "");
  // The checksum covers the header: a header_check recomputed after a change
  // still leaves the checksum wrong.
  EXPECT_EQ(with(24, 27, 8), prefix + "checksum mismatch");
}

TEST(TraceErrors, AnExistingFileIsNeverOverwritten) {
  ScratchDir dir;
  const std::string path = dir.file("t.hyt");
  write_file(path, std::vector<uint8_t>{'k', 'e', 'e', 'p'});
  EXPECT_THROW(TraceWriter(path, sample_info()), std::system_error);
  EXPECT_EQ(read_file(path), (std::vector<uint8_t>{'k', 'e', 'e', 'p'}));
}

TEST(TraceErrors, AFullDiskIsOneClearError) {
  const int fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  TraceWriter writer(fd, "trace '/dev/full'", sample_info(), TraceWriter::Options{});
  EXPECT_EQ(writer.status(), "cannot write trace '/dev/full' at offset 0: No space left on device");
  for (const Event& e : sample_events()) writer.append(e);
  EXPECT_EQ(writer.finish(), "cannot write trace '/dev/full' at offset 0: No space left on device");
}

// RLIMIT_FSIZE in a child: the header and some chunks fit, a later chunk
// does not. The error names the offset, and the file holds whole chunks.
TEST(TraceErrors, AFileSizeLimitStopsTheTraceCleanly) {
  ScratchDir dir;
  const std::string path = dir.file("t.hyt");
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit limit = {64 * 1024, 64 * 1024};
    setrlimit(RLIMIT_FSIZE, &limit);
    TraceWriter writer(path, sample_info(), {.chunk_bytes = 4096, .level = 1});
    uint64_t seq = 1;
    std::string random(4096, '\0');  // incompressible: the file grows fast
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < 64; ++i, seq += 2) {
      for (char& c : random) x ^= x << 13, x ^= x >> 7, x ^= x << 17, c = static_cast<char>(x);
      SyscallEvent e = call_event(seq, 1, SYS_getrandom, {0x1000, 4096, 0, 0, 0, 0}, 4096);
      e.writes = {{0x1000, random}};
      writer.append(e);
    }
    const std::string status = writer.finish();
    const bool ok = status.rfind("cannot write trace '" + path + "' at offset ", 0) == 0 &&
                    status.find(": File too large") != std::string::npos;
    if (!ok) fprintf(stderr, "status: %s\n", status.c_str());
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  TraceReader reader = TraceReader::open(path);
  const std::vector<Event> events = read_all(reader);
  EXPECT_EQ(reader.error(), nullptr) << reader.error()->message;
  EXPECT_GT(events.size(), 5u);
  EXPECT_LT(events.size(), 64u);
  EXPECT_EQ(reader.trailing_bytes(), 0u);  // the half-written chunk was cut off again
}

// SIGKILL while writing: what was written before reads back whole.
TEST(TraceErrors, AWriterKilledMidRunLeavesAReadablePrefix) {
  for (int round = 0; round < 5; ++round) {
    ScratchDir dir;
    const std::string path = dir.file("t.hyt");
    int ready[2];
    ASSERT_EQ(pipe(ready), 0);
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      close(ready[0]);
      TraceWriter writer(path, sample_info(), {.chunk_bytes = 2048, .level = 1});
      uint64_t seq = 1;
      for (uint64_t i = 0;; ++i, seq += 2) {
        SyscallEvent e = call_event(seq, 1, 0, {3, 0x6000, 64, 0, 0, 0}, 64);
        e.writes = {{0x6000, std::string(64, static_cast<char>(i))}};
        writer.append(e);
        if (i == 1000) {
          writer.flush();
          writer.wait_written();
          (void)!write(ready[1], "x", 1);  // 1001 events are in the file
        }
      }
    }
    close(ready[1]);
    char c;
    ASSERT_EQ(read(ready[0], &c, 1), 1);
    usleep(1000 * round);
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    close(ready[0]);
    TraceReader reader = TraceReader::open(path);
    const std::vector<Event> events = read_all(reader);
    ASSERT_EQ(reader.error(), nullptr) << reader.error()->message;
    EXPECT_GE(events.size(), 1001u);
    for (size_t i = 0; i < events.size(); ++i) {
      ASSERT_EQ(std::get<SyscallEvent>(events[i]).entry_seq, 1 + 2 * i);
    }
  }
}

}  // namespace
}  // namespace hytrace::tracefile::testing
