// A trace of known events, one or more of every type, shared by the unit
// tests (tests/unit/tracefile/) and the test tool that writes trace files
// for the integration tests (make_trace.cc). A small made-up run of
// `cat /etc/hostname` with a thread, a fork, signals and the rest.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include <cstring>
#include <string>
#include <vector>

#include "tracer/tracefile/events.hpp"
#include "tracer/tracefile/format.hpp"

namespace hytrace::tracefile::testing {

inline TraceInfo sample_info() {
  TraceInfo info;
  info.hytrace_version = "0.1.0";
  info.kernel_release = "6.18.0-test";
  info.cpu_model = "Test CPU @ 2.00GHz";
  info.cpu_flags = {"fpu", "tsc", "cpuid_fault"};
  info.command = {"cat", "/etc/hostname"};
  info.environment = {"PATH=/usr/bin:/bin", "HOME=/root"};
  info.cwd = "/tmp";
  info.start_seconds = 1795780800;  // 2026-11-27 12:00:00 UTC
  info.start_nanoseconds = 123456789;
  info.aslr_disabled = true;
  info.vdso_hidden = true;
  info.settings = R"({"patch":true,"string_limit":32})";
  return info;
}

inline std::string bytes_of(uint64_t value, size_t n) {
  std::string s(n, '\0');
  std::memcpy(s.data(), &value, n);
  return s;
}

inline std::array<uint8_t, kSiginfoSize> siginfo_of(int signo, int code, int pid) {
  siginfo_t info{};
  info.si_signo = signo;
  info.si_code = code;
  if (code == SI_TKILL || code == SI_USER) {
    info.si_pid = pid;
    info.si_uid = 0;
  } else {
    info.si_addr = nullptr;
  }
  std::array<uint8_t, kSiginfoSize> out{};
  std::memcpy(out.data(), &info, sizeof info);
  return out;
}

inline SyscallEvent call_event(uint64_t seq, int32_t tid, long nr, std::array<uint64_t, 6> args,
                            int64_t result) {
  SyscallEvent e;
  e.entry_seq = seq;
  e.exit_seq = seq + 1;
  e.tid = tid;
  e.nr = nr;
  e.args = args;
  e.result = result;
  return e;
}

// Seq numbers from 1; the root is tid 100, its thread 101, its fork child 102.
inline std::vector<Event> sample_events() {
  std::vector<Event> events;
  events.push_back(MappingEvent{1, 100, MappingEvent::Kind::kGate, 0x70000000, 4096, PROT_READ | PROT_EXEC});

  ExecEvent exec;
  exec.seq = 2;
  exec.tid = 100;
  exec.former_tid = 100;
  exec.path = "/usr/bin/cat";
  exec.argv = {"cat", "/etc/hostname"};
  exec.envp = {"PATH=/usr/bin:/bin", "HOME=/root"};
  exec.cwd = "/tmp";
  exec.auxv = {{6, 4096}, {25, 0x7ffffffff000}, {1, 0}};  // AT_PAGESZ, AT_RANDOM, AT_IGNORE
  for (int i = 0; i < 16; ++i) exec.at_random[i] = static_cast<uint8_t>(0xa0 + i);
  exec.files = {{"/usr/bin/cat", 44016, 1700000000000000000, 0x1122334455667788},
                {"/usr/lib/x86_64-linux-gnu/libc.so.6", 1922136, 1690000000000000000, 0x99aabbccddeeff00}};
  events.push_back(exec);

  InjectedEvent mmap_call{call_event(3, 100, SYS_mmap, {0x70001000, 65536, PROT_READ | PROT_WRITE,
                                                      MAP_SHARED | MAP_FIXED, 5, 0}, 0x70001000)};
  events.push_back(mmap_call);

  SyscallEvent open = call_event(5, 100, SYS_openat, {static_cast<uint64_t>(-100), 0x5000, O_RDONLY, 0, 0, 0}, 3);
  open.reads = {{0x5000, std::string("/etc/hostname\0", 14)}};
  events.push_back(open);

  SyscallEvent read = call_event(7, 100, SYS_read, {3, 0x6000, 4096, 0, 0, 0}, 6);
  read.flags = kServedByStub;
  read.writes = {{0x6000, "hello\n"}};
  events.push_back(read);

  SyscallEvent write = call_event(9, 100, SYS_write, {1, 0x6000, 6, 0, 0, 0}, 6);
  write.flags = kServedByStub;
  write.reads = {{0x6000, "hello\n"}};
  events.push_back(write);

  events.push_back(RdtscEvent{11, 100, false, 0x401000, 0x123456789abc, 0});
  events.push_back(RdtscEvent{12, 100, true, 0x401010, 0x123456789def, 1});
  events.push_back(CpuidEvent{13, 100, 0x401020, 1, 0, 0x000906ea, 0x00100800, 0x7ffafbff, 0xbfebfbff});

  SignalEvent usr1;
  usr1.seq = 14;
  usr1.tid = 100;
  usr1.siginfo = siginfo_of(SIGUSR1, SI_TKILL, 100);
  usr1.where = SignalEvent::Where::kAtEvent;
  usr1.at_seq = 10;
  events.push_back(usr1);

  SignalEvent segv;
  segv.seq = 15;
  segv.tid = 100;
  segv.siginfo = siginfo_of(SIGSEGV, SEGV_MAPERR, 0);
  segv.where = SignalEvent::Where::kInUserCode;
  segv.ip = 0x401234;
  for (size_t i = 0; i < kUserRegs; ++i) segv.regs[i] = 0x1000 + i;
  segv.xstate = std::string(64, '\x5a');
  segv.stack_hash = 0xfeedfacecafebeef;
  events.push_back(segv);

  const uint64_t thread_flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
                                CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
  events.push_back(ProcessEvent{16, ProcessEvent::Kind::kClone, 100, 101, thread_flags, 0,
                                {{0x7000, bytes_of(101, 4)}}});
  events.push_back(call_event(17, 101, SYS_getpid, {}, 100));

  SyscallEvent uring = call_event(19, 101, SYS_io_uring_setup, {8, 0x8000, 0, 0, 0, 0}, -ENOSYS);
  uring.flags = kUnreplayable;
  uring.unreplayable = "io_uring";
  events.push_back(uring);

  SyscallEvent ioctl = call_event(21, 100, SYS_ioctl, {1, 0x5401, 0x9000, 0, 0, 0}, -ENOTTY);
  ioctl.flags = kEffectsUnknown;
  events.push_back(ioctl);

  events.push_back(ProcessEvent{23, ProcessEvent::Kind::kFork, 100, 102, SIGCHLD, 0, {}});
  events.push_back(ProcessEvent{24, ProcessEvent::Kind::kExit, 102, 0, 0, 3 << 8, {}});
  events.push_back(ProcessEvent{25, ProcessEvent::Kind::kExit, 101, 0, 0, 0, {}});

  SyscallEvent exit_group = call_event(26, 100, SYS_exit_group, {0, 0, 0, 0, 0, 0}, 0);
  exit_group.exit_seq = 0;
  exit_group.flags = kUnfinished;
  events.push_back(exit_group);

  events.push_back(ProcessEvent{27, ProcessEvent::Kind::kExit, 100, 0, 0, 0, {}});
  events.push_back(EndEvent{28, 100, 0, events.size()});
  return events;
}

}  // namespace hytrace::tracefile::testing
