// `hytrace trace`: strace-style live view. A Handler over engine events.
#pragma once

#include <optional>
#include <map>
#include <vector>

#include "syscalls/decode.hpp"
#include "syscalls/format.hpp"
#include "tracer/event.hpp"
#include "tracer/output.hpp"
#include "tracer/summary.hpp"
#include "tracer/syscall_set.hpp"

namespace hytrace::tracer {

struct TraceOptions {
  SyscallSet set;
  bool json = false;
  bool summary = false;  // -c: a table at the end instead of lines
  syscalls::FormatOptions format;
};

class TraceMode final : public Handler {
 public:
  TraceMode(Output& out, TraceOptions options, size_t initial_tasks);

  void on_syscall_enter(Task& task, SyscallFrame& frame) override;
  void on_syscall_exit(Task& task, const SyscallFrame& frame, long result) override;
  void on_signal(Task& task, SignalDelivery& delivery) override;
  void on_group_stop(const GroupStop& stop) override;
  void on_task_start(const TaskStart& start) override;
  void on_exec(const Exec& exec) override;
  void on_task_exit(const TaskExit& exit) override;
  void on_finish() override;

 private:
  struct Pending {
    pid_t tid = 0;
    SyscallFrame frame;  // as at entry
    syscalls::RenderedCall call;
    syscalls::Decoded decoded;  // with --json: the typed fields
  };
  // Shows a call that returned `result`, or never will (nullopt).
  void finish(Task& task, Pending& p, const SyscallFrame& frame, std::optional<long> result);
  std::string prefix(pid_t tid) const;
  void close_open_line();
  void write_event(pid_t tid, const std::string& text);

  Output& out_;
  TraceOptions options_;
  size_t live_tasks_;
  Pending& add_pending(uint64_t seq);
  void remove_pending(std::map<uint64_t, Pending>::iterator it);

  std::map<uint64_t, Pending> pending_;  // by the call's seq
  // The last erased entry, reused by the next call (most calls are shown
  // one at a time): its allocation and its strings' memory are kept.
  std::map<uint64_t, Pending>::node_type spare_pending_;
  std::string line_;  // the text of one write, its memory kept for the next
  uint64_t open_line_ = 0;  // seq of the call whose entry text ends the output, unfinished
  Summary summary_;
  std::vector<std::string> killed_;  // -c: "+++ killed by ..." lines for the end
};

}  // namespace hytrace::tracer
