// Conformance cases: reading files and directories, stat, and descriptors.
#include <fcntl.h>
#include <linux/stat.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstring>

#include "tests/conformance/cases_util.hpp"

namespace hytrace::conformance {
namespace {

using syscalls::Call;

const std::string kText = "hello, conformance";  // no canary bytes in it

Register cases({
    {"read", Expect::kSuccess, true,
     [](Arena& a, Env& e) {
       return call("read", {static_cast<uint64_t>(e.open_file("f", kText)), a.addr(100), 64});
     }},
    {"read/at_the_guard_page", Expect::kSuccess, true,
     [](Arena& a, Env& e) {
       return call("read", {static_cast<uint64_t>(e.open_file("f", kText)),
                            reinterpret_cast<uint64_t>(a.tail<char>(kText.size())), kText.size()});
     }},
    {"read/ebadf", Expect::kError, false, [](Arena& a, Env&) { return call("read", {~0ull, a.addr(0), 64}); }},
    {"pread64", Expect::kSuccess, true,
     [](Arena& a, Env& e) {
       return call("pread64", {static_cast<uint64_t>(e.open_file("f", kText)), a.addr(8), 64, 3});
     }},
    {"pread64/einval", Expect::kError, false,
     [](Arena& a, Env& e) {
       return call("pread64", {static_cast<uint64_t>(e.open_file("f", kText)), a.addr(8), 64, ~0ull});
     }},
    {"readv", Expect::kSuccess, true,
     [](Arena& a, Env& e) {
       auto* iov = a.at<struct iovec>(0);
       iov[0] = {a.at(256), 5};
       iov[1] = {a.at(512), 100};
       return call("readv", {static_cast<uint64_t>(e.open_file("f", kText)), a.addr(0), 2});
     }},
    {"readv/ebadf", Expect::kError, false,
     [](Arena& a, Env&) {
       *a.at<struct iovec>(0) = {a.at(256), 5};
       return call("readv", {~0ull, a.addr(0), 1});
     }},
    {"preadv", Expect::kSuccess, true,
     [](Arena& a, Env& e) {
       auto* iov = a.at<struct iovec>(0);
       iov[0] = {a.at(256), 3};
       iov[1] = {a.at(512), 100};
       return call("preadv", {static_cast<uint64_t>(e.open_file("f", kText)), a.addr(0), 2, 2, 0});
     }},
    {"preadv2", Expect::kSuccess, true,
     [](Arena& a, Env& e) {
       auto* iov = a.at<struct iovec>(0);
       iov[0] = {a.at(256), 3};
       iov[1] = {a.at(512), 100};
       return call("preadv2", {static_cast<uint64_t>(e.open_file("f", kText)), a.addr(0), 2, 1, 0, 0});
     }},
    {"getdents64", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       e.file("one", "1");
       e.file("two", "2");
       const int dir = e.keep(::open(e.dir().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
       return call("getdents64", {static_cast<uint64_t>(dir), a.addr(0), 4096});
     }},
    {"getdents64/enotdir", Expect::kError, false,
     [](Arena& a, Env& e) {
       return call("getdents64", {static_cast<uint64_t>(e.open_file("f", kText)), a.addr(0), 4096});
     }},
    {"getdents", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       e.file("one", "1");
       const int dir = e.keep(::open(e.dir().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
       return call("getdents", {static_cast<uint64_t>(dir), a.addr(0), 4096});
     }},
    {"getcwd", Expect::kSuccess, true, [](Arena& a, Env&) { return call("getcwd", {a.addr(0), 4096}); }},
    {"getcwd/erange", Expect::kError, false, [](Arena& a, Env&) { return call("getcwd", {a.addr(0), 1}); }},
    {"readlink", Expect::kSuccess, true,
     [](Arena& a, Env& e) {
       const std::string link = e.path("link");
       ::symlink("/some/target", link.c_str());
       return call("readlink", {put_string(a, 0, link), a.addr(1024), 100});
     }},
    {"readlink/short_buffer", Expect::kSuccess, true,
     [](Arena& a, Env& e) {
       const std::string link = e.path("link");
       ::symlink("/some/target", link.c_str());
       return call("readlink", {put_string(a, 0, link), a.addr(1024), 4});
     }},
    {"readlinkat", Expect::kSuccess, true,
     [](Arena& a, Env& e) {
       const std::string link = e.path("link");
       ::symlink("/some/target", link.c_str());
       return call("readlinkat", {kAtFdCwd, put_string(a, 0, link), a.addr(1024), 100});
     }},
    {"readlink/einval", Expect::kError, false,
     [](Arena& a, Env& e) { return call("readlink", {put_string(a, 0, e.file("f", kText)), a.addr(1024), 100}); }},
    {"fstat", Expect::kSuccess, true,
     [](Arena& a, Env& e) { return call("fstat", {static_cast<uint64_t>(e.open_file("f", kText)), a.addr(0)}); }},
    {"fstat/ebadf", Expect::kError, false, [](Arena& a, Env&) { return call("fstat", {~0ull, a.addr(0)}); }},
    {"stat", Expect::kSuccess, true,
     [](Arena& a, Env& e) { return call("stat", {put_string(a, 0, e.file("f", kText)), a.addr(1024)}); }},
    {"lstat", Expect::kSuccess, true,
     [](Arena& a, Env& e) { return call("lstat", {put_string(a, 0, e.file("f", kText)), a.addr(1024)}); }},
    {"stat/enoent", Expect::kError, false,
     [](Arena& a, Env& e) { return call("stat", {put_string(a, 0, e.path("missing")), a.addr(1024)}); }},
    {"newfstatat", Expect::kSuccess, true,
     [](Arena& a, Env& e) {
       return call("newfstatat", {kAtFdCwd, put_string(a, 0, e.file("f", kText)), a.addr(1024), 0});
     }},
    {"statx", Expect::kSuccess, true,
     [](Arena& a, Env& e) {
       return call("statx", {kAtFdCwd, put_string(a, 0, e.file("f", kText)), 0, STATX_ALL, a.addr(1024)});
     }},
    {"statx/enoent", Expect::kError, false,
     [](Arena& a, Env& e) {
       return call("statx", {kAtFdCwd, put_string(a, 0, e.path("missing")), 0, STATX_ALL, a.addr(1024)});
     }},
    {"statfs", Expect::kSuccess, true,
     [](Arena& a, Env& e) { return call("statfs", {put_string(a, 0, e.dir()), a.addr(1024)}); }},
    {"fstatfs", Expect::kSuccess, true,
     [](Arena& a, Env& e) { return call("fstatfs", {static_cast<uint64_t>(e.open_file("f", kText)), a.addr(0)}); }},
    // The two new descriptors are closed after the run.
    {"pipe2", Expect::kSuccess, true,
     [](Arena& a, Env& e) {
       next_fds(e, 2);
       return call("pipe2", {a.addr(0), O_CLOEXEC});
     }},
    {"pipe2/einval", Expect::kError, false, [](Arena& a, Env&) { return call("pipe2", {a.addr(0), ~0ull}); }},
    {"pipe", Expect::kSuccess, true,
     [](Arena& a, Env& e) {
       next_fds(e, 2);
       return call("pipe", {a.addr(0)});
     }},
    {"ioctl/fionread", Expect::kSuccess, true,
     [](Arena& a, Env& e) {
       auto [r, w] = e.pipe_pair();
       (void)!::write(w, "abc", 3);
       return call("ioctl", {static_cast<uint64_t>(r), FIONREAD, a.addr(0)});
     }},
    {"ioctl/tcgets_enotty", Expect::kError, false,
     [](Arena& a, Env& e) {
       return call("ioctl", {static_cast<uint64_t>(e.pipe_pair().first), TCGETS, a.addr(0)});
     }},
    {"fcntl/getlk", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       auto* lock = a.at<struct flock>(0);
       std::memset(lock, 0, sizeof *lock);
       lock->l_type = F_RDLCK;
       lock->l_whence = SEEK_SET;
       return call("fcntl", {static_cast<uint64_t>(e.open_file("f", kText)), F_GETLK, a.addr(0)});
     }},
    {"fcntl/getown_ex", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       return call("fcntl", {static_cast<uint64_t>(e.open_file("f", kText)), F_GETOWN_EX, a.addr(0)});
     }},
    {"getxattr/enodata", Expect::kError, false,
     [](Arena& a, Env& e) {
       put_string(a, 512, "user.none");
       return call("getxattr", {put_string(a, 0, e.file("f", kText)), a.addr(512), a.addr(1024), 64});
     }},
    {"mincore", Expect::kSuccess, true,
     [](Arena& a, Env&) { return call("mincore", {a.addr(0), 3 * Arena::kPage, a.addr(3 * Arena::kPage)}); }},
    // Error paths of the calls above.
    {"mincore/einval", Expect::kError, false,
     [](Arena& a, Env&) { return call("mincore", {a.addr(1), Arena::kPage, a.addr(3 * Arena::kPage)}); }},
    // A mapping with a hole after its first page: the kernel stores that
    // page's byte, then fails with ENOMEM at the hole.
    {"mincore/enomem_after_a_page", Expect::kError, false,
     [](Arena& a, Env&) {
       const size_t len = 3 * Arena::kPage;
       auto* p = static_cast<uint8_t*>(::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
       ::munmap(p + Arena::kPage, Arena::kPage);
       p[0] = 1;
       leftovers().tidy();
       leftovers().add([p, len] { ::munmap(p, len); });
       return call("mincore", {reinterpret_cast<uint64_t>(p), len, a.addr(0)});
     }},
    {"preadv/einval", Expect::kError, false,
     [](Arena& a, Env& e) {
       *a.at<struct iovec>(0) = {a.at(256), 3};
       return call("preadv", {static_cast<uint64_t>(e.open_file("f", kText)), a.addr(0), 1, ~0ull, ~0ull});
     }},
    {"preadv2/eopnotsupp", Expect::kError, false,
     [](Arena& a, Env& e) {
       *a.at<struct iovec>(0) = {a.at(256), 3};
       return call("preadv2", {static_cast<uint64_t>(e.open_file("f", kText)), a.addr(0), 1, 0, 0, 0x40000000});
     }},
    {"getdents/enotdir", Expect::kError, false,
     [](Arena& a, Env& e) { return call("getdents", {static_cast<uint64_t>(e.open_file("f", kText)), a.addr(0), 4096}); }},
    {"readlinkat/einval", Expect::kError, false,
     [](Arena& a, Env& e) { return call("readlinkat", {kAtFdCwd, put_string(a, 0, e.file("f", kText)), a.addr(1024), 100}); }},
    {"lstat/enoent", Expect::kError, false,
     [](Arena& a, Env& e) { return call("lstat", {put_string(a, 0, e.path("missing")), a.addr(1024)}); }},
    {"newfstatat/einval", Expect::kError, false,
     [](Arena& a, Env& e) {
       return call("newfstatat", {kAtFdCwd, put_string(a, 0, e.file("f", kText)), a.addr(1024), 0x40000000});
     }},
    {"statfs/enoent", Expect::kError, false,
     [](Arena& a, Env& e) { return call("statfs", {put_string(a, 0, e.path("missing")), a.addr(1024)}); }},
    {"fstatfs/ebadf", Expect::kError, false, [](Arena& a, Env&) { return call("fstatfs", {~0ull, a.addr(0)}); }},
});

}  // namespace
}  // namespace hytrace::conformance
