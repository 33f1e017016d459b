// Conformance cases: sleeping, timers and clocks (read, never set), the
// scheduler, limits and credentials. Where a call sets something, it sets
// what is already there, read just before.
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>

#include <cstring>

#include "tests/conformance/cases_util.hpp"

namespace hytrace::conformance {
namespace {

// A POSIX timer that signals nothing (SIGEV_NONE), deleted after the call.
uint64_t quiet_timer(bool armed) {
  struct sigevent sev {};
  sev.sigev_notify = SIGEV_NONE;
  int id = -1;
  make(call("timer_create", {u(CLOCK_MONOTONIC), reinterpret_cast<uint64_t>(&sev), reinterpret_cast<uint64_t>(&id)}));
  if (armed) {
    struct itimerspec its = {{0, 0}, {1000, 0}};
    make(call("timer_settime", {u(id), 0, reinterpret_cast<uint64_t>(&its), 0}));
  }
  leftovers().tidy();
  leftovers().add([id] { make(call("timer_delete", {u(id)})); });
  return u(id);
}

int armed_timerfd(Env& e) {
  const int fd = e.keep(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC));
  struct itimerspec its = {{0, 0}, {1000, 0}};
  ::timerfd_settime(fd, 0, &its, nullptr);
  return fd;
}

// struct timex with modes 0: read the clock's state, change nothing.
uint64_t put_timex(Arena& a, unsigned modes) {
  auto* t = a.at<struct timex>(0);
  std::memset(t, 0, sizeof *t);
  t->modes = modes;
  return a.addr(0);
}

constexpr uint64_t kSchedAttrSize = 56;  // SCHED_ATTR_SIZE_VER1

// The caller's struct sched_attr, read into the arena at 0.
uint64_t put_own_sched_attr(Arena& a) {
  make(call("sched_getattr", {0, a.addr(0), kSchedAttrSize, 0}));
  return a.addr(0);
}

// The capability header (version 3, this process) at 0 and its sets at 64.
uint64_t put_cap_header(Arena& a, uint32_t version) {
  auto* h = a.at<struct __user_cap_header_struct>(0);
  h->version = version;
  h->pid = 0;
  return a.addr(0);
}

Register cases({
    {"clock_nanosleep", Expect::kSuccess, false,
     [](Arena& a, Env&) {
       *a.at<struct timespec>(0) = {0, 1};
       return call("clock_nanosleep", {u(CLOCK_MONOTONIC), 0, a.addr(0), a.addr(64)});
     }},
    {"clock_nanosleep/einval", Expect::kError, false,
     [](Arena& a, Env&) {
       *a.at<struct timespec>(0) = {0, 2000000000};
       return call("clock_nanosleep", {u(CLOCK_MONOTONIC), 0, a.addr(0), a.addr(64)});
     }},
    // The created timer is not deleted: its id is known only after the call
    // (SIGEV_NONE, never armed: it costs nothing until the process exits).
    {"timer_create", Expect::kSuccess, true,
     [](Arena& a, Env&) {
       auto* sev = a.at<struct sigevent>(0);
       std::memset(sev, 0, sizeof *sev);
       sev->sigev_notify = SIGEV_NONE;
       return call("timer_create", {u(CLOCK_MONOTONIC), a.addr(0), a.addr(128)});
     }},
    {"timer_create/einval", Expect::kError, false,
     [](Arena& a, Env&) {
       auto* sev = a.at<struct sigevent>(0);
       std::memset(sev, 0, sizeof *sev);
       sev->sigev_notify = SIGEV_NONE;
       return call("timer_create", {999, a.addr(0), a.addr(128)});
     }},
    {"timer_settime", Expect::kSuccess, true,
     [](Arena& a, Env&) {
       *a.at<struct itimerspec>(0) = {{0, 0}, {1000, 0}};
       return call("timer_settime", {quiet_timer(false), 0, a.addr(0), a.addr(64)});
     }},
    {"timer_settime/einval", Expect::kError, false,
     [](Arena& a, Env&) {
       *a.at<struct itimerspec>(0) = {{0, 0}, {0, 2000000000}};
       return call("timer_settime", {quiet_timer(false), 0, a.addr(0), a.addr(64)});
     }},
    {"timer_gettime", Expect::kSuccess, true,
     [](Arena& a, Env&) { return call("timer_gettime", {quiet_timer(true), a.addr(0)}); }},
    {"timer_gettime/einval", Expect::kError, false,
     [](Arena& a, Env&) { return call("timer_gettime", {0x7ffffff0, a.addr(0)}); }},
    {"timerfd_settime", Expect::kSuccess, true,
     [](Arena& a, Env& e) {
       *a.at<struct itimerspec>(0) = {{0, 0}, {2000, 0}};
       return call("timerfd_settime", {u(armed_timerfd(e)), 0, a.addr(0), a.addr(64)});
     }},
    {"timerfd_settime/einval", Expect::kError, false,
     [](Arena& a, Env& e) {
       *a.at<struct itimerspec>(0) = {{0, 0}, {2000, 0}};
       return call("timerfd_settime", {u(armed_timerfd(e)), 0x40000000, a.addr(0), a.addr(64)});
     }},
    {"timerfd_gettime", Expect::kSuccess, true,
     [](Arena& a, Env& e) { return call("timerfd_gettime", {u(armed_timerfd(e)), a.addr(0)}); }},
    {"timerfd_gettime/einval", Expect::kError, false,
     [](Arena& a, Env& e) { return call("timerfd_gettime", {u(e.pipe_pair().first), a.addr(0)}); }},
    // ITIMER_VIRTUAL is not armed in the test process: disarming it changes nothing.
    {"setitimer", Expect::kSuccess, true,
     [](Arena& a, Env&) {
       *a.at<struct itimerval>(0) = {{0, 0}, {0, 0}};
       return call("setitimer", {u(ITIMER_VIRTUAL), a.addr(0), a.addr(64)});
     }},
    {"setitimer/einval", Expect::kError, false,
     [](Arena& a, Env&) {
       *a.at<struct itimerval>(0) = {{0, 0}, {0, 0}};
       return call("setitimer", {99, a.addr(0), a.addr(64)});
     }},
    {"sched_rr_get_interval", Expect::kSuccess, true,
     [](Arena& a, Env&) { return call("sched_rr_get_interval", {0, a.addr(0)}); }},
    {"sched_rr_get_interval/einval", Expect::kError, false,
     [](Arena& a, Env&) { return call("sched_rr_get_interval", {u(-1), a.addr(0)}); }},
    // The struct is copied back whole, its padding as it was.
    {"adjtimex", Expect::kSuccess, false, [](Arena& a, Env&) { return call("adjtimex", {put_timex(a, 0)}); }},
    // ADJ_ADJTIME without ADJ_OFFSET_SINGLESHOT: EINVAL, and still copied back.
    {"adjtimex/einval", Expect::kError, false, [](Arena& a, Env&) { return call("adjtimex", {put_timex(a, 0x8000)}); }},
    {"clock_adjtime", Expect::kSuccess, false,
     [](Arena& a, Env&) { return call("clock_adjtime", {u(CLOCK_REALTIME), put_timex(a, 0)}); }},
    {"clock_adjtime/einval", Expect::kError, false,
     [](Arena& a, Env&) { return call("clock_adjtime", {999, put_timex(a, 0)}); }},
    // The scheduler: set what is there.
    {"sched_setparam", Expect::kSuccess, false,
     [](Arena& a, Env&) {
       ::sched_getparam(0, a.at<struct sched_param>(0));
       return call("sched_setparam", {0, a.addr(0)});
     }},
    {"sched_setparam/einval", Expect::kError, false,
     [](Arena& a, Env&) {
       a.at<struct sched_param>(0)->sched_priority = 1000;
       return call("sched_setparam", {0, a.addr(0)});
     }},
    {"sched_setscheduler", Expect::kSuccess, false,
     [](Arena& a, Env&) {
       ::sched_getparam(0, a.at<struct sched_param>(0));
       return call("sched_setscheduler", {0, u(::sched_getscheduler(0)), a.addr(0)});
     }},
    {"sched_setscheduler/einval", Expect::kError, false,
     [](Arena& a, Env&) {
       a.at<struct sched_param>(0)->sched_priority = 0;
       return call("sched_setscheduler", {0, 99, a.addr(0)});
     }},
    {"sched_getattr", Expect::kSuccess, true,
     [](Arena& a, Env&) { return call("sched_getattr", {0, a.addr(0), kSchedAttrSize, 0}); }},
    {"sched_getattr/short", Expect::kSuccess, true,
     [](Arena& a, Env&) { return call("sched_getattr", {0, a.addr(0), 48, 0}); }},
    // A larger buffer: the kernel stores its 56 bytes and, since 6.13, zeros
    // up to 128 (not exact: older kernels stop at 56).
    {"sched_getattr/large", Expect::kSuccess, false,
     [](Arena& a, Env&) { return call("sched_getattr", {0, a.addr(0), 128, 0}); }},
    {"sched_getattr/einval", Expect::kError, false,
     [](Arena& a, Env&) { return call("sched_getattr", {0, a.addr(0), 8, 0}); }},
    {"sched_setattr", Expect::kSuccess, false,
     [](Arena& a, Env&) { return call("sched_setattr", {0, put_own_sched_attr(a), 0}); }},
    // A size past the kernel's struct with bytes not zero (the canary): the
    // kernel stores its own size and fails.
    {"sched_setattr/e2big", Expect::kError, false,
     [](Arena& a, Env&) {
       put_own_sched_attr(a);
       *a.at<uint32_t>(0) = 4096;
       return call("sched_setattr", {0, a.addr(0), 0});
     }},
    {"sched_setaffinity", Expect::kSuccess, false,
     [](Arena& a, Env&) {
       make(call("sched_getaffinity", {0, 128, a.addr(0)}));
       return call("sched_setaffinity", {0, 128, a.addr(0)});
     }},
    {"sched_setaffinity/einval", Expect::kError, false,
     [](Arena& a, Env&) {
       std::memset(a.at(0), 0, 128);
       return call("sched_setaffinity", {0, 128, a.addr(0)});
     }},
    // Limits: set what is there.
    {"setrlimit", Expect::kSuccess, false,
     [](Arena& a, Env&) {
       ::getrlimit(RLIMIT_CORE, a.at<struct rlimit>(0));
       return call("setrlimit", {u(RLIMIT_CORE), a.addr(0)});
     }},
    {"setrlimit/einval", Expect::kError, false,
     [](Arena& a, Env&) {
       *a.at<struct rlimit>(0) = {2, 1};  // soft above hard
       return call("setrlimit", {u(RLIMIT_CORE), a.addr(0)});
     }},
    {"prlimit64/set", Expect::kSuccess, true,
     [](Arena& a, Env&) {
       ::getrlimit(RLIMIT_CORE, a.at<struct rlimit>(0));
       return call("prlimit64", {0, u(RLIMIT_CORE), a.addr(0), a.addr(64)});
     }},
    {"prlimit64/einval", Expect::kError, false,
     [](Arena& a, Env&) { return call("prlimit64", {0, 999, 0, a.addr(64)}); }},
    // Credentials: set what is there (the process's own capability sets and
    // groups), and versions the kernel refuses, which it answers in the header.
    {"capset", Expect::kSuccess, false,
     [](Arena& a, Env&) {
       const uint64_t h = put_cap_header(a, _LINUX_CAPABILITY_VERSION_3);
       make(call("capget", {h, a.addr(64)}));
       return call("capset", {h, a.addr(64)});
     }},
    {"capset/einval", Expect::kError, false,
     [](Arena& a, Env&) { return call("capset", {put_cap_header(a, 0x12345678), a.addr(64)}); }},
    {"capget/einval", Expect::kError, false,
     [](Arena& a, Env&) { return call("capget", {put_cap_header(a, 0x12345678), a.addr(64)}); }},
    {"capget/v1", Expect::kSuccess, false,
     [](Arena& a, Env&) { return call("capget", {put_cap_header(a, _LINUX_CAPABILITY_VERSION_1), a.addr(64)}); }},
    {"setgroups", Expect::kSuccess, false,
     [](Arena& a, Env&) {
       const int n = ::getgroups(64, a.at<gid_t>(0));
       return call("setgroups", {u(n), a.addr(0)});
     }},
    {"setgroups/einval", Expect::kError, false, [](Arena& a, Env&) { return call("setgroups", {u(-1), a.addr(0)}); }},
    {"getgroups/einval", Expect::kError, false, [](Arena& a, Env&) { return call("getgroups", {u(-1), a.addr(0)}); }},
});

}  // namespace
}  // namespace hytrace::conformance
