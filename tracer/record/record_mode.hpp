// `hytrace record`: turns the engine's events into trace-file events. Every
// syscall gets its entry and exit places in the engine's one clock, its
// result, and every byte the kernel wrote into the program as effects.tbl
// describes it (read from the stopped task, or as the stub copied it for a
// call it served); signals, clones, execs and exits get theirs. The mode
// only appends to the writer: compression and I/O are on its own thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "syscalls/effects.hpp"
#include "tracer/event.hpp"
#include "tracer/record/exec_facts.hpp"
#include "tracer/tracefile/writer.hpp"

namespace hytrace::tracer {

struct RecordOptions {
  bool hide_vdso = true;        // AT_SYSINFO_EHDR -> AT_IGNORE at each exec
  bool allow_io_uring = false;  // else io_uring_setup fails with ENOSYS
};

// What a recording counted, for the end-of-run line and stats.
struct RecordCounts {
  uint64_t syscalls = 0;
  uint64_t served_by_stub = 0;
  uint64_t unreplayable = 0;
  uint64_t signals = 0;
  uint64_t instructions = 0;  // rdtsc, rdtscp and cpuid values
};

class RecordMode final : public Handler {
 public:
  // `stop` ends the run (the engine's stop): called once when the trace
  // cannot be written any more, so the program never runs unrecorded.
  RecordMode(tracefile::TraceWriter& writer, RecordOptions options, std::function<void()> stop);

  void on_syscall_enter(Task& task, SyscallFrame& frame) override;
  void on_syscall_exit(Task& task, const SyscallFrame& frame, long result) override;
  void on_signal(Task& task, SignalDelivery& delivery) override;
  void on_task_start(const TaskStart& start) override;
  void on_exec(const Exec& exec) override;
  void on_task_exit(const TaskExit& exit) override;
  void on_instruction(InstructionTrap& trap) override;
  void on_injected(const Injected& injected) override;

  // The last event: how the root ended.
  void end(pid_t root);
  const RecordCounts& counts() const { return counts_; }

 private:
  struct Pending {
    pid_t tid = 0;
    SyscallFrame frame;  // as at entry
    std::optional<syscalls::Effects> effects;  // stopped calls: read at entry
    bool modelled = false;  // exec, sigreturn, a refused call: no effects needed
    std::vector<tracefile::MemoryRange> reads;
    std::string unreplayable;
  };
  // The syscall as a trace event; `result` nullopt for one that never returned.
  void append_syscall(Pending& p, const SyscallFrame& frame, std::optional<long> result);
  void read_writes(pid_t tid, const Pending& p, long result, tracefile::SyscallEvent& out);
  void append(const tracefile::Event& event);
  static std::optional<uint64_t> child_tid_address(const Task& parent);
  void check_writer();
  static constexpr uint64_t kCheckEvery = 64;
  static constexpr std::chrono::milliseconds kFlushAfter{1000};

  tracefile::TraceWriter& writer_;
  RecordOptions options_;
  std::function<void()> stop_;
  bool stopped_ = false;
  uint64_t appended_ = 0;
  std::chrono::steady_clock::time_point last_flush_;
  ExecFacts exec_facts_;
  Pending* find_pending(uint64_t seq);
  Pending& add_pending();
  void remove_pending(Pending& p);
  std::vector<Pending> pending_;  // calls in progress in [0, live_); spare slots after
  size_t live_ = 0;
  struct LastExit {
    uint64_t seq = 0;
    uint64_t ip = 0;
    long result = 0;
  };
  std::map<pid_t, LastExit> last_exit_;  // per task: where a signal at that exit is
  std::map<pid_t, int> wait_statuses_;  // of the processes that ended
  uint64_t last_seq_ = 0;
  RecordCounts counts_;
  // Refilled per call: its vectors keep their memory, and being an Event
  // already, appending it copies nothing (a SyscallEvent would be copied
  // into a temporary Event, every range with it).
  tracefile::Event scratch_{std::in_place_type<tracefile::SyscallEvent>};
};

}  // namespace hytrace::tracer
