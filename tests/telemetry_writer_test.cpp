// The telemetry writer (issue 21): producers never wake it on the step path; it drains on
// its own timer; a burst larger than its queue waits instead of losing rows; closing writes
// everything. Plus the lock-free queue underneath.
#include <atomic>
#include <chrono>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "telemetry/recorder.hpp"
#include "telemetry/telemetry_store.hpp"
#include "test_support.hpp"
#include "util/mpsc_queue.hpp"
#include "util/sqlite.hpp"

namespace nrmlab {
namespace {

using testing::ScratchDir;

// A batch of one step row numbered `step`.
telemetry::Batch step_batch(std::int64_t step) {
  telemetry::Batch batch;
  telemetry::StepRow row;
  row.step = step;
  row.wall_ns = 1000 + step;
  batch.steps.push_back(row);
  return batch;
}

// The steps stored, in the order they were inserted.
std::vector<std::int64_t> stored_steps(const std::filesystem::path& db_path) {
  sqlite::Connection db(db_path);
  sqlite::Statement rows(db, "SELECT step FROM steps ORDER BY rowid");
  std::vector<std::int64_t> steps;
  while (rows.step())
    steps.push_back(rows.column_int(0));
  return steps;
}

std::vector<std::int64_t> zero_to(std::int64_t n) {
  std::vector<std::int64_t> values;
  for (std::int64_t i = 0; i < n; ++i)
    values.push_back(i);
  return values;
}

TEST(MpscQueue, RefusesWhenFullAndKeepsOrderAcrossLaps) {
  MpscQueue<int> queue(3);  // rounded up to 4
  ASSERT_EQ(queue.capacity(), 4u);
  int next = 0;
  for (int lap = 0; lap < 3; ++lap) {
    for (int i = 0; i < 4; ++i) {
      int value = next++;
      ASSERT_TRUE(queue.try_push(value));
    }
    int refused = 99;
    EXPECT_FALSE(queue.try_push(refused));
    EXPECT_EQ(refused, 99);  // left untouched
    for (int i = 0; i < 4; ++i)
      EXPECT_EQ(queue.try_pop(), next - 4 + i);
    EXPECT_EQ(queue.try_pop(), std::nullopt);
  }
}

TEST(MpscQueue, EveryProducersElementsArriveOnceAndInTheirOrder) {
  MpscQueue<std::pair<int, int>> queue(8);
  constexpr int k_producers = 3, k_each = 5000;
  std::vector<std::thread> producers;
  for (int p = 0; p < k_producers; ++p)
    producers.emplace_back([&queue, p] {
      for (int i = 0; i < k_each; ++i) {
        std::pair<int, int> value{p, i};
        while (!queue.try_push(value))
          std::this_thread::yield();
      }
    });
  std::vector<int> next(k_producers, 0);
  for (int received = 0; received < k_producers * k_each;) {
    if (auto value = queue.try_pop()) {
      ASSERT_EQ(value->second, next[static_cast<std::size_t>(value->first)]++);
      ++received;
    } else {
      std::this_thread::yield();
    }
  }
  for (auto& producer : producers)
    producer.join();
  EXPECT_EQ(queue.try_pop(), std::nullopt);
}

TEST(BatchWriter, TheTimerDrainsWithoutAnyWakeUpFromProducers) {
  ScratchDir scratch;
  std::atomic<int> wakes{0};
  telemetry::BatchWriterOptions options;
  options.period_ms = 5;
  options.on_wake = [&wakes] { ++wakes; };
  const auto started = std::chrono::steady_clock::now();
  telemetry::BatchWriter writer(scratch / "telemetry.db", options);
  constexpr int k_batches = 40;
  for (int i = 0; i < k_batches; ++i) {
    writer.submit(step_batch(i));
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  // Everything lands while the writer is open, woken by nothing but its timer.
  std::size_t stored = 0;
  for (int attempt = 0; attempt < 400 && stored < k_batches; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    stored = stored_steps(scratch / "telemetry.db").size();
  }
  EXPECT_EQ(stored, std::size_t{k_batches});
  const telemetry::BatchWriterStats stats = writer.stats();
  const auto elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::steady_clock::now() - started)
                              .count();
  EXPECT_EQ(wakes.load(), 0);
  EXPECT_EQ(stats.wakes, 0);
  EXPECT_EQ(stats.full_waits, 0);
  EXPECT_EQ(stats.batches, k_batches);
  EXPECT_GT(stats.ticks, 1);
  // A timer fires late on a busy machine, never early: no more ticks than periods elapsed.
  EXPECT_LE(stats.ticks, elapsed_ms / options.period_ms + 2) << "the writer wakes on its timer";
  writer.close();
  EXPECT_EQ(stored_steps(scratch / "telemetry.db"), zero_to(k_batches));
}

TEST(BatchWriter, ABurstLargerThanTheQueueWaitsAndLosesNothing) {
  ScratchDir scratch;
  std::atomic<int> wakes{0};
  telemetry::BatchWriterOptions options;
  options.period_ms = 60'000;  // only a full queue can make the writer run
  options.capacity = 4;
  options.on_wake = [&wakes] { ++wakes; };
  telemetry::BatchWriter writer(scratch / "telemetry.db", options);
  constexpr int k_batches = 200;
  std::thread second([&writer] {
    for (int i = k_batches; i < 2 * k_batches; ++i)
      writer.submit(step_batch(i));
  });
  for (int i = 0; i < k_batches; ++i)
    writer.submit(step_batch(i));
  second.join();
  const telemetry::BatchWriterStats stats = writer.stats();
  writer.close();

  EXPECT_GT(stats.full_waits, 0);
  EXPECT_GE(stats.wakes, 1);
  EXPECT_EQ(stats.wakes, wakes.load()) << "every producer wake-up passes the hook";
  EXPECT_GE(stats.full_wait_ns, 0);
  // All rows, each producer's in its own order.
  const std::vector<std::int64_t> steps = stored_steps(scratch / "telemetry.db");
  ASSERT_EQ(steps.size(), std::size_t{2 * k_batches});
  std::vector<std::int64_t> first, other;
  for (const std::int64_t step : steps)
    (step < k_batches ? first : other).push_back(step);
  EXPECT_EQ(first, zero_to(k_batches));
  for (std::size_t i = 0; i < other.size(); ++i)
    EXPECT_EQ(other[i], k_batches + static_cast<std::int64_t>(i));
}

TEST(BatchWriter, ClosingWritesEverythingQueuedWithoutWaitingForTheTimer) {
  ScratchDir scratch;
  telemetry::BatchWriterOptions options;
  options.period_ms = 60'000;
  telemetry::BatchWriter writer(scratch / "telemetry.db", options);
  for (int i = 0; i < 30; ++i)
    writer.submit(step_batch(i));
  EXPECT_TRUE(stored_steps(scratch / "telemetry.db").empty()) << "nothing before the timer";
  const auto start = std::chrono::steady_clock::now();
  writer.close();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
  EXPECT_EQ(stored_steps(scratch / "telemetry.db"), zero_to(30));
  EXPECT_EQ(writer.stats().wakes, 0);
  writer.submit(step_batch(99));  // after close: refused, never blocks
  EXPECT_EQ(stored_steps(scratch / "telemetry.db").size(), 30u);
}

// The whole recorder: thousands of steps, a batch every 64, and the engine thread never
// wakes the writer; every step lands, in order; the closing meta says so.
TEST(BatchWriter, TheRecordersStepPathMakesNoWakeUps) {
  ScratchDir scratch;
  std::atomic<int> wakes{0};
  telemetry::RecorderOptions options;
  options.db_path = scratch / "telemetry.db";
  options.side_period_ms = 0;
  options.batch_steps = 64;
  options.writer.on_wake = [&wakes] { ++wakes; };
  constexpr int k_steps = 3000;  // 47 batches: they fit the queue even if the writer sleeps
  telemetry::RecorderSummary summary;
  {
    telemetry::Recorder recorder(options, {});
    recorder.on_condition_begin(0);
    model::StepRecord record;
    for (record.step = 0; record.step < k_steps; ++record.step)
      recorder.on_step(record);
    summary = recorder.finish();
  }
  EXPECT_EQ(wakes.load(), 0);
  EXPECT_EQ(stored_steps(options.db_path), zero_to(k_steps));
  sqlite::Connection db(options.db_path);
  const auto meta = [&db](const std::string& key) {
    sqlite::Statement row(db, "SELECT value FROM meta WHERE key = ?1 ORDER BY rowid DESC");
    row.bind(1, key);
    return row.step() ? row.column_text(0) : std::string("absent");
  };
  EXPECT_EQ(meta("writer.wakes"), "0");
  EXPECT_EQ(meta("writer.full_waits"), "0");
  EXPECT_EQ(meta("complete"), "true");
  EXPECT_EQ(meta("recorder_preempt_ns"), std::to_string(summary.preempt_ns));
  EXPECT_GE(summary.preempt_ns, 0);
  EXPECT_LE(summary.preempt_ns, summary.background_cpu_ns);
}

// A recycled run's later process adds to the summary its earlier ones wrote; a database
// from before issue 21 has no recorder_preempt_ns, which then counts as none.
TEST(BatchWriter, AnEarlierProcessWithoutTheWritersMetaIsStillSummed) {
  ScratchDir scratch;
  telemetry::RecorderOptions options;
  options.db_path = scratch / "telemetry.db";
  options.side_period_ms = 0;
  {
    telemetry::Batch earlier;
    earlier.meta = {{"steps_recorded", "10"}, {"recorder_ns", "500"}, {"wall_ns", "100000"}};
    telemetry::TelemetryStore(options.db_path).write(earlier);
  }
  options.append = true;
  telemetry::Recorder recorder(options, {});
  recorder.on_condition_begin(0);
  model::StepRecord record;
  record.step = 10;
  recorder.on_step(record);
  recorder.finish();
  sqlite::Connection db(options.db_path);
  EXPECT_EQ(sqlite::query_int(db,
                              "SELECT CAST(value AS INTEGER) FROM meta WHERE key = "
                              "'steps_recorded' ORDER BY rowid DESC LIMIT 1"),
            11);
  EXPECT_GE(sqlite::query_int(db,
                              "SELECT CAST(value AS INTEGER) FROM meta WHERE key = "
                              "'recorder_preempt_ns' ORDER BY rowid DESC LIMIT 1"),
            0);
}

}  // namespace
}  // namespace nrmlab
