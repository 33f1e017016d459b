// Conformance cases: AF_UNIX sockets bound in the scratch directory,
// connected pairs, sending and socket options.
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

#include "tests/conformance/cases_util.hpp"

namespace hytrace::conformance {
namespace {

int unix_socket(Env& e, int type = SOCK_STREAM) { return e.keep(::socket(AF_UNIX, type | SOCK_CLOEXEC, 0)); }

// A sockaddr_un for `path` at arena offset `at`; its length.
socklen_t put_sockaddr(Arena& a, size_t at, const std::string& path) {
  auto* sun = a.at<struct sockaddr_un>(at);
  std::memset(sun, 0, sizeof *sun);
  sun->sun_family = AF_UNIX;
  std::strncpy(sun->sun_path, path.c_str(), sizeof sun->sun_path - 1);
  return static_cast<socklen_t>(offsetof(struct sockaddr_un, sun_path) + path.size() + 1);
}

// A listening socket at "sock" in the scratch directory.
int listener(Env& e, int flags = 0) {
  const int l = unix_socket(e, SOCK_STREAM | flags);
  struct sockaddr_un sun {};
  sun.sun_family = AF_UNIX;
  std::strncpy(sun.sun_path, e.path("sock").c_str(), sizeof sun.sun_path - 1);
  if (::bind(l, reinterpret_cast<sockaddr*>(&sun), sizeof sun) != 0 || ::listen(l, 4) != 0) {
    throw std::runtime_error("listener");
  }
  return l;
}

// A listener with one connection waiting to be accepted.
int listener_with_client(Env& e) {
  const int l = listener(e);
  const int c = unix_socket(e);
  struct sockaddr_un sun {};
  sun.sun_family = AF_UNIX;
  std::strncpy(sun.sun_path, e.path("sock").c_str(), sizeof sun.sun_path - 1);
  if (::connect(c, reinterpret_cast<sockaddr*>(&sun), sizeof sun) != 0) throw std::runtime_error("connect");
  return l;
}

// One message of two buffers at `at` (header, then the iovec array), no name.
uint64_t put_msghdr(Arena& a, size_t at, size_t controllen) {
  auto* iov = a.at<struct iovec>(at + sizeof(struct msghdr));
  std::memcpy(a.at(2048), "ab", 2);
  std::memcpy(a.at(2304), "cdef", 4);
  iov[0] = {a.at(2048), 2};
  iov[1] = {a.at(2304), 4};
  auto* h = a.at<struct msghdr>(at);
  std::memset(h, 0, sizeof *h);
  h->msg_iov = iov;
  h->msg_iovlen = 2;
  h->msg_control = controllen ? a.at(3072) : nullptr;
  h->msg_controllen = controllen;
  return a.addr(at);
}

Register cases({
    {"bind", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       const socklen_t len = put_sockaddr(a, 0, e.path("sock"));
       return call("bind", {u(unix_socket(e)), a.addr(0), len});
     }},
    {"bind/enoent", Expect::kError, false,
     [](Arena& a, Env& e) {
       const socklen_t len = put_sockaddr(a, 0, e.path("none/sock"));
       return call("bind", {u(unix_socket(e)), a.addr(0), len});
     }},
    {"connect", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       listener(e);
       const socklen_t len = put_sockaddr(a, 0, e.path("sock"));
       return call("connect", {u(unix_socket(e)), a.addr(0), len});
     }},
    {"connect/enoent", Expect::kError, false,
     [](Arena& a, Env& e) {
       const socklen_t len = put_sockaddr(a, 0, e.path("none"));
       return call("connect", {u(unix_socket(e)), a.addr(0), len});
     }},
    // The peer is unnamed: the kernel stores 2 bytes of address and the length.
    {"accept", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       *a.at<socklen_t>(0) = 128;
       const int l = listener_with_client(e);
       next_fd(e);
       return call("accept", {u(l), a.addr(1024), a.addr(0)});
     }},
    // No room for the address: only the length the kernel would need is stored.
    {"accept/no_room", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       *a.at<socklen_t>(0) = 0;
       const int l = listener_with_client(e);
       next_fd(e);
       return call("accept", {u(l), a.addr(1024), a.addr(0)});
     }},
    {"accept/einval", Expect::kError, false,
     [](Arena& a, Env& e) {
       *a.at<socklen_t>(0) = 128;
       return call("accept", {u(unix_socket(e)), a.addr(1024), a.addr(0)});
     }},
    {"accept4", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       *a.at<socklen_t>(0) = 128;
       const int l = listener_with_client(e);
       next_fd(e);
       return call("accept4", {u(l), a.addr(1024), a.addr(0), u(SOCK_CLOEXEC)});
     }},
    // A non-blocking listener without connections (SOCK_NONBLOCK in the call
    // is for the new socket: accept would wait).
    {"accept4/eagain", Expect::kError, false,
     [](Arena& a, Env& e) {
       *a.at<socklen_t>(0) = 128;
       const int l = listener(e, SOCK_NONBLOCK);
       return call("accept4", {u(l), a.addr(1024), a.addr(0), u(SOCK_NONBLOCK | SOCK_CLOEXEC)});
     }},
    {"accept4/einval", Expect::kError, false,
     [](Arena& a, Env& e) {
       *a.at<socklen_t>(0) = 128;
       return call("accept4", {u(listener_with_client(e)), a.addr(1024), a.addr(0), 0x40000000});
     }},
    // Sending: the kernel only reads.
    {"sendto", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       return call("sendto", {u(e.socket_pair(SOCK_DGRAM).first), put_string(a, 0, "datagram"), 8, 0, 0, 0});
     }},
    {"sendto/with_an_address", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       const int r = unix_socket(e, SOCK_DGRAM);
       struct sockaddr_un sun {};
       sun.sun_family = AF_UNIX;
       std::strncpy(sun.sun_path, e.path("dgram").c_str(), sizeof sun.sun_path - 1);
       ::bind(r, reinterpret_cast<sockaddr*>(&sun), sizeof sun);
       const socklen_t len = put_sockaddr(a, 1024, e.path("dgram"));
       return call("sendto", {u(unix_socket(e, SOCK_DGRAM)), put_string(a, 0, "datagram"), 8, 0, a.addr(1024), len});
     }},
    {"sendto/enotsock", Expect::kError, false,
     [](Arena& a, Env& e) {
       return call("sendto", {u(e.pipe_pair().second), put_string(a, 0, "datagram"), 8, 0, 0, 0});
     }},
    {"sendmsg", Expect::kSuccess, false,
     [](Arena& a, Env& e) { return call("sendmsg", {u(e.socket_pair(SOCK_DGRAM).first), put_msghdr(a, 0, 0), 0}); }},
    {"sendmsg/with_a_descriptor", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       auto [x, y] = e.socket_pair(SOCK_DGRAM);
       const uint64_t m = put_msghdr(a, 0, CMSG_SPACE(sizeof(int)));
       auto* c = a.at<struct cmsghdr>(3072);
       c->cmsg_level = SOL_SOCKET;
       c->cmsg_type = SCM_RIGHTS;
       c->cmsg_len = CMSG_LEN(sizeof(int));
       std::memcpy(CMSG_DATA(c), &y, sizeof y);
       return call("sendmsg", {u(x), m, 0});
     }},
    {"sendmsg/enotsock", Expect::kError, false,
     [](Arena& a, Env& e) { return call("sendmsg", {u(e.pipe_pair().second), put_msghdr(a, 0, 0), 0}); }},
    // The kernel stores msg_len in each entry it sent.
    {"sendmmsg", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       auto* v = a.at<struct mmsghdr>(0);
       for (int i = 0; i < 2; ++i) {
         std::memset(&v[i], 0, sizeof v[i]);
         auto* iov = a.at<struct iovec>(512 + 16 * i);
         *iov = {a.at(2048 + 256 * i), static_cast<size_t>(3 + i)};
         v[i].msg_hdr.msg_iov = iov;
         v[i].msg_hdr.msg_iovlen = 1;
       }
       return call("sendmmsg", {u(e.socket_pair(SOCK_DGRAM).first), a.addr(0), 2, 0});
     }},
    {"sendmmsg/enotsock", Expect::kError, false,
     [](Arena& a, Env& e) {
       auto* v = a.at<struct mmsghdr>(0);
       std::memset(v, 0, sizeof *v);
       return call("sendmmsg", {u(e.pipe_pair().second), a.addr(0), 1, 0});
     }},
    {"setsockopt", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       *a.at<int>(0) = 65536;
       return call("setsockopt", {u(e.socket_pair(SOCK_STREAM).first), u(SOL_SOCKET), u(SO_RCVBUF), a.addr(0), 4});
     }},
    {"setsockopt/einval", Expect::kError, false,
     [](Arena& a, Env& e) {
       *a.at<int>(0) = 65536;
       return call("setsockopt", {u(e.socket_pair(SOCK_STREAM).first), u(SOL_SOCKET), u(SO_RCVBUF), a.addr(0), 2});
     }},
    // An int option into 2 bytes: the kernel stores 2 and says so.
    {"getsockopt/short", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       *a.at<socklen_t>(0) = 2;
       const int s = e.socket_pair(SOCK_STREAM).first;
       return call("getsockopt", {u(s), u(SOL_SOCKET), u(SO_TYPE), a.addr(1024), a.addr(0)});
     }},
    // Two datagrams waiting, a timeout the kernel stores back what is left of.
    {"recvmmsg/timeout", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       const int x = two_datagrams(a, e);
       *a.at<struct timespec>(1024) = {5, 0};
       return call("recvmmsg", {u(x), a.addr(0), 2, u(MSG_DONTWAIT), a.addr(1024)});
     }},
    {"getsockopt/peercred", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       *a.at<socklen_t>(0) = 64;
       const int s = e.socket_pair(SOCK_STREAM).first;
       return call("getsockopt", {u(s), u(SOL_SOCKET), u(SO_PEERCRED), a.addr(1024), a.addr(0)});
     }},
});

}  // namespace
}  // namespace hytrace::conformance
