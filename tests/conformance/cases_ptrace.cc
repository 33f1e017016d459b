// Conformance cases: ptrace requests on a child of the test process, and
// clone and clone3 of a child that exits at once. Every child is killed or
// reaped after its case (see Leftovers); a traced child also dies with the
// test process (PR_SET_PDEATHSIG).
#include <asm/prctl.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <elf.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>

#include "tests/conformance/cases_util.hpp"

namespace hytrace::conformance {
namespace {

// A word the tracer peeks at: the child's copy has the same address.
uint64_t g_peek_me = 0x1122334455667788;

uint64_t regset_iov(Arena& a) {
  *a.at<struct iovec>(0) = {a.at(256), 1024};
  return a.addr(0);
}

// A child stopped by SIGSTOP, traced by the test process; killed and
// reaped before the next case that makes one, or at exit. With a seccomp
// filter that allows everything, when asked (its own: not the test's).
uint64_t stopped_child(bool with_filter = false) {
  leftovers().tidy();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (with_filter) {
      struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
      struct sock_fprog prog = {1, &allow};
      ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
      ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
    }
    ::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr);
    ::raise(SIGSTOP);
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, __WALL);  // its signal-delivery-stop, at once
  leftovers().add([pid] {
    ::kill(pid, SIGKILL);
    int st = 0;  // until it is gone (a tracee may report a stop first)
    while (::waitpid(pid, &st, __WALL) == pid && !WIFEXITED(st) && !WIFSIGNALED(st)) {
      ::ptrace(PTRACE_CONT, pid, nullptr, nullptr);
    }
  });
  return u(pid);
}

// clone and clone3 return in the child too, into the harness's syscall():
// given this stack, whose top holds child_exits, syscall()'s closing `ret`
// takes the child there instead of back into the harness. (Were the stack
// ever popped differently, the child would return to 0 and die: it can
// never reach the harness's code, whose return address is on the parent's
// stack.)
[[noreturn]] void child_exits() {
  ::syscall(SYS_exit, 0);
  __builtin_unreachable();
}
alignas(16) uint8_t g_child_stack[64 * 1024];
uint8_t* child_stack_top() {
  uint8_t* top = g_child_stack + sizeof g_child_stack - 64;
  void (*f)() = child_exits;
  std::memcpy(top, &f, sizeof f);
  return top;
}

// struct clone_args at arena offset 0: the pidfd is stored at 256 and the
// child's tid at 320.
uint64_t put_clone_args(Arena& a, uint64_t flags, uint64_t exit_signal) {
  auto* args = a.at<struct clone_args>(0);
  std::memset(args, 0, sizeof *args);
  args->flags = flags;
  args->pidfd = a.addr(256);
  args->parent_tid = a.addr(320);
  args->exit_signal = exit_signal;
  args->stack = reinterpret_cast<uint64_t>(g_child_stack);
  args->stack_size = static_cast<uint64_t>(child_stack_top() - g_child_stack);
  return a.addr(0);
}

Register cases({
    {"ptrace/peekdata", Expect::kSuccess, true,
     [](Arena& a, Env&) {
       return call("ptrace", {u(PTRACE_PEEKDATA), stopped_child(), reinterpret_cast<uint64_t>(&g_peek_me), a.addr(0)});
     }},
    {"ptrace/peekdata_eio", Expect::kError, false,
     [](Arena& a, Env&) { return call("ptrace", {u(PTRACE_PEEKDATA), stopped_child(), 0, a.addr(0)}); }},
    {"ptrace/peektext", Expect::kSuccess, true,
     [](Arena& a, Env&) {
       const auto code = reinterpret_cast<uint64_t>(&child_exits);
       return call("ptrace", {u(PTRACE_PEEKTEXT), stopped_child(), code, a.addr(0)});
     }},
    {"ptrace/peekuser", Expect::kSuccess, true,
     [](Arena& a, Env&) {
       return call("ptrace", {u(PTRACE_PEEKUSER), stopped_child(), offsetof(struct user, regs.rip), a.addr(0)});
     }},
    {"ptrace/getregs", Expect::kSuccess, true,
     [](Arena& a, Env&) { return call("ptrace", {u(PTRACE_GETREGS), stopped_child(), 0, a.addr(0)}); }},
    // Not traced by the test process.
    {"ptrace/getregs_esrch", Expect::kError, false,
     [](Arena& a, Env&) { return call("ptrace", {u(PTRACE_GETREGS), 1, 0, a.addr(0)}); }},
    {"ptrace/getfpregs", Expect::kSuccess, false,
     [](Arena& a, Env&) { return call("ptrace", {u(PTRACE_GETFPREGS), stopped_child(), 0, a.addr(0)}); }},
    // One iovec at 0 over 1024 bytes at 256: the registers, and their
    // length stored back.
    {"ptrace/getregset", Expect::kSuccess, false,
     [](Arena& a, Env&) { return call("ptrace", {u(PTRACE_GETREGSET), stopped_child(), NT_PRSTATUS, regset_iov(a)}); }},
    {"ptrace/getregset_einval", Expect::kError, false,
     [](Arena& a, Env&) { return call("ptrace", {u(PTRACE_GETREGSET), stopped_child(), 0xdead, regset_iov(a)}); }},
    {"ptrace/getsiginfo", Expect::kSuccess, true,
     [](Arena& a, Env&) { return call("ptrace", {u(PTRACE_GETSIGINFO), stopped_child(), 0, a.addr(0)}); }},
    {"ptrace/geteventmsg", Expect::kSuccess, true,
     [](Arena& a, Env&) { return call("ptrace", {u(PTRACE_GETEVENTMSG), stopped_child(), 0, a.addr(0)}); }},
    {"ptrace/getsigmask", Expect::kSuccess, true,
     [](Arena& a, Env&) { return call("ptrace", {u(PTRACE_GETSIGMASK), stopped_child(), 8, a.addr(0)}); }},
    {"ptrace/getsigmask_einval", Expect::kError, false,
     [](Arena& a, Env&) { return call("ptrace", {u(PTRACE_GETSIGMASK), stopped_child(), 4, a.addr(0)}); }},
    // In a signal-delivery-stop: op NONE, the first 24 bytes of 88.
    {"ptrace/get_syscall_info", Expect::kSuccess, true,
     [](Arena& a, Env&) { return call("ptrace", {u(PTRACE_GET_SYSCALL_INFO), stopped_child(), 88, a.addr(0)}); }},
    {"ptrace/get_syscall_info_short", Expect::kSuccess, true,
     [](Arena& a, Env&) { return call("ptrace", {u(PTRACE_GET_SYSCALL_INFO), stopped_child(), 5, a.addr(0)}); }},
    // PTRACE_ARCH_PRCTL: the code in data, the value stored at addr.
    {"ptrace/arch_prctl_get_fs", Expect::kSuccess, true,
     [](Arena& a, Env&) { return call("ptrace", {30, stopped_child(), a.addr(0), ARCH_GET_FS}); }},
    // The TLS slots of the GDT (12-14), empty in a 64-bit process.
    {"ptrace/get_thread_area", Expect::kSuccess, false,
     [](Arena& a, Env&) { return call("ptrace", {u(PTRACE_GET_THREAD_AREA), stopped_child(), 12, a.addr(0)}); }},
    {"ptrace/get_thread_area_einval", Expect::kError, false,
     [](Arena& a, Env&) { return call("ptrace", {u(PTRACE_GET_THREAD_AREA), stopped_child(), 99, a.addr(0)}); }},
    // Nothing queued: no siginfo stored.
    {"ptrace/peeksiginfo", Expect::kSuccess, false,
     [](Arena& a, Env&) {
       auto* args = a.at<uint64_t>(0);  // struct ptrace_peeksiginfo_args
       args[0] = 0;                  // off
       args[1] = uint64_t{4} << 32;  // flags 0, nr 4
       return call("ptrace", {u(PTRACE_PEEKSIGINFO), stopped_child(), a.addr(0), a.addr(64)});
     }},
    // A signal queued for the stopped child: one siginfo.
    {"ptrace/peeksiginfo_shared", Expect::kSuccess, true,
     [](Arena& a, Env&) {
       const uint64_t pid = stopped_child();
       ::kill(static_cast<pid_t>(pid), SIGUSR1);
       auto* args = a.at<uint64_t>(0);
       args[0] = 0;
       args[1] = (uint64_t{4} << 32) | 1;  // nr 4, PTRACE_PEEKSIGINFO_SHARED
       return call("ptrace", {u(PTRACE_PEEKSIGINFO), pid, a.addr(0), a.addr(64)});
     }},
    // struct ptrace_rseq_configuration (24 bytes): glibc registered rseq.
    {"ptrace/get_rseq_configuration", Expect::kSuccess, true,
     [](Arena& a, Env&) { return call("ptrace", {0x420f, stopped_child(), 64, a.addr(0)}); }},
    {"ptrace/get_syscall_user_dispatch_config", Expect::kSuccess, true,
     [](Arena& a, Env&) { return call("ptrace", {0x4211, stopped_child(), 32, a.addr(0)}); }},
    {"ptrace/get_syscall_user_dispatch_config_einval", Expect::kError, false,
     [](Arena& a, Env&) { return call("ptrace", {0x4211, stopped_child(), 16, a.addr(0)}); }},
    // The child's filter: one instruction of 8 bytes (needs CAP_SYS_ADMIN).
    {"ptrace/seccomp_get_filter", Expect::kSuccess, true,
     [](Arena& a, Env&) { return call("ptrace", {u(PTRACE_SECCOMP_GET_FILTER), stopped_child(true), 0, a.addr(0)}); }},
    {"ptrace/seccomp_get_filter_einval", Expect::kError, false,
     [](Arena& a, Env&) { return call("ptrace", {u(PTRACE_SECCOMP_GET_FILTER), stopped_child(), 0, a.addr(0)}); }},
    {"ptrace/seccomp_get_metadata", Expect::kSuccess, false,
     [](Arena& a, Env&) {
       *a.at<uint64_t>(0) = 0;  // filter_off
       return call("ptrace", {0x420d, stopped_child(true), 16, a.addr(0)});
     }},
    {"ptrace/setoptions", Expect::kSuccess, false,
     [](Arena&, Env&) { return call("ptrace", {u(PTRACE_SETOPTIONS), stopped_child(), 0, u(PTRACE_O_TRACESYSGOOD)}); }},
    // clone3 stores the pidfd and the child's tid in the parent.
    {"clone3", Expect::kSuccess, true,
     [](Arena& a, Env&) {
       const uint64_t args = put_clone_args(a, CLONE_PIDFD | CLONE_PARENT_SETTID, SIGCHLD);
       pidfd_to_reap();
       return call("clone3", {args, sizeof(struct clone_args)});
     }},
    {"clone3/einval", Expect::kError, false,
     [](Arena& a, Env&) {
       return call("clone3", {put_clone_args(a, CLONE_PIDFD | CLONE_PARENT_SETTID, 999), sizeof(struct clone_args)});
     }},
    {"clone3/too_small", Expect::kError, false,
     [](Arena& a, Env&) { return call("clone3", {put_clone_args(a, CLONE_PIDFD, SIGCHLD), 8}); }},
    // clone: CLONE_PIDFD stores the pidfd where parent_tid points.
    {"clone", Expect::kSuccess, true,
     [](Arena& a, Env&) {
       const uint64_t top = reinterpret_cast<uint64_t>(child_stack_top());
       pidfd_to_reap();
       return call("clone", {u(CLONE_PIDFD | SIGCHLD), top, a.addr(256), 0, 0});
     }},
    // Both would be stored at parent_tid.
    {"clone/einval", Expect::kError, false,
     [](Arena& a, Env&) {
       const uint64_t top = reinterpret_cast<uint64_t>(child_stack_top());
       return call("clone", {u(CLONE_PIDFD | CLONE_PARENT_SETTID | SIGCHLD), top, a.addr(256), 0, 0});
     }},
});

}  // namespace
}  // namespace hytrace::conformance
