// The site state machine against fake tasks: when a window may be written,
// and that waiting is never a refusal.
#include "patcher/sites.hpp"

#include <gtest/gtest.h>

namespace hytrace::patcher {
namespace {

// Records what would be written; fails on request.
struct FakeWriter : PatchWriter {
  std::vector<uint64_t> written;
  bool fail = false;
  bool write(const Site& site, std::string& error) override {
    if (fail) {
      error = "write failed";
      return false;
    }
    written.push_back(site.address);
    return true;
  }
};

// A typical libc site: mov $nr,%eax (5 bytes) then syscall (2): the window
// ends at the syscall.
constexpr uint64_t kSite = 0x401005;
const Window kWindow{0x401000, 0x401007};

TaskSnapshot at(pid_t tid, uint64_t ip) { return {tid, ip, std::nullopt, {}}; }

TEST(FindBlocker, Table) {
  struct Case {
    const char* what;
    TaskSnapshot task;
    Blocker want;
  };
  const Case cases[] = {
      {"elsewhere", at(1, 0x500000), Blocker::kNone},
      {"at the window's first byte", at(1, 0x401000), Blocker::kNone},
      {"at the window's end", at(1, 0x401007), Blocker::kNone},
      {"inside", at(1, 0x401005), Blocker::kInstructionPointer},
      {"one byte in", at(1, 0x401001), Blocker::kInstructionPointer},
      {"in the site's own syscall", {1, 0x401007, 0x401007, {}}, Blocker::kRestartableSyscall},
      {"in a syscall elsewhere", {1, 0x500002, 0x500002, {}}, Blocker::kNone},
      {"signal frame returns after the site", {1, 0x500000, std::nullopt, {0x401007}},
       Blocker::kSignalContext},
      {"signal frame rewound to the site", {1, 0x500000, std::nullopt, {0x401005}},
       Blocker::kSignalContext},
      {"signal frame elsewhere", {1, 0x500000, std::nullopt, {0x600000}}, Blocker::kNone},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(find_blocker(kWindow, {c.task}), c.want) << c.what;
  }
}

// A two-byte patch: the window is the syscall alone. Nothing a task can be
// doing blocks it (an IP one byte into an instruction does not happen).
TEST(FindBlocker, TwoBytePatchIsNeverBlocked) {
  const Window two{kSite, kSite + 2};
  const TaskSnapshot tasks[] = {
      at(1, kSite),                                // about to run the syscall: runs the jump
      {2, kSite + 2, kSite + 2, {}},               // in the syscall, restartable: rewinds onto the jump
      {3, 0x500000, std::nullopt, {kSite + 2}},    // a handler returns after it
      {4, 0x500000, std::nullopt, {kSite}},        // a handler returns to its restart
  };
  for (const TaskSnapshot& t : tasks) EXPECT_EQ(find_blocker(two, {t}), Blocker::kNone) << t.tid;
  EXPECT_EQ(find_blocker(two, {at(5, kSite + 1)}), Blocker::kInstructionPointer);
}

// A window that starts with the syscall: a restart rewinds onto its jump.
TEST(FindBlocker, RestartOntoAWindowsFirstByteIsSafe) {
  const Window starts_at_site{kSite, kSite + 7};
  EXPECT_EQ(find_blocker(starts_at_site, {{1, kSite + 2, kSite + 2, {}}}), Blocker::kInstructionPointer);
  EXPECT_EQ(find_blocker(starts_at_site, {{1, 0x500000, std::nullopt, {kSite}}}), Blocker::kNone);
}

TEST(SiteTable, AKnownSiteNeverAsksAgain) {
  SiteTable table;
  EXPECT_TRUE(table.wants(kSite));
  table.request(kSite, kWindow);
  EXPECT_FALSE(table.wants(kSite));
  table.refuse(0x402000, "branch into window");
  EXPECT_FALSE(table.wants(0x402000));
}

TEST(SiteTable, NothingBlocksSoItIsWritten) {
  SiteTable table;
  FakeWriter writer;
  table.request(kSite, kWindow);
  EXPECT_EQ(table.apply({at(1, 0x500000), at(2, 0x600000)}, writer), std::vector<uint64_t>{kSite});
  EXPECT_EQ(table.find(kSite)->state, SiteState::kPatched);
  EXPECT_FALSE(table.has_waiting());
}

TEST(SiteTable, LastTaskOutApplies) {
  SiteTable table;
  FakeWriter writer;
  table.request(kSite, kWindow);
  // Two tasks inside; each apply run defers until the last one has left.
  EXPECT_TRUE(table.apply({at(1, 0x401005), at(2, 0x401002)}, writer).empty());
  EXPECT_TRUE(table.apply({at(1, 0x500000), at(2, 0x401002)}, writer).empty());
  const Site* site = table.find(kSite);
  EXPECT_EQ(site->state, SiteState::kDeferred);
  EXPECT_EQ(site->deferrals, 2u);
  EXPECT_EQ(site->last_blocker, Blocker::kInstructionPointer);
  EXPECT_EQ(table.apply({at(1, 0x500000), at(2, 0x500010)}, writer),
            std::vector<uint64_t>{kSite});
  EXPECT_EQ(site->state, SiteState::kPatched);
}

TEST(SiteTable, WaitingIsNeverARefusal) {
  SiteTable table;
  FakeWriter writer;
  table.request(kSite, kWindow);
  for (int i = 0; i < 1000; ++i) table.apply({{1, 0x401007, 0x401007, {}}}, writer);
  EXPECT_EQ(table.find(kSite)->state, SiteState::kDeferred);
  EXPECT_EQ(table.find(kSite)->deferrals, 1000u);
  EXPECT_TRUE(table.has_waiting());
}

TEST(SiteTable, AFailedWriteRefuses) {
  SiteTable table;
  FakeWriter writer;
  writer.fail = true;
  table.request(kSite, kWindow);
  EXPECT_TRUE(table.apply({}, writer).empty());
  EXPECT_EQ(table.find(kSite)->state, SiteState::kRefused);
  EXPECT_EQ(table.find(kSite)->refusal, "write failed");
}

TEST(SiteTable, ARunIsWorthItOnceTheLastBlockerIsSeenLeaving) {
  SiteTable table;
  FakeWriter writer;
  table.request(kSite, kWindow);
  const TaskSnapshot elsewhere1 = at(1, 0x500000), elsewhere2 = at(2, 0x500000);
  // Never tried: any stop may write it.
  EXPECT_TRUE(table.worth_trying(elsewhere1, 0x500000 - 2));
  EXPECT_TRUE(table.apply({at(1, 0x401002), at(2, 0x401003), at(3, 0x500000)}, writer).empty());
  EXPECT_EQ(table.find(kSite)->blockers, (std::vector<pid_t>{1, 2}));
  // Task 3 never blocked it; task 1 still inside: not worth stopping everyone.
  EXPECT_FALSE(table.worth_trying(at(3, 0x500000), 0x500000 - 2));
  EXPECT_FALSE(table.worth_trying(at(1, 0x401002), 0x500000 - 2));
  // Task 1 leaves, task 2 is still in: still not worth it.
  EXPECT_FALSE(table.worth_trying(elsewhere1, 0x500000 - 2));
  // The last one out makes it worth a run.
  EXPECT_TRUE(table.worth_trying(elsewhere2, 0x500000 - 2));
  EXPECT_EQ(table.apply({elsewhere1, elsewhere2}, writer), std::vector<uint64_t>{kSite});
  EXPECT_FALSE(table.worth_trying(elsewhere1, kSite));
}

TEST(SiteTable, AGoneTaskBlocksNothing) {
  SiteTable table;
  FakeWriter writer;
  table.request(kSite, kWindow);
  table.apply({{7, 0x500000, std::nullopt, {kSite + 2}}}, writer);  // a pending signal frame
  EXPECT_FALSE(table.worth_trying(at(8, 0x500000), 0x500000 - 2));
  table.forget(7);
  EXPECT_TRUE(table.worth_trying(at(8, 0x500000), 0x500000 - 2));
}

// A blocker that leaves without being seen (a running task an apply run
// interrupted) is caught by stops at the site itself, less often the longer
// the site has waited.
TEST(SiteTable, StopsAtTheSiteRetryWithABackoff) {
  SiteTable table;
  FakeWriter writer;
  table.request(kSite, kWindow);
  const TaskSnapshot running{9, 0x401002, std::nullopt, {}};
  for (int i = 0; i < 3; ++i) table.apply({running}, writer);  // three deferrals
  const TaskSnapshot at_site = at(1, kWindow.end);  // another task, after the site's syscall
  std::vector<int> runs_at;
  for (int stop = 1; stop <= 64; ++stop) {
    if (!table.worth_trying(at_site, kSite)) continue;
    runs_at.push_back(stop);
    table.apply({running, at_site}, writer);  // task 9 is still inside
  }
  // After n deferrals, the 2^n-th stop at the site: 8, then 16 and 32 later.
  EXPECT_EQ(runs_at, (std::vector<int>{8, 24, 56}));
  for (int stop = 0; stop < 100; ++stop) EXPECT_FALSE(table.worth_trying(at_site, 0x500000));
}

// The scenario that long broke rr's deferred patching. Thread 2 is blocked
// in futex at site F (restartable). Thread 1 was in futex at F too, took a
// signal (its interrupted context returns to F + 2) and its handler made a
// read at site R, which asked for R. The apply run writes R only: F waits
// for both threads, and nothing is ever written at thread 1's current IP on
// behalf of the futex event.
TEST(SiteTable, HandlerSyscallDuringPendingFutex) {
  constexpr uint64_t kF = 0x7000105, kR = 0x7002005;
  const Window wf{0x7000100, 0x7000107}, wr{0x7002000, 0x7002007};
  SiteTable table;
  FakeWriter writer;
  table.request(kF, wf);  // by thread 2's futex event (an earlier stop)
  table.request(kR, wr);  // by thread 1's handler read event
  const TaskSnapshot in_handler{1, kR + 2, std::nullopt, {kF + 2}};
  const TaskSnapshot in_futex{2, kF + 2, kF + 2, {}};
  EXPECT_EQ(table.apply({in_handler, in_futex}, writer), std::vector<uint64_t>{kR});
  EXPECT_EQ(table.find(kF)->state, SiteState::kDeferred);

  // The handler returns (sigreturn pops the context) and the kernel restarts
  // thread 1's futex at F: still blocked by both.
  const TaskSnapshot restarted{1, kF + 2, kF + 2, {}};
  EXPECT_TRUE(table.apply({restarted, in_futex}, writer).empty());
  EXPECT_EQ(table.find(kF)->last_blocker, Blocker::kRestartableSyscall);

  // Both futexes return; the last one out lets F be written.
  EXPECT_EQ(table.apply({at(1, 0x7009000), at(2, 0x7009000)}, writer),
            std::vector<uint64_t>{kF});
  EXPECT_EQ(writer.written, (std::vector<uint64_t>{kR, kF}));
}

}  // namespace
}  // namespace hytrace::patcher

namespace hytrace::patcher {
namespace {

// A writer whose injected calls a signal interrupted: the site waits.
struct InterruptedWriter : PatchWriter {
  bool write(const Site&, std::string& error) override {
    error = "interrupted";
    return false;
  }
  bool retry() const override { return true; }
};

TEST(SiteTable, AnInterruptedWriteIsTriedAgain) {
  SiteTable table;
  table.request(kSite, kWindow);
  InterruptedWriter interrupted;
  EXPECT_TRUE(table.apply({}, interrupted).empty());
  EXPECT_TRUE(table.has_waiting());
  EXPECT_NE(table.find(kSite)->state, SiteState::kRefused);
  FakeWriter writer;
  EXPECT_EQ(table.apply({}, writer), std::vector<uint64_t>{kSite});
  EXPECT_EQ(table.find(kSite)->state, SiteState::kPatched);
}

}  // namespace
}  // namespace hytrace::patcher
