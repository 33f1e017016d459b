// The independent oracle: counts, per task of a followed tree, how many
// syscalls of each number the kernel saw and how many failed. Attached to
// BTF-enabled raw tracepoints, so it needs no tracefs mount, only BTF.
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "syscall_count.h"

char LICENSE[] SEC("license") = "GPL";

// Tasks being followed (kFollowed), or armed (kArmed): the root is armed by
// user space before it execs and followed from its exec on, so the
// launcher's own syscalls before the exec never count; every task a
// followed task creates is followed by on_fork.
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, HYTRACE_MAX_TASKS);
  __type(key, __u32);
  __type(value, __u8);
} followed SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, HYTRACE_MAX_COUNTS);
  __type(key, struct count_key);
  __type(value, struct count_value);
} counts SEC(".maps");

enum { kArmed = HYTRACE_STATE_ARMED, kFollowed = 1 };

static __always_inline struct count_value* slot(__u32 tid, __u32 nr) {
  struct count_key key = {.tid = tid, .nr = nr};
  struct count_value* value = bpf_map_lookup_elem(&counts, &key);
  if (value) return value;
  struct count_value zero = {};
  bpf_map_update_elem(&counts, &key, &zero, BPF_NOEXIST);
  return bpf_map_lookup_elem(&counts, &key);
}

static __always_inline int is_followed(__u32 tid) {
  __u8* state = bpf_map_lookup_elem(&followed, &tid);
  return state && *state == kFollowed;
}

// The number each followed task is in, for its exit: orig_ax is no guide
// there (rt_sigreturn exits with the restored orig_ax, often -1).
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, HYTRACE_MAX_TASKS);
  __type(key, __u32);
  __type(value, __u32);
} in_syscall SEC(".maps");

SEC("tp_btf/sys_enter")
int BPF_PROG(on_sys_enter, struct pt_regs* regs, long id) {
  __u32 tid = (__u32)bpf_get_current_pid_tgid();
  if (!is_followed(tid)) return 0;
  __u32 nr = (__u32)id;
  bpf_map_update_elem(&in_syscall, &tid, &nr, BPF_ANY);
  struct count_value* value = slot(tid, nr);
  if (value) __sync_fetch_and_add(&value->calls, 1);
  return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(on_sys_exit, struct pt_regs* regs, long ret) {
  __u32 tid = (__u32)bpf_get_current_pid_tgid();
  if (ret >= 0 || ret < -4095 || !is_followed(tid)) return 0;
  __u32* nr = bpf_map_lookup_elem(&in_syscall, &tid);
  if (!nr) return 0;
  struct count_key key = {.tid = tid, .nr = *nr};
  struct count_value* value = bpf_map_lookup_elem(&counts, &key);
  if (value) __sync_fetch_and_add(&value->errors, 1);
  return 0;
}

// Fires in the parent before the child first runs, for threads as well.
// Every new task gets a fresh decision, so a tid reused after a followed
// task ended is not counted. (Entries are never deleted at exit: a thread
// that execs takes over its leader's tid, which must stay followed.)
SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct* parent, struct task_struct* child) {
  __u32 parent_tid = BPF_CORE_READ(parent, pid);
  __u32 child_tid = BPF_CORE_READ(child, pid);
  if (!is_followed(parent_tid)) {
    bpf_map_delete_elem(&followed, &child_tid);
    return 0;
  }
  __u8 state = kFollowed;
  bpf_map_update_elem(&followed, &child_tid, &state, BPF_ANY);
  return 0;
}

// An armed task's successful exec starts the count, the execve included
// (its entry went by while the task was only armed).
SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct* task, pid_t old_pid, struct linux_binprm* bprm) {
  __u32 tid = (__u32)bpf_get_current_pid_tgid();
  __u8* state = bpf_map_lookup_elem(&followed, &tid);
  if (!state || *state != kArmed) return 0;
  *state = kFollowed;
  struct count_value* value = slot(tid, HYTRACE_NR_EXECVE);
  if (value) __sync_fetch_and_add(&value->calls, 1);
  return 0;
}
