// Conformance cases: prctl and arch_prctl commands, seccomp's queries, the
// caller's own memory through process_vm_*, move_pages and process_madvise,
// the kernel log, ustat, and the LSM calls.
#include <asm/prctl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

#include "tests/conformance/cases_util.hpp"

namespace hytrace::conformance {
namespace {

constexpr uint64_t kPrGetAuxv = 0x41555856;

// Memory of the test process outside the arena, for the remote side of
// process_vm_readv (read only) and process_vm_writev (written only), the
// caller itself.
const char g_remote_source[64] = "remote bytes the kernel copies";
char g_remote_sink[64];

// iovecs at arena offset 0 (local: 256.. and 512..) and 64 (remote).
uint64_t put_vm_iovecs(Arena& a, bool writing) {
  auto* local = a.at<struct iovec>(0);
  if (writing) std::memcpy(a.at(256), "local", 5);
  local[0] = {a.at(256), 4};
  local[1] = {a.at(512), 40};
  *a.at<struct iovec>(64) = {writing ? g_remote_sink : const_cast<char*>(g_remote_source), 20};
  return a.addr(0);
}

// The arena's pages 1 and 2, for move_pages and process_madvise.
uint64_t put_pages(Arena& a) {
  auto* pages = a.at<void*>(0);
  pages[0] = a.at(Arena::kPage);
  pages[1] = a.at(2 * Arena::kPage);
  return a.addr(0);
}

// A device for ustat: that of /proc, whose st_dev is its superblock's on
// every file system layout (unlike btrfs subvolumes).
uint64_t proc_dev() {
  struct stat st {};
  ::stat("/proc", &st);
  return st.st_dev;
}

// The host and domain names are set in a UTS namespace of the test
// process's own (unshare, which needs root): the machine's stay as they are.
void own_uts_namespace() {
  static const bool done = [] {
    if (::unshare(CLONE_NEWUTS) != 0) {
      throw std::runtime_error("unshare(CLONE_NEWUTS) failed: the name cases need root");
    }
    return true;
  }();
  (void)done;
}

Register cases({
    // prctl.
    {"prctl/get_tid_address", Expect::kSuccess, true,
     [](Arena& a, Env&) { return call("prctl", {u(PR_GET_TID_ADDRESS), a.addr(0), 0, 0, 0}); }},
    {"prctl/get_child_subreaper", Expect::kSuccess, true,
     [](Arena& a, Env&) { return call("prctl", {u(PR_GET_CHILD_SUBREAPER), a.addr(0), 0, 0, 0}); }},
    {"prctl/get_tsc", Expect::kSuccess, true,
     [](Arena& a, Env&) { return call("prctl", {u(PR_GET_TSC), a.addr(0), 0, 0, 0}); }},
    // x86 has no unaligned-access control.
    {"prctl/get_unalign_einval", Expect::kError, false,
     [](Arena& a, Env&) { return call("prctl", {u(PR_GET_UNALIGN), a.addr(0), 0, 0, 0}); }},
    // The thread's name, set to what it is.
    {"prctl/set_name", Expect::kSuccess, false,
     [](Arena& a, Env&) {
       ::prctl(PR_GET_NAME, a.at(0));
       return call("prctl", {u(PR_SET_NAME), a.addr(0), 0, 0, 0});
     }},
    // The saved auxv: its full size is the result; the kernel copies at most a2.
    {"prctl/get_auxv", Expect::kSuccess, true,
     [](Arena& a, Env&) { return call("prctl", {kPrGetAuxv, a.addr(0), 4096, 0, 0}); }},
    {"prctl/get_auxv_short", Expect::kSuccess, true,
     [](Arena& a, Env&) { return call("prctl", {kPrGetAuxv, a.addr(0), 40, 0, 0}); }},
    {"prctl/get_auxv_einval", Expect::kError, false,
     [](Arena& a, Env&) { return call("prctl", {kPrGetAuxv, a.addr(0), 4096, 1, 0}); }},
    {"prctl/get_dumpable", Expect::kSuccess, false,
     [](Arena&, Env&) { return call("prctl", {u(PR_GET_DUMPABLE), 0, 0, 0, 0}); }},
    // arch_prctl.
    {"arch_prctl/get_gs", Expect::kSuccess, true,
     [](Arena& a, Env&) { return call("arch_prctl", {ARCH_GET_GS, a.addr(0)}); }},
    {"arch_prctl/get_xcomp_supp", Expect::kSuccess, true,
     [](Arena& a, Env&) { return call("arch_prctl", {0x1021, a.addr(0)}); }},  // ARCH_GET_XCOMP_SUPP
    {"arch_prctl/get_xcomp_perm", Expect::kSuccess, true,
     [](Arena& a, Env&) { return call("arch_prctl", {0x1022, a.addr(0)}); }},  // ARCH_GET_XCOMP_PERM
    {"arch_prctl/get_xcomp_guest_perm", Expect::kSuccess, true,
     [](Arena& a, Env&) { return call("arch_prctl", {0x1024, a.addr(0)}); }},  // ARCH_GET_XCOMP_GUEST_PERM
    {"arch_prctl/get_cpuid", Expect::kSuccess, false, [](Arena&, Env&) { return call("arch_prctl", {0x1011, 0}); }},
    // A feature number past the last one: refused before anything is granted.
    {"arch_prctl/req_xcomp_perm_einval", Expect::kError, false,
     [](Arena&, Env&) { return call("arch_prctl", {0x1023, 999}); }},  // ARCH_REQ_XCOMP_PERM
    // seccomp's queries.
    {"seccomp/get_notif_sizes", Expect::kSuccess, true,
     [](Arena& a, Env&) { return call("seccomp", {SECCOMP_GET_NOTIF_SIZES, 0, a.addr(0)}); }},
    {"seccomp/get_notif_sizes_einval", Expect::kError, false,
     [](Arena& a, Env&) { return call("seccomp", {SECCOMP_GET_NOTIF_SIZES, 1, a.addr(0)}); }},
    {"seccomp/get_action_avail", Expect::kSuccess, false,
     [](Arena& a, Env&) {
       *a.at<uint32_t>(0) = SECCOMP_RET_KILL_PROCESS;
       return call("seccomp", {SECCOMP_GET_ACTION_AVAIL, 0, a.addr(0)});
     }},
    {"seccomp/get_action_avail_eopnotsupp", Expect::kError, false,
     [](Arena& a, Env&) {
       *a.at<uint32_t>(0) = 0x00120000;
       return call("seccomp", {SECCOMP_GET_ACTION_AVAIL, 0, a.addr(0)});
     }},
    // The caller's own memory: local buffers filled, remote ones read.
    {"process_vm_readv", Expect::kSuccess, true,
     [](Arena& a, Env&) {
       return call("process_vm_readv", {u(::getpid()), put_vm_iovecs(a, false), 2, a.addr(64), 1, 0});
     }},
    {"process_vm_readv/einval", Expect::kError, false,
     [](Arena& a, Env&) {
       return call("process_vm_readv", {u(::getpid()), put_vm_iovecs(a, false), 2, a.addr(64), 1, 1});
     }},
    {"process_vm_writev", Expect::kSuccess, false,
     [](Arena& a, Env&) {
       return call("process_vm_writev", {u(::getpid()), put_vm_iovecs(a, true), 1, a.addr(64), 1, 0});
     }},
    {"process_vm_writev/einval", Expect::kError, false,
     [](Arena& a, Env&) {
       return call("process_vm_writev", {u(::getpid()), put_vm_iovecs(a, true), 1, a.addr(64), 1, 1});
     }},
    // The node of each page, stored in status (nodes NULL: nothing moves).
    {"move_pages", Expect::kSuccess, true,
     [](Arena& a, Env&) { return call("move_pages", {0, 2, put_pages(a), 0, a.addr(256), 0}); }},
    {"move_pages/einval", Expect::kError, false,
     [](Arena& a, Env&) { return call("move_pages", {0, 2, put_pages(a), 0, a.addr(256), 0x10}); }},
    // MADV_COLD on the arena's page 1: the page stays as it is.
    {"process_madvise", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       *a.at<struct iovec>(0) = {a.at(Arena::kPage), Arena::kPage};
       const int pidfd = e.keep(static_cast<int>(::syscall(SYS_pidfd_open, ::getpid(), 0)));
       return call("process_madvise", {u(pidfd), a.addr(0), 1, u(MADV_COLD), 0});
     }},
    {"process_madvise/einval", Expect::kError, false,
     [](Arena& a, Env& e) {
       *a.at<struct iovec>(0) = {a.at(Arena::kPage), Arena::kPage};
       const int pidfd = e.keep(static_cast<int>(::syscall(SYS_pidfd_open, ::getpid(), 0)));
       return call("process_madvise", {u(pidfd), a.addr(0), 1, u(MADV_COLD), 1});
     }},
    // The kernel log, read without clearing it (needs CAP_SYSLOG where
    // dmesg_restrict is set). Not exact: messages may arrive between runs.
    {"syslog/read_all", Expect::kSuccess, false, [](Arena& a, Env&) { return call("syslog", {3, a.addr(0), 2048}); }},
    // SYSLOG_ACTION_SIZE_BUFFER returns a size and leaves the buffer alone
    // (the row describes ret bytes: more than is written, never less).
    {"syslog/size_buffer", Expect::kSuccess, false,
     [](Arena& a, Env&) { return call("syslog", {10, a.addr(0), 2048}); }},
    {"syslog/einval", Expect::kError, false, [](Arena& a, Env&) { return call("syslog", {99, a.addr(0), 2048}); }},
    {"ustat", Expect::kSuccess, true, [](Arena& a, Env&) { return call("ustat", {proc_dev(), a.addr(0)}); }},
    {"ustat/einval", Expect::kError, false, [](Arena& a, Env&) { return call("ustat", {0xffffffff, a.addr(0)}); }},
    {"sethostname", Expect::kSuccess, false,
     [](Arena& a, Env&) {
       own_uts_namespace();
       return call("sethostname", {put_string(a, 0, "hytrace-conformance"), 19});
     }},
    {"sethostname/einval", Expect::kError, false,
     [](Arena& a, Env&) {
       own_uts_namespace();
       return call("sethostname", {put_string(a, 0, std::string(70, 'h')), 70});
     }},
    {"setdomainname", Expect::kSuccess, false,
     [](Arena& a, Env&) {
       own_uts_namespace();
       return call("setdomainname", {put_string(a, 0, "conformance.invalid"), 19});
     }},
    {"setdomainname/einval", Expect::kError, false,
     [](Arena& a, Env&) {
       own_uts_namespace();
       return call("setdomainname", {put_string(a, 0, std::string(70, 'd')), 70});
     }},
    // The LSMs' ids; the size the kernel needs is stored on E2BIG too.
    {"lsm_list_modules", Expect::kSuccess, false,
     [](Arena& a, Env&) {
       *a.at<uint32_t>(512) = 256;
       return call("lsm_list_modules", {a.addr(0), a.addr(512), 0});
     }},
    {"lsm_list_modules/e2big", Expect::kError, false,
     [](Arena& a, Env&) {
       *a.at<uint32_t>(512) = 0;
       return call("lsm_list_modules", {a.addr(0), a.addr(512), 0});
     }},
    // Only an error path: whether the call succeeds depends on which LSMs
    // run (EOPNOTSUPP where none has a current attribute).
    {"lsm_get_self_attr/einval", Expect::kError, false,
     [](Arena& a, Env&) {
       *a.at<uint32_t>(2048) = 1024;
       return call("lsm_get_self_attr", {100, a.addr(0), a.addr(2048), 0x40000000});
     }},
});

}  // namespace
}  // namespace hytrace::conformance
