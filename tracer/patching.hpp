// Syscall-site patching, the tracer's side: maps the gate (the stub) and an
// event buffer into each traced program after exec, decides which sites to
// patch, writes trampolines and windows when the patcher's rules allow, and
// drains the events the stub recorded. See docs/design/patching.md.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <utility>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "disasm/window.hpp"
#include "patcher/buffer_reader.hpp"
#include "patcher/sites.hpp"
#include "tracer/proc_maps.hpp"
#include "tracer/task.hpp"

namespace hytrace::tracer {

struct FileCode;
class Injector;

// One event the stub recorded.
struct BufferedEvent {
  uint64_t order = 0;  // the record's own sequence number
  pid_t tid = 0;
  bool exit = false;
  SyscallFrame frame;  // seq is the entry's seq for both halves
  long result = 0;
};

// A syscall the patcher ran in a program of its own accord, for the modes
// that keep them (record: a replay makes them too, so descriptors and the
// memory layout come out the same).
struct InjectedCall {
  pid_t tid = 0;
  syscalls::Call call;
  long result = 0;
  const char* purpose = "";  // "gate", "event buffer", "sequence counter", "stub page", or ""
};

// What the patcher keeps per address space.
struct SpacePatch {
  ~SpacePatch();
  std::string problem;  // why the gate could not be set up ("" when it is)
  // Why no more sites are patched in this space ("" while they are); those
  // patched already stay.
  std::string no_more_patches;
  bool gate_tried = false;
  bool needs_buffer = false;  // a fork child: the gate is there, the buffer is the parent's
  // hytrace's buffer and sequence counter were mapped at their fixed
  // addresses in this space (or its parent's): mapping there again
  // replaces hytrace's own pages.
  bool owns_data_range = false;
  bool ready = false;
  pid_t pid = 0;       // the process, for messages
  pid_t last_tid = 0;  // a task of the space seen alive last, to write its memory
  uint8_t* buffer = nullptr;  // the tracer's mapping of the event buffer
  size_t buffer_size = 0;
  // The next record to drain, and the calls drained at entry, still running.
  patcher::ReadPosition read;
  uint64_t min_seq = 0;  // the sequence counter when the buffer was made
  // The stubs' tail: the bytes before it are read and cleared.
  uint64_t released = 0;
  // A read stalled at one position: where, and how many stops to let pass
  // before looking whether a task is still writing the record there.
  uint64_t stalled_at = ~0ull;
  uint32_t stall_wait = 0;
  uint32_t stall_waited = 0;
  // Why the buffer is no longer believed ("" while it is): the program wrote
  // there what no stub writes. Its calls are then traced by ptrace.
  std::string distrusted;
  bool stub_still_serving = false;  // distrusted, but the gate's magic not cleared yet
  patcher::SiteTable sites;
  std::map<uint64_t, unsigned> stops_at;  // sites outside files: how often they stopped
  std::vector<Mapping> maps;  // as last read; read again when an address is not in it
  std::map<uint64_t, disasm::Window> windows;  // by site, at run-time addresses
  std::map<uint64_t, std::string> objects;     // by site: "libc.so.6+0x1234"
  struct StubPage {
    uint64_t address = 0;
    uint64_t size = 0;
    uint64_t used = 0;
  };
  std::vector<StubPage> stub_pages;
  uint64_t served_by_stub = 0;
};

// What the patcher's safety rule needs of a task in a ptrace stop; nullopt
// when the task is gone.
std::optional<patcher::TaskSnapshot> snapshot_of_stopped(const Task& task);
// The same for a task resumed into a traced syscall: it is in the kernel,
// and stops at the syscall's exit before it runs an instruction of its own.
patcher::TaskSnapshot snapshot_of_parked(const Task& task);

// Brings every task of the stopped task's address space into a ptrace stop
// (or proves it cannot run its code before one) and describes each; nullopt
// when that cannot be done now. The engine's job: it lets them go again
// once the patcher's call has returned.
using StopSpace = std::function<std::optional<std::vector<patcher::TaskSnapshot>>()>;

class Patching {
 public:
  // What the stub copies of a call's memory: what trace shows of it
  // (syscalls::memory_args), or every byte the kernel writes, for record
  // (syscalls::recorded_args).
  enum class Captures { kShown, kRecorded };
  // `traced`: the syscalls the filter sends to the tracer; the stub serves
  // those whose memory it can capture as `captures` asks.
  // `timed`: the stub measures each call (for -c's times).
  Patching(const std::vector<bool>& traced, size_t string_limit, bool timed = false,
           Captures captures = Captures::kShown);
  ~Patching();
  // Only window patches (the tests of their deferral): no two-byte ones.
  void windows_only() { two_byte_ = false; }
  Patching(const Patching&) = delete;
  Patching& operator=(const Patching&) = delete;

  // The instruction pointer the filter allows (after the gate's syscall).
  static uint64_t allowed_ip();
  // The next event sequence number, shared with the stubs of every tracee.
  uint64_t next_seq();
  // Whether stubs read their tid from the gs base (patcher/stub/layout.h):
  // then each task's must be tagged (tag_tid) before it runs.
  bool tid_in_gs() const;
  // Tags the stopped task's gs base with its tid, unless the program set
  // one of its own.
  void tag_tid(Task& task) const;

  // A fork child has a copy of its parent's memory: its patch state is a
  // copy too, but its gate's buffer is the parent's, so its stub records
  // nothing (every call takes the traced path) until its first syscall-exit
  // stop gives it a buffer of its own.
  void forked(const Task& parent, Task& child);
  // A traced syscall stopped at entry: when its site has proved hot, the
  // frame asks for it (frame.patch_site).
  void on_entry(Task& task, SyscallFrame& frame);
  // The frame's syscall returned to a syscall-exit stop: set up the gate the
  // first time (through the syscall instruction that stopped), analyse the
  // frame's site, and, when a waiting site may be writable, stop the space
  // and write what is safe.
  void on_exit(Task& task, const SyscallFrame& frame, long result, const StopSpace& stop_space);
  // The task left the address space (exit or exec): it blocks no site.
  void task_gone(const Task& task);
  // Appends the committed records of the space's buffer since the last
  // drain to `out`, in the order they were drained (not sorted).
  // `member` says whether a tid is a task of the space: a record naming
  // any other is forged, and the buffer is distrusted from there on.
  void drain(AddressSpace& space, std::vector<BufferedEvent>& out, const std::function<bool(pid_t)>& member);
  // True when every record the space's stubs reserved has been drained.
  bool drained(const AddressSpace& space) const;
  // Whether the reading of the space's ring has stalled far behind its
  // head (half the ring), at a record no drain has seen committed: worth
  // stopping the space to look whether a task is still writing it. Checks
  // of one stalled position back off (after 1, 3, 7 ... stops), since a
  // task seen writing then may keep it for long or for good (a signal
  // handler that interrupted a stub call and left with longjmp).
  bool stalled(AddressSpace& space);
  // With every task of the space described by `tasks` stopped: the pending
  // exits of the tasks in `left` (which cannot go back into a stub's call)
  // are dropped, and a stalled record that no task is writing is one no
  // stub wrote: the buffer is distrusted.
  void check_stalled(AddressSpace& space, const std::vector<patcher::TaskSnapshot>& tasks,
                     const std::set<pid_t>& left);
  // Nothing more is read from the space's buffer, and its calls are
  // traced from now on.
  void stop_reading(AddressSpace& space, const std::string& why);
  // No more sites of the space are patched: the signal contexts that keep
  // them unpatched are then not needed.
  void stop_patching(AddressSpace& space, const std::string& why);

  // When a signal (or death) stopped the task while the patcher was running
  // syscalls in it: the task's id and wait status, for the engine to handle
  // as an ordinary event. The task's registers are as they were.
  std::optional<std::pair<pid_t, int>> take_interruption();

  // Per site: address, object+offset, state; then the counts.
  std::string report() const;

  // Called after each syscall the patcher ran in a program (not for those a
  // signal pre-empted: they did not run).
  void on_injected(std::function<void(const InjectedCall&)> hook) { injected_ = std::move(hook); }

 private:
  void set_up(Task& task, Injector& inject, uint64_t insn);
  void give_buffer(Injector& inject, SpacePatch& patch);
  void release_read(SpacePatch& patch);
  void drop_abandoned_exits(SpacePatch& patch, const std::set<pid_t>& left);
  void analyse(Task& task, SpacePatch& patch, uint64_t site);
  void analyse_mapped(SpacePatch& patch, uint64_t site);
  bool hot(const Task& task, SpacePatch& patch, uint64_t site);
  void request_known(SpacePatch& patch);
  void distrust(SpacePatch& patch, const std::string& why);
  void stop_serving(SpacePatch& patch, pid_t tid);
  uint64_t seq_now() const;
  FileCode* code_of(const std::string& path);
  disasm::WindowChoice choose(disasm::Decoder& decoder, FileCode& file, size_t segment_index,
                              const disasm::Code& segment, const disasm::Region& region, uint64_t site);

  bool two_byte_ = true;  // two-byte patches where a slot is in reach
  std::vector<uint8_t> data_;  // the stub data block every gate gets
  int seq_fd_ = -1;
  uint64_t* seq_ = nullptr;
  uint64_t last_seq_ = 0;  // the last next_seq(): the shared counter may be forged
  std::map<std::string, std::unique_ptr<FileCode>> files_;
  std::vector<std::shared_ptr<SpacePatch>> spaces_;  // kept for the report
  uint64_t stops_ = 0;
  std::map<std::pair<std::string, uint64_t>, unsigned> stops_in_run_;  // by file and offset
  std::map<std::string, uint64_t> stops_by_name_;  // what still stops, for the report
  std::optional<std::pair<pid_t, int>> interruption_;
  std::shared_ptr<const Captured> captured_of(const patcher::BufferRead& read, const patcher::BufferRecord& r);
  void reclaim_captured();

  patcher::BufferRead read_scratch_;  // reused by every drain
  // The drained events' captured memory: lent with the events, reused (with
  // the memory of its strings) once no event holds it, so a drain of
  // thousands of records allocates nothing per record.
  std::vector<std::shared_ptr<Captured>> captured_lent_;
  std::vector<std::shared_ptr<Captured>> captured_spare_;
  size_t spare_bytes_ = 0;  // what the spare ones keep allocated (about)
  size_t reclaim_at_ = 0;   // look the lent ones over when this many are lent
  std::function<void(const InjectedCall&)> injected_;
};

}  // namespace hytrace::tracer
