#include "tracer/record/exec_facts.hpp"

#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/user.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <set>
#include <vector>

#include "tracer/proc_maps.hpp"
#include "tracer/remote_memory.hpp"
#include "tracer/tracefile/format.hpp"

namespace hytrace::tracer {
namespace {

std::string proc_path(pid_t tid, const char* what) {
  return "/proc/" + std::to_string(tid) + "/" + what;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string read_link(const std::string& path) {
  std::string target(4096, '\0');
  const ssize_t n = readlink(path.c_str(), target.data(), target.size());
  if (n < 0) return {};
  target.resize(static_cast<size_t>(n));
  return target;
}

// "a\0b\0" -> {"a", "b"}.
std::vector<std::string> split_nul(const std::string& bytes) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < bytes.size()) {
    size_t end = bytes.find('\0', start);
    if (end == std::string::npos) end = bytes.size();
    out.push_back(bytes.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::vector<std::pair<uint64_t, uint64_t>> read_auxv(pid_t tid) {
  const std::string bytes = read_file(proc_path(tid, "auxv"));
  std::vector<std::pair<uint64_t, uint64_t>> out;
  for (size_t at = 0; at + 16 <= bytes.size(); at += 16) {
    uint64_t pair[2];
    bytes.copy(reinterpret_cast<char*>(pair), 16, at);
    if (pair[0] == AT_NULL) break;
    out.emplace_back(pair[0], pair[1]);
  }
  return out;
}

// The XXH64 of a file's content, read through a mapping; 0 when it cannot
// be read.
uint64_t hash_file(int fd, uint64_t size) {
  if (size == 0) return tracefile::hash64({});
  void* map = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (map == MAP_FAILED) return 0;
  const uint64_t hash = tracefile::hash64({static_cast<const uint8_t*>(map), size});
  munmap(map, size);
  return hash;
}

}  // namespace

tracefile::MappedFile ExecFacts::describe(const std::string& path) {
  tracefile::MappedFile file;
  file.path = path;
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return file;
  struct stat st {};
  if (fstat(fd, &st) == 0) {
    file.size = static_cast<uint64_t>(st.st_size);
    file.mtime_ns = int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
    const FileKey key{st.st_dev, st.st_ino, file.mtime_ns, file.size};
    auto it = hashes_.find(key);
    if (it == hashes_.end()) it = hashes_.emplace(key, hash_file(fd, file.size)).first;
    file.content_hash = it->second;
  }
  close(fd);
  return file;
}

void ExecFacts::read(pid_t tid, tracefile::ExecEvent& out) {
  out.tid = tid;
  out.path = read_link(proc_path(tid, "exe"));
  out.argv = split_nul(read_file(proc_path(tid, "cmdline")));
  out.envp = split_nul(read_file(proc_path(tid, "environ")));
  out.cwd = read_link(proc_path(tid, "cwd"));
  out.auxv = read_auxv(tid);
  RemoteMemory memory(tid);
  for (const auto& [type, value] : out.auxv) {
    if (type == AT_RANDOM) memory.read(value, out.at_random.data(), out.at_random.size());
  }
  std::set<std::string> seen;
  for (const Mapping& m : read_maps(tid)) {
    if (!m.executable || m.path.empty() || m.path[0] != '/' || !seen.insert(m.path).second) continue;
    out.files.push_back(describe(m.path));
  }
  if (seen.insert(out.path).second && !out.path.empty()) out.files.push_back(describe(out.path));
}

// The stack at exec: argc, argv[] and NULL, envp[] and NULL, then the
// (type, value) pairs of the auxiliary vector up to AT_NULL.
bool ExecFacts::hide_vdso(pid_t tid) {
  user_regs_struct regs{};
  if (ptrace(PTRACE_GETREGS, tid, nullptr, &regs) != 0) return false;
  RemoteMemory memory(tid);
  constexpr size_t kMostWords = 1 << 17;  // 1 MiB of pointers: far more than the kernel's limit
  uint64_t at = regs.rsp;
  auto word = [&](uint64_t& value) {
    const bool ok = memory.read(at, &value, sizeof value) == sizeof value;
    at += sizeof value;
    return ok;
  };
  uint64_t value = 0;
  if (!word(value)) return false;  // argc
  for (int nulls = 0; nulls < 2;) {  // argv, then envp
    if (!word(value) || (at - regs.rsp) / 8 > kMostWords) return false;
    nulls += value == 0;
  }
  for (size_t pairs = 0; pairs < 64; ++pairs) {
    const uint64_t type_at = at;
    uint64_t type = 0;
    if (!word(type) || !word(value) || type == AT_NULL) return false;
    if (type == AT_SYSINFO_EHDR) {
      const uint64_t ignore = AT_IGNORE;
      return memory.write(type_at, &ignore, sizeof ignore);
    }
  }
  return false;
}

}  // namespace hytrace::tracer
