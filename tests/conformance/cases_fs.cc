// Conformance cases: paths (access, modes, owners, links, names, times) and
// extended attributes, all under the Env's scratch directory.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <utime.h>

#include <cstring>

#include "tests/conformance/cases_util.hpp"

namespace hytrace::conformance {
namespace {

const std::string kText = "some file contents";

// Paths in the arena: the first at 0, the second at 1024, a third at 2048.
uint64_t p0(Arena& a, const std::string& s) { return put_string(a, 0, s); }
uint64_t p1(Arena& a, const std::string& s) { return put_string(a, 1024, s); }
uint64_t p2(Arena& a, const std::string& s) { return put_string(a, 2048, s); }

std::string symlink_to_file(Env& e) {
  const std::string link = e.path("link");
  ::symlink(e.file("f", kText).c_str(), link.c_str());
  return link;
}

std::string subdir(Env& e, const char* name) {
  const std::string d = e.path(name);
  ::mkdir(d.c_str(), 0700);
  return d;
}

constexpr uint64_t kNoId = static_cast<uint64_t>(-1);  // chown: leave the owner as it is

// Extended attributes: a file with user.one = "first value".
const std::string kXattrValue = "first value";
std::string file_with_xattr(Env& e) {
  const std::string f = e.file("x", kText);
  ::setxattr(f.c_str(), "user.one", kXattrValue.data(), kXattrValue.size(), 0);
  return f;
}

Register cases({
    // access and friends.
    {"access", Expect::kSuccess, false,
     [](Arena& a, Env& e) { return call("access", {p0(a, e.file("f", kText)), u(R_OK)}); }},
    {"access/enoent", Expect::kError, false,
     [](Arena& a, Env& e) { return call("access", {p0(a, e.path("none")), u(F_OK)}); }},
    {"faccessat", Expect::kSuccess, false,
     [](Arena& a, Env& e) { return call("faccessat", {kAtFdCwd, p0(a, e.file("f", kText)), u(W_OK)}); }},
    {"faccessat/enoent", Expect::kError, false,
     [](Arena& a, Env& e) { return call("faccessat", {kAtFdCwd, p0(a, e.path("none")), u(F_OK)}); }},
    {"faccessat2", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       return call("faccessat2", {kAtFdCwd, p0(a, e.file("f", kText)), u(R_OK), u(AT_EACCESS)});
     }},
    {"faccessat2/einval", Expect::kError, false,
     [](Arena& a, Env& e) { return call("faccessat2", {kAtFdCwd, p0(a, e.file("f", kText)), u(R_OK), 0x40000000}); }},
    // chdir to where the process already is: nothing changes.
    {"chdir", Expect::kSuccess, false,
     [](Arena& a, Env&) {
       char cwd[4096];
       return call("chdir", {p0(a, ::getcwd(cwd, sizeof cwd))});
     }},
    {"chdir/enotdir", Expect::kError, false,
     [](Arena& a, Env& e) { return call("chdir", {p0(a, e.file("f", kText))}); }},
    // Modes and owners (-1: the owner stays).
    {"chmod", Expect::kSuccess, false,
     [](Arena& a, Env& e) { return call("chmod", {p0(a, e.file("f", kText)), 0600}); }},
    {"chmod/enoent", Expect::kError, false,
     [](Arena& a, Env& e) { return call("chmod", {p0(a, e.path("none")), 0600}); }},
    {"fchmodat", Expect::kSuccess, false,
     [](Arena& a, Env& e) { return call("fchmodat", {kAtFdCwd, p0(a, e.file("f", kText)), 0640}); }},
    {"fchmodat/enoent", Expect::kError, false,
     [](Arena& a, Env& e) { return call("fchmodat", {kAtFdCwd, p0(a, e.path("none")), 0640}); }},
    {"fchmodat2", Expect::kSuccess, false,
     [](Arena& a, Env& e) { return call("fchmodat2", {kAtFdCwd, p0(a, e.file("f", kText)), 0640, 0}); }},
    {"fchmodat2/einval", Expect::kError, false,
     [](Arena& a, Env& e) { return call("fchmodat2", {kAtFdCwd, p0(a, e.file("f", kText)), 0640, 0x1}); }},
    {"chown", Expect::kSuccess, false,
     [](Arena& a, Env& e) { return call("chown", {p0(a, e.file("f", kText)), kNoId, kNoId}); }},
    {"chown/enoent", Expect::kError, false,
     [](Arena& a, Env& e) { return call("chown", {p0(a, e.path("none")), kNoId, kNoId}); }},
    {"lchown", Expect::kSuccess, false,
     [](Arena& a, Env& e) { return call("lchown", {p0(a, symlink_to_file(e)), kNoId, kNoId}); }},
    {"lchown/enoent", Expect::kError, false,
     [](Arena& a, Env& e) { return call("lchown", {p0(a, e.path("none")), kNoId, kNoId}); }},
    {"fchownat", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       return call("fchownat", {kAtFdCwd, p0(a, symlink_to_file(e)), kNoId, kNoId, u(AT_SYMLINK_NOFOLLOW)});
     }},
    {"fchownat/einval", Expect::kError, false,
     [](Arena& a, Env& e) {
       return call("fchownat", {kAtFdCwd, p0(a, e.file("f", kText)), kNoId, kNoId, 0x40000000});
     }},
    // Opening: the new descriptor is closed after the run.
    {"open", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       const uint64_t path = p0(a, e.file("f", kText));
       next_fd(e);
       return call("open", {path, u(O_RDONLY | O_CLOEXEC)});
     }},
    {"open/enoent", Expect::kError, false,
     [](Arena& a, Env& e) { return call("open", {p0(a, e.path("none")), u(O_RDONLY)}); }},
    {"openat", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       const uint64_t path = p0(a, e.path("new"));
       next_fd(e);
       return call("openat", {kAtFdCwd, path, u(O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC), 0600});
     }},
    {"openat/eexist", Expect::kError, false,
     [](Arena& a, Env& e) {
       return call("openat", {kAtFdCwd, p0(a, e.file("f", kText)), u(O_CREAT | O_EXCL | O_WRONLY), 0600});
     }},
    {"creat", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       const uint64_t path = p0(a, e.path("new"));
       next_fd(e);
       return call("creat", {path, 0600});
     }},
    {"creat/enoent", Expect::kError, false,
     [](Arena& a, Env& e) { return call("creat", {p0(a, e.path("none/new")), 0600}); }},
    {"openat2", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       auto* how = a.at<uint64_t>(2048);  // struct open_how: flags, mode, resolve
       how[0] = O_RDONLY | O_CLOEXEC;
       how[1] = 0;
       how[2] = 0x04;  // RESOLVE_NO_SYMLINKS
       const uint64_t path = p0(a, e.file("f", kText));
       next_fd(e);
       return call("openat2", {kAtFdCwd, path, a.addr(2048), 24});
     }},
    // A larger struct whose extra bytes are not zero (the canary): E2BIG.
    {"openat2/e2big", Expect::kError, false,
     [](Arena& a, Env& e) {
       auto* how = a.at<uint64_t>(2048);
       how[0] = O_RDONLY;
       how[1] = how[2] = 0;
       return call("openat2", {kAtFdCwd, p0(a, e.file("f", kText)), a.addr(2048), 64});
     }},
    // Links and names.
    {"link", Expect::kSuccess, false,
     [](Arena& a, Env& e) { return call("link", {p0(a, e.file("f", kText)), p1(a, e.path("g"))}); }},
    {"link/eexist", Expect::kError, false,
     [](Arena& a, Env& e) { return call("link", {p0(a, e.file("f", kText)), p1(a, e.file("g", kText))}); }},
    {"linkat", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       return call("linkat", {kAtFdCwd, p0(a, e.file("f", kText)), kAtFdCwd, p1(a, e.path("g")), 0});
     }},
    {"linkat/enoent", Expect::kError, false,
     [](Arena& a, Env& e) {
       return call("linkat", {kAtFdCwd, p0(a, e.path("none")), kAtFdCwd, p1(a, e.path("g")), 0});
     }},
    {"symlink", Expect::kSuccess, false,
     [](Arena& a, Env& e) { return call("symlink", {p0(a, "/some/target"), p1(a, e.path("l"))}); }},
    {"symlink/eexist", Expect::kError, false,
     [](Arena& a, Env& e) { return call("symlink", {p0(a, "/some/target"), p1(a, e.file("f", kText))}); }},
    {"symlinkat", Expect::kSuccess, false,
     [](Arena& a, Env& e) { return call("symlinkat", {p0(a, "target"), kAtFdCwd, p1(a, e.path("l"))}); }},
    {"symlinkat/enoent", Expect::kError, false,
     [](Arena& a, Env& e) { return call("symlinkat", {p0(a, "target"), kAtFdCwd, p1(a, e.path("none/l"))}); }},
    {"rename", Expect::kSuccess, false,
     [](Arena& a, Env& e) { return call("rename", {p0(a, e.file("f", kText)), p1(a, e.path("g"))}); }},
    {"rename/enoent", Expect::kError, false,
     [](Arena& a, Env& e) { return call("rename", {p0(a, e.path("none")), p1(a, e.path("g"))}); }},
    {"renameat", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       return call("renameat", {kAtFdCwd, p0(a, e.file("f", kText)), kAtFdCwd, p1(a, e.path("g"))});
     }},
    {"renameat/enoent", Expect::kError, false,
     [](Arena& a, Env& e) {
       return call("renameat", {kAtFdCwd, p0(a, e.path("none")), kAtFdCwd, p1(a, e.path("g"))});
     }},
    {"renameat2", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       return call("renameat2",
                   {kAtFdCwd, p0(a, e.file("f", kText)), kAtFdCwd, p1(a, e.file("g", kText)), u(RENAME_EXCHANGE)});
     }},
    {"renameat2/eexist", Expect::kError, false,
     [](Arena& a, Env& e) {
       return call("renameat2",
                   {kAtFdCwd, p0(a, e.file("f", kText)), kAtFdCwd, p1(a, e.file("g", kText)), u(RENAME_NOREPLACE)});
     }},
    {"unlink", Expect::kSuccess, false, [](Arena& a, Env& e) { return call("unlink", {p0(a, e.file("f", kText))}); }},
    {"unlink/eisdir", Expect::kError, false, [](Arena& a, Env& e) { return call("unlink", {p0(a, subdir(e, "d"))}); }},
    {"unlinkat", Expect::kSuccess, false,
     [](Arena& a, Env& e) { return call("unlinkat", {kAtFdCwd, p0(a, subdir(e, "d")), u(AT_REMOVEDIR)}); }},
    {"unlinkat/enotempty", Expect::kError, false,
     [](Arena& a, Env& e) {
       const std::string d = subdir(e, "d");
       e.file("d/f", "");
       return call("unlinkat", {kAtFdCwd, p0(a, d), u(AT_REMOVEDIR)});
     }},
    {"mkdir", Expect::kSuccess, false, [](Arena& a, Env& e) { return call("mkdir", {p0(a, e.path("d")), 0700}); }},
    {"mkdir/eexist", Expect::kError, false,
     [](Arena& a, Env& e) { return call("mkdir", {p0(a, e.file("f", kText)), 0700}); }},
    {"mkdirat", Expect::kSuccess, false,
     [](Arena& a, Env& e) { return call("mkdirat", {kAtFdCwd, p0(a, e.path("d")), 0700}); }},
    {"mkdirat/enoent", Expect::kError, false,
     [](Arena& a, Env& e) { return call("mkdirat", {kAtFdCwd, p0(a, e.path("none/d")), 0700}); }},
    {"rmdir", Expect::kSuccess, false, [](Arena& a, Env& e) { return call("rmdir", {p0(a, subdir(e, "d"))}); }},
    {"rmdir/enotdir", Expect::kError, false,
     [](Arena& a, Env& e) { return call("rmdir", {p0(a, e.file("f", kText))}); }},
    {"mknod", Expect::kSuccess, false,
     [](Arena& a, Env& e) { return call("mknod", {p0(a, e.path("fifo")), u(S_IFIFO | 0600), 0}); }},
    {"mknod/eexist", Expect::kError, false,
     [](Arena& a, Env& e) { return call("mknod", {p0(a, e.file("f", kText)), u(S_IFIFO | 0600), 0}); }},
    {"mknodat", Expect::kSuccess, false,
     [](Arena& a, Env& e) { return call("mknodat", {kAtFdCwd, p0(a, e.path("plain")), u(S_IFREG | 0600), 0}); }},
    {"mknodat/enoent", Expect::kError, false,
     [](Arena& a, Env& e) { return call("mknodat", {kAtFdCwd, p0(a, e.path("none/p")), u(S_IFREG | 0600), 0}); }},
    {"truncate", Expect::kSuccess, false,
     [](Arena& a, Env& e) { return call("truncate", {p0(a, e.file("f", kText)), 3}); }},
    {"truncate/einval", Expect::kError, false,
     [](Arena& a, Env& e) { return call("truncate", {p0(a, e.file("f", kText)), u(-1)}); }},
    // Times.
    {"utime", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       *a.at<struct utimbuf>(2048) = {1000000000, 1000000001};
       return call("utime", {p0(a, e.file("f", kText)), a.addr(2048)});
     }},
    {"utime/enoent", Expect::kError, false,
     [](Arena& a, Env& e) {
       *a.at<struct utimbuf>(2048) = {1, 2};
       return call("utime", {p0(a, e.path("none")), a.addr(2048)});
     }},
    {"utimes", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       auto* tv = a.at<struct timeval>(2048);
       tv[0] = {1000000000, 5};
       tv[1] = {1000000001, 6};
       return call("utimes", {p0(a, e.file("f", kText)), a.addr(2048)});
     }},
    {"utimes/einval", Expect::kError, false,
     [](Arena& a, Env& e) {
       auto* tv = a.at<struct timeval>(2048);
       tv[0] = {1, 2000000};  // tv_usec out of range
       tv[1] = {1, 0};
       return call("utimes", {p0(a, e.file("f", kText)), a.addr(2048)});
     }},
    {"futimesat", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       auto* tv = a.at<struct timeval>(2048);
       tv[0] = {1000000000, 5};
       tv[1] = {1000000001, 6};
       return call("futimesat", {kAtFdCwd, p0(a, e.file("f", kText)), a.addr(2048)});
     }},
    {"futimesat/enoent", Expect::kError, false,
     [](Arena& a, Env& e) { return call("futimesat", {kAtFdCwd, p0(a, e.path("none")), 0}); }},
    {"utimensat", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       auto* ts = a.at<struct timespec>(2048);
       ts[0] = {1000000000, 5};
       ts[1] = {0, UTIME_OMIT};
       return call("utimensat", {kAtFdCwd, p0(a, e.file("f", kText)), a.addr(2048), 0});
     }},
    {"utimensat/einval", Expect::kError, false,
     [](Arena& a, Env& e) {
       auto* ts = a.at<struct timespec>(2048);
       ts[0] = {1, 1000000000};  // tv_nsec out of range
       ts[1] = {1, 0};
       return call("utimensat", {kAtFdCwd, p0(a, e.file("f", kText)), a.addr(2048), 0});
     }},
    // Extended attributes (user.*: the scratch directory's file system must
    // allow them).
    {"setxattr", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       return call("setxattr", {p0(a, e.file("f", kText)), p1(a, "user.new"), p2(a, "value"), 5, 0});
     }},
    {"setxattr/enodata", Expect::kError, false,
     [](Arena& a, Env& e) {
       return call("setxattr", {p0(a, e.file("f", kText)), p1(a, "user.new"), p2(a, "value"), 5, u(XATTR_REPLACE)});
     }},
    {"lsetxattr", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       return call("lsetxattr", {p0(a, e.file("f", kText)), p1(a, "user.new"), p2(a, "value"), 5, 0});
     }},
    // No user.* attributes on a symbolic link.
    {"lsetxattr/eperm", Expect::kError, false,
     [](Arena& a, Env& e) {
       return call("lsetxattr", {p0(a, symlink_to_file(e)), p1(a, "user.new"), p2(a, "value"), 5, 0});
     }},
    {"fsetxattr", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       return call("fsetxattr", {u(e.open_file("f", kText)), p1(a, "user.new"), p2(a, "value"), 5, u(XATTR_CREATE)});
     }},
    {"fsetxattr/eexist", Expect::kError, false,
     [](Arena& a, Env& e) {
       const int fd = e.keep(::open(file_with_xattr(e).c_str(), O_RDWR | O_CLOEXEC));
       return call("fsetxattr", {u(fd), p1(a, "user.one"), p2(a, "value"), 5, u(XATTR_CREATE)});
     }},
    {"getxattr", Expect::kSuccess, true,
     [](Arena& a, Env& e) {
       return call("getxattr", {p0(a, file_with_xattr(e)), p1(a, "user.one"), a.addr(2048), 64});
     }},
    // Size 0 asks for the value's size: nothing stored.
    {"getxattr/size_query", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       return call("getxattr", {p0(a, file_with_xattr(e)), p1(a, "user.one"), a.addr(2048), 0});
     }},
    {"lgetxattr", Expect::kSuccess, true,
     [](Arena& a, Env& e) {
       return call("lgetxattr", {p0(a, file_with_xattr(e)), p1(a, "user.one"), a.addr(2048), 64});
     }},
    {"lgetxattr/enodata", Expect::kError, false,
     [](Arena& a, Env& e) {
       return call("lgetxattr", {p0(a, file_with_xattr(e)), p1(a, "user.two"), a.addr(2048), 64});
     }},
    {"fgetxattr", Expect::kSuccess, true,
     [](Arena& a, Env& e) {
       const int fd = e.keep(::open(file_with_xattr(e).c_str(), O_RDONLY | O_CLOEXEC));
       return call("fgetxattr", {u(fd), p1(a, "user.one"), a.addr(2048), 64});
     }},
    {"fgetxattr/erange", Expect::kError, false,
     [](Arena& a, Env& e) {
       const int fd = e.keep(::open(file_with_xattr(e).c_str(), O_RDONLY | O_CLOEXEC));
       return call("fgetxattr", {u(fd), p1(a, "user.one"), a.addr(2048), 2});
     }},
    {"listxattr", Expect::kSuccess, true,
     [](Arena& a, Env& e) { return call("listxattr", {p0(a, file_with_xattr(e)), a.addr(2048), 256}); }},
    {"listxattr/erange", Expect::kError, false,
     [](Arena& a, Env& e) { return call("listxattr", {p0(a, file_with_xattr(e)), a.addr(2048), 1}); }},
    {"llistxattr", Expect::kSuccess, true,
     [](Arena& a, Env& e) { return call("llistxattr", {p0(a, file_with_xattr(e)), a.addr(2048), 256}); }},
    {"llistxattr/enoent", Expect::kError, false,
     [](Arena& a, Env& e) { return call("llistxattr", {p0(a, e.path("none")), a.addr(2048), 256}); }},
    {"flistxattr", Expect::kSuccess, true,
     [](Arena& a, Env& e) {
       const int fd = e.keep(::open(file_with_xattr(e).c_str(), O_RDONLY | O_CLOEXEC));
       return call("flistxattr", {u(fd), a.addr(2048), 256});
     }},
    {"flistxattr/ebadf", Expect::kError, false,
     [](Arena& a, Env&) { return call("flistxattr", {~0ull, a.addr(2048), 256}); }},
    {"listxattrat", Expect::kSuccess, true,
     [](Arena& a, Env& e) { return call("listxattrat", {kAtFdCwd, p0(a, file_with_xattr(e)), 0, a.addr(2048), 256}); }},
    {"listxattrat/einval", Expect::kError, false,
     [](Arena& a, Env& e) {
       return call("listxattrat", {kAtFdCwd, p0(a, file_with_xattr(e)), 0x40000000, a.addr(2048), 256});
     }},
    {"removexattr", Expect::kSuccess, false,
     [](Arena& a, Env& e) { return call("removexattr", {p0(a, file_with_xattr(e)), p1(a, "user.one")}); }},
    {"removexattr/enodata", Expect::kError, false,
     [](Arena& a, Env& e) { return call("removexattr", {p0(a, file_with_xattr(e)), p1(a, "user.two")}); }},
    {"lremovexattr", Expect::kSuccess, false,
     [](Arena& a, Env& e) { return call("lremovexattr", {p0(a, file_with_xattr(e)), p1(a, "user.one")}); }},
    {"lremovexattr/enoent", Expect::kError, false,
     [](Arena& a, Env& e) { return call("lremovexattr", {p0(a, e.path("none")), p1(a, "user.one")}); }},
    {"fremovexattr", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       const int fd = e.keep(::open(file_with_xattr(e).c_str(), O_RDWR | O_CLOEXEC));
       return call("fremovexattr", {u(fd), p1(a, "user.one")});
     }},
    {"fremovexattr/enodata", Expect::kError, false,
     [](Arena& a, Env& e) { return call("fremovexattr", {u(e.open_file("f", kText)), p1(a, "user.one")}); }},
    {"removexattrat", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       return call("removexattrat", {kAtFdCwd, p0(a, file_with_xattr(e)), 0, p1(a, "user.one")});
     }},
    {"removexattrat/enodata", Expect::kError, false,
     [](Arena& a, Env& e) {
       return call("removexattrat", {kAtFdCwd, p0(a, file_with_xattr(e)), 0, p1(a, "user.two")});
     }},
    // struct file_attr (24 bytes) into a 64-byte buffer: the rest zero-filled.
    {"file_getattr", Expect::kSuccess, true,
     [](Arena& a, Env& e) { return call("file_getattr", {kAtFdCwd, p0(a, e.file("f", kText)), a.addr(2048), 64, 0}); }},
    {"file_getattr/einval", Expect::kError, false,
     [](Arena& a, Env& e) { return call("file_getattr", {kAtFdCwd, p0(a, e.file("f", kText)), a.addr(2048), 8, 0}); }},
    // Sets what file_getattr read: nothing changes.
    {"file_setattr", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       const uint64_t path = p0(a, e.file("f", kText));
       make(call("file_getattr", {kAtFdCwd, path, a.addr(2048), 24, 0}));
       return call("file_setattr", {kAtFdCwd, path, a.addr(2048), 24, 0});
     }},
    {"file_setattr/e2big", Expect::kError, false,
     [](Arena& a, Env& e) { return call("file_setattr", {kAtFdCwd, p0(a, e.file("f", kText)), a.addr(2048), 64, 0}); }},
});

}  // namespace
}  // namespace hytrace::conformance
