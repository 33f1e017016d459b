// Conformance cases: writing and copying between descriptors, fcntl and
// ioctl commands, notification and polling descriptors, and the mount
// queries (nothing is mounted: the calls only look or open).
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/stat.h>
#include <net/if.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/fanotify.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstring>

#include "tests/conformance/cases_util.hpp"

namespace hytrace::conformance {
namespace {

const std::string kText = "contents of the file";

int fd_of(Env& e) { return e.open_file("f", kText); }

// Two iovecs over arena bytes 256.. and 512.. (what the kernel reads).
uint64_t put_iov(Arena& a) {
  auto* iov = a.at<struct iovec>(0);
  std::memcpy(a.at(256), "abc", 3);
  std::memcpy(a.at(512), "defgh", 5);
  iov[0] = {a.at(256), 3};
  iov[1] = {a.at(512), 5};
  return a.addr(0);
}

// struct flock at arena offset 0.
uint64_t put_flock(Arena& a, short type, pid_t pid = 0) {
  auto* l = a.at<struct flock>(0);
  std::memset(l, 0, sizeof *l);
  l->l_type = type;
  l->l_whence = SEEK_SET;
  l->l_pid = pid;
  return a.addr(0);
}

// The unique mount id of "/" (statx STATX_MNT_ID_UNIQUE).
uint64_t root_mount_id() {
  struct statx stx {};
  make(call("statx", {kAtFdCwd, reinterpret_cast<uint64_t>("/"), 0, 0x4000, reinterpret_cast<uint64_t>(&stx)}));
  return stx.stx_mnt_id;
}

// struct mnt_id_req (version 0, 24 bytes) at arena offset 0.
uint64_t put_mnt_id_req(Arena& a, uint64_t mnt_id, uint64_t param) {
  auto* r = a.at<uint64_t>(0);
  r[0] = 24;  // size, and the spare word
  r[1] = mnt_id;
  r[2] = param;
  return a.addr(0);
}
constexpr uint64_t kListmountRoot = ~0ull;  // LSMT_ROOT

int epoll_with_ready_pipe(Env& e) {
  auto [r, w] = e.pipe_pair();
  (void)!::write(w, "x", 1);
  const int ep = e.keep(::epoll_create1(EPOLL_CLOEXEC));
  struct epoll_event ev = {EPOLLIN, {.u64 = 0x1122334455667788}};
  ::epoll_ctl(ep, EPOLL_CTL_ADD, r, &ev);
  return ep;
}

Register cases({
    // The kernel only reads these buffers: nothing in the arena changes.
    {"write", Expect::kSuccess, false,
     [](Arena& a, Env& e) { return call("write", {u(fd_of(e)), put_string(a, 64, "written"), 7}); }},
    {"write/ebadf", Expect::kError, false, [](Arena& a, Env&) { return call("write", {~0ull, a.addr(64), 7}); }},
    {"pwrite64", Expect::kSuccess, false,
     [](Arena& a, Env& e) { return call("pwrite64", {u(fd_of(e)), put_string(a, 64, "written"), 7, 4}); }},
    {"pwrite64/einval", Expect::kError, false,
     [](Arena& a, Env& e) { return call("pwrite64", {u(fd_of(e)), a.addr(64), 7, u(-1)}); }},
    {"writev", Expect::kSuccess, false, [](Arena& a, Env& e) { return call("writev", {u(fd_of(e)), put_iov(a), 2}); }},
    {"writev/ebadf", Expect::kError, false, [](Arena& a, Env&) { return call("writev", {~0ull, put_iov(a), 2}); }},
    {"pwritev", Expect::kSuccess, false,
     [](Arena& a, Env& e) { return call("pwritev", {u(fd_of(e)), put_iov(a), 2, 1, 0}); }},
    {"pwritev/einval", Expect::kError, false,
     [](Arena& a, Env& e) { return call("pwritev", {u(fd_of(e)), put_iov(a), 2, u(-1), u(-1)}); }},
    {"pwritev2", Expect::kSuccess, false,
     [](Arena& a, Env& e) { return call("pwritev2", {u(fd_of(e)), put_iov(a), 2, 1, 0, 0}); }},
    {"pwritev2/eopnotsupp", Expect::kError, false,
     [](Arena& a, Env& e) { return call("pwritev2", {u(fd_of(e)), put_iov(a), 2, 1, 0, 0x40000000}); }},
    // Offsets the kernel reads and stores back.
    {"sendfile", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       *a.at<off_t>(0) = 2;
       return call("sendfile", {u(e.pipe_pair().second), u(fd_of(e)), a.addr(0), 5});
     }},
    {"sendfile/ebadf", Expect::kError, false,
     [](Arena& a, Env& e) {
       *a.at<off_t>(0) = 2;
       return call("sendfile", {~0ull, u(fd_of(e)), a.addr(0), 5});
     }},
    {"splice", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       *a.at<loff_t>(0) = 3;
       return call("splice", {u(fd_of(e)), a.addr(0), u(e.pipe_pair().second), 0, 6, 0});
     }},
    {"splice/einval", Expect::kError, false,
     [](Arena& a, Env& e) {
       *a.at<loff_t>(0) = 3;
       *a.at<loff_t>(64) = 0;
       return call("splice", {u(fd_of(e)), a.addr(0), u(e.open_file("g", "")), a.addr(64), 6, 0});
     }},
    {"copy_file_range", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       *a.at<loff_t>(0) = 1;
       *a.at<loff_t>(64) = 0;
       return call("copy_file_range", {u(fd_of(e)), a.addr(0), u(e.open_file("g", "")), a.addr(64), 6, 0});
     }},
    {"copy_file_range/einval", Expect::kError, false,
     [](Arena& a, Env& e) {
       *a.at<loff_t>(0) = 1;
       *a.at<loff_t>(64) = 0;
       return call("copy_file_range", {u(fd_of(e)), a.addr(0), u(e.open_file("g", "")), a.addr(64), 6, 1});
     }},
    // struct cachestat_range {off, len} in, struct cachestat out.
    {"cachestat", Expect::kSuccess, true,
     [](Arena& a, Env& e) {
       auto* range = a.at<uint64_t>(0);
       range[0] = range[1] = 0;
       return call("cachestat", {u(fd_of(e)), a.addr(0), a.addr(64), 0});
     }},
    {"cachestat/einval", Expect::kError, false,
     [](Arena& a, Env& e) {
       auto* range = a.at<uint64_t>(0);
       range[0] = range[1] = 0;
       return call("cachestat", {u(fd_of(e)), a.addr(0), a.addr(64), 1});
     }},
    {"memfd_create", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       const uint64_t name = put_string(a, 0, "hytrace");
       next_fd(e);
       return call("memfd_create", {name, u(MFD_CLOEXEC)});
     }},
    {"memfd_create/einval", Expect::kError, false,
     [](Arena& a, Env&) { return call("memfd_create", {put_string(a, 0, std::string(300, 'n')), 0}); }},
    // fcntl commands with memory.
    {"fcntl/ofd_getlk", Expect::kSuccess, false,
     [](Arena& a, Env& e) { return call("fcntl", {u(fd_of(e)), u(F_OFD_GETLK), put_flock(a, F_RDLCK)}); }},
    {"fcntl/ofd_getlk_einval", Expect::kError, false,
     [](Arena& a, Env& e) { return call("fcntl", {u(fd_of(e)), u(F_OFD_GETLK), put_flock(a, F_RDLCK, 1)}); }},
    // Another open file description holds a write lock: the kernel
    // describes it (l_pid -1 for OFD locks).
    {"fcntl/ofd_getlk_conflict", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       const int holder = fd_of(e);
       struct flock l {};
       l.l_type = F_WRLCK;
       ::fcntl(holder, F_OFD_SETLK, &l);
       const int other = e.keep(::open(e.path("f").c_str(), O_RDWR | O_CLOEXEC));
       return call("fcntl", {u(other), u(F_OFD_GETLK), put_flock(a, F_RDLCK)});
     }},
    {"fcntl/setlk", Expect::kSuccess, false,
     [](Arena& a, Env& e) { return call("fcntl", {u(fd_of(e)), u(F_SETLK), put_flock(a, F_WRLCK)}); }},
    {"fcntl/setlk_einval", Expect::kError, false,
     [](Arena& a, Env& e) { return call("fcntl", {u(fd_of(e)), u(F_SETLK), put_flock(a, 99)}); }},
    {"fcntl/getlk_ebadf", Expect::kError, false,
     [](Arena& a, Env&) { return call("fcntl", {~0ull, u(F_GETLK), put_flock(a, F_RDLCK)}); }},
    {"fcntl/setown_ex", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       *a.at<struct f_owner_ex>(0) = {F_OWNER_PID, ::getpid()};
       return call("fcntl", {u(fd_of(e)), u(F_SETOWN_EX), a.addr(0)});
     }},
    {"fcntl/setown_ex_einval", Expect::kError, false,
     [](Arena& a, Env& e) {
       *a.at<struct f_owner_ex>(0) = {static_cast<__pid_type>(99), ::getpid()};
       return call("fcntl", {u(fd_of(e)), u(F_SETOWN_EX), a.addr(0)});
     }},
    {"fcntl/getowner_uids", Expect::kSuccess, true,
     [](Arena& a, Env& e) { return call("fcntl", {u(fd_of(e)), 17, a.addr(0)}); }},  // F_GETOWNER_UIDS
    {"fcntl/get_rw_hint", Expect::kSuccess, true,
     [](Arena& a, Env& e) { return call("fcntl", {u(fd_of(e)), 1035, a.addr(0)}); }},  // F_GET_RW_HINT
    {"fcntl/set_rw_hint", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       *a.at<uint64_t>(0) = 2;  // RWH_WRITE_LIFE_SHORT
       return call("fcntl", {u(fd_of(e)), 1036, a.addr(0)});
     }},
    {"fcntl/set_rw_hint_einval", Expect::kError, false,
     [](Arena& a, Env& e) {
       *a.at<uint64_t>(0) = 99;
       return call("fcntl", {u(fd_of(e)), 1036, a.addr(0)});
     }},
    // ioctl commands with memory.
    {"ioctl/fionbio", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       *a.at<int>(0) = 1;
       return call("ioctl", {u(e.socket_pair(SOCK_STREAM).first), FIONBIO, a.addr(0)});
     }},
    {"ioctl/fioqsize", Expect::kSuccess, true,
     [](Arena& a, Env& e) { return call("ioctl", {u(fd_of(e)), FIOQSIZE, a.addr(0)}); }},
    {"ioctl/fioqsize_enotty", Expect::kError, false,
     [](Arena& a, Env& e) { return call("ioctl", {u(e.pipe_pair().first), FIOQSIZE, a.addr(0)}); }},
    {"ioctl/fiogetown", Expect::kSuccess, true,
     [](Arena& a, Env& e) { return call("ioctl", {u(e.socket_pair(SOCK_STREAM).first), FIOGETOWN, a.addr(0)}); }},
    {"ioctl/siocgifindex", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       std::memset(a.at(0), 0, sizeof(struct ifreq));
       std::strcpy(a.at<struct ifreq>(0)->ifr_name, "lo");
       return call("ioctl", {u(e.socket_pair(SOCK_DGRAM).first), SIOCGIFINDEX, a.addr(0)});
     }},
    {"ioctl/siocgifindex_enodev", Expect::kError, false,
     [](Arena& a, Env& e) {
       std::memset(a.at(0), 0, sizeof(struct ifreq));
       std::strcpy(a.at<struct ifreq>(0)->ifr_name, "nosuchif0");
       return call("ioctl", {u(e.socket_pair(SOCK_DGRAM).first), SIOCGIFINDEX, a.addr(0)});
     }},
    // _IOR('f', 1, long): the size says 8 bytes; file systems store an int.
    {"ioctl/fs_ioc_getflags", Expect::kSuccess, false,
     [](Arena& a, Env& e) { return call("ioctl", {u(fd_of(e)), FS_IOC_GETFLAGS, a.addr(0)}); }},
    // Notification descriptors.
    {"inotify_add_watch", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       const int in = e.keep(::inotify_init1(IN_CLOEXEC));
       return call("inotify_add_watch", {u(in), put_string(a, 0, e.dir()), u(IN_CREATE)});
     }},
    {"inotify_add_watch/enoent", Expect::kError, false,
     [](Arena& a, Env& e) {
       const int in = e.keep(::inotify_init1(IN_CLOEXEC));
       return call("inotify_add_watch", {u(in), put_string(a, 0, e.path("none")), u(IN_CREATE)});
     }},
    {"fanotify_mark", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       const int fan = e.keep(::fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC, O_RDONLY));
       const uint64_t path = put_string(a, 0, e.file("f", ""));
       return call("fanotify_mark", {u(fan), u(FAN_MARK_ADD), u(FAN_CLOSE_WRITE), kAtFdCwd, path});
     }},
    {"fanotify_mark/enoent", Expect::kError, false,
     [](Arena& a, Env& e) {
       const int fan = e.keep(::fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC, O_RDONLY));
       const uint64_t path = put_string(a, 0, e.path("none"));
       return call("fanotify_mark", {u(fan), u(FAN_MARK_ADD), u(FAN_CLOSE_WRITE), kAtFdCwd, path});
     }},
    // epoll and ppoll, on descriptors already ready.
    {"epoll_ctl", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       *a.at<struct epoll_event>(0) = {EPOLLIN, {.u64 = 7}};
       const int ep = e.keep(::epoll_create1(EPOLL_CLOEXEC));
       return call("epoll_ctl", {u(ep), u(EPOLL_CTL_ADD), u(e.pipe_pair().first), a.addr(0)});
     }},
    {"epoll_ctl/eexist", Expect::kError, false,
     [](Arena& a, Env& e) {
       auto* ev = a.at<struct epoll_event>(0);
       *ev = {EPOLLIN, {.u64 = 7}};
       const int ep = e.keep(::epoll_create1(EPOLL_CLOEXEC));
       const int r = e.pipe_pair().first;
       ::epoll_ctl(ep, EPOLL_CTL_ADD, r, ev);
       return call("epoll_ctl", {u(ep), u(EPOLL_CTL_ADD), u(r), a.addr(0)});
     }},
    {"epoll_pwait", Expect::kSuccess, true,
     [](Arena& a, Env& e) {
       *a.at<uint64_t>(1024) = 0;  // the mask during the wait
       return call("epoll_pwait", {u(epoll_with_ready_pipe(e)), a.addr(0), 8, 0, a.addr(1024), 8});
     }},
    {"epoll_pwait/einval", Expect::kError, false,
     [](Arena& a, Env& e) {
       *a.at<uint64_t>(1024) = 0;
       return call("epoll_pwait", {u(epoll_with_ready_pipe(e)), a.addr(0), 8, 0, a.addr(1024), 4});
     }},
    {"epoll_pwait2", Expect::kSuccess, true,
     [](Arena& a, Env& e) {
       *a.at<struct timespec>(1024) = {0, 0};
       return call("epoll_pwait2", {u(epoll_with_ready_pipe(e)), a.addr(0), 8, a.addr(1024), 0, 8});
     }},
    {"epoll_pwait2/einval", Expect::kError, false,
     [](Arena& a, Env& e) {
       *a.at<struct timespec>(1024) = {0, 2000000000};
       return call("epoll_pwait2", {u(epoll_with_ready_pipe(e)), a.addr(0), 8, a.addr(1024), 0, 8});
     }},
    // The time left is stored back (16 bytes); revents, not fd and events.
    {"ppoll", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       auto [r, w] = e.pipe_pair();
       (void)!::write(w, "x", 1);
       auto* fds = a.at<struct pollfd>(0);
       fds[0] = {r, POLLIN, 0};
       fds[1] = {w, POLLOUT, 0};
       *a.at<struct timespec>(512) = {5, 0};
       *a.at<uint64_t>(1024) = 0;
       return call("ppoll", {a.addr(0), 2, a.addr(512), a.addr(1024), 8});
     }},
    {"ppoll/einval", Expect::kError, false,
     [](Arena& a, Env& e) {
       *a.at<struct pollfd>(0) = {e.pipe_pair().first, POLLIN, 0};
       *a.at<struct timespec>(512) = {5, 0};
       *a.at<uint64_t>(1024) = 0;
       return call("ppoll", {a.addr(0), 1, a.addr(512), a.addr(1024), 4});
     }},
    // Mount queries and descriptors for mounts, changing nothing.
    {"statmount", Expect::kSuccess, false,
     [](Arena& a, Env&) {
       return call("statmount", {put_mnt_id_req(a, root_mount_id(), 0x1 | 0x2 | 0x8), a.addr(1024), 2048, 0});
     }},
    {"statmount/enoent", Expect::kError, false,
     [](Arena& a, Env&) {
       return call("statmount", {put_mnt_id_req(a, 0x7ffffffffffffff0, 0x1), a.addr(1024), 2048, 0});
     }},
    {"listmount", Expect::kSuccess, true,
     [](Arena& a, Env&) { return call("listmount", {put_mnt_id_req(a, kListmountRoot, 0), a.addr(1024), 2, 0}); }},
    {"listmount/einval", Expect::kError, false,
     [](Arena& a, Env&) {
       return call("listmount", {put_mnt_id_req(a, kListmountRoot, 0), a.addr(1024), 2, 0x40000000});
     }},
    {"open_tree", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       const uint64_t path = put_string(a, 0, e.dir());
       next_fd(e);
       return call("open_tree", {kAtFdCwd, path, u(O_CLOEXEC)});  // OPEN_TREE_CLOEXEC: no clone
     }},
    {"open_tree/enoent", Expect::kError, false,
     [](Arena& a, Env& e) { return call("open_tree", {kAtFdCwd, put_string(a, 0, e.path("none")), u(O_CLOEXEC)}); }},
    {"open_tree_attr", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       const uint64_t path = put_string(a, 0, e.dir());
       next_fd(e);
       return call("open_tree_attr", {kAtFdCwd, path, u(O_CLOEXEC), 0, 0});
     }},
    // A size without a struct. (A struct mount_attr that asks for changes
    // would change the mount even without OPEN_TREE_CLONE: not here.)
    {"open_tree_attr/einval", Expect::kError, false,
     [](Arena& a, Env& e) {
       return call("open_tree_attr", {kAtFdCwd, put_string(a, 0, e.dir()), u(O_CLOEXEC), 0, 32});
     }},
    // A file system context: nothing is mounted without fsmount and move_mount.
    {"fsopen", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       const uint64_t name = put_string(a, 0, "tmpfs");
       next_fd(e);
       return call("fsopen", {name, 1});  // FSOPEN_CLOEXEC
     }},
    {"fsopen/einval", Expect::kError, false,
     [](Arena& a, Env&) { return call("fsopen", {put_string(a, 0, "tmpfs"), 0x80}); }},
    {"fspick", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       const uint64_t root = put_string(a, 0, "/");
       next_fd(e);
       return call("fspick", {kAtFdCwd, root, 1});  // FSPICK_CLOEXEC
     }},
    // Not the root of a mount.
    {"fspick/einval", Expect::kError, false,
     [](Arena& a, Env& e) { return call("fspick", {kAtFdCwd, put_string(a, 0, e.dir()), 1}); }},
});

}  // namespace
}  // namespace hytrace::conformance
