// Probe correctness against known effects (issue 3): a step that sleeps shows off-CPU time,
// one that computes shows CPU time, one that allocates and keeps memory shows RSS growth
// and page faults, one that writes a file shows write bytes; a stepping thread that shares
// its CPU with busy threads shows run-queue delay (issue 17).
#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "telemetry/recorder.hpp"
#include "telemetry/telemetry_store.hpp"
#include "test_support.hpp"
#include "util/error.hpp"
#include "util/proc_stat.hpp"
#include "util/sqlite.hpp"

namespace nrmlab {
namespace {

using testing::ScratchDir;

struct StepFigures {
  std::int64_t wall_ns, cpu_ns, user_ns, system_ns, minor_faults, recorder_ns;
};

StepFigures step_figures(sqlite::Connection& db, int step) {
  sqlite::Statement row(db,
                        "SELECT wall_ns, cpu_ns, user_ns, system_ns, minor_faults, recorder_ns "
                        "FROM steps WHERE condition = 0 AND step = ?");
  row.bind(1, std::int64_t{step});
  EXPECT_TRUE(row.step()) << "step " << step;
  return {row.column_int(0), row.column_int(1), row.column_int(2),
          row.column_int(3), row.column_int(4), row.column_int(5)};
}

// Spins until this thread has used `duration` of CPU time: on a loaded machine a wall-clock
// deadline would measure the scheduler, not the probe.
std::int64_t burn_cpu(std::chrono::nanoseconds duration) {
  const std::int64_t until = telemetry::thread_cpu_ns() + duration.count();
  std::int64_t spins = 0;
  while (telemetry::thread_cpu_ns() < until)
    ++spins;
  return spins;
}

class TelemetryProbes : public ::testing::Test {
 protected:
  // Drives a recorder through five hand-made "steps", each with one known effect.
  static void SetUpTestSuite() {
    s_scratch = new ScratchDir();
    telemetry::RecorderOptions options;
    options.db_path = *s_scratch / "telemetry.db";
    options.memory_every = 1;
    options.rusage_every = 1;
    options.side_period_ms = 20;
    telemetry::Recorder recorder(options, {{"test", "probes"}});
    recorder.on_condition_begin(0);
    model::StepRecord record;
    auto end_step = [&](int step) {
      record.step = step;
      recorder.on_step(record);
    };
    std::this_thread::sleep_for(std::chrono::milliseconds(60));  // step 0: off-CPU
    end_step(0);
    volatile std::int64_t sink = burn_cpu(std::chrono::milliseconds(60));  // step 1: on-CPU
    (void)sink;
    end_step(1);
    // step 2: 64 MiB mapped and touched page by page. Mapped directly and kept out of
    // transparent huge pages: with THP "always" (as on some CI machines) 64 MiB would take
    // 32 faults of 2 MiB instead of 16,384 of 4 KiB, and the fault count would test the
    // kernel's setting, not the probe.
    s_kept =
        mmap(nullptr, k_kept_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(s_kept, MAP_FAILED);
    madvise(s_kept, k_kept_bytes, MADV_NOHUGEPAGE);
    for (std::size_t i = 0; i < k_kept_bytes; i += 4096)
      static_cast<volatile char*>(s_kept)[i] = 1;
    end_step(2);
    {  // step 3: 8 MiB written to a file, then time for the side stream to see it
      std::vector<char> block(1 << 20, 'x');
      const int fd = open((*s_scratch / "written.bin").c_str(), O_WRONLY | O_CREAT, 0644);
      for (int i = 0; i < 8; ++i)
        EXPECT_EQ(write(fd, block.data(), block.size()), 1 << 20);
      close(fd);
      std::this_thread::sleep_for(std::chrono::milliseconds(80));
    }
    end_step(3);
    end_step(4);
    recorder.finish();
  }
  static void TearDownTestSuite() {
    if (s_kept != nullptr && s_kept != MAP_FAILED) munmap(s_kept, k_kept_bytes);
    delete s_scratch;
  }
  static sqlite::Connection open_db() { return sqlite::Connection(*s_scratch / "telemetry.db"); }

  static ScratchDir* s_scratch;
  static constexpr std::size_t k_kept_bytes = std::size_t{64} << 20;
  static void* s_kept;
};

ScratchDir* TelemetryProbes::s_scratch = nullptr;
void* TelemetryProbes::s_kept = nullptr;

TEST_F(TelemetryProbes, ASleepingStepIsOffCpu) {
  auto db = open_db();
  const StepFigures sleeping = step_figures(db, 0);
  EXPECT_GE(sleeping.wall_ns, 60'000'000);
  EXPECT_LT(sleeping.cpu_ns, 5'000'000);
}

TEST_F(TelemetryProbes, AComputingStepIsOnCpu) {
  auto db = open_db();
  const StepFigures busy = step_figures(db, 1);
  // The thread CPU clock is exact: the 60 ms burnt, plus the recorder's own microseconds.
  EXPECT_GE(busy.cpu_ns, 60'000'000);
  EXPECT_LT(busy.cpu_ns, 70'000'000);
  EXPECT_GE(busy.wall_ns, busy.cpu_ns);
  // getrusage's user + system time advances in scheduler ticks: right to within one.
  EXPECT_NEAR(static_cast<double>(busy.user_ns + busy.system_ns), 60e6, 15e6);
}

TEST_F(TelemetryProbes, AnAllocatingStepShowsFaultsAndRssGrowth) {
  auto db = open_db();
  EXPECT_GE(step_figures(db, 2).minor_faults, (64 << 20) / 4096 / 2);
  sqlite::Statement rss(db, "SELECT step, rss_bytes FROM memory WHERE condition = 0 ORDER BY step");
  std::vector<std::int64_t> by_step;
  while (rss.step())
    by_step.push_back(rss.column_int(1));
  ASSERT_GE(by_step.size(), 3u);
  EXPECT_GE(by_step[2] - by_step[1], 60 << 20);
}

TEST_F(TelemetryProbes, AWritingStepShowsWrittenBytes) {
  auto db = open_db();
  // wchar counts bytes passed to write(2) (write_bytes only those reaching a block device,
  // which a tmpfs scratch directory never does).
  // Side samples are labelled with the step in progress, so the 8 MiB must appear between
  // samples taken before step 3 and samples taken from step 3 on (the one taken when the
  // recorder finishes among them: a loaded machine can delay the side thread past the 80 ms
  // the step waits, so that no sample is labelled step 3 at all).
  const auto before = sqlite::query_int(db, "SELECT max(io_wchar) FROM system WHERE step < 3");
  const auto during = sqlite::query_int(db, "SELECT max(io_wchar) FROM system WHERE step >= 3");
  EXPECT_GE(during - before, 8 << 20);
  EXPECT_LT(during - before, 9 << 20);
}

TEST_F(TelemetryProbes, TheRecorderMeasuresItselfAndStoresItsShare) {
  auto db = open_db();
  const auto recorder_ns = sqlite::query_int(db, "SELECT sum(recorder_ns) FROM steps");
  EXPECT_GT(recorder_ns, 0);
  sqlite::Statement meta(db, "SELECT value FROM meta WHERE key = ?");
  meta.bind(1, std::string_view("recorder_share"));
  ASSERT_TRUE(meta.step());
  EXPECT_GT(std::stod(meta.column_text(0)), 0.0);
  meta.reset();
  meta.bind(1, std::string_view("test"));
  ASSERT_TRUE(meta.step());
  EXPECT_EQ(meta.column_text(0), "probes");
}

TEST(ProcessMemory, MissingProcFilesAreAbsentNotZero) {
  telemetry::ProcessMemory memory("/nonexistent/proc/self");
  EXPECT_FALSE(memory.rss_bytes().has_value());
  EXPECT_FALSE(memory.pss_bytes().has_value());
  telemetry::ProcessMemory real;
  EXPECT_GT(real.rss_bytes().value_or(0), 1 << 20);
  EXPECT_GT(real.pss_bytes().value_or(0), 0);
}

TEST(SystemSampler, MalformedProcFilesAreAbsentAndReportedOnce) {
  ScratchDir scratch;
  const auto proc = scratch / "proc";
  std::filesystem::create_directories(proc / "self");
  std::ofstream(proc / "stat") << "garbage\n";
  std::ofstream(proc / "meminfo") << "MemTotal: lots kB\n";
  std::ofstream(proc / "loadavg") << "x y z 1/2 3\n";
  std::ofstream(proc / "self" / "stat") << "1 (nrmlab) R\n";
  telemetry::SystemSampler sampler(proc, scratch / "sys");
  for (int i = 0; i < 3; ++i) {
    const telemetry::SystemSample sample = sampler.sample_system();
    EXPECT_FALSE(sample.cpu_percent.has_value());
    EXPECT_FALSE(sample.memory_percent.has_value());
    EXPECT_FALSE(sample.load1.has_value());
    EXPECT_FALSE(sample.other_cpu_ns.has_value());
    EXPECT_FALSE(sample.io_wchar.has_value());
  }
  EXPECT_EQ(sampler.failures().size(), 5u);  // each problem once, however often it recurs
  EXPECT_TRUE(sampler.sample_sensors().empty());
  EXPECT_THAT(sampler.describe_sensors(), ::testing::Contains("temperature: none"));
}

TEST(SystemSampler, ReadsSensorsWhereTheMachineHasThem) {
  ScratchDir scratch;
  const auto sys = scratch / "sys";
  std::filesystem::create_directories(sys / "devices/system/cpu/cpu0/cpufreq");
  std::filesystem::create_directories(sys / "class/thermal/thermal_zone0");
  std::filesystem::create_directories(sys / "class/hwmon/hwmon1");
  std::ofstream(sys / "devices/system/cpu/cpu0/cpufreq/scaling_cur_freq") << "2400000\n";
  std::ofstream(sys / "class/thermal/thermal_zone0/temp") << "45500\n";
  std::ofstream(sys / "class/thermal/thermal_zone0/type") << "x86_pkg_temp\n";
  std::ofstream(sys / "class/hwmon/hwmon1/name") << "coretemp\n";
  std::ofstream(sys / "class/hwmon/hwmon1/temp1_input") << "51000\n";
  telemetry::SystemSampler sampler("/proc", sys);
  const auto readings = sampler.sample_sensors();
  ASSERT_EQ(readings.size(), 3u);
  EXPECT_EQ(readings[0].kind, "cpufreq_khz");
  EXPECT_EQ(readings[0].value, 2400000.0);
  EXPECT_EQ(readings[1].name, "thermal_zone0 (x86_pkg_temp)");
  EXPECT_DOUBLE_EQ(readings[1].value, 45.5);
  EXPECT_EQ(readings[2].name, "hwmon1 temp1 (coretemp)");
  EXPECT_THAT(sampler.describe_sensors(), ::testing::Contains("cpufreq: 1 cores"));
}

TEST(Recorder, FailingProbesAreRecordedInMetaAndWarnedOnce) {
  ScratchDir scratch;
  telemetry::RecorderOptions options;
  options.db_path = scratch / "telemetry.db";
  options.proc_root = scratch / "no-proc";
  options.memory_every = 1;
  options.side_period_ms = 5;
  int warnings = 0;
  options.warn = [&](const std::string&) { ++warnings; };
  {
    telemetry::Recorder recorder(options, {});
    recorder.on_condition_begin(0);
    for (int step = 0; step < 5; ++step) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      recorder.on_step({0, step, {}, {}});
    }
    recorder.finish();
  }
  EXPECT_EQ(warnings, 1);
  sqlite::Connection db(options.db_path);
  EXPECT_EQ(sqlite::query_int(db, "SELECT count(*) FROM steps"), 5);
  EXPECT_EQ(sqlite::query_int(db, "SELECT count(*) FROM memory WHERE rss_bytes IS NOT NULL"), 0);
  // At least the first and the closing side sample, and no number in either.
  EXPECT_GE(sqlite::query_int(db, "SELECT count(*) FROM system"), 2);
  EXPECT_EQ(sqlite::query_int(db,
                              "SELECT count(*) FROM system WHERE cpu_percent IS NOT NULL OR "
                              "memory_percent IS NOT NULL OR load1 IS NOT NULL OR io_wchar IS NOT "
                              "NULL OR pss_bytes IS NOT NULL"),
            0);
  sqlite::Statement failures(db, "SELECT value FROM meta WHERE key = 'failures'");
  ASSERT_TRUE(failures.step());
  EXPECT_THAT(failures.column_text(0), ::testing::HasSubstr("statm"));
}

TEST(Recorder, AnUnknownAllocatorIsReportedNotSilentlyEmpty) {
  const auto allocator = telemetry::detect_allocator();
  if (allocator->name().rfind("unknown", 0) != 0)
    GTEST_SKIP() << "malloc is served by " << allocator->name() << " here";
  // In the sanitized build ASan serves malloc: exactly the unknown-allocator case.
  ScratchDir scratch;
  telemetry::RecorderOptions options;
  options.db_path = scratch / "telemetry.db";
  options.side_period_ms = 0;
  std::string warning;
  options.warn = [&](const std::string& message) { warning = message; };
  telemetry::Recorder(options, {}).finish();
  EXPECT_THAT(warning, ::testing::HasSubstr("no allocator statistics"));
  sqlite::Connection db(options.db_path);
  sqlite::Statement failures(db, "SELECT value FROM meta WHERE key = 'failures'");
  ASSERT_TRUE(failures.step());
  EXPECT_THAT(failures.column_text(0), ::testing::HasSubstr(allocator->name()));
}

TEST(Recorder, AnUnwritableDatabaseIsAClearError) {
  telemetry::RecorderOptions options;
  options.db_path = "/proc/nrmlab/telemetry.db";
  try {
    telemetry::Recorder recorder(options, {});
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), ::testing::HasSubstr("/proc/nrmlab/telemetry.db"));
  }
}

// ---- Run-queue delay (issue 17) ----

TEST(Schedstat, ParsesExactlyThreeNonNegativeNumbers) {
  const auto stat = parse_schedstat("36241539 24467745 138\n");
  ASSERT_TRUE(stat.has_value());
  EXPECT_EQ(stat->on_cpu_ns, 36241539);
  EXPECT_EQ(stat->runq_ns, 24467745);
  EXPECT_EQ(stat->timeslices, 138);
  EXPECT_FALSE(stat->empty());
  EXPECT_TRUE(parse_schedstat("0 0 0")->empty());
  for (const char* bad : {"", "\n", "1 2", "1 2 3 4", "1  2 3", "1 2 3 ", " 1 2 3", "-1 2 3",
                          "1 x 3", "1 2 3\n\n", "1\t2\t3"})
    EXPECT_FALSE(parse_schedstat(bad).has_value()) << '"' << bad << '"';
}

// Pins the calling thread to one CPU; restores its former affinity when destroyed.
class PinnedHere {
 public:
  explicit PinnedHere(int cpu) {
    m_saved = sched_getaffinity(0, sizeof m_former, &m_former) == 0;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    EXPECT_EQ(sched_setaffinity(0, sizeof one, &one), 0) << "cpu " << cpu;
  }
  ~PinnedHere() {
    if (m_saved) sched_setaffinity(0, sizeof m_former, &m_former);
  }
  PinnedHere(const PinnedHere&) = delete;
  PinnedHere& operator=(const PinnedHere&) = delete;

 private:
  cpu_set_t m_former{};
  bool m_saved = false;
};

// Threads that spin on one CPU until destroyed: competitors for it.
class CpuHogs {
 public:
  CpuHogs(int count, int cpu) {
    for (int i = 0; i < count; ++i)
      m_threads.emplace_back([this, cpu] {
        const PinnedHere pinned(cpu);
        m_started.fetch_add(1);
        while (!m_stop.load(std::memory_order_relaxed)) {
        }
      });
    while (m_started.load() < count)
      std::this_thread::yield();
  }
  ~CpuHogs() {
    m_stop.store(true);
    for (auto& thread : m_threads)
      thread.join();
  }
  CpuHogs(const CpuHogs&) = delete;
  CpuHogs& operator=(const CpuHogs&) = delete;

 private:
  std::atomic<bool> m_stop{false};
  std::atomic<int> m_started{0};
  std::vector<std::thread> m_threads;
};

int last_allowed_cpu() {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return 0;
  int last = 0;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
    if (CPU_ISSET(cpu, &allowed)) last = cpu;
  return last;
}

struct QueueWait {
  std::int64_t runq_ns = 0;   // summed over the getrusage readings
  std::int64_t cpu_ns = 0;    // summed over every step
  std::int64_t wall_ns = 0;   // likewise
  std::int64_t readings = 0;  // rows with runq_ns
  std::int64_t stray = 0;     // rows between readings that have one anyway
  std::string probe;          // meta probe.runq
};

// 320 steps of 150 µs CPU each on `cpu`, through the recorder, with `hogs` busy threads on
// the same CPU; what the steps table says of run-queue delay.
QueueWait run_steps_on(int cpu, int hogs, const std::filesystem::path& db_path) {
  {
    const PinnedHere pinned(cpu);
    const CpuHogs competitors(hogs, cpu);
    telemetry::RecorderOptions options;
    options.db_path = db_path;
    options.side_period_ms = 0;
    options.memory_every = 0;
    options.alloc_probe_every = 0;
    options.rusage_every = 8;
    options.budget_share = 0;  // the plain cadence: a reading every 8th step, whatever it costs
    telemetry::Recorder recorder(options, {});
    recorder.on_condition_begin(0);
    model::StepRecord record;
    for (int step = 0; step < 320; ++step) {
      burn_cpu(std::chrono::microseconds(150));
      record.step = step;
      recorder.on_step(record);
    }
    recorder.finish();
  }
  sqlite::Connection db(db_path);
  QueueWait wait;
  wait.runq_ns = sqlite::query_int(db, "SELECT coalesce(sum(runq_ns), 0) FROM steps");
  wait.cpu_ns = sqlite::query_int(db, "SELECT coalesce(sum(cpu_ns), 0) FROM steps");
  wait.wall_ns = sqlite::query_int(db, "SELECT coalesce(sum(wall_ns), 0) FROM steps");
  wait.readings = sqlite::query_int(db, "SELECT count(runq_ns) FROM steps");
  wait.stray = sqlite::query_int(db, "SELECT count(runq_ns) FROM steps WHERE usage_steps = 0");
  sqlite::Statement probe(db, "SELECT value FROM meta WHERE key = 'probe.runq'");
  if (probe.step()) wait.probe = probe.column_text(0);
  return wait;
}

// The stepping thread alone on a CPU, then with two busy threads pinned to the same CPU.
// With three runnable threads of equal weight it runs a third of the time it is runnable,
// so it waits about 2 ns more per ns of CPU than alone -- whatever else the machine runs,
// since other load on that CPU adds the same wait to both runs (under group scheduling the
// difference only grows). The bound asks for half of that.
TEST(RunQueueDelay, AStepperSharingItsCpuWithTwoBusyThreadsWaitsForIt) {
  const std::string unavailable = telemetry::ThreadSchedstat().unavailable();
  if (!unavailable.empty()) GTEST_SKIP() << unavailable;
  const int cpu = last_allowed_cpu();
  ScratchDir scratch;
  const QueueWait alone = run_steps_on(cpu, 0, scratch / "alone.db");
  const QueueWait shared = run_steps_on(cpu, 2, scratch / "shared.db");
  for (const QueueWait* wait : {&alone, &shared}) {
    EXPECT_EQ(wait->probe, "schedstat");
    EXPECT_EQ(wait->readings, 40);  // every 8th step, as the switch counts
    EXPECT_EQ(wait->stray, 0);
    EXPECT_GE(wait->runq_ns, 0);
    ASSERT_GT(wait->cpu_ns, 0);
    // The readings span exactly the steps' intervals, in which the thread either runs,
    // waits for a CPU or sleeps: the wait fits in the time off the CPU (the scheduler's
    // clock and CLOCK_MONOTONIC may differ by a little).
    EXPECT_LE(wait->runq_ns, wait->wall_ns - wait->cpu_ns + wait->wall_ns / 100 + 100'000);
  }
  const auto per_cpu = [](const QueueWait& w) {
    return static_cast<double>(w.runq_ns) / static_cast<double>(w.cpu_ns);
  };
  RecordProperty("alone_runq_per_cpu_ns", std::to_string(per_cpu(alone)));
  RecordProperty("shared_runq_per_cpu_ns", std::to_string(per_cpu(shared)));
  EXPECT_GT(per_cpu(shared) - per_cpu(alone), 1.0)
      << "alone " << alone.runq_ns << " ns waiting for " << alone.cpu_ns << " ns of CPU; shared "
      << shared.runq_ns << " for " << shared.cpu_ns;
  EXPECT_GT(shared.runq_ns - alone.runq_ns, 40'000'000);  // 48 ms of CPU: ~96 ms more waiting
}

// The switch-checked CPU clock, summed over many short intervals, against the thread's own
// clock read around them.
struct ClockedIntervals {
  std::int64_t clocked_ns = 0;  // ThreadCpuClock's last reading minus its first
  std::int64_t true_ns = 0;     // CLOCK_THREAD_CPUTIME_ID over the same span
  std::int64_t wall_ns = 0;
};

template <class Interval>
ClockedIntervals clock_intervals(telemetry::ThreadCpuClock& clock, int count, Interval interval) {
  ClockedIntervals out;
  const std::int64_t true_start = telemetry::thread_cpu_ns();
  std::uint32_t sequence = clock.sequence();
  std::int64_t wall = telemetry::monotonic_ns();
  const std::int64_t first = clock.at(wall, sequence);
  const std::int64_t wall_start = wall;
  std::int64_t last = first;
  for (int k = 0; k < count; ++k) {
    interval();
    sequence = clock.sequence();
    wall = telemetry::monotonic_ns();
    last = clock.at(wall, sequence);
  }
  out.true_ns = telemetry::thread_cpu_ns() - true_start;
  out.clocked_ns = last - first;
  out.wall_ns = wall - wall_start;
  return out;
}

bool switch_checked(const telemetry::ThreadCpuClock& clock) {
  return clock.how().rfind("switch-checked", 0) == 0;
}

// Short intervals spent running: the shortcut is taken (no system call) nearly every time,
// and the CPU time it adds up to is the thread's. (The tolerance, 10% + 0.5 ms, leaves room
// for interrupt and hypervisor-stolen time, which the shortcut counts and the kernel's clock
// does not; a shortcut taken across a switch errs by the whole time off the CPU.)
TEST(ThreadCpuClock, ShortRunningIntervalsSkipTheCallAndAddUpToTheThreadsTime) {
  telemetry::ThreadCpuClock clock(10'000'000);
  const ClockedIntervals run = clock_intervals(clock, 500, [] {
    const std::int64_t until = telemetry::monotonic_ns() + 20'000;
    while (telemetry::monotonic_ns() < until) {
    }
  });
  EXPECT_NEAR(static_cast<double>(run.clocked_ns), static_cast<double>(run.true_ns),
              0.1 * static_cast<double>(run.true_ns) + 500'000);
  if (!switch_checked(clock)) GTEST_SKIP() << "every reading is the system call: " << clock.how();
  EXPECT_GE(clock.shortcut_readings(), 250) << clock.exact_readings() << " exact";
}

// Without a budget (the default) the clock opens nothing and every reading is the call.
TEST(ThreadCpuClock, WithoutABudgetEveryReadingIsTheSystemCall) {
  telemetry::ThreadCpuClock clock(0);
  EXPECT_EQ(clock.how(), "system call (no telemetry budget)");
  EXPECT_EQ(clock.sequence(), 0U);
  clock_intervals(clock, 50, [] {});
  EXPECT_EQ(clock.shortcut_readings(), 0);
  EXPECT_EQ(clock.exact_readings(), 51);
}

// Short sleeps: each is a switch, so each interval is read with the system call; a shortcut
// taken wrongly would count every sleep as CPU time.
TEST(ThreadCpuClock, ShortSleepsAreNeverCountedAsCpuTime) {
  telemetry::ThreadCpuClock clock(10'000'000);
  const ClockedIntervals run = clock_intervals(
      clock, 200, [] { std::this_thread::sleep_for(std::chrono::microseconds(50)); });
  EXPECT_LT(run.clocked_ns, run.wall_ns / 2) << clock.how();
  EXPECT_NEAR(static_cast<double>(run.clocked_ns), static_cast<double>(run.true_ns),
              0.1 * static_cast<double>(run.true_ns) + 500'000);
}

// Pinned to one CPU with two busy threads: the thread runs about a third of the time, and
// preemptions land inside the intervals. Those intervals must be read exactly: the clock adds
// up to the thread's own CPU time, not to the wall time.
TEST(ThreadCpuClock, AThreadSharingItsCpuIsChargedOnlyItsOwnTime) {
  const PinnedHere pinned(last_allowed_cpu());
  const CpuHogs competitors(2, last_allowed_cpu());
  telemetry::ThreadCpuClock clock(10'000'000);
  const ClockedIntervals run =
      clock_intervals(clock, 300, [] { burn_cpu(std::chrono::microseconds(100)); });
  ASSERT_GT(run.wall_ns, run.true_ns * 3 / 2) << "the busy threads did not compete";
  EXPECT_NEAR(static_cast<double>(run.clocked_ns), static_cast<double>(run.true_ns),
              0.1 * static_cast<double>(run.true_ns) + 500'000)
      << "wall " << run.wall_ns << " ns; " << clock.how();
}

// The cadence under a budget, on a clock of its own: a reading costing 2 us with a 0.1% share
// keeps its step cadence for the allowance (64 readings), then comes once per 2 ms of wall
// time (credit accrues at 2 us per 2 ms); without a share, on its cadence alone; a new
// condition gets the allowance again.
TEST(ProbeCadence, ShortStepsStretchItAfterTheAllowanceLongOnesKeepIt) {
  telemetry::ProbeCadence budgeted(4, 0.001), plain(4, 0.0);
  std::vector<std::int64_t> steps;
  int plain_readings = 0;
  std::int64_t now = 0;
  const auto run = [&](std::int64_t from, std::int64_t to) {
    for (std::int64_t step = from; step < to; ++step, now += 50'000) {  // 50 us steps
      if (budgeted.due(step, now)) {
        budgeted.taken(now, now + 2'000);
        steps.push_back(step);
      }
      if (plain.due(step, now)) {
        plain.taken(now, now + 2'000);
        ++plain_readings;
      }
    }
  };
  run(0, 4000);
  EXPECT_EQ(plain_readings, 1000);
  ASSERT_GT(steps.size(), 80U);
  const auto allowance = static_cast<std::size_t>(telemetry::ProbeCadence::k_allowance);
  for (std::size_t k = 0; k < allowance; ++k)
    EXPECT_EQ(steps[k], static_cast<std::int64_t>(k) * 4) << k;
  // Then 2 ms = 40 steps apart (one cadence step either way: credit left over).
  for (std::size_t k = allowance + 8; k < steps.size(); ++k)
    EXPECT_NEAR(steps[k] - steps[k - 1], 40, 4) << k;
  const std::size_t first_condition = steps.size();
  EXPECT_LT(first_condition, 64U + 4000U * 50 / 2000 + 4);
  budgeted.restart();
  run(0, 200);  // a short second condition (50 readings, within the allowance): every one
  EXPECT_EQ(steps.size() - first_condition, 50U);
  // Steps of 5 ms: each due step is far past the 2 ms, so the step cadence holds.
  telemetry::ProbeCadence slow(4, 0.001);
  int readings = 0;
  for (std::int64_t step = 0; step < 4000; ++step)
    if (slow.due(step, step * 5'000'000)) {
      slow.taken(step * 5'000'000, step * 5'000'000 + 2'000);
      ++readings;
    }
  EXPECT_EQ(readings, 1000);
}

// A 1% budget on empty (sub-microsecond) steps: far fewer usage and memory
// readings than the step cadences ask, yet the allowance; with a zero budget, exactly the
// cadences.
TEST(ProbeCadence, TheRecorderStretchesItsReadingsOnEmptySteps) {
  const auto readings = [](double budget) {
    ScratchDir scratch;
    telemetry::RecorderOptions options;
    options.db_path = scratch / "telemetry.db";
    options.side_period_ms = 0;
    options.budget_share = budget;
    {
      telemetry::Recorder recorder(options, {});
      recorder.on_condition_begin(0);
      for (int step = 0; step < 16384; ++step)
        recorder.on_step({0, step, {}, {}});
      recorder.finish();
    }
    sqlite::Connection db(options.db_path);
    return std::pair{sqlite::query_int(db, "SELECT count(involuntary_switches) FROM steps"),
                     sqlite::query_int(db, "SELECT count(rss_bytes) FROM memory")};
  };
  const auto [plain_usage, plain_memory] = readings(0.0);
  EXPECT_EQ(plain_usage, 16384 / 8);
  EXPECT_EQ(plain_memory, 16384 / 16);
  const auto [usage, memory] = readings(0.01);
  // The allowance first (about 64 readings each: the cost estimate moves as they come).
  EXPECT_GE(usage, 32);
  EXPECT_GE(memory, 32);
  EXPECT_LT(usage, plain_usage / 4);
  EXPECT_LT(memory, plain_memory / 4);
}

// Without schedstat -- no file, or a kernel that keeps no statistics ("0 0 0") -- runq_ns is
// NULL on every row, meta.probe.runq says why, and everything else is recorded as ever.
TEST(RunQueueDelay, WithoutSchedstatTheColumnIsNullAndTheMetaSaysWhy) {
  for (const bool file : {false, true}) {
    ScratchDir scratch;
    telemetry::RecorderOptions options;
    options.db_path = scratch / "telemetry.db";
    options.proc_root = scratch / "proc";
    if (file) {
      std::filesystem::create_directories(scratch / "proc" / "thread-self");
      std::ofstream(scratch / "proc" / "thread-self" / "schedstat") << "0 0 0\n";
    }
    options.side_period_ms = 0;
    options.memory_every = 0;
    options.rusage_every = 2;
    options.budget_share = 0;  // the plain cadence: these empty steps would stretch it
    std::vector<std::string> warnings;
    options.warn = [&](const std::string& message) { warnings.push_back(message); };
    {
      telemetry::Recorder recorder(options, {});
      recorder.on_condition_begin(0);
      for (int step = 0; step < 6; ++step)
        recorder.on_step({0, step, {}, {}});
      recorder.finish();
    }
    sqlite::Connection db(options.db_path);
    EXPECT_EQ(sqlite::query_int(db, "SELECT count(*) FROM steps"), 6);
    EXPECT_EQ(sqlite::query_int(db, "SELECT count(runq_ns) FROM steps"), 0);
    EXPECT_EQ(sqlite::query_int(db, "SELECT count(involuntary_switches) FROM steps"), 3);
    sqlite::Statement probe(db, "SELECT value FROM meta WHERE key = 'probe.runq'");
    ASSERT_TRUE(probe.step());
    EXPECT_THAT(probe.column_text(0), ::testing::StartsWith("unavailable: "));
    EXPECT_THAT(
        probe.column_text(0),
        ::testing::HasSubstr(file ? "reads 0 0 0" : "cannot open " + options.proc_root.string()));
    sqlite::Statement failures(db, "SELECT value FROM meta WHERE key = 'failures'");
    ASSERT_TRUE(failures.step());
    EXPECT_THAT(failures.column_text(0), ::testing::HasSubstr("no run-queue delay"));
  }
}

}  // namespace
}  // namespace nrmlab
