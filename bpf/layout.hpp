// Offsets into struct seccomp_data and the SECCOMP_RET_TRACE data values that
// tell the tracer why a syscall stopped. Shared by the builder and the dump.
#pragma once

#include <linux/seccomp.h>

#include <cstddef>
#include <cstdint>

namespace hytrace::bpf {

inline constexpr uint32_t kNrOffset = offsetof(seccomp_data, nr);
inline constexpr uint32_t kArchOffset = offsetof(seccomp_data, arch);
inline constexpr uint32_t kIpOffset = offsetof(seccomp_data, instruction_pointer);
inline constexpr uint32_t kArgsOffset = offsetof(seccomp_data, args);
inline constexpr uint32_t kX32SyscallBit = 0x40000000;

// SECCOMP_RET_DATA values, read by the tracer with PTRACE_GETEVENTMSG.
inline constexpr uint32_t kTracedSyscall = 0;  // in the traced set
inline constexpr uint32_t kForeignAbi = 1;     // i386 or x32: always traced

}  // namespace hytrace::bpf
