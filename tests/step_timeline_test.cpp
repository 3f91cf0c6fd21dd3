// StepTimeline: step rows from readings and markers, by interpolation; time windows when no
// marker comes within the grace period.
#include "telemetry/step_timeline.hpp"

#include <gtest/gtest.h>

namespace nrmlab {
namespace {

using telemetry::Batch;
using telemetry::ProcessSample;
using telemetry::StepMarker;
using telemetry::StepTimeline;

constexpr std::int64_t k_ms = 1'000'000;
constexpr std::int64_t k_origin = 1'000'000'000;

// A program that burns CPU at `share` of wall time: a reading every 100 ms.
ProcessSample reading(std::int64_t ms, double share) {
  ProcessSample s;
  s.t_ns = k_origin + ms * k_ms;
  s.user_ns = static_cast<std::int64_t>(share * static_cast<double>(ms * k_ms));
  s.voluntary_switches = ms / 10;
  s.involuntary_switches = 0;
  s.runq_ns = ms * k_ms / 4;  // waiting for a CPU a quarter of the time
  s.rss_bytes = 1000 + ms;
  // Writing 4 KiB a millisecond in 1 KiB write calls, reading half as much; storage sees a
  // quarter of the writes.
  s.wchar = ms * 4096;
  s.syscw = ms * 4;
  s.write_bytes = ms * 1024;
  s.rchar = ms * 2048;
  s.syscr = ms * 2;
  s.read_bytes = 0;
  return s;
}

StepMarker counted(double items) {
  StepMarker m;
  m.counters = {{"items", items}};
  return m;
}

TEST(StepTimeline, StepsAreTheGrowthOfTheCountersBetweenMarkersInterpolated) {
  StepTimeline timeline(k_origin, 1000 * k_ms, 30'000 * k_ms);
  Batch batch;
  timeline.add_sample(reading(0, 0.5));
  timeline.add_sample(reading(100, 0.5));
  timeline.add_marker(k_origin + 150 * k_ms, counted(3));  // between two readings
  timeline.take_ready(batch);
  EXPECT_TRUE(batch.steps.empty()) << "no reading after the step's end yet";
  timeline.add_sample(reading(200, 0.5));
  timeline.add_marker(k_origin + 200 * k_ms, counted(4));  // on a reading
  timeline.take_ready(batch);
  ASSERT_EQ(batch.steps.size(), 2u);
  EXPECT_EQ(batch.steps[0].step, 0);
  EXPECT_EQ(batch.steps[0].t_ns, 0);
  EXPECT_EQ(batch.steps[0].wall_ns, 150 * k_ms);
  EXPECT_EQ(batch.steps[0].cpu_ns, 75 * k_ms);
  EXPECT_EQ(*batch.steps[0].voluntary_switches, 15);
  EXPECT_EQ(batch.steps[0].runq_ns, 150 * k_ms / 4);
  EXPECT_EQ(batch.steps[1].runq_ns, 50 * k_ms / 4);
  EXPECT_EQ(batch.steps[1].t_ns, 150 * k_ms);
  EXPECT_EQ(batch.steps[1].wall_ns, 50 * k_ms);
  EXPECT_EQ(batch.steps[1].cpu_ns, 25 * k_ms);
  ASSERT_EQ(batch.work.size(), 2u);
  EXPECT_EQ(batch.work[1].name, "items");
  EXPECT_EQ(batch.work[1].value, 4.0);
  // RSS only changes with a reading: the second step, 50 ms later, adds no memory row.
  ASSERT_EQ(batch.memory.size(), 1u);
  EXPECT_EQ(*batch.memory[0].rss_bytes, 1100);  // the reading before the step's end
  EXPECT_FALSE(timeline.windows());
}

// A step's run-queue delay is absent unless the readings around both its ends have one:
// a reading without (schedstat unreadable then) makes the steps it touches absent, not 0.
TEST(StepTimeline, RunQueueDelayIsAbsentWhereAReadingLacksIt) {
  StepTimeline timeline(k_origin, 1000 * k_ms, 30'000 * k_ms);
  Batch batch;
  timeline.add_sample(reading(0, 0.5));
  timeline.add_sample(reading(100, 0.5));
  ProcessSample blind = reading(200, 0.5);
  blind.runq_ns.reset();
  timeline.add_sample(blind);
  timeline.add_sample(reading(300, 0.5));
  timeline.add_sample(reading(400, 0.5));
  for (const std::int64_t end : {100, 150, 300, 400})
    timeline.add_marker(k_origin + end * k_ms, StepMarker{});
  timeline.take_ready(batch);
  ASSERT_EQ(batch.steps.size(), 4u);
  EXPECT_EQ(batch.steps[0].runq_ns, 100 * k_ms / 4);
  EXPECT_FALSE(batch.steps[1].runq_ns.has_value());  // 100-150: interpolated towards 200
  EXPECT_FALSE(batch.steps[2].runq_ns.has_value());  // 150-300: across the blind reading
  EXPECT_EQ(batch.steps[3].runq_ns, 100 * k_ms / 4);
  EXPECT_EQ(batch.steps[2].cpu_ns, 75 * k_ms);  // the rest is read as ever
}

// A step's I/O is the growth of /proc/PID/io's counters, interpolated like its CPU time, and
// absent where a reading around one of its ends could not read /proc/PID/io.
TEST(StepTimeline, StepsHoldTheirIoInterpolatedAndAbsentWhereAReadingLacksIt) {
  StepTimeline timeline(k_origin, 1000 * k_ms, 30'000 * k_ms);
  Batch batch;
  timeline.add_sample(reading(0, 0.5));
  timeline.add_sample(reading(100, 0.5));
  ProcessSample denied = reading(200, 0.5);
  denied.wchar.reset();  // e.g. /proc/PID/io: permission denied
  denied.syscw.reset();
  timeline.add_sample(denied);
  timeline.add_sample(reading(300, 0.5));
  for (const std::int64_t end : {50, 100, 250})
    timeline.add_marker(k_origin + end * k_ms, StepMarker{});
  timeline.take_ready(batch);
  ASSERT_EQ(batch.steps.size(), 3u);
  const auto& first = batch.steps[0];
  EXPECT_EQ(first.io_wchar, 50 * 4096);
  EXPECT_EQ(first.io_syscw, 200);
  EXPECT_EQ(first.io_write_bytes, 50 * 1024);
  EXPECT_EQ(first.io_rchar, 50 * 2048);
  EXPECT_EQ(first.io_syscr, 100);
  EXPECT_EQ(first.io_read_bytes, 0);
  EXPECT_EQ(batch.steps[1].io_wchar, 50 * 4096);
  // 100-250 ms spans the reading without them: absent, not 0; the others are read as ever.
  EXPECT_FALSE(batch.steps[2].io_wchar.has_value());
  EXPECT_FALSE(batch.steps[2].io_syscw.has_value());
  EXPECT_EQ(batch.steps[2].io_write_bytes, 150 * 1024);
}

// A program nrmlab started counts from 0 at the origin: what it did before the first reading
// (taken once the probe and the sampler are set up) is in the first step, not lost.
TEST(StepTimeline, AStartedProgramCountsFromZeroBeforeTheFirstReading) {
  for (const bool from_zero : {true, false}) {
    StepTimeline timeline(k_origin, 1000 * k_ms, 30'000 * k_ms, from_zero);
    Batch batch;
    timeline.add_sample(reading(100, 0.5));  // the first reading, 100 ms in
    timeline.add_marker(k_origin + 150 * k_ms, counted(1));
    timeline.add_sample(reading(200, 0.5));
    timeline.finish(k_origin + 200 * k_ms, batch);
    ASSERT_EQ(batch.steps.size(), 1u);
    EXPECT_EQ(batch.steps[0].cpu_ns, (from_zero ? 75 : 25) * k_ms) << from_zero;
    EXPECT_EQ(batch.steps[0].io_wchar, (from_zero ? 150 : 50) * 4096) << from_zero;
    EXPECT_EQ(batch.steps[0].runq_ns, (from_zero ? 150 : 50) * k_ms / 4) << from_zero;
  }
}

TEST(StepTimeline, WhatRunsAfterTheLastMarkerIsNotAStepButIsMeasured) {
  StepTimeline timeline(k_origin, 1000 * k_ms, 30'000 * k_ms);
  Batch batch;
  timeline.add_sample(reading(0, 1.0));
  timeline.add_marker(k_origin + 50 * k_ms, counted(1));
  timeline.add_sample(reading(300, 1.0));
  timeline.finish(k_origin + 300 * k_ms, batch);
  ASSERT_EQ(batch.steps.size(), 1u);
  EXPECT_EQ(batch.steps[0].wall_ns, 50 * k_ms);
  EXPECT_EQ(timeline.covered_ns(), 50 * k_ms);
  EXPECT_EQ(timeline.tail_ns(), 250 * k_ms);
  EXPECT_EQ(timeline.duration_ns(), 300 * k_ms);
}

TEST(StepTimeline, AProgramShorterThanOneWindowIsOneStep) {
  StepTimeline timeline(k_origin, 1000 * k_ms, 30'000 * k_ms);
  Batch batch;
  for (std::int64_t ms = 0; ms <= 300; ms += 100)
    timeline.add_sample(reading(ms, 0.5));
  timeline.finish(k_origin + 350 * k_ms, batch);
  EXPECT_TRUE(timeline.windows());
  ASSERT_EQ(batch.steps.size(), 1u);
  EXPECT_EQ(batch.steps[0].wall_ns, 350 * k_ms);
  EXPECT_EQ(batch.steps[0].cpu_ns, 150 * k_ms);  // the counters stop at the last reading
  EXPECT_EQ(timeline.covered_ns(), 350 * k_ms);
  EXPECT_EQ(timeline.tail_ns(), 0);
}

TEST(StepTimeline, WithoutMarkersWindowsAreCutLiveAfterTheGracePeriod) {
  StepTimeline timeline(k_origin, 100 * k_ms, 1000 * k_ms);
  Batch batch;
  for (std::int64_t ms = 0; ms <= 900; ms += 100)
    timeline.add_sample(reading(ms, 0.25));
  timeline.take_ready(batch);
  EXPECT_TRUE(batch.steps.empty()) << "a marker may still come within the grace period";
  timeline.add_sample(reading(1000, 0.25));
  timeline.take_ready(batch);
  EXPECT_TRUE(timeline.windows());
  ASSERT_EQ(batch.steps.size(), 10u) << "windows from the start, once the grace period is over";
  EXPECT_EQ(batch.steps[9].t_ns, 900 * k_ms);
  EXPECT_EQ(batch.steps[9].cpu_ns, 25 * k_ms);
  EXPECT_EQ(timeline.step_at(k_origin + 1050 * k_ms), 10);
  // A marker now does not change the steps; the last, partial window is left out.
  timeline.add_marker(k_origin + 1020 * k_ms, counted(1));
  EXPECT_EQ(timeline.markers_ignored(), 1);
  timeline.add_sample(reading(1150, 0.25));
  timeline.finish(k_origin + 1150 * k_ms, batch);
  EXPECT_EQ(batch.steps.size(), 11u);
  EXPECT_EQ(timeline.covered_ns(), 1100 * k_ms);
  EXPECT_EQ(timeline.tail_ns(), 50 * k_ms);
}

TEST(StepTimeline, AProgramThatEndsWithinTheGracePeriodWithoutMarkersGetsWindows) {
  StepTimeline timeline(k_origin, 100 * k_ms, 30'000 * k_ms);
  Batch batch;
  for (std::int64_t ms = 0; ms <= 350; ms += 50)
    timeline.add_sample(reading(ms, 1.0));
  timeline.finish(k_origin + 350 * k_ms, batch);
  EXPECT_TRUE(timeline.windows());
  ASSERT_EQ(batch.steps.size(), 3u);
  EXPECT_EQ(batch.steps[2].cpu_ns, 100 * k_ms);
}

}  // namespace
}  // namespace nrmlab
