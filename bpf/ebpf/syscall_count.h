/* Shared by the BPF program and user space: keep the two in sync. */
#ifndef HYTRACE_SYSCALL_COUNT_H
#define HYTRACE_SYSCALL_COUNT_H

#define HYTRACE_MAX_TASKS 65536
#define HYTRACE_MAX_COUNTS 262144
#define HYTRACE_NR_EXECVE 59
#define HYTRACE_STATE_ARMED 2

struct count_key {
  __u32 tid;
  __u32 nr;
};

struct count_value {
  __u64 calls;
  __u64 errors;
};

#endif
