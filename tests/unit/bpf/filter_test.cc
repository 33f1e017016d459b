// The filter is checked in the kernel: a forked child installs it and makes
// syscalls with no tracer attached, where SECCOMP_RET_TRACE fails the call
// with ENOSYS and ALLOW runs it.
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <functional>

#include <gtest/gtest.h>

#include "bpf/filter.hpp"
#include "syscalls/catalogue.hpp"

namespace hytrace::bpf {
namespace {

FilterSpec spec_tracing(std::initializer_list<long> numbers) {
  FilterSpec spec;
  spec.traced.assign(syscalls::all().back().nr + 1, false);
  for (long nr : numbers) spec.traced[nr] = true;
  return spec;
}

// Runs `probe` in a child under `program`; true when the probe returned true.
bool in_filtered_child(const Program& program, const std::function<bool()>& probe) {
  const pid_t pid = fork();
  if (pid == 0) {
    // exit_group directly: a sanitizer's exit-time work would meet the filter.
    if (install(program, true) != 0) syscall(SYS_exit_group, 2);
    syscall(SYS_exit_group, probe() ? 0 : 1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status)) << "child died with status " << status;
  EXPECT_NE(WEXITSTATUS(status), 2) << "the filter did not install";
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

bool stops(long nr) {
  errno = 0;
  const long rc = syscall(nr, 0, 0, 0, 0, 0, 0);
  return rc == -1 && errno == ENOSYS;
}

TEST(Filter, TracedSyscallsStopOthersRun) {
  const Program program = build_filter(spec_tracing({SYS_getppid, SYS_getuid}));
  EXPECT_TRUE(in_filtered_child(program, [] { return stops(SYS_getppid); }));
  EXPECT_TRUE(in_filtered_child(program, [] { return stops(SYS_getuid); }));
  EXPECT_TRUE(in_filtered_child(program, [] { return !stops(SYS_getpid); }));
  EXPECT_TRUE(in_filtered_child(program, [] { return !stops(SYS_getgid); }));
}

TEST(Filter, ArgumentMatchesStopOnlyWhenTheyMatch) {
  FilterSpec spec = spec_tracing({SYS_getppid});
  spec.traced_when.push_back({SYS_getpriority, 0, ~uint64_t{0}, 2});  // PRIO_USER
  spec.traced_when.push_back({SYS_getpriority, 0, ~uint64_t{0}, 1});  // PRIO_PGRP
  spec.traced_when.push_back({SYS_umask, 0, 0100, 0100});
  const Program program = build_filter(spec);
  const auto stops_with = [](long nr, uint64_t a0) {
    errno = 0;
    return syscall(nr, a0, 0, 0) == -1 && errno == ENOSYS;
  };
  EXPECT_TRUE(in_filtered_child(program, [&] { return stops_with(SYS_getpriority, 2); }));
  EXPECT_TRUE(in_filtered_child(program, [&] { return stops_with(SYS_getpriority, 1); }));
  EXPECT_TRUE(in_filtered_child(program, [&] { return !stops_with(SYS_getpriority, 0); }));
  EXPECT_TRUE(in_filtered_child(program, [&] { return stops_with(SYS_umask, 0177); }));
  EXPECT_TRUE(in_filtered_child(program, [&] { return !stops_with(SYS_umask, 022); }));
  EXPECT_TRUE(in_filtered_child(program, [] { return stops(SYS_getppid); }));
}

TEST(Filter, ArgumentMatchesStopAlwaysWhenMostSyscallsStop) {
  FilterSpec spec = spec_tracing({});
  spec.traced.flip();
  spec.traced[SYS_exit_group] = false;
  spec.traced[SYS_umask] = false;
  spec.traced_when.push_back({SYS_umask, 0, 0100, 0100});
  const Program program = build_filter(spec);
  EXPECT_TRUE(in_filtered_child(program, [] {
    errno = 0;
    return syscall(SYS_umask, 022) == -1 && errno == ENOSYS;
  }));
}

TEST(Filter, TracingMostSyscallsUsesAllowRules) {
  FilterSpec spec = spec_tracing({});
  spec.traced.flip();
  spec.traced[SYS_getpid] = false;
  spec.traced[SYS_exit_group] = false;  // the child must still be able to report
  const Program program = build_filter(spec);
  EXPECT_TRUE(in_filtered_child(program, [] { return stops(SYS_getppid); }));
  EXPECT_TRUE(in_filtered_child(program, [] { return !stops(SYS_getpid); }));
}

TEST(Filter, X32NumbersAreTracedNeverAllowed) {
  const Program program = build_filter(spec_tracing({}));
  EXPECT_TRUE(in_filtered_child(program, [] { return stops(0x40000000 | SYS_getpid); }));
}

TEST(Filter, I386IntEightyIsTracedNeverAllowed) {
  const Program program = build_filter(spec_tracing({}));
  EXPECT_TRUE(in_filtered_child(program, [] {
    long rc = 20;  // i386 getpid
    asm volatile("int $0x80" : "+a"(rc) : : "memory");
    return rc == -ENOSYS;
  }));
}

TEST(Filter, DumpNamesSyscallsAndActions) {
  const std::string text = dump(build_filter(spec_tracing({SYS_openat})));
  EXPECT_NE(text.find("AUDIT_ARCH_X86_64"), std::string::npos) << text;
  EXPECT_NE(text.find("257 /* openat */"), std::string::npos) << text;
  EXPECT_NE(text.find("return TRACE (foreign ABI)"), std::string::npos) << text;
  EXPECT_NE(text.find("return ALLOW"), std::string::npos) << text;
}

}  // namespace
}  // namespace hytrace::bpf

// A syscall instruction of our own, standing in for the stub's gate.
extern "C" long gate_syscall(long nr);
asm(R"(
  .text
  .globl gate_syscall
  .type gate_syscall, @function
gate_syscall:
  mov %rdi, %rax
  syscall
gate_syscall_after:
  ret
  .globl gate_syscall_ip
  .section .data.rel.ro
  .align 8
gate_syscall_ip:
  .quad gate_syscall_after
  .text
)");
extern "C" const uint64_t gate_syscall_ip;

namespace hytrace::bpf {
namespace {

TEST(Filter, TracedSyscallsFromTheAllowedAddressRun) {
  FilterSpec spec = spec_tracing({SYS_getppid});
  spec.allowed_ip = gate_syscall_ip;
  const Program program = build_filter(spec);
  const pid_t parent = getpid();
  EXPECT_TRUE(in_filtered_child(program, [] { return stops(SYS_getppid); }));
  EXPECT_TRUE(in_filtered_child(program, [&] { return gate_syscall(SYS_getppid) == parent; }));
  EXPECT_TRUE(in_filtered_child(program, [] { return !stops(SYS_getpid); }));
}

TEST(Filter, AllSixtyFourBitsOfTheAddressCount) {
  for (uint64_t other : {gate_syscall_ip ^ (uint64_t{1} << 40), gate_syscall_ip + 1}) {
    FilterSpec spec = spec_tracing({SYS_getppid});
    spec.allowed_ip = other;
    const Program program = build_filter(spec);
    EXPECT_TRUE(in_filtered_child(program, [] {
      errno = 0;
      return gate_syscall(SYS_getppid) == -ENOSYS;
    })) << std::hex << other;
  }
}

}  // namespace
}  // namespace hytrace::bpf

namespace hytrace::bpf {
namespace {

// evaluate() answers as the kernel does, for the tracing filter's prologue
// (foreign ABIs), its body (traced or not, argument matches) and its
// epilogue (the allowed address, all 64 bits of it).
TEST(Evaluate, AnswersAsTheKernelDoes) {
  FilterSpec spec = spec_tracing({SYS_getppid});
  spec.traced_when.push_back({SYS_umask, 0, 0100, 0100});
  spec.allowed_ip = 0x7f0000001002;
  const Program program = build_filter(spec);
  const auto run = [&](int nr, uint32_t arch, uint64_t ip, uint64_t arg0) {
    SeccompInput in;
    in.nr = nr;
    in.arch = arch;
    in.ip = ip;
    in.args[0] = arg0;
    return evaluate(program, in);
  };
  constexpr uint32_t kX86_64 = 0xc000003e, kI386 = 0x40000003;
  const uint32_t trace = SECCOMP_RET_TRACE;  // kTracedSyscall's data is 0
  EXPECT_EQ(run(SYS_getppid, kX86_64, 0x1000, 0), trace);
  EXPECT_EQ(run(SYS_getpid, kX86_64, 0x1000, 0), SECCOMP_RET_ALLOW);
  EXPECT_EQ(run(SYS_getppid, kX86_64, 0x7f0000001002, 0), SECCOMP_RET_ALLOW);
  EXPECT_EQ(run(SYS_getppid, kX86_64, 0x7f0000001002 ^ (uint64_t{1} << 40), 0), trace);
  EXPECT_EQ(run(SYS_umask, kX86_64, 0x1000, 0100), trace);
  EXPECT_EQ(run(SYS_umask, kX86_64, 0x1000, 0022), SECCOMP_RET_ALLOW);
  EXPECT_EQ(run(20, kI386, 0x1000, 0), SECCOMP_RET_TRACE | 1);             // kForeignAbi
  EXPECT_EQ(run(SYS_getpid | 0x40000000, kX86_64, 0x1000, 0), SECCOMP_RET_TRACE | 1);
  // And the kernel agrees on two of them.
  EXPECT_TRUE(in_filtered_child(program, [] { return stops(SYS_getppid); }));
  EXPECT_TRUE(in_filtered_child(program, [] { return !stops(SYS_getpid); }));
}

TEST(Evaluate, RefusesWhatTheKernelWouldNotLoad) {
  EXPECT_EQ(evaluate({}, {}), std::nullopt);                                  // runs past its end
  EXPECT_EQ(evaluate({{BPF_LD | BPF_W | BPF_ABS, 0, 0, 64}}, {}), std::nullopt);  // past seccomp_data
  EXPECT_EQ(evaluate({{BPF_LD | BPF_W | BPF_ABS, 0, 0, 2}}, {}), std::nullopt);   // unaligned
  EXPECT_EQ(evaluate({{BPF_LD | BPF_IMM, 0, 0, 7}, {BPF_RET | BPF_A, 0, 0, 0}}, {}), 7u);
}

}  // namespace
}  // namespace hytrace::bpf
