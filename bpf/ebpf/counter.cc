#include "bpf/ebpf/counter.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

// The skeleton includes <bpf/libbpf.h> types only; __u32 and friends come
// from linux/types.h.
#include <linux/types.h>

#include "syscall_count.h"
#include "syscall_count.skel.h"

namespace hytrace::oracle {

namespace {
constexpr const char* kBtfPath = "/sys/kernel/btf/vmlinux";
}

struct SyscallCounter::Skeleton {
  syscall_count_bpf* obj = nullptr;
  ~Skeleton() { syscall_count_bpf__destroy(obj); }
};

std::string SyscallCounter::unavailable_reason() {
  if (geteuid() != 0) return "the eBPF counter needs root (CAP_BPF and CAP_PERFMON)";
  if (access(kBtfPath, R_OK) != 0) {
    return fmt::format("the eBPF counter needs kernel BTF, and {} is missing", kBtfPath);
  }
  return "";
}

SyscallCounter::SyscallCounter() : skel_(std::make_unique<Skeleton>()) {
  libbpf_set_print([](libbpf_print_level, const char*, va_list) { return 0; });
  skel_->obj = syscall_count_bpf__open_and_load();
  if (!skel_->obj) {
    throw std::runtime_error(
        fmt::format("cannot load the eBPF syscall counter: {}", std::strerror(errno)));
  }
  if (syscall_count_bpf__attach(skel_->obj) != 0) {
    throw std::runtime_error(
        fmt::format("cannot attach the eBPF syscall counter: {}", std::strerror(errno)));
  }
}

SyscallCounter::~SyscallCounter() = default;

void SyscallCounter::follow_from_exec(pid_t tid) {
  static_assert(HYTRACE_NR_EXECVE == 59, "x86-64 execve");
  const __u32 key = static_cast<__u32>(tid);
  const __u8 armed = HYTRACE_STATE_ARMED;
  if (bpf_map__update_elem(skel_->obj->maps.followed, &key, sizeof(key), &armed, sizeof(armed),
                           BPF_ANY) != 0) {
    throw std::runtime_error(fmt::format("cannot follow task {}: {}", tid, std::strerror(errno)));
  }
}

std::map<pid_t, TaskCounts> SyscallCounter::counts() const {
  std::map<pid_t, TaskCounts> out;
  bpf_map* map = skel_->obj->maps.counts;
  count_key key{}, next{};
  const count_key* prev = nullptr;
  while (bpf_map__get_next_key(map, prev, &next, sizeof(next)) == 0) {
    count_value value{};
    if (bpf_map__lookup_elem(map, &next, sizeof(next), &value, sizeof(value), 0) == 0) {
      Counts& c = out[static_cast<pid_t>(next.tid)][next.nr];
      c.calls += value.calls;
      c.errors += value.errors;
    }
    key = next;
    prev = &key;
  }
  return out;
}

}  // namespace hytrace::oracle
