#include "model/source_spec.hpp"

#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "model/live_source.hpp"
#include "model/overheads.hpp"
#include "test_support.hpp"
#include "util/error.hpp"
#include "util/proc_stat.hpp"

namespace nrmlab::model {
namespace {

using ::testing::HasSubstr;

SourceSpec parse(const std::string& text) {
  return parse_source_spec(text, ReplayGranularity::step, 42);
}

TEST(SourceSpec, ParsesEveryForm) {
  EXPECT_EQ(parse("live").kind, SourceSpec::Kind::live);
  EXPECT_EQ(parse("live").path, "/");
  EXPECT_EQ(parse("live:/tmp").path, "/tmp");
  const SourceSpec replay = parse("replay:/data/run:1.csv");  // colons in paths survive
  EXPECT_EQ(replay.kind, SourceSpec::Kind::replay);
  EXPECT_EQ(replay.path, "/data/run:1.csv");
  EXPECT_EQ(parse("synthetic").synthetic.seed, 42u);  // the run's seed
  EXPECT_EQ(parse("synthetic:7").synthetic.seed, 7u);
  EXPECT_GT(parse("synthetic:7").synthetic.jitter, 0.0);
  const SourceSpec constant = parse("synthetic:const");
  EXPECT_EQ(constant.synthetic.jitter, 0.0);
  const SourceSpec tuned = parse("synthetic:3:cpu=90,memory=80.5,disk=10,jitter=2");
  EXPECT_EQ(tuned.synthetic.seed, 3u);
  EXPECT_EQ(tuned.synthetic.cpu_percent, 90.0);
  EXPECT_EQ(tuned.synthetic.memory_percent, 80.5);
  EXPECT_EQ(tuned.synthetic.disk_percent, 10.0);
  EXPECT_EQ(tuned.synthetic.jitter, 2.0);
  EXPECT_EQ(parse("synthetic::cpu=90").synthetic.seed, 42u);
}

TEST(SourceSpec, RejectsMalformedSpecsWithTheAcceptedForms) {
  for (const char* bad : {"sensors", "replay", "replay:", "synthetic:x", "synthetic:1:cpu",
                          "synthetic:1:cpu=200", "synthetic:1:gpu=5", "synthetic:1:cpu=-1"}) {
    try {
      parse(bad);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const Error& error) {
      EXPECT_THAT(error.what(), HasSubstr("expected live[:DISK_PATH], replay:FILE or synthetic"))
          << bad;
    }
  }
}

TEST(SyntheticSource, IsAPureFunctionOfItsKey) {
  SyntheticSource source({5, 50.0, 50.0, 50.0, 10.0});
  const MetricSample a = source.sample({1, 10, 3}, {});
  const MetricSample b = source.sample({1, 10, 3}, {});
  const MetricSample c = source.sample({1, 10, 4}, {});
  EXPECT_EQ(a.cpu_percent, b.cpu_percent);
  EXPECT_NE(a.cpu_percent, c.cpu_percent);
  EXPECT_GE(a.cpu_percent, 40.0);
  EXPECT_LE(a.cpu_percent, 60.0);
  SyntheticSource other_seed({6, 50.0, 50.0, 50.0, 10.0});
  EXPECT_NE(other_seed.sample({1, 10, 3}, {}).cpu_percent, a.cpu_percent);
}

TEST(LiveSource, ReadsPlausibleValuesFromThisMachine) {
  LiveSource source("/");
  source.begin_condition(0);
  const MetricSample blocking = source.sample({0, 0, 0}, std::chrono::milliseconds(20));
  const MetricSample delta = source.sample({0, 0, 1}, {});
  for (const MetricSample& s : {blocking, delta}) {
    EXPECT_GE(s.cpu_percent, 0.0);
    EXPECT_LE(s.cpu_percent, 100.0);
    EXPECT_GT(s.memory_percent, 0.0);
    EXPECT_LT(s.memory_percent, 100.0);
    EXPECT_GT(s.disk_percent, 0.0);
    EXPECT_GT(s.memory_used_mb, 1.0);
    EXPECT_GT(s.process_count, 0);
    EXPECT_GT(s.timestamp, 1.6e9);
  }
  EXPECT_THROW(LiveSource("/nonexistent/disk"), Error);
}

TEST(Overheads, PresetsMatchTheOriginalScripts) {
  const Overheads as_run = overheads_for(Preset::as_run);
  EXPECT_EQ(as_run.sampling.kind, SamplingPolicy::Kind::per_call);
  EXPECT_EQ(as_run.window_ms, 100);
  EXPECT_EQ(as_run.persistence, Persistence::connection_per_write);
  const Overheads optimized = overheads_for(Preset::optimized_as_run);
  EXPECT_EQ(optimized.sampling.kind, SamplingPolicy::Kind::spawn_shared);
  EXPECT_TRUE(optimized.runs_as_c256);
  EXPECT_EQ(overheads_for(Preset::optimized_as_intended).sampling.kind,
            SamplingPolicy::Kind::per_step);
  const Overheads clean = overheads_for(Preset::clean);
  EXPECT_EQ(clean.sampling.kind, SamplingPolicy::Kind::per_step);
  EXPECT_EQ(clean.window_ms, 0);
  EXPECT_EQ(clean.persistence, Persistence::transaction_per_step);
  EXPECT_EQ(parse_sampling_policy("every:25")->k, 25);
  EXPECT_EQ(sampling_policy_name(*parse_sampling_policy("every:25")), "every:25");
  EXPECT_FALSE(parse_sampling_policy("every:0"));
  EXPECT_FALSE(parse_sampling_policy("every:"));
  EXPECT_FALSE(parse_sampling_policy("sometimes"));
}

}  // namespace
}  // namespace nrmlab::model

namespace nrmlab {
namespace {

TEST(ProcStat, ParsesWellFormedFilesAndRejectsShortOrMissingOnes) {
  testing::ScratchDir scratch;
  std::ofstream(scratch / "stat") << "cpu  100 5 50 800 20 3 2 0 0 0\ncpu0 1 2 3\n";
  const auto ticks = read_cpu_ticks(scratch / "stat");
  ASSERT_TRUE(ticks.has_value());
  EXPECT_EQ(ticks->total, 980);
  EXPECT_EQ(ticks->busy, 160);
  EXPECT_DOUBLE_EQ(*busy_percent({0, 0}, {50, 200}), 25.0);
  EXPECT_FALSE(busy_percent(*ticks, *ticks).has_value());  // no time passed
  std::ofstream(scratch / "short") << "cpu  100 5 50\n";   // a short line is not zeros
  EXPECT_FALSE(read_cpu_ticks(scratch / "short").has_value());
  EXPECT_FALSE(read_cpu_ticks(scratch / "missing").has_value());

  std::ofstream(scratch / "meminfo")
      << "MemTotal:  1000 kB\nMemFree: 100 kB\nMemAvailable: 250 kB\n";
  const auto memory = read_memory_totals(scratch / "meminfo");
  ASSERT_TRUE(memory.has_value());
  EXPECT_DOUBLE_EQ(memory->used_percent(), 75.0);
  std::ofstream(scratch / "nomem") << "MemTotal:  1000 kB\n";  // no MemAvailable
  EXPECT_FALSE(read_memory_totals(scratch / "nomem").has_value());
}

}  // namespace
}  // namespace nrmlab
