// `hytrace profile --paths`: the path rules of a recording. Follows each
// task's cwd (exec, chdir, inherited at fork, shared with CLONE_FS) and the
// directories behind its descriptors (opens, dups, closes), so that every
// path a successful call named can be made absolute; collects what each
// call did to each path (audit::path_accesses); and writes the rules that
// allow exactly that, followed by a deny of everything else, the shape
// Landlock enforces in the kernel (docs/guide/profile.md).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tracer/tracefile/events.hpp"

namespace hytrace::audit {

class PathProfile {
 public:
  // In the recording's order.
  void add(const tracefile::Event& event);
  // The "paths" array of the hytrace section.
  nlohmann::ordered_json rules() const;
  // Accesses left out because their path could not be placed (relative to
  // a descriptor or a cwd the recording does not show): for a note.
  uint64_t unplaced() const { return unplaced_; }

  // A directory with more entries than this under one set of accesses is
  // allowed as a whole.
  static constexpr size_t kMostEntries = 8;

 private:
  struct Files {
    std::map<int64_t, std::string> dirs;  // descriptor -> the path it was opened by
  };
  struct Task {
    std::shared_ptr<std::string> cwd;  // shared by CLONE_FS; "" when unknown
    std::shared_ptr<Files> files;      // shared by CLONE_FILES
  };
  Task& task(int32_t tid);
  void syscall(const tracefile::SyscallEvent& e);
  void note_accesses(const tracefile::SyscallEvent& e);
  std::optional<std::string> absolute(const Task& t, int64_t dirfd, const std::string& path) const;
  void note(const std::string& path, uint32_t access);

  std::map<int32_t, Task> tasks_;
  std::map<std::string, uint32_t> accessed_;  // normalised path -> PathAccess bits
  std::set<std::string> created_;             // made new (O_EXCL): its name may differ next time
  uint64_t unplaced_ = 0;
};

}  // namespace hytrace::audit
