#include "bpf/filter.hpp"

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <linux/capability.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <memory>
#include <stdexcept>

#include <fmt/format.h>

#include "bpf/layout.hpp"

namespace hytrace::bpf {
namespace {

static_assert(sizeof(Instruction) == sizeof(sock_filter));
static_assert(offsetof(Instruction, k) == offsetof(sock_filter, k));

struct ContextDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using Context = std::unique_ptr<void, ContextDeleter>;

void check(int rc, const char* what) {
  if (rc < 0) throw std::runtime_error(fmt::format("libseccomp: {} failed: {}", what, -rc));
}

Instruction stmt(uint16_t code, uint32_t k) { return {code, 0, 0, k}; }
Instruction jump(uint16_t code, uint32_t k, uint8_t jt, uint8_t jf) { return {code, jt, jf, k}; }

// Foreign ABIs and x32 numbers stop in the tracer (data kForeignAbi) before
// the body sees them: the body is written for x86-64 numbers only.
Program prologue() {
  return {
      stmt(BPF_LD | BPF_W | BPF_ABS, kArchOffset),
      jump(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      stmt(BPF_RET | BPF_K, SECCOMP_RET_TRACE | kForeignAbi),
      stmt(BPF_LD | BPF_W | BPF_ABS, kNrOffset),
      jump(BPF_JMP | BPF_JGE | BPF_K, kX32SyscallBit, 0, 1),
      stmt(BPF_RET | BPF_K, SECCOMP_RET_TRACE | kForeignAbi),
  };
}

// The body: whichever of "trace" and "allow" is rarer gets the rules.
Program body(const FilterSpec& spec) {
  size_t traced = 0;
  for (bool t : spec.traced) traced += t;
  const bool trace_by_default = traced * 2 > spec.traced.size();
  const uint32_t trace = SCMP_ACT_TRACE(kTracedSyscall);
  Context ctx(seccomp_init(trace_by_default ? trace : SCMP_ACT_ALLOW));
  if (!ctx) throw std::runtime_error("libseccomp: seccomp_init failed");
  check(seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_TRACE(kForeignAbi)),
        "seccomp_attr_set(ACT_BADARCH)");
  const auto conditional = [&](size_t nr) {
    return std::any_of(spec.traced_when.begin(), spec.traced_when.end(),
                       [&](const ArgMatch& m) { return static_cast<size_t>(m.nr) == nr; });
  };
  for (size_t nr = 0; nr < spec.traced.size(); ++nr) {
    if (spec.traced[nr] == trace_by_default) continue;
    if (trace_by_default && conditional(nr)) continue;  // it stops always
    const uint32_t action = trace_by_default ? SCMP_ACT_ALLOW : trace;
    check(seccomp_rule_add_exact(ctx.get(), action, static_cast<int>(nr), 0), "seccomp_rule_add");
  }
  for (const ArgMatch& m : spec.traced_when) {
    const bool always = static_cast<size_t>(m.nr) < spec.traced.size() && spec.traced[m.nr];
    if (trace_by_default || always) continue;
    check(seccomp_rule_add_exact(ctx.get(), trace, m.nr, 1,
                                 SCMP_CMP(m.arg, SCMP_CMP_MASKED_EQ, m.mask, m.value)),
          "seccomp_rule_add (argument)");
  }
  // libseccomp exports only to a file descriptor.
  const int fd = memfd_create("hytrace-filter", MFD_CLOEXEC);
  if (fd < 0) throw std::runtime_error(fmt::format("memfd_create failed: errno {}", errno));
  const int rc = seccomp_export_bpf(ctx.get(), fd);
  const off_t size = lseek(fd, 0, SEEK_END);
  Program out(rc == 0 && size > 0 ? size / sizeof(Instruction) : 0);
  const bool ok = rc == 0 && size > 0 && pread(fd, out.data(), size, 0) == size;
  close(fd);
  if (!ok) throw std::runtime_error("libseccomp: seccomp_export_bpf failed");
  return out;
}

bool is_traced_return(const Instruction& ins) {
  return ins.code == (BPF_RET | BPF_K) && ins.k == (SECCOMP_RET_TRACE | kTracedSyscall);
}

// Appends the instruction-pointer check and points every traced return of
// `body` at it (cBPF jumps are relative, so the body can move as a whole).
void allow_from(Program& body, uint64_t ip) {
  const size_t check = body.size();
  for (size_t i = 0; i < check; ++i) {
    if (is_traced_return(body[i])) body[i] = stmt(BPF_JMP | BPF_JA, static_cast<uint32_t>(check - i - 1));
  }
  const Program epilogue = {
      stmt(BPF_LD | BPF_W | BPF_ABS, kIpOffset),
      jump(BPF_JMP | BPF_JEQ | BPF_K, static_cast<uint32_t>(ip), 0, 3),
      stmt(BPF_LD | BPF_W | BPF_ABS, kIpOffset + 4),
      jump(BPF_JMP | BPF_JEQ | BPF_K, static_cast<uint32_t>(ip >> 32), 0, 1),
      stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      stmt(BPF_RET | BPF_K, SECCOMP_RET_TRACE | kTracedSyscall),
  };
  body.insert(body.end(), epilogue.begin(), epilogue.end());
}

}  // namespace

Program build_filter(const FilterSpec& spec) {
  Program program = prologue();
  Program rest = body(spec);
  if (spec.allowed_ip) allow_from(rest, *spec.allowed_ip);
  program.insert(program.end(), rest.begin(), rest.end());
  if (program.size() > BPF_MAXINSNS) {
    throw std::runtime_error(fmt::format("seccomp program too long: {} instructions", program.size()));
  }
  return program;
}

int install(const Program& program, bool set_no_new_privs) {
  if (set_no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return errno;
  sock_fprog fprog{static_cast<unsigned short>(program.size()),
                   reinterpret_cast<sock_filter*>(const_cast<Instruction*>(program.data()))};
  // SPEC_ALLOW: installing a filter must not switch on the Speculative Store
  // Bypass mitigation for the program, which slows its own code (not only
  // its syscalls) by tens of percent.
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_SPEC_ALLOW, &fprog) != 0) {
    return errno;
  }
  return 0;
}

bool has_sys_admin() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (syscall(SYS_capget, &header, data) != 0) return false;
  return data[CAP_SYS_ADMIN / 32].effective & (1u << (CAP_SYS_ADMIN % 32));
}

}  // namespace hytrace::bpf
