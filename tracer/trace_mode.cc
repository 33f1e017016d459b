#include "tracer/trace_mode.hpp"

#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include "tracer/captured_memory.hpp"
#include "tracer/signal_text.hpp"

namespace hytrace::tracer {
namespace {

const char* abi_name(syscalls::Abi abi) {
  switch (abi) {
    case syscalls::Abi::kI386: return "i386";
    case syscalls::Abi::kX32: return "x32";
    default: return "x86_64";
  }
}

// Calls made through another ABI are marked: their numbers mean other calls.
void mark_foreign_abi(syscalls::RenderedCall& rc, const syscalls::Call& call) {
  if (call.abi != syscalls::Abi::kX86_64) rc.name = fmt::format("[{}] {}", abi_name(call.abi), rc.name);
}

std::string kill_text(const ExitStatus& status) {
  return fmt::format("+++ killed by {}{} +++", syscalls::signal_name(status.code),
                     status.core_dumped ? " (core dumped)" : "");
}

}  // namespace

TraceMode::TraceMode(Output& out, TraceOptions options, size_t initial_tasks)
    : out_(out), options_(std::move(options)), live_tasks_(initial_tasks) {}

std::string TraceMode::prefix(pid_t tid) const {
  if (options_.json || live_tasks_ < 2) return {};  // JSON events carry their tid
  return fmt::format("[pid {:>5}] ", tid);
}

void TraceMode::close_open_line() {
  if (!open_line_) return;
  out_.write(" <unfinished ...>\n");
  open_line_ = 0;
}

// One write per event: the line is put together first.
void TraceMode::write_event(pid_t tid, const std::string& text) {
  close_open_line();
  line_ = prefix(tid);
  line_ += text;
  line_ += '\n';
  out_.write(line_);
  out_.event_done();
}

TraceMode::Pending& TraceMode::add_pending(uint64_t seq) {
  if (spare_pending_.empty()) return pending_[seq];
  spare_pending_.key() = seq;
  auto inserted = pending_.insert(std::move(spare_pending_));
  // Already there (as pending_[seq] would find it): the spare stays spare.
  if (!inserted.inserted) spare_pending_ = std::move(inserted.node);
  return inserted.position->second;
}

void TraceMode::remove_pending(std::map<uint64_t, Pending>::iterator it) {
  spare_pending_ = pending_.extract(it);
}

void TraceMode::on_syscall_enter(Task& task, SyscallFrame& frame) {
  if (!options_.set.shows(frame.call)) return;
  Pending& p = add_pending(frame.seq);
  p.tid = task.tid;
  p.frame = frame;
  FrameMemory mem(task.tid, frame.captured.get());
  p.call = syscalls::render_entry(frame.call, mem, options_.format);
  mark_foreign_abi(p.call, frame.call);
  // A reused entry must not keep the typed fields of the call before.
  p.decoded = options_.json ? syscalls::decode_entry(frame.call, mem) : syscalls::Decoded{};
  if (options_.summary || options_.json) return;
  close_open_line();
  line_ = prefix(task.tid);
  syscalls::append_entry_text(line_, p.call);
  out_.write(line_);
  out_.event_done();
  open_line_ = frame.seq;
}

void TraceMode::on_syscall_exit(Task& task, const SyscallFrame& frame, long result) {
  auto it = pending_.find(frame.seq);
  if (it == pending_.end()) return;  // not a shown syscall
  finish(task, it->second, frame, result);
  remove_pending(it);
}

void TraceMode::finish(Task& task, Pending& p, const SyscallFrame& frame,
                       std::optional<long> result) {
  if (result) {
    FrameMemory mem(task.tid, frame.captured.get());
    syscalls::render_exit(p.call, frame.call, *result, mem, options_.format);
    if (options_.json) syscalls::decode_exit(p.decoded, frame.call, *result, mem);
  } else {
    p.call.result.assign(1, '?');  // not = "?": GCC 12 -Wrestrict false positive
  }
  if (options_.summary) {
    // A call that never returns has no duration to speak of (strace -c agrees).
    const auto time = !result         ? std::chrono::steady_clock::duration{}
                      : frame.duration ? std::chrono::duration_cast<std::chrono::steady_clock::duration>(*frame.duration)
                                       : std::chrono::steady_clock::now() - frame.entered;
    summary_.add(frame.call.nr, p.call.is_error, time);
    return;
  }
  if (options_.json) {
    nlohmann::json j = syscalls::to_json(p.call, frame.call);
    if (!p.decoded.fields.empty()) j["fields"] = syscalls::to_json(p.decoded);
    j["seq"] = frame.seq;
    j["pid"] = task.tgid();
    j["tid"] = task.tid;
    if (!result) {
      j.erase("result");
      j.erase("error");
      j["unfinished"] = true;
    }
    write_event(task.tid, j.dump());
    return;
  }
  if (open_line_ == frame.seq) {
    line_.clear();
    syscalls::append_exit_text(line_, p.call);
    line_ += '\n';
    out_.write(line_);
    open_line_ = 0;
    out_.event_done();
    return;
  }
  write_event(task.tid, fmt::format("<... {} resumed>{}", p.call.name, syscalls::exit_text(p.call)));
}

void TraceMode::on_signal(Task& task, SignalDelivery& delivery) {
  if (options_.summary) return;
  if (options_.json) {
    write_event(task.tid, nlohmann::json{{"pid", task.tgid()},
                                         {"tid", task.tid},
                                         {"signal", syscalls::signal_name(delivery.deliver)},
                                         {"code", si_code_name(delivery.info)}}
                              .dump());
    return;
  }
  write_event(task.tid, fmt::format("--- {} {} ---", syscalls::signal_name(delivery.deliver),
                                    siginfo_text(delivery.info)));
}

void TraceMode::on_group_stop(const GroupStop& stop) {
  if (options_.summary || options_.json) return;
  write_event(stop.task->tid, fmt::format("--- stopped by {} ---", syscalls::signal_name(stop.sig)));
}

void TraceMode::on_task_start(const TaskStart&) { ++live_tasks_; }

void TraceMode::on_exec(const Exec& exec) {
  const Task& task = *exec.task;
  const pid_t former_tid = exec.former_tid;
  if (former_tid == task.tid) return;
  // The exec'ing thread took the leader's tid: its pending execve moves along.
  for (auto& [seq, p] : pending_) {
    if (p.tid == former_tid) p.tid = task.tid;
  }
  --live_tasks_;
}

void TraceMode::on_task_exit(const TaskExit& exit) {
  Task& task = *exit.task;
  const ExitStatus& status = exit.status;
  // exit_group, or calls cut short by a fatal signal: they never return.
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->second.tid != task.tid) {
      ++it;
      continue;
    }
    finish(task, it->second, it->second.frame, std::nullopt);
    it = pending_.erase(it);
  }
  // The end of every task is part of the trace; with -c only the fatal
  // signals are, after the table (strace -c prints nothing, and the exit
  // status says only 128+N).
  if (options_.summary) {
    if (status.signaled && task.is_leader()) killed_.push_back(kill_text(status));
  } else {
    const std::string text =
        status.signaled ? kill_text(status) : fmt::format("+++ exited with {} +++", status.code);
    if (options_.json) {
      write_event(task.tid, nlohmann::json{{"pid", task.tgid()},
                                           {"tid", task.tid},
                                           {status.signaled ? "killed_by" : "exited",
                                            status.signaled
                                                ? nlohmann::json(syscalls::signal_name(status.code))
                                                : nlohmann::json(status.code)}}
                                .dump());
    } else {
      write_event(task.tid, text);
    }
  }
  if (live_tasks_ > 0) --live_tasks_;
}

void TraceMode::on_finish() {
  close_open_line();
  if (options_.summary) out_.write(summary_.table());
  for (const auto& line : killed_) out_.write(line + "\n");
  out_.flush();
}

}  // namespace hytrace::tracer
