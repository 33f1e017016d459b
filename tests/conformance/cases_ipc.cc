// Conformance cases: System V IPC, POSIX message queues, futexes and keys.
//
// The IPC objects live in an IPC namespace of the test process's own
// (unshare, which needs root), so that nothing they leave outlives the
// process, even one that crashes; the machine's namespace is not touched.
#include <linux/futex.h>
#include <linux/keyctl.h>
#include <mqueue.h>
#include <sched.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

#include "tests/conformance/cases_util.hpp"

namespace hytrace::conformance {
namespace {

void own_ipc_namespace() {
  static const bool done = [] {
    if (::unshare(CLONE_NEWIPC) != 0) {
      throw std::runtime_error("unshare(CLONE_NEWIPC) failed: the IPC cases need root");
    }
    return true;
  }();
  (void)done;
}

// One object of each kind, made once in the private namespace: each is the
// first of its kind there, so its index for the *_STAT commands is 0.
int shm_id() {
  own_ipc_namespace();
  static const int id = ::shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
  return id;
}
int msg_id() {
  own_ipc_namespace();
  static const int id = ::msgget(IPC_PRIVATE, IPC_CREAT | 0600);
  return id;
}
int sem_id() {
  own_ipc_namespace();
  static const int id = ::semget(IPC_PRIVATE, 2, IPC_CREAT | 0600);
  return id;
}
constexpr uint64_t kBadId = 0x7ffffff0;

// Semaphore operations at arena offset 0: +1 and -1 on semaphore 0 (the
// value stays as it was), or `flg` on one -1.
uint64_t put_sembufs(Arena& a, bool balanced, short flg = 0) {
  auto* ops = a.at<struct sembuf>(0);
  if (balanced) {
    ops[0] = {0, 1, 0};
    ops[1] = {0, -1, 0};
  } else {
    ops[0] = {0, -1, flg};
  }
  return a.addr(0);
}

// A message queue "hytrace" (raw mq_open takes the name without its '/'),
// non-blocking, of at most 4 messages of 64 bytes.
const char* kQueue = "hytrace";
struct mq_attr queue_attr() {
  struct mq_attr attr {};
  attr.mq_maxmsg = 4;
  attr.mq_msgsize = 64;
  return attr;
}
int queue(Env& e, bool with_message) {
  own_ipc_namespace();
  ::syscall(SYS_mq_unlink, kQueue);
  struct mq_attr attr = queue_attr();
  const int flags = O_CREAT | O_RDWR | O_NONBLOCK | O_CLOEXEC;
  const int q = e.keep(static_cast<int>(::syscall(SYS_mq_open, kQueue, flags, 0600, &attr)));
  if (q < 0) throw std::runtime_error("mq_open");
  if (with_message) ::syscall(SYS_mq_timedsend, q, "hello", 5, 3, nullptr);
  return q;
}

// Futex words in the arena: at 0 and at 64.
uint64_t word(Arena& a, size_t at, uint32_t value) {
  *a.at<uint32_t>(at) = value;
  return a.addr(at);
}
uint32_t own_tid() { return static_cast<uint32_t>(::gettid()); }
constexpr uint64_t kPrivate = FUTEX_PRIVATE_FLAG;
constexpr uint64_t kFutex2U32Private = 0x02 | 128;  // FUTEX2_SIZE_U32 | FUTEX2_PRIVATE
constexpr uint64_t kMask32 = 0xffffffff;  // a wider mask is EINVAL for 32-bit futexes
// FUTEX_OP(FUTEX_OP_SET, 1, FUTEX_OP_CMP_EQ, 0): store 1 at uaddr2.
constexpr uint64_t kSetOne = 1 << 12;

// struct futex_waitv entries at arena offset 1024 for the words at 0 and 64.
uint64_t put_waiters(Arena& a, uint64_t val0, uint64_t val1) {
  auto* w = a.at<uint64_t>(1024);
  w[0] = val0, w[1] = a.addr(0), w[2] = kFutex2U32Private;
  w[3] = val1, w[4] = a.addr(64), w[5] = kFutex2U32Private;
  return a.addr(1024);
}

Register cases({
    // shmctl.
    {"shmctl/ipc_stat", Expect::kSuccess, true,
     [](Arena& a, Env&) { return call("shmctl", {u(shm_id()), u(IPC_STAT), a.addr(0)}); }},
    {"shmctl/shm_stat", Expect::kSuccess, true,
     [](Arena& a, Env&) {
       shm_id();
       return call("shmctl", {0, u(SHM_STAT), a.addr(0)});
     }},
    {"shmctl/ipc_set", Expect::kSuccess, false,
     [](Arena& a, Env&) {
       ::shmctl(shm_id(), IPC_STAT, a.at<struct shmid_ds>(0));
       return call("shmctl", {u(shm_id()), u(IPC_SET), a.addr(0)});
     }},
    {"shmctl/ipc_info", Expect::kSuccess, true,
     [](Arena& a, Env&) {
       shm_id();
       return call("shmctl", {0, u(IPC_INFO), a.addr(0)});
     }},
    {"shmctl/shm_info", Expect::kSuccess, true,
     [](Arena& a, Env&) {
       shm_id();
       return call("shmctl", {0, u(SHM_INFO), a.addr(0)});
     }},
    {"shmctl/einval", Expect::kError, false,
     [](Arena& a, Env&) {
       own_ipc_namespace();
       return call("shmctl", {kBadId, u(IPC_STAT), a.addr(0)});
     }},
    // msgctl.
    {"msgctl/ipc_stat", Expect::kSuccess, true,
     [](Arena& a, Env&) { return call("msgctl", {u(msg_id()), u(IPC_STAT), a.addr(0)}); }},
    {"msgctl/msg_stat", Expect::kSuccess, true,
     [](Arena& a, Env&) {
       msg_id();
       return call("msgctl", {0, u(MSG_STAT), a.addr(0)});
     }},
    {"msgctl/ipc_info", Expect::kSuccess, true,
     [](Arena& a, Env&) {
       msg_id();
       return call("msgctl", {0, u(IPC_INFO), a.addr(0)});
     }},
    {"msgctl/msg_info", Expect::kSuccess, true,
     [](Arena& a, Env&) {
       msg_id();
       return call("msgctl", {0, u(MSG_INFO), a.addr(0)});
     }},
    {"msgctl/einval", Expect::kError, false,
     [](Arena& a, Env&) {
       own_ipc_namespace();
       return call("msgctl", {kBadId, u(IPC_STAT), a.addr(0)});
     }},
    // semctl: the fourth argument is the union semun, here its pointer.
    {"semctl/ipc_stat", Expect::kSuccess, true,
     [](Arena& a, Env&) { return call("semctl", {u(sem_id()), 0, u(IPC_STAT), a.addr(0)}); }},
    {"semctl/sem_stat", Expect::kSuccess, true,
     [](Arena& a, Env&) {
       sem_id();
       return call("semctl", {0, 0, u(SEM_STAT), a.addr(0)});
     }},
    {"semctl/ipc_info", Expect::kSuccess, true,
     [](Arena& a, Env&) {
       sem_id();
       return call("semctl", {0, 0, u(IPC_INFO), a.addr(0)});
     }},
    {"semctl/sem_info", Expect::kSuccess, true,
     [](Arena& a, Env&) {
       sem_id();
       return call("semctl", {0, 0, u(SEM_INFO), a.addr(0)});
     }},
    {"semctl/getval", Expect::kSuccess, false,
     [](Arena& a, Env&) { return call("semctl", {u(sem_id()), 0, u(GETVAL), a.addr(0)}); }},
    {"semctl/einval", Expect::kError, false,
     [](Arena& a, Env&) {
       own_ipc_namespace();
       return call("semctl", {kBadId, 0, u(IPC_STAT), a.addr(0)});
     }},
    {"semop", Expect::kSuccess, false,
     [](Arena& a, Env&) { return call("semop", {u(sem_id()), put_sembufs(a, true), 2}); }},
    {"semop/efbig", Expect::kError, false,
     [](Arena& a, Env&) {
       *a.at<struct sembuf>(0) = {9, 1, 0};
       return call("semop", {u(sem_id()), a.addr(0), 1});
     }},
    {"semtimedop", Expect::kSuccess, false,
     [](Arena& a, Env&) {
       *a.at<struct timespec>(512) = {1, 0};
       return call("semtimedop", {u(sem_id()), put_sembufs(a, true), 2, a.addr(512)});
     }},
    {"semtimedop/eagain", Expect::kError, false,
     [](Arena& a, Env&) {
       *a.at<struct timespec>(512) = {1, 0};
       return call("semtimedop", {u(sem_id()), put_sembufs(a, false, IPC_NOWAIT), 1, a.addr(512)});
     }},
    // POSIX message queues.
    {"mq_open", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       own_ipc_namespace();
       ::syscall(SYS_mq_unlink, kQueue);
       *a.at<struct mq_attr>(512) = queue_attr();
       const uint64_t name = put_string(a, 0, kQueue);
       next_fd(e);
       return call("mq_open", {name, u(O_CREAT | O_RDWR | O_CLOEXEC), 0600, a.addr(512)});
     }},
    {"mq_open/enoent", Expect::kError, false,
     [](Arena& a, Env&) {
       own_ipc_namespace();
       return call("mq_open", {put_string(a, 0, "hytrace-none"), u(O_RDONLY), 0, 0});
     }},
    {"mq_unlink", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       queue(e, false);
       return call("mq_unlink", {put_string(a, 0, kQueue)});
     }},
    {"mq_unlink/enoent", Expect::kError, false,
     [](Arena& a, Env&) {
       own_ipc_namespace();
       return call("mq_unlink", {put_string(a, 0, "hytrace-none")});
     }},
    {"mq_timedsend", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       *a.at<struct timespec>(512) = {0, 0};
       return call("mq_timedsend", {u(queue(e, false)), put_string(a, 0, "message"), 7, 1, a.addr(512)});
     }},
    {"mq_timedsend/emsgsize", Expect::kError, false,
     [](Arena& a, Env& e) { return call("mq_timedsend", {u(queue(e, false)), a.addr(0), 100, 1, 0}); }},
    {"mq_timedreceive", Expect::kSuccess, true,
     [](Arena& a, Env& e) { return call("mq_timedreceive", {u(queue(e, true)), a.addr(0), 64, a.addr(512), 0}); }},
    {"mq_timedreceive/eagain", Expect::kError, false,
     [](Arena& a, Env& e) { return call("mq_timedreceive", {u(queue(e, false)), a.addr(0), 64, a.addr(512), 0}); }},
    {"mq_timedreceive/emsgsize", Expect::kError, false,
     [](Arena& a, Env& e) { return call("mq_timedreceive", {u(queue(e, true)), a.addr(0), 8, a.addr(512), 0}); }},
    {"mq_notify", Expect::kSuccess, false,
     [](Arena& a, Env& e) {
       auto* sev = a.at<struct sigevent>(0);
       std::memset(sev, 0, sizeof *sev);
       sev->sigev_notify = SIGEV_NONE;
       return call("mq_notify", {u(queue(e, false)), a.addr(0)});
     }},
    // A second registration for the same queue.
    {"mq_notify/ebusy", Expect::kError, false,
     [](Arena& a, Env& e) {
       auto* sev = a.at<struct sigevent>(0);
       std::memset(sev, 0, sizeof *sev);
       sev->sigev_notify = SIGEV_NONE;
       const int q = queue(e, false);
       ::syscall(SYS_mq_notify, q, sev);
       return call("mq_notify", {u(q), a.addr(0)});
     }},
    {"mq_getsetattr", Expect::kSuccess, true,
     [](Arena& a, Env& e) { return call("mq_getsetattr", {u(queue(e, true)), 0, a.addr(512)}); }},
    {"mq_getsetattr/set", Expect::kSuccess, true,
     [](Arena& a, Env& e) {
       *a.at<struct mq_attr>(0) = queue_attr();  // mq_flags 0: blocking from now on
       return call("mq_getsetattr", {u(queue(e, true)), a.addr(0), a.addr(512)});
     }},
    {"mq_getsetattr/ebadf", Expect::kError, false,
     [](Arena& a, Env& e) { return call("mq_getsetattr", {u(e.pipe_pair().first), 0, a.addr(512)}); }},
    // futex, on private words nobody waits on.
    {"futex/wake", Expect::kSuccess, false,
     [](Arena& a, Env&) { return call("futex", {word(a, 0, 0), u(FUTEX_WAKE) | kPrivate, 1, 0, 0, 0}); }},
    {"futex/wait_eagain", Expect::kError, false,
     [](Arena& a, Env&) { return call("futex", {word(a, 0, 1), u(FUTEX_WAIT) | kPrivate, 2, 0, 0, 0}); }},
    // Stores 1 at uaddr2 (the canary until then) and wakes nobody.
    {"futex/wake_op", Expect::kSuccess, true,
     [](Arena& a, Env&) {
       return call("futex", {word(a, 0, 0), u(FUTEX_WAKE_OP) | kPrivate, 1, 1, a.addr(64), kSetOne});
     }},
    {"futex/cmp_requeue", Expect::kSuccess, false,
     [](Arena& a, Env&) {
       return call("futex", {word(a, 0, 5), u(FUTEX_CMP_REQUEUE) | kPrivate, 1, 1, word(a, 64, 0), 5});
     }},
    {"futex/cmp_requeue_eagain", Expect::kError, false,
     [](Arena& a, Env&) {
       return call("futex", {word(a, 0, 5), u(FUTEX_CMP_REQUEUE) | kPrivate, 1, 1, word(a, 64, 0), 6});
     }},
    // An unowned PI word: the kernel stores the caller's tid, no kernel state.
    {"futex/trylock_pi", Expect::kSuccess, false,
     [](Arena& a, Env&) { return call("futex", {word(a, 0, 0), u(FUTEX_TRYLOCK_PI) | kPrivate, 0, 0, 0, 0}); }},
    {"futex/trylock_pi_edeadlk", Expect::kError, false,
     [](Arena& a, Env&) {
       return call("futex", {word(a, 0, own_tid()), u(FUTEX_TRYLOCK_PI) | kPrivate, 0, 0, 0, 0});
     }},
    {"futex/unlock_pi", Expect::kSuccess, false,
     [](Arena& a, Env&) {
       return call("futex", {word(a, 0, own_tid()), u(FUTEX_UNLOCK_PI) | kPrivate, 0, 0, 0, 0});
     }},
    {"futex/unlock_pi_eperm", Expect::kError, false,
     [](Arena& a, Env&) {
       return call("futex", {word(a, 0, own_tid() + 1), u(FUTEX_UNLOCK_PI) | kPrivate, 0, 0, 0, 0});
     }},
    // The futex2 calls.
    {"futex_wake", Expect::kSuccess, false,
     [](Arena& a, Env&) { return call("futex_wake", {word(a, 0, 0), kMask32, 1, kFutex2U32Private}); }},
    {"futex_wake/einval", Expect::kError, false,
     [](Arena& a, Env&) { return call("futex_wake", {word(a, 0, 0), kMask32, 1, 0x40000000}); }},
    {"futex_wait/eagain", Expect::kError, false,
     [](Arena& a, Env&) { return call("futex_wait", {word(a, 0, 1), 2, kMask32, kFutex2U32Private, 0, 0}); }},
    // The value matches; an absolute timeout already past.
    {"futex_wait/etimedout", Expect::kError, false,
     [](Arena& a, Env&) {
       *a.at<struct timespec>(512) = {0, 0};
       return call("futex_wait", {word(a, 0, 1), 1, kMask32, kFutex2U32Private, a.addr(512), u(CLOCK_MONOTONIC)});
     }},
    {"futex_waitv/eagain", Expect::kError, false,
     [](Arena& a, Env&) {
       word(a, 0, 1);
       word(a, 64, 1);
       return call("futex_waitv", {put_waiters(a, 1, 2), 2, 0, 0, 0});
     }},
    {"futex_waitv/etimedout", Expect::kError, false,
     [](Arena& a, Env&) {
       word(a, 0, 1);
       word(a, 64, 1);
       *a.at<struct timespec>(512) = {0, 0};
       return call("futex_waitv", {put_waiters(a, 1, 1), 2, 0, a.addr(512), u(CLOCK_MONOTONIC)});
     }},
    {"futex_requeue", Expect::kSuccess, false,
     [](Arena& a, Env&) {
       word(a, 0, 3);
       word(a, 64, 0);
       return call("futex_requeue", {put_waiters(a, 3, 0), 0, 1, 1});
     }},
    {"futex_requeue/eagain", Expect::kError, false,
     [](Arena& a, Env&) {
       word(a, 0, 3);
       word(a, 64, 0);
       return call("futex_requeue", {put_waiters(a, 4, 0), 0, 1, 1});
     }},
    // Keys in the process keyring, which goes with the process.
    {"add_key", Expect::kSuccess, false,
     [](Arena& a, Env&) {
       return call("add_key", {put_string(a, 0, "user"), put_string(a, 64, "hytrace:conformance"),
                               put_string(a, 256, "payload"), 7, u(KEY_SPEC_PROCESS_KEYRING)});
     }},
    // A type name starting with '.' is refused before any module is asked for.
    {"add_key/eperm", Expect::kError, false,
     [](Arena& a, Env&) {
       return call("add_key", {put_string(a, 0, ".user"), put_string(a, 64, "hytrace:conformance"),
                               put_string(a, 256, "payload"), 7, u(KEY_SPEC_PROCESS_KEYRING)});
     }},
    {"request_key", Expect::kSuccess, false,
     [](Arena& a, Env&) {
       ::syscall(SYS_add_key, "user", "hytrace:requested", "payload", 7, KEY_SPEC_PROCESS_KEYRING);
       return call("request_key", {put_string(a, 0, "user"), put_string(a, 64, "hytrace:requested"), 0, 0});
     }},
    // No callout: the kernel does not ask user space for the key.
    {"request_key/enokey", Expect::kError, false,
     [](Arena& a, Env&) {
       return call("request_key", {put_string(a, 0, "user"), put_string(a, 64, "hytrace:absent"), 0, 0});
     }},
});

}  // namespace
}  // namespace hytrace::conformance
