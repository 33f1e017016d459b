#include "tracer/audit/profile_paths.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <optional>

#include "syscalls/catalogue.hpp"
#include "tracer/audit/rules.hpp"

namespace hytrace::audit {
namespace {

using tracefile::ExecEvent;
using tracefile::ProcessEvent;
using tracefile::SyscallEvent;

constexpr std::pair<PathAccess, const char*> kAccessNames[] = {
    {kAccessRead, "read"},     {kAccessWrite, "write"},   {kAccessExec, "exec"},        {kAccessCreate, "create"},
    {kAccessUnlink, "unlink"}, {kAccessRename, "rename"}, {kAccessTruncate, "truncate"},
};

std::string parent_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

// Rights on a directory's entries, not on a file: Landlock grants them on
// the directory (a new or removed name is not the same from run to run).
constexpr uint32_t kEntryAccess = kAccessCreate | kAccessUnlink | kAccessRename;
// Rights on a file's contents that a program mostly uses on files it makes
// anew each run (outputs, logs, temporary files): a Landlock rule holds an
// inode, so a rule on the file would not cover its next incarnation.
constexpr uint32_t kWriteAccess = kAccessWrite | kAccessTruncate;

// A lookup that failed because the name was not there: the program looked,
// and next time it looks again (allowed, it gets the same answer).
bool not_there(int64_t result) { return result == -ENOENT || result == -ENOTDIR; }

// The nearest directory at or above `path` that exists now: Landlock needs
// the directory to exist when the ruleset is made (a build's output
// directory may be gone by the time the profile is written).
std::string existing(std::string path) {
  struct stat st {};
  while (path != "/" && stat(path.c_str(), &st) != 0) path = parent_of(path);
  return path;
}

// A device, FIFO or socket: opened for writing where it is, never made anew.
bool is_special(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
}

// The string the call passed at `addr`, as the recorder kept it.
std::optional<std::string> string_at(const SyscallEvent& e, uint64_t addr) {
  for (const tracefile::MemoryRange& r : e.reads) {
    if (r.addr != addr) continue;
    const size_t nul = r.bytes.find('\0');
    // Cut short, or longer than the kernel takes: not a path.
    if (nul == std::string::npos || nul >= PATH_MAX) return std::nullopt;
    return r.bytes.substr(0, nul);
  }
  return std::nullopt;
}


}  // namespace

PathProfile::Task& PathProfile::task(int32_t tid) {
  Task& t = tasks_[tid];
  if (!t.cwd) t.cwd = std::make_shared<std::string>();
  if (!t.files) t.files = std::make_shared<Files>();
  return t;
}

std::optional<std::string> PathProfile::absolute(const Task& t, int64_t dirfd, const std::string& path) const {
  std::string joined;
  if (!path.empty() && path[0] == '/') {
    joined = path;
  } else {
    std::string base;
    if (static_cast<int>(dirfd) == AT_FDCWD) {
      base = *t.cwd;
    } else if (const auto it = t.files->dirs.find(dirfd); it != t.files->dirs.end()) {
      base = it->second;
    }
    if (base.empty()) return std::nullopt;
    joined = path.empty() ? base : base + "/" + path;
  }
  if (joined.size() >= PATH_MAX) return std::nullopt;  // the kernel's ENAMETOOLONG: nothing opened
  return normalized_path(joined);
}

void PathProfile::note(const std::string& path, uint32_t access) { accessed_[path] |= access; }

void PathProfile::add(const tracefile::Event& event) {
  if (const auto* e = std::get_if<SyscallEvent>(&event)) return syscall(*e);
  if (const auto* x = std::get_if<ExecEvent>(&event)) {
    if (x->former_tid != x->tid) {
      auto node = tasks_.extract(x->former_tid);
      tasks_.erase(x->tid);
      if (!node.empty()) {
        node.key() = x->tid;
        tasks_.insert(std::move(node));
      }
    }
    Task& t = task(x->tid);
    *t.cwd = x->cwd.size() < PATH_MAX ? normalized_path(x->cwd).value_or("") : "";
    // The program and its interpreter, opened by the kernel itself.
    for (const tracefile::MappedFile& f : x->files) {
      if (f.path.size() < PATH_MAX) {
        if (const auto p = normalized_path(f.path)) note(*p, kAccessRead | kAccessExec);
      }
    }
    if (x->path.size() < PATH_MAX) {
      if (const auto p = normalized_path(x->path)) note(*p, kAccessRead | kAccessExec);
    }
    return;
  }
  if (const auto* p = std::get_if<ProcessEvent>(&event)) {
    if (p->kind == ProcessEvent::Kind::kExit) {
      tasks_.erase(p->tid);
      return;
    }
    const Task parent = task(p->tid);
    Task& child = tasks_[p->child];
    child.cwd = (p->flags & CLONE_FS) ? parent.cwd : std::make_shared<std::string>(*parent.cwd);
    child.files = (p->flags & CLONE_FILES) ? parent.files : std::make_shared<Files>(*parent.files);
  }
}

void PathProfile::syscall(const SyscallEvent& e) {
  if (e.abi != syscalls::Abi::kX86_64 || e.exit_seq == 0 || (e.result < 0 && !not_there(e.result))) return;
  if (e.result < 0) return note_accesses(e);  // descriptors and cwd unchanged
  Task& t = task(e.tid);
  auto& dirs = t.files->dirs;
  switch (e.nr) {
    case SYS_chdir: {
      const auto p = string_at(e, e.args[0]);
      *t.cwd = p ? absolute(t, AT_FDCWD, *p).value_or("") : "";
      return;
    }
    case SYS_fchdir: {
      const auto it = dirs.find(static_cast<int64_t>(e.args[0]));
      *t.cwd = it != dirs.end() ? it->second : "";
      return;
    }
    case SYS_close: dirs.erase(static_cast<int64_t>(e.args[0])); return;
    case SYS_dup:
    case SYS_dup2:
    case SYS_dup3:
    case SYS_fcntl: {
      if (e.nr == SYS_fcntl && e.args[1] != F_DUPFD && e.args[1] != F_DUPFD_CLOEXEC) return;
      const auto it = dirs.find(static_cast<int64_t>(e.args[0]));
      if (it != dirs.end()) {
        dirs[e.result] = it->second;
      } else {
        dirs.erase(e.result);
      }
      return;
    }
    default: break;
  }
  note_accesses(e);
}

void PathProfile::note_accesses(const SyscallEvent& e) {
  Task& t = task(e.tid);
  auto& dirs = t.files->dirs;
  const syscalls::SyscallInfo* info = syscalls::lookup(e.nr);
  if (!info) return;
  const auto path_arg = [&](int i) { return string_at(e, e.args[static_cast<size_t>(i)]); };
  std::optional<uint64_t> how_flags;
  for (const tracefile::MemoryRange& r : e.reads) {
    if (e.nr == SYS_openat2 && r.addr == e.args[2] && r.bytes.size() >= sizeof(uint64_t)) {
      std::memcpy(&how_flags.emplace(), r.bytes.data(), sizeof(uint64_t));
    }
  }
  const auto accesses = path_accesses(e.nr, std::span<const uint64_t, 6>(e.args.data(), 6), how_flags);
  size_t n = 0;
  std::optional<std::string> opened;
  for (int i = 0; i < info->nargs && i < 6; ++i) {
    if (info->args[i] != syscalls::ArgKind::kPath) continue;
    const size_t index = n++;
    const auto raw = path_arg(i);
    const bool has_dirfd = i > 0 && info->args[i - 1] == syscalls::ArgKind::kDirFd;
    const int64_t dirfd = has_dirfd ? static_cast<int>(e.args[static_cast<size_t>(i - 1)]) : AT_FDCWD;
    const auto path = raw ? absolute(t, dirfd, *raw) : std::nullopt;
    if (index == 0) opened = path;
    if (index >= accesses.size() || accesses[index] == 0) continue;
    if (!path) {
      ++unplaced_;
      continue;
    }
    note(*path, accesses[index]);
  }
  const bool opens = e.nr == SYS_open || e.nr == SYS_openat || e.nr == SYS_openat2 || e.nr == SYS_creat;
  if (opens && e.result >= 0) {
    // Only O_EXCL says the file is new (mkstemp's way): its name may differ
    // next time. A plain O_CREAT mostly opens what is there (`> file`).
    const uint64_t flags = e.nr == SYS_open ? e.args[1] : e.nr == SYS_openat ? e.args[2] : how_flags.value_or(0);
    if (opened && (flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL)) created_.insert(*opened);
    if (opened) {
      dirs[e.result] = *opened;
    } else {
      dirs.erase(e.result);
    }
  }
}

nlohmann::ordered_json PathProfile::rules() const {
  // Where each access is allowed: a file's own path, its directory for the
  // rights on entries and for the files the program made.
  std::map<std::string, uint32_t> allowed;
  for (const auto& [path, access] : accessed_) {
    const bool made = created_.count(path) != 0;
    const bool special = !made && is_special(path);
    const uint32_t in_dir_rights = made ? ~0u : special ? kEntryAccess : kEntryAccess | kWriteAccess;
    const uint32_t own = access & ~in_dir_rights;
    // An O_CREAT open of a device made nothing (`> /dev/null`).
    const uint32_t in_dir = access & in_dir_rights & (special ? ~uint32_t{kAccessCreate} : ~0u);
    if (own) allowed[path] |= own;  // a name looked up in vain stays as it is: the kernel says ENOENT again
    if (in_dir) {
      // Never widened to everything: a directory under / that is gone stays.
      const std::string dir = parent_of(path);
      const std::string there = existing(dir);
      allowed[there == "/" ? dir : there] |= in_dir;
    }
  }
  // A directory with many entries allowed the same way is allowed as a whole.
  for (bool changed = true; changed;) {
    changed = false;
    std::map<std::pair<std::string, uint32_t>, std::vector<std::string>> siblings;
    for (const auto& [path, access] : allowed) {
      if (path != "/") siblings[{parent_of(path), access}].push_back(path);
    }
    for (const auto& [key, paths] : siblings) {
      if (paths.size() <= kMostEntries) continue;
      for (const std::string& p : paths) allowed.erase(p);
      allowed[key.first] |= key.second;
      changed = true;
    }
  }
  // What its ancestors allow already needs no rule of its own (looked up
  // by ancestor: a trace of a million paths must not take a million
  // squared steps).
  for (auto it = allowed.begin(); it != allowed.end();) {
    uint32_t above = 0;
    for (std::string dir = it->first; dir != "/";) {
      dir = parent_of(dir);
      if (const auto a = allowed.find(dir); a != allowed.end()) above |= a->second;
    }
    it = (it->second & ~above) == 0 ? allowed.erase(it) : std::next(it);
  }
  const auto names = [](uint32_t access) {
    std::vector<std::string> out;
    for (const auto& [bit, name] : kAccessNames) {
      if (access & bit) out.emplace_back(name);
    }
    return out;
  };
  auto out = nlohmann::ordered_json::array();
  for (const auto& [path, access] : allowed) {
    out.push_back({{"action", "allow"}, {"access", names(access)}, {"prefix", path}});
  }
  uint32_t every = 0;
  for (const auto& [bit, name] : kAccessNames) every |= bit;
  out.push_back({{"action", "deny"},
                 {"access", names(every)},
                 {"prefix", "/"},
                 {"comment", "everything the recording did not do"}});
  return out;
}

}  // namespace hytrace::audit
