// From samples to telemetry.db and back (issue 18): the aggregator's interning and windows,
// ProfileData's reading (older databases, dangling references), the profiler thread on real
// children (a sleeper's waits with their call chain, a spinner's CPU time), its unavailable
// path, and --profile's grammar.
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "telemetry/probes.hpp"
#include "telemetry/profile/aggregator.hpp"
#include "telemetry/profile/profile_data.hpp"
#include "telemetry/profile/profiler.hpp"
#include "telemetry/telemetry_store.hpp"
#include "test_support.hpp"
#include "util/error.hpp"
#include "util/sqlite.hpp"

namespace nrmlab::telemetry::profile {
namespace {

namespace fs = std::filesystem;
constexpr std::int64_t k_second = 1'000'000'000;

Frame user_frame(std::string function, std::uint64_t address, std::string module = "prog") {
  return {address, std::move(function), std::move(module)};
}

// main -> work -> leaf (innermost first, as the unwinder gives them).
std::vector<Frame> chain(std::uint64_t leaf_address, std::uint64_t work_site = 0x1100) {
  return {user_frame("leaf", leaf_address), user_frame("work", work_site),
          user_frame("main", 0x1000)};
}

TEST(ProfileAggregator, InternsEachFrameAndStackOnce) {
  ProfileAggregator aggregate(0, k_second);
  // Two samples in `leaf` at different addresses: one stack (the innermost frame is kept
  // per function); a second call site of `work` in main: another stack.
  aggregate.add(chain(0x2001), {}, WaitClass::on_cpu, 10, 100);
  aggregate.add(chain(0x2077), {}, WaitClass::on_cpu, 20, 100);
  aggregate.add(chain(0x2001, 0x1200), {}, WaitClass::on_cpu, 30, 100);
  Batch batch;
  aggregate.take(batch);
  // Frames: main, work@0x1100, leaf, work@0x1200.
  ASSERT_EQ(batch.profile_frames.size(), 4U);
  EXPECT_EQ(batch.profile_frames[2].function, "leaf");
  EXPECT_EQ(batch.profile_frames[2].address, 0) << "an innermost frame is kept per function";
  EXPECT_EQ(batch.profile_frames[1].address, 0x1100);
  // Stacks: main, main/work, main/work/leaf, main/work'(0x1200), main/work'/leaf.
  ASSERT_EQ(batch.profile_stacks.size(), 5U);
  EXPECT_EQ(batch.profile_stacks[0].parent, 0);
  EXPECT_EQ(batch.profile_stacks[1].parent, 1);
  ASSERT_EQ(batch.profile_counts.size(), 2U);
  EXPECT_EQ(batch.profile_counts[0].samples, 2);
  EXPECT_EQ(batch.profile_counts[0].weight_ns, 200);
  EXPECT_EQ(aggregate.samples(), 3);

  // Taken once: a second take carries only what is new.
  aggregate.add(chain(0x2001), {}, WaitClass::on_cpu, 40, 100);
  Batch again;
  aggregate.take(again);
  EXPECT_TRUE(again.profile_frames.empty());
  EXPECT_TRUE(again.profile_stacks.empty());
  ASSERT_EQ(again.profile_counts.size(), 1U);
  EXPECT_EQ(again.profile_counts[0].stack, batch.profile_counts[0].stack);
}

TEST(ProfileAggregator, SplitsAWaitAcrossTheWindowsItSpans) {
  const std::int64_t origin = 5 * k_second;
  ProfileAggregator aggregate(origin, k_second);
  // 2.5 s asleep from 0.75 s into the run: 0.25 s, 1 s, 1 s and 0.25 s in windows 0..3.
  aggregate.add(chain(0x2001), {}, WaitClass::sleep, origin + 750'000'000, 2'500'000'000);
  Batch batch;
  aggregate.take(batch);
  ASSERT_EQ(batch.profile_counts.size(), 4U);
  const std::int64_t expected[] = {250'000'000, k_second, k_second, 250'000'000};
  std::int64_t samples = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(batch.profile_counts[i].window, static_cast<std::int64_t>(i));
    EXPECT_EQ(batch.profile_counts[i].weight_ns, expected[i]) << "window " << i;
    EXPECT_EQ(batch.profile_counts[i].wait, "sleep");
    samples += batch.profile_counts[i].samples;
  }
  EXPECT_EQ(samples, 1) << "one sample, counted where it starts";
  EXPECT_EQ(batch.profile_counts[0].samples, 1);
  // Before the origin: the first window.
  EXPECT_EQ(aggregate.window_of(origin - 10), 0);
}

TEST(ProfileAggregator, KernelFramesGoOnTopOfTheUserFrames) {
  ProfileAggregator aggregate(0, k_second);
  const std::vector<Frame> kernel = {{0xffffffff81000010, "schedule", "[kernel]"},
                                     {0xffffffff81000200, "do_nanosleep", "[kernel]"}};
  aggregate.add(chain(0x2001), kernel, WaitClass::sleep, 0, 1000);
  Batch batch;
  aggregate.take(batch);
  ASSERT_EQ(batch.profile_frames.size(), 5U);
  // Outermost first: main, work, leaf, do_nanosleep, schedule.
  EXPECT_EQ(batch.profile_frames[3].function, "do_nanosleep");
  EXPECT_EQ(batch.profile_frames[4].function, "schedule");
  EXPECT_EQ(batch.profile_frames[2].address, 0x2001) << "no longer innermost: its call site";
  EXPECT_EQ(batch.profile_frames[3].address, 0) << "kernel frames are kept per function";
}

TEST(ProfileAggregator, NumbersAfterTheIdsADatabaseHolds) {
  ProfileAggregator aggregate(0, k_second, {7, 11});
  aggregate.add(chain(0x2001), {}, WaitClass::on_cpu, 0, 100);
  Batch batch;
  aggregate.take(batch);
  EXPECT_EQ(batch.profile_frames.front().id, 8);
  EXPECT_EQ(batch.profile_stacks.front().id, 12);
  EXPECT_EQ(batch.profile_stacks[1].parent, 12);
}

class ProfileDataTest : public ::testing::Test {
 protected:
  fs::path db() const { return m_scratch.path() / "telemetry.db"; }
  nrmlab::testing::ScratchDir m_scratch;
};

TEST_F(ProfileDataTest, RoundTripsThroughTelemetryDbSummingPartialRows) {
  ProfileAggregator aggregate(0, k_second);
  {
    TelemetryStore store(db());
    aggregate.add(chain(0x2001), {}, WaitClass::on_cpu, 10, 100);
    aggregate.add(chain(0x2001), {}, WaitClass::disk, 20, 300);
    Batch first;
    aggregate.take(first);
    first.meta = {{"profile.status", "sampled"}, {"profile.window_ns", "1000000000"}};
    store.write(first);
    // The same window, stack and wait again in a later batch: a partial sum.
    aggregate.add(chain(0x2077), {}, WaitClass::on_cpu, 30, 100);
    Batch second;
    aggregate.take(second);
    store.write(second);
  }
  const ProfileData data = read_profile(db());
  EXPECT_TRUE(data.sampled());
  EXPECT_EQ(data.window_ns, k_second);
  ASSERT_EQ(data.counts.size(), 2U);
  EXPECT_EQ(data.counts[0].wait, WaitClass::on_cpu);
  EXPECT_EQ(data.counts[0].samples, 2);
  EXPECT_EQ(data.counts[0].weight_ns, 200);
  EXPECT_EQ(data.counts[1].wait, WaitClass::disk);
  EXPECT_EQ(data.total_weight_ns(), 500);
  const std::vector<std::int64_t> path = data.frame_path(data.counts[0].stack);
  ASSERT_EQ(path.size(), 3U);
  EXPECT_EQ(data.frame(path[0]).function, "main");
  EXPECT_EQ(data.frame(path[2]).function, "leaf");
  EXPECT_EQ(stored_profile_ids(db()), (std::pair<std::int64_t, std::int64_t>{3, 3}));
}

TEST_F(ProfileDataTest, ADatabaseFromBeforeStackSamplingReadsAsNotRecorded) {
  {
    sqlite::Connection old(db());
    old.execute(
        "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);"
        "INSERT INTO meta VALUES ('schema', 'nrmlab.telemetry/1');");
  }
  const ProfileData data = read_profile(db());
  EXPECT_EQ(data.status, "not recorded");
  EXPECT_FALSE(data.sampled());
  EXPECT_TRUE(data.counts.empty());
  EXPECT_EQ(stored_profile_ids(db()), (std::pair<std::int64_t, std::int64_t>{0, 0}));
}

TEST_F(ProfileDataTest, AStackThatRefersToNoStoredFrameNamesTheFile) {
  {
    TelemetryStore store(db());
    Batch batch;
    batch.profile_frames = {{1, "main", "prog", 0}};
    batch.profile_stacks = {{1, 0, 1}, {2, 1, 9}};  // frame 9 was never stored
    store.write(batch);
  }
  try {
    read_profile(db());
    FAIL() << "a dangling frame was read";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find(db().string()), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("profile_stacks"), std::string::npos) << error.what();
  }
  EXPECT_THROW(read_profile(m_scratch.path() / "absent.db"), Error);
}

TEST(ProfileRate, ParsesOffAndRatesAndNamesWhatItExpected) {
  EXPECT_EQ(parse_profile_rate("off"), 0U);
  EXPECT_EQ(parse_profile_rate("0"), 0U);
  EXPECT_EQ(parse_profile_rate("99"), 99U);
  EXPECT_EQ(parse_profile_rate("10000"), 10000U);
  for (const char* bad : {"", "fast", "-5", "10001", "1.5"}) {
    try {
      parse_profile_rate(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const Error& error) {
      EXPECT_NE(std::string(error.what()).find("expected off or a rate"), std::string::npos);
    }
  }
}

// ---- the profiler on real children --------------------------------------------------

// A forked copy of this test that runs `body` until killed.
class ForkedChild {
 public:
  explicit ForkedChild(void (*body)()) {
    m_pid = ::fork();
    if (m_pid == 0) {
      body();
      ::_exit(0);
    }
  }
  ~ForkedChild() {
    if (m_pid > 0) {
      ::kill(m_pid, SIGKILL);
      ::waitpid(m_pid, nullptr, 0);
    }
  }
  ForkedChild(const ForkedChild&) = delete;
  ForkedChild& operator=(const ForkedChild&) = delete;
  pid_t pid() const { return m_pid; }

 private:
  pid_t m_pid = -1;
};

[[gnu::noinline]] void profiled_child_naps() {
  for (;;) {
    timespec nap{0, 2'000'000};
    ::nanosleep(&nap, nullptr);
    asm volatile("" ::: "memory");  // no tail call: the frame stays
  }
}

[[gnu::noinline]] void profiled_child_spins() {
  for (;;)
    asm volatile("" ::: "memory");  // a loop the compiler must keep
}

// Everything one profiler submitted.
struct Collected {
  std::mutex mutex;
  Batch all;
  void add(Batch&& batch) {
    const std::lock_guard lock(mutex);
    auto append = [](auto& into, auto& from) { into.insert(into.end(), from.begin(), from.end()); };
    append(all.profile_frames, batch.profile_frames);
    append(all.profile_stacks, batch.profile_stacks);
    append(all.profile_counts, batch.profile_counts);
    append(all.meta, batch.meta);
  }
  std::string meta(std::string_view key) const {
    std::string value;
    for (const auto& [k, v] : all.meta)
      if (k == key) value = v;  // the last written wins, as in telemetry.db
    return value;
  }
  // Whether a stack ending in wait `wait` passes through `function`.
  bool stack_with(std::string_view wait, std::string_view function) const {
    for (const ProfileCountRow& count : all.profile_counts) {
      if (count.wait != wait) continue;
      for (std::int64_t at = count.stack; at != 0;) {
        const ProfileStackRow& stack = all.profile_stacks[static_cast<std::size_t>(at - 1)];
        const ProfileFrameRow& frame =
            all.profile_frames[static_cast<std::size_t>(stack.frame - 1)];
        if (frame.function.find(function) != std::string::npos) return true;
        at = stack.parent;
      }
    }
    return false;
  }
  std::int64_t weight(std::string_view wait) const {
    std::int64_t total = 0;
    for (const ProfileCountRow& count : all.profile_counts)
      if (count.wait == wait) total += count.weight_ns;
    return total;
  }
};

ProfilerOptions quick_profiler_options() {
  ProfilerOptions options;
  options.origin_ns = monotonic_ns();
  options.submit_every = std::chrono::milliseconds(100);
  return options;
}

#define SKIP_UNLESS_PROFILING_WORKS()                                                  \
  do {                                                                                 \
    const Availability probe = probe_sampling();                                       \
    if (!probe.available) GTEST_SKIP() << probe.reason << " -- " << probe.enable_hint; \
  } while (false)

TEST(Profiler, RecordsAChildsNapsWithTheFunctionThatTookThem) {
  SKIP_UNLESS_PROFILING_WORKS();
  ForkedChild child(profiled_child_naps);
  Collected collected;
  Profiler profiler(child.pid(), quick_profiler_options(),
                    [&](Batch&& batch) { collected.add(std::move(batch)); });
  ASSERT_TRUE(profiler.status().available) << profiler.status().reason;
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  profiler.stop();
  profiler.stop();  // idempotent

  EXPECT_EQ(collected.meta("profile.status"), "sampled");
  EXPECT_EQ(collected.meta("profile.hz"), "99");
  EXPECT_FALSE(collected.meta("profile.samples").empty()) << "the final meta was submitted";
  if (!profiler.status().off_cpu) GTEST_SKIP() << "off-CPU time is not measured here";
  // The child sleeps nearly all the time: most of 0.6 s, read as sleep (with a loaded
  // machine's wake-up delays inside the intervals).
  EXPECT_GT(collected.weight("sleep"), 200'000'000) << "sleep ns";
  if (profiler.status().off_cpu_stacks) {
    EXPECT_TRUE(collected.stack_with("sleep", "profiled_child_naps"))
        << "the nap's call site is not on its stacks";
  }
}

TEST(Profiler, RecordsAChildsCpuTimeInTheSpinningFunction) {
  SKIP_UNLESS_PROFILING_WORKS();
  ForkedChild child(profiled_child_spins);
  Collected collected;
  const std::int64_t cpu_before = [&] {
    timespec t{};
    clockid_t clock{};
    if (::clock_getcpuclockid(child.pid(), &clock) != 0 || ::clock_gettime(clock, &t) != 0)
      return std::int64_t{-1};
    return std::int64_t{t.tv_sec} * k_second + t.tv_nsec;
  }();
  Profiler profiler(child.pid(), quick_profiler_options(),
                    [&](Batch&& batch) { collected.add(std::move(batch)); });
  ASSERT_TRUE(profiler.status().available) << profiler.status().reason;
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  timespec used{};
  clockid_t clock{};
  ASSERT_EQ(::clock_getcpuclockid(child.pid(), &clock), 0);
  ASSERT_EQ(::clock_gettime(clock, &used), 0);
  profiler.stop();
  const std::int64_t cpu = std::int64_t{used.tv_sec} * k_second + used.tv_nsec - cpu_before;
  ASSERT_GT(cpu, 50'000'000) << "the child hardly ran: the machine is too busy to tell";
  // Each on-CPU sample stands for 1/99 s of the child's CPU time: within a few periods
  // above, and at least a third below -- a sanitized run beside another shard on a loaded
  // 2-core machine got 19 samples for 0.39 s of CPU (49%): samples with their stack copies can
  // be lost or throttled there. A sampler that misses the child altogether still fails.
  const std::int64_t sampled = collected.weight("on_cpu");
  EXPECT_GT(sampled, cpu / 3) << "on-CPU ns sampled against the child's CPU ns " << cpu;
  EXPECT_LT(sampled, cpu * 3 / 2 + 50'000'000) << "against " << cpu;
  EXPECT_TRUE(collected.stack_with("on_cpu", "profiled_child_spins"));
}

// Without kernel sampling perf's off-CPU intervals have no stack: the blocked threads' system
// calls (/proc/<tid>/syscall) give the wait and its stack instead, and perf's stackless
// intervals are not counted as well.
TEST(Profiler, WithoutKernelSamplingWaitsAreFoundThroughProc) {
  SKIP_UNLESS_PROFILING_WORKS();
  ForkedChild child(profiled_child_naps);
  Collected collected;
  ProfilerOptions options = quick_profiler_options();
  options.assume_unprivileged = true;
  Profiler profiler(child.pid(), options, [&](Batch&& batch) { collected.add(std::move(batch)); });
  ASSERT_TRUE(profiler.status().available) << profiler.status().reason;
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  profiler.stop();
  EXPECT_NE(collected.meta("profile.off_cpu").find("/proc/<tid>/syscall"), std::string::npos)
      << collected.meta("profile.off_cpu");
  const std::int64_t asleep = collected.weight("sleep");
  EXPECT_GT(asleep, 200'000'000) << "sleep ns";
  EXPECT_LT(asleep, 1'500'000'000) << "counted twice?";
  EXPECT_TRUE(collected.stack_with("sleep", "profiled_child_naps"));
}

TEST(Profiler, WithoutPerfTheWaitsAreStillSampledAndTheGapIsSaid) {
  ForkedChild child(profiled_child_naps);
  Collected collected;
  ProfilerOptions options = quick_profiler_options();
  options.use_perf = false;
  Profiler profiler(child.pid(), options, [&](Batch&& batch) { collected.add(std::move(batch)); });
  if (!profiler.status().available) GTEST_SKIP() << profiler.status().reason;
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  profiler.stop();
  EXPECT_EQ(collected.meta("profile.status"), "sampled");
  EXPECT_NE(collected.meta("profile.note").find("on-CPU time not sampled"), std::string::npos)
      << collected.meta("profile.note");
  EXPECT_EQ(collected.weight("on_cpu"), 0);
  EXPECT_GT(collected.weight("sleep"), 100'000'000);
  EXPECT_TRUE(collected.stack_with("sleep", "profiled_child_naps"));
}

TEST(Profiler, UnavailableSamplingSaysWhyAndSamplesNothing) {
  ::setenv("NRMLAB_PROFILE_UNAVAILABLE", "seccomp filter (test)", 1);
  Collected collected;
  {
    ForkedChild child(profiled_child_naps);
    Profiler profiler(child.pid(), quick_profiler_options(),
                      [&](Batch&& batch) { collected.add(std::move(batch)); });
    EXPECT_FALSE(profiler.status().available);
  }
  ::unsetenv("NRMLAB_PROFILE_UNAVAILABLE");
  EXPECT_NE(collected.meta("profile.status").find("unavailable: seccomp filter (test)"),
            std::string::npos)
      << collected.meta("profile.status");
  EXPECT_TRUE(collected.all.profile_counts.empty());
}

TEST(Profiler, APythonProgramIsToldItsFramesAreTheInterpreters) {
  for (const char* python : {"python3", "python3.11", "/usr/bin/python3.12", "python"})
    EXPECT_NE(python_frames_note(python).find("interpreter's C functions"), std::string::npos)
        << python;
  for (const char* other : {"./sim", "pythonista", "/usr/bin/python3-config", "ruby"})
    EXPECT_EQ(python_frames_note(other), "") << other;
}

TEST(Profiler, OffMetaNamesTheSettingThatTurnsItOn) {
  const std::vector<MetaRow> meta = profile_off_meta();
  ASSERT_FALSE(meta.empty());
  EXPECT_EQ(meta.front(), (MetaRow{"profile.status", "off"}));
  EXPECT_NE(meta.back().second.find("--profile"), std::string::npos);
}

}  // namespace
}  // namespace nrmlab::telemetry::profile
