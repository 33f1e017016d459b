// The in-tracee stub, built from patcher/stub/stub.c and embedded here, and
// the layout it shares with the tracer.
#pragma once

#include <cstddef>
#include <cstdint>

#include "patcher/stub/layout.h"

namespace hytrace::patcher::stub {

extern const unsigned char kBlob[];  // to be written at kGateBase
extern const size_t kBlobSize;
extern const uint64_t kStubEntry;          // what a trampoline calls
extern const uint64_t kGateSyscallEnd;     // the filter's allowed instruction pointer
extern const uint64_t kTracedSyscallEnd;   // the stub's fallback: stops like any site

inline constexpr uint64_t kGateBase = HYTRACE_GATE_BASE;
inline constexpr uint64_t kGateData = HYTRACE_GATE_DATA;
inline constexpr uint64_t kGateSize = HYTRACE_GATE_SIZE;
inline constexpr uint64_t kGateCodeSize = HYTRACE_GATE_CODE_SIZE;

// The layout is read by C code in the tracee and by C++ here: keep in sync.
static_assert(sizeof(hytrace_record) == 112);
static_assert(sizeof(hytrace_capture) == 16);
static_assert(sizeof(hytrace_buffer_header) == 64);
static_assert(sizeof(hytrace_capture_rule) == 8);
static_assert(sizeof(hytrace_stub_data) <= HYTRACE_GATE_DATA_SIZE);
static_assert(HYTRACE_GATE_DATA % 4096 == 0 && HYTRACE_GATE_CODE_SIZE % 4096 == 0);

inline bool in_gate(uint64_t addr) { return addr >= kGateBase && addr < kGateBase + kGateSize; }

}  // namespace hytrace::patcher::stub
