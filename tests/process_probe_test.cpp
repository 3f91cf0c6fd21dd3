// The /proc probe for `nrmlab watch` (issue 7): every field and the sums over descendants
// against a fake /proc tree, the ways a process goes away, the monotone cumulative counters,
// and real processes (a child burning CPU, a child with grandchildren that exit).
#include "telemetry/process_probe.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "telemetry/probes.hpp"
#include "test_support.hpp"

namespace nrmlab {
namespace {

namespace fs = std::filesystem;
using telemetry::ProcessProbe;
using telemetry::ProcessSample;
using testing::ScratchDir;

const std::int64_t k_tick_ns = 1'000'000'000 / sysconf(_SC_CLK_TCK);

struct FakeTask {
  pid_t tid = 0;
  std::int64_t voluntary = 0, involuntary = 0;
  std::optional<std::int64_t> rss_kb;  // the kernel omits VmRSS for a thread without memory
  std::int64_t runq_ns = 0;            // schedstat's run-queue delay
};

// What a fake /proc/PID holds; write() renders it in the kernel's formats.
struct FakeProcess {
  pid_t pid = 0;
  pid_t ppid = 1;
  char state = 'S';
  std::string comm = "a) b (c";  // the parser must split at the last ')'
  unsigned long long flags = 0x400100;
  std::int64_t minflt = 0, cminflt = 0, majflt = 0, cmajflt = 0;
  std::int64_t utime = 0, stime = 0, cutime = 0, cstime = 0;
  std::int64_t start = 1000;
  std::vector<FakeTask> tasks;  // threads = tasks.size()
  std::int64_t rchar = 0, wchar = 0, syscr = 0, syscw = 0, read_bytes = 0, write_bytes = 0;
  int fds = 3;
  std::int64_t pss_kb = 0;
  std::vector<pid_t> children;  // written only when the fake kernel has children files
  // The tasks' schedstat: "" writes "<on-CPU> <runq_ns> <timeslices>", "-" no file, else
  // this text (a kernel without scheduler statistics writes "0 0 0").
  std::string schedstat;
};

class FakeProc {
 public:
  FakeProc(fs::path root, bool children_files)
      : m_root(std::move(root)), m_children_files(children_files) {
    fs::create_directories(m_root);
  }
  const fs::path& root() const { return m_root; }
  fs::path dir(pid_t pid) const { return m_root / std::to_string(pid); }

  // (Re)writes every file in place, so descriptors the probe keeps see the new content.
  void write(const FakeProcess& p) const {
    const fs::path d = dir(p.pid);
    fs::create_directories(d / "fd");
    std::ofstream(d / "stat") << p.pid << " (" << p.comm << ") " << p.state << ' ' << p.ppid << ' '
                              << p.pid << ' ' << p.pid << " 0 -1 " << p.flags << ' ' << p.minflt
                              << ' ' << p.cminflt << ' ' << p.majflt << ' ' << p.cmajflt << ' '
                              << p.utime << ' ' << p.stime << ' ' << p.cutime << ' ' << p.cstime
                              << " 20 0 " << p.tasks.size() << " 0 " << p.start
                              << " 3133440 407 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 "
                                 "0 0 0 0 0 0 1 1 1 1 1 1 0\n";
    std::ofstream(d / "io") << "rchar: " << p.rchar << "\nwchar: " << p.wchar
                            << "\nsyscr: " << p.syscr << "\nsyscw: " << p.syscw
                            << "\nread_bytes: " << p.read_bytes
                            << "\nwrite_bytes: " << p.write_bytes << "\ncancelled_write_bytes: 0\n";
    std::ofstream(d / "smaps_rollup")
        << "55ef34532000-7ffe4777f000 ---p 00000000 00:00 0                          [rollup]\n"
        << "Rss:                1768 kB\nPss:                 " << p.pss_kb
        << " kB\nPss_Dirty:           112 kB\n";
    for (const auto& entry : fs::directory_iterator(d / "fd"))
      fs::remove(entry.path());
    for (int fd = 0; fd < p.fds; ++fd)
      std::ofstream(d / "fd" / std::to_string(fd)) << "";
    fs::create_directories(d / "task");
    for (const auto& entry : fs::directory_iterator(d / "task")) {
      const std::string tid = entry.path().filename().string();
      bool kept = false;
      for (const auto& task : p.tasks)
        kept |= std::to_string(task.tid) == tid;
      if (!kept) fs::remove_all(entry.path());  // that thread has exited
    }
    for (const auto& task : p.tasks) {
      const fs::path t = d / "task" / std::to_string(task.tid);
      fs::create_directories(t);
      std::ofstream status(t / "status");
      status << "Name:\tx\nState:\t" << p.state << " (sleeping)\nTgid:\t" << p.pid << "\nPid:\t"
             << task.tid << "\nPPid:\t" << p.ppid << "\n";
      if (task.rss_kb) status << "VmRSS:\t" << std::setw(8) << *task.rss_kb << " kB\n";
      status << "Threads:\t" << p.tasks.size() << "\nvoluntary_ctxt_switches:\t" << task.voluntary
             << "\nnonvoluntary_ctxt_switches:\t" << task.involuntary << "\n";
      if (p.schedstat.empty())
        std::ofstream(t / "schedstat") << 5'000'000 << ' ' << task.runq_ns << " 9\n";
      else if (p.schedstat != "-")
        std::ofstream(t / "schedstat") << p.schedstat;
      if (m_children_files) {
        std::string list;
        if (task.tid == p.pid)
          for (const pid_t child : p.children)
            list += std::to_string(child) + " ";
        std::ofstream(t / "children") << list;
      }
    }
  }
  void remove(pid_t pid) const { fs::remove_all(dir(pid)); }
  void set_last_pid(int last) const {
    std::ofstream(m_root / "loadavg") << "0.00 0.01 0.05 1/134 " << last << "\n";
  }

 private:
  fs::path m_root;
  bool m_children_files;
};

FakeProcess one_process(pid_t pid, pid_t ppid) {
  FakeProcess p;
  p.pid = pid;
  p.ppid = ppid;
  p.start = 1000 + pid;
  p.tasks = {{pid, 1, 1, 1024}};
  return p;
}

TEST(ProcessProbe, ReadsEveryFieldOfAProcess) {
  ScratchDir scratch;
  const FakeProc proc(scratch / "proc", false);
  FakeProcess p = one_process(100, 1);
  p.minflt = 10, p.cminflt = 20, p.majflt = 1, p.cmajflt = 2;
  p.utime = 300, p.stime = 40, p.cutime = 5, p.cstime = 6;
  // A second thread: switches and run-queue delay are per thread.
  p.tasks = {{100, 7, 3, 2048, 5000}, {101, 11, 2, 2048, 7000}};
  p.rchar = 1000, p.wchar = 2000, p.syscr = 30, p.syscw = 40;
  p.read_bytes = 4096, p.write_bytes = 8192;
  p.fds = 5;
  p.pss_kb = 1500;
  proc.write(p);

  ProcessProbe probe(100, false, proc.root());
  const std::int64_t before = telemetry::monotonic_ns();
  const std::optional<ProcessSample> sample = probe.sample(true);
  ASSERT_TRUE(sample.has_value());
  EXPECT_GE(sample->t_ns, before);
  EXPECT_LE(sample->t_ns, telemetry::monotonic_ns());
  EXPECT_EQ(sample->processes, 1);
  EXPECT_EQ(sample->threads, 2);
  // Without descendants the target is only itself: no cutime, no cminflt.
  EXPECT_EQ(sample->user_ns, 300 * k_tick_ns);
  EXPECT_EQ(sample->system_ns, 40 * k_tick_ns);
  EXPECT_EQ(sample->minor_faults, 10);
  EXPECT_EQ(sample->major_faults, 1);
  EXPECT_EQ(sample->voluntary_switches, 18);
  EXPECT_EQ(sample->involuntary_switches, 5);
  EXPECT_EQ(sample->runq_ns, 12000);
  EXPECT_EQ(probe.runq_source(), "schedstat");
  EXPECT_EQ(sample->rss_bytes, 2048 * 1024);  // shared by the threads: counted once
  EXPECT_EQ(sample->pss_bytes, 1500 * 1024);
  EXPECT_EQ(sample->rchar, 1000);
  EXPECT_EQ(sample->wchar, 2000);
  EXPECT_EQ(sample->syscr, 30);
  EXPECT_EQ(sample->syscw, 40);
  EXPECT_EQ(sample->read_bytes, 4096);
  EXPECT_EQ(sample->write_bytes, 8192);
  EXPECT_EQ(sample->open_fds, 5);
  EXPECT_THAT(probe.failures(), ::testing::IsEmpty());

  p.utime = 350;
  p.tasks[1].voluntary = 20;
  p.tasks[1].runq_ns = 9000;
  p.fds = 4;
  proc.write(p);
  const auto later = probe.sample();
  ASSERT_TRUE(later.has_value());
  EXPECT_EQ(later->user_ns, 350 * k_tick_ns);
  EXPECT_EQ(later->voluntary_switches, 27);
  EXPECT_EQ(later->runq_ns, 14000);
  EXPECT_EQ(later->open_fds, 4);
  EXPECT_FALSE(later->pss_bytes.has_value());  // only when asked
  EXPECT_THAT(probe.failures(), ::testing::IsEmpty());
}

// Descendants are found through children files where the kernel has them, else by scanning.
class ProcessProbeTree : public ::testing::TestWithParam<bool> {};

TEST_P(ProcessProbeTree, SumsTheTargetAndItsDescendants) {
  ScratchDir scratch;
  const FakeProc proc(scratch / "proc", GetParam());
  FakeProcess target = one_process(100, 1);
  target.utime = 100, target.cutime = 7, target.stime = 10, target.cstime = 1;
  target.minflt = 5, target.cminflt = 50, target.majflt = 1, target.cmajflt = 2;
  target.rchar = 10, target.fds = 4;
  target.children = {101};
  FakeProcess child = one_process(101, 100);
  child.utime = 20, child.stime = 2, child.minflt = 3, child.rchar = 100, child.fds = 3;
  child.tasks = {{101, 2, 1, 4096}, {102, 3, 0, 4096}};
  child.children = {103};
  FakeProcess grandchild = one_process(103, 101);
  grandchild.utime = 5, grandchild.cutime = 1, grandchild.rchar = 1000, grandchild.fds = 2;
  FakeProcess stranger = one_process(200, 1);  // and its child: neither belongs to the tree
  stranger.utime = 1'000'000;
  stranger.children = {201};
  FakeProcess strangers_child = one_process(201, 200);
  strangers_child.utime = 1'000'000;
  for (const auto& p : {target, child, grandchild, stranger, strangers_child})
    proc.write(p);

  ProcessProbe probe(100, true, proc.root());
  auto sample = probe.sample();
  ASSERT_TRUE(sample.has_value());
  EXPECT_EQ(sample->processes, 3);
  EXPECT_EQ(sample->threads, 4);
  // With descendants each process also stands for the children it has reaped.
  EXPECT_EQ(sample->user_ns, (107 + 20 + 6) * k_tick_ns);
  EXPECT_EQ(sample->system_ns, (11 + 2) * k_tick_ns);
  EXPECT_EQ(sample->minor_faults, 55 + 3);
  EXPECT_EQ(sample->major_faults, 3);
  EXPECT_EQ(sample->voluntary_switches, 1 + 5 + 1);
  EXPECT_EQ(sample->involuntary_switches, 1 + 1 + 1);
  EXPECT_EQ(sample->rss_bytes, (1024 + 4096 + 1024) * 1024);
  EXPECT_EQ(sample->rchar, 1110);
  EXPECT_EQ(sample->open_fds, 9);
  EXPECT_THAT(probe.failures(), ::testing::IsEmpty());

  // A new grandchild appears (no /proc/loadavg here, so every sample searches).
  FakeProcess late = one_process(104, 100);
  late.utime = 9;
  proc.write(late);
  target.children = {101, 104};
  proc.write(target);
  sample = probe.sample();
  ASSERT_TRUE(sample.has_value());
  EXPECT_EQ(sample->processes, 4);
  EXPECT_EQ(sample->user_ns, (107 + 20 + 6 + 9) * k_tick_ns);
}

INSTANTIATE_TEST_SUITE_P(Discovery, ProcessProbeTree, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "ChildrenFiles" : "Scan"; });

TEST(ProcessProbe, AVanishedTargetIsAbsent) {
  ScratchDir scratch;
  const FakeProc proc(scratch / "proc", false);
  EXPECT_FALSE(ProcessProbe(100, true, proc.root()).sample().has_value());  // never existed
  proc.write(one_process(100, 1));
  ProcessProbe probe(100, true, proc.root());
  ASSERT_TRUE(probe.sample().has_value());
  proc.remove(100);
  EXPECT_FALSE(probe.sample().has_value());
  proc.write(one_process(100, 1));  // the pid again: another process, not the target
  EXPECT_FALSE(probe.sample().has_value());
  EXPECT_THAT(probe.failures(), ::testing::IsEmpty());  // exiting is no problem
}

TEST(ProcessProbe, AZombieTargetIsAbsent) {
  ScratchDir scratch;
  const FakeProc proc(scratch / "proc", false);
  FakeProcess p = one_process(100, 1);
  proc.write(p);
  ProcessProbe probe(100, false, proc.root());
  ASSERT_TRUE(probe.sample().has_value());
  p.state = 'Z';
  p.flags |= 0x4;  // PF_EXITING
  p.tasks[0].rss_kb.reset();
  p.fds = 0;
  proc.write(p);
  EXPECT_FALSE(probe.sample().has_value());
  p.state = 'S';  // once gone, gone
  proc.write(p);
  EXPECT_FALSE(probe.sample().has_value());
}

TEST(ProcessProbe, AProcessWhoseMainThreadExitedStillLives) {
  // The kernel shows Z for the main thread while the other threads run on; memory and files
  // are then reached through a live thread.
  ScratchDir scratch;
  const FakeProc proc(scratch / "proc", false);
  FakeProcess p = one_process(100, 1);
  p.state = 'Z';
  p.flags |= 0x4;
  p.tasks = {{100, 4, 1, std::nullopt}, {105, 6, 2, 3000}};
  p.fds = 0;
  proc.write(p);
  fs::create_directories(proc.dir(100) / "task" / "105" / "fd");
  for (int fd = 0; fd < 6; ++fd)
    std::ofstream(proc.dir(100) / "task" / "105" / "fd" / std::to_string(fd)) << "";
  ProcessProbe probe(100, false, proc.root());
  const auto sample = probe.sample();
  ASSERT_TRUE(sample.has_value());
  EXPECT_EQ(sample->processes, 1);
  EXPECT_EQ(sample->threads, 2);
  EXPECT_EQ(sample->rss_bytes, 3000 * 1024);
  EXPECT_EQ(sample->open_fds, 6);
  EXPECT_EQ(sample->voluntary_switches, 10);
}

// Without scheduler statistics (every schedstat "0 0 0", or no such files) the run-queue delay
// is absent, not 0, and the probe says why; everything else is read as usual.
TEST(ProcessProbe, WithoutSchedulerStatisticsTheRunQueueDelayIsAbsent) {
  for (const std::string schedstat : {"0 0 0\n", "-"}) {
    ScratchDir scratch;
    const FakeProc proc(scratch / "proc", false);
    FakeProcess p = one_process(100, 1);
    p.utime = 10;
    p.schedstat = schedstat;
    proc.write(p);
    ProcessProbe probe(100, false, proc.root());
    for (int i = 0; i < 2; ++i) {
      const auto sample = probe.sample();
      ASSERT_TRUE(sample.has_value());
      EXPECT_FALSE(sample->runq_ns.has_value()) << schedstat;
      EXPECT_EQ(sample->user_ns, 10 * k_tick_ns);
      EXPECT_TRUE(sample->voluntary_switches.has_value());
    }
    EXPECT_THAT(probe.runq_source(), ::testing::StartsWith("unavailable: "));
    EXPECT_THAT(probe.runq_source(),
                ::testing::HasSubstr(schedstat == "-" ? "schedstat: no such file" : "0 0 0"));
  }
}

TEST(ProcessProbe, AnUnreadableIoFileIsAbsentAndReportedOnce) {
  ScratchDir scratch;
  const FakeProc proc(scratch / "proc", false);
  proc.write(one_process(100, 1));
  // A directory in its place: unreadable even for root (a mode of 000 would not be).
  fs::remove(proc.dir(100) / "io");
  fs::create_directory(proc.dir(100) / "io");
  ProcessProbe probe(100, false, proc.root());
  for (int i = 0; i < 3; ++i) {
    const auto sample = probe.sample();
    ASSERT_TRUE(sample.has_value());
    EXPECT_FALSE(sample->rchar.has_value());
    EXPECT_FALSE(sample->wchar.has_value());
    EXPECT_FALSE(sample->syscr.has_value());
    EXPECT_FALSE(sample->syscw.has_value());
    EXPECT_FALSE(sample->read_bytes.has_value());
    EXPECT_FALSE(sample->write_bytes.has_value());
    EXPECT_TRUE(sample->rss_bytes.has_value());  // the rest is unaffected
    EXPECT_TRUE(sample->voluntary_switches.has_value());
  }
  ASSERT_EQ(probe.failures().size(), 1u);
  EXPECT_THAT(probe.failures()[0], ::testing::HasSubstr((proc.dir(100) / "io").string()));
  EXPECT_THAT(probe.failures()[0], ::testing::HasSubstr("is a directory"));
}

TEST(ProcessProbe, AnUnreadableDescendantMakesTheSumAbsentNotSmaller) {
  ScratchDir scratch;
  const FakeProc proc(scratch / "proc", false);
  FakeProcess target = one_process(100, 1);
  target.wchar = 10;
  proc.write(target);
  proc.write(one_process(101, 100));
  fs::remove(proc.dir(101) / "io");
  fs::create_directory(proc.dir(101) / "io");
  ProcessProbe probe(100, true, proc.root());
  const auto sample = probe.sample();
  ASSERT_TRUE(sample.has_value());
  EXPECT_EQ(sample->processes, 2);
  EXPECT_FALSE(sample->wchar.has_value());
  EXPECT_EQ(probe.failures().size(), 1u);
}

TEST(ProcessProbe, CumulativeCountersNeverFallWhenADescendantLeaves) {
  ScratchDir scratch;
  const FakeProc proc(scratch / "proc", false);
  FakeProcess target = one_process(100, 1);
  target.utime = 100;
  target.wchar = 1000;
  target.tasks = {{100, 10, 0, 1024, 100}, {150, 5, 0, 1024, 50}};
  proc.write(target);
  FakeProcess reaped = one_process(101, 100);
  reaped.utime = 50;
  reaped.wchar = 500;
  reaped.tasks[0].voluntary = 7;
  reaped.tasks[0].runq_ns = 70;
  proc.write(reaped);
  ProcessProbe probe(100, true, proc.root());
  auto sample = probe.sample();
  ASSERT_TRUE(sample.has_value());
  EXPECT_EQ(sample->user_ns, 150 * k_tick_ns);
  EXPECT_EQ(sample->wchar, 1500);
  EXPECT_EQ(sample->voluntary_switches, 10 + 5 + 7);
  EXPECT_EQ(sample->runq_ns, 100 + 50 + 70);

  // The child runs 10 ticks more, exits and is reaped: the kernel adds its times and I/O to
  // the parent's. Counted once, not twice; its switches are carried from the last reading.
  // A thread of the target exits too: its switches stay.
  proc.remove(101);
  target.cutime = 60;
  target.wchar = 1000 + 600;
  target.tasks = {{100, 12, 0, 1024, 120}};
  proc.write(target);
  sample = probe.sample();
  ASSERT_TRUE(sample.has_value());
  EXPECT_EQ(sample->processes, 1);
  EXPECT_EQ(sample->user_ns, 160 * k_tick_ns);
  EXPECT_EQ(sample->wchar, 1600);
  EXPECT_EQ(sample->voluntary_switches, 12 + 5 + 7);
  // Run-queue delay likewise: the kernel never adds a reaped child's to its parent.
  EXPECT_EQ(sample->runq_ns, 120 + 50 + 70);

  // A child nobody reaps into the tree (its parent ignores SIGCHLD): carried forward.
  FakeProcess unreaped = one_process(102, 100);
  unreaped.utime = 40;
  proc.write(unreaped);
  sample = probe.sample();
  ASSERT_TRUE(sample.has_value());
  EXPECT_EQ(sample->user_ns, 200 * k_tick_ns);
  proc.remove(102);
  sample = probe.sample();
  ASSERT_TRUE(sample.has_value());
  EXPECT_EQ(sample->user_ns, 200 * k_tick_ns);

  // A grandchild orphaned when its parent exits is reparented out of the tree: its parent's
  // reaping brings only the parent's own times, the orphan's so far are carried, and it is
  // never counted again however long it runs.
  FakeProcess parent = one_process(103, 100);
  parent.utime = 30;
  FakeProcess orphan = one_process(104, 103);
  orphan.utime = 20;
  proc.write(parent);
  proc.write(orphan);
  sample = probe.sample();
  ASSERT_TRUE(sample.has_value());
  EXPECT_EQ(sample->processes, 3);
  EXPECT_EQ(sample->user_ns, 250 * k_tick_ns);
  proc.remove(103);
  target.cutime += 30;
  proc.write(target);
  orphan.ppid = 1;
  orphan.utime = 80;
  proc.write(orphan);
  sample = probe.sample();
  ASSERT_TRUE(sample.has_value());
  EXPECT_EQ(sample->processes, 1);
  EXPECT_EQ(sample->user_ns, 250 * k_tick_ns);
  orphan.utime = 500;
  proc.write(orphan);
  sample = probe.sample();
  ASSERT_TRUE(sample.has_value());
  EXPECT_EQ(sample->user_ns, 250 * k_tick_ns);
  EXPECT_THAT(probe.failures(), ::testing::IsEmpty());  // nothing had to be held
}

TEST(ProcessProbe, SearchesForNewDescendantsOnlyAfterAPidWasAllocated) {
  ScratchDir scratch;
  const FakeProc proc(scratch / "proc", false);
  proc.write(one_process(100, 1));
  proc.set_last_pid(500);
  ProcessProbe probe(100, true, proc.root());
  ASSERT_EQ(probe.sample()->processes, 1);  // searches: a new last pid
  ASSERT_EQ(probe.sample()->processes, 1);  // searches again: the pid may not be listed yet
  proc.write(one_process(101, 100));        // appears without a pid allocated: impossible, so
  EXPECT_EQ(probe.sample()->processes, 1);  // not searched for
  proc.set_last_pid(501);
  EXPECT_EQ(probe.sample()->processes, 2);
  EXPECT_EQ(probe.sample()->processes, 2);  // the second search for 501
  // However still the last pid stands, a search runs every 20 samples.
  proc.write(one_process(102, 100));
  int samples = 1;
  while (probe.sample()->processes < 3 && samples < 25)
    ++samples;
  EXPECT_EQ(samples, 20);
}

// Spins until this thread has used `duration` of CPU time, nearly all of it in user mode:
// the thread CPU clock is a system call, so it is read only every few tens of microseconds.
void burn_cpu(std::chrono::milliseconds duration) {
  const std::int64_t until = telemetry::thread_cpu_ns() + duration.count() * 1'000'000;
  volatile std::uint64_t sink = 0;
  while (telemetry::thread_cpu_ns() < until)
    for (int i = 0; i < 20'000; ++i)
      sink = sink + static_cast<std::uint64_t>(i);
}

void read_byte(int fd) {
  char byte = 0;
  while (read(fd, &byte, 1) < 0 && errno == EINTR) {
  }
}

void write_byte(int fd) {
  const char byte = 1;
  while (write(fd, &byte, 1) < 0 && errno == EINTR) {
  }
}

char stat_state(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(in, line);
  const auto close = line.rfind(')');
  return close == std::string::npos || close + 2 >= line.size() ? '?' : line[close + 2];
}

TEST(ProcessProbe, ReadsTheRealCurrentProcess) {
  burn_cpu(std::chrono::milliseconds(30));  // a young test process may not have a tick yet
  std::this_thread::sleep_for(std::chrono::milliseconds(1));  // and a voluntary switch
  ProcessProbe probe(getpid(), true);
  const auto sample = probe.sample(true);
  ASSERT_TRUE(sample.has_value());
  EXPECT_GE(sample->processes, 1);
  EXPECT_GE(sample->threads, 1);
  EXPECT_GT(sample->user_ns + sample->system_ns, 0);
  EXPECT_GT(sample->rss_bytes.value_or(0), 1 << 20);
  EXPECT_GT(sample->pss_bytes.value_or(0), 0);
  EXPECT_GE(sample->open_fds.value_or(0), 3);
  EXPECT_GT(sample->voluntary_switches.value_or(-1) + sample->involuntary_switches.value_or(-1), 0);
  EXPECT_GT(sample->rchar.value_or(0), 0);
  EXPECT_THAT(probe.failures(), ::testing::IsEmpty());
  if (telemetry::ThreadSchedstat().unavailable().empty()) {
    EXPECT_EQ(probe.runq_source(), "schedstat");
    EXPECT_GE(sample->runq_ns.value_or(-1), 0);
  }
}

TEST(ProcessProbeLive, SeesAChildBurnCpuThenBecomeAZombieThenGo) {
  int go[2], done[2];
  ASSERT_EQ(pipe(go), 0);
  ASSERT_EQ(pipe(done), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(go[1]);
    close(done[0]);
    read_byte(go[0]);
    burn_cpu(std::chrono::milliseconds(100));
    write_byte(done[1]);
    read_byte(go[0]);  // end of file once the parent closes its end
    _exit(0);
  }
  close(go[0]);
  close(done[1]);
  ProcessProbe probe(child, false);
  const auto before = probe.sample();
  write_byte(go[1]);
  read_byte(done[0]);
  const auto after = probe.sample();
  ASSERT_TRUE(before.has_value());
  ASSERT_TRUE(after.has_value());
  EXPECT_GE(after->user_ns - before->user_ns, 50'000'000);
  EXPECT_GE(after->threads, 1);
  EXPECT_EQ(after->processes, 1);
  EXPECT_GT(after->rss_bytes.value_or(0), 0);
  EXPECT_GE(after->open_fds.value_or(0), 3);
  EXPECT_TRUE(after->voluntary_switches.has_value());
  EXPECT_TRUE(after->wchar.has_value());

  close(go[1]);  // the child exits; unreaped, it is a zombie
  for (int i = 0; i < 500 && stat_state(child) != 'Z'; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(stat_state(child), 'Z');
  EXPECT_FALSE(probe.sample().has_value());
  EXPECT_EQ(testing::wait_process(child), 0);
  EXPECT_FALSE(probe.sample().has_value());
  close(done[0]);

  ProcessProbe reaped(child, true);  // built after the process went: absent from the start
  EXPECT_FALSE(reaped.sample().has_value());
  EXPECT_THAT(probe.failures(), ::testing::IsEmpty());
}

TEST(ProcessProbeLive, CountsGrandchildrenAndKeepsTheirCpuOnceReaped) {
  int ready[2], release[2], finish[2];
  ASSERT_EQ(pipe(ready), 0);
  ASSERT_EQ(pipe(release), 0);
  ASSERT_EQ(pipe(finish), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(ready[0]);
    close(release[1]);
    close(finish[1]);
    pid_t grandchildren[2] = {0, 0};
    for (pid_t& grandchild : grandchildren) {
      grandchild = fork();
      if (grandchild == 0) {
        write_byte(ready[1]);
        read_byte(release[0]);  // end of file: burn, then exit
        burn_cpu(std::chrono::milliseconds(75));
        _exit(0);
      }
    }
    write_byte(ready[1]);
    for (const pid_t grandchild : grandchildren)
      waitpid(grandchild, nullptr, 0);  // reaping adds their times to this process's cutime
    write_byte(ready[1]);
    read_byte(finish[0]);
    _exit(0);
  }
  close(ready[1]);
  close(release[0]);
  close(finish[0]);
  for (int i = 0; i < 3; ++i)
    read_byte(ready[0]);
  ProcessProbe probe(child, true);
  const auto running = probe.sample();
  ASSERT_TRUE(running.has_value());
  EXPECT_GE(running->processes, 3);
  EXPECT_GE(running->threads, 3);

  close(release[1]);
  read_byte(ready[0]);  // both grandchildren burnt 75 ms each, exited and were reaped
  const auto reaped = probe.sample();
  ASSERT_TRUE(reaped.has_value());
  EXPECT_EQ(reaped->processes, 1);
  EXPECT_GE(reaped->user_ns - running->user_ns, 100'000'000);
  close(finish[1]);
  EXPECT_EQ(testing::wait_process(child), 0);
  close(ready[0]);
  EXPECT_THAT(probe.failures(), ::testing::IsEmpty());
}

}  // namespace
}  // namespace nrmlab
