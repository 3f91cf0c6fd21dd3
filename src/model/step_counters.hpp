// The work one step did. The telemetry stage records these per step; they are what lets a
// slowdown be split into "more work" and "dearer work" (study.md 4.2).
#pragma once

#include <cstdint>

namespace nrmlab::model {

struct StepCounters {
  std::uint64_t agents_alive = 0;     // list length at the end of the step (the population)
  std::uint64_t evolve_calls = 0;     // including the recursion into children
  std::uint64_t metric_samples = 0;   // fresh samples (sample events)
  std::uint64_t resonance_pairs = 0;  // pairs examined by cluster detection
  std::uint64_t resonant_pairs = 0;   // of which resonant
  std::uint64_t clusters_found = 0;   // components found this step
  std::uint64_t pattern_count = 0;    // cluster-table size at the end of the step
  std::uint64_t spawns = 0;
  std::uint64_t deaths = 0;
  std::uint64_t db_transactions = 0;
  std::uint64_t db_rows = 0;
};

// Adds one step's (or one stretch of steps') counters to a running total: the counts add
// up; agents_alive and pattern_count are levels, so the later value replaces the earlier.
inline void add_counters(StepCounters& total, const StepCounters& later) {
  total.agents_alive = later.agents_alive;
  total.pattern_count = later.pattern_count;
  total.evolve_calls += later.evolve_calls;
  total.metric_samples += later.metric_samples;
  total.resonance_pairs += later.resonance_pairs;
  total.resonant_pairs += later.resonant_pairs;
  total.clusters_found += later.clusters_found;
  total.spawns += later.spawns;
  total.deaths += later.deaths;
  total.db_transactions += later.db_transactions;
  total.db_rows += later.db_rows;
}

// Time spent inside the engine's instrumented sections during one step, in nanoseconds
// (zero unless section timing is on). Everything else a step spends is model compute.
struct SectionTimes {
  std::int64_t sampling_ns = 0;   // taking metric samples, excluding the blocking window
  std::int64_t window_ns = 0;     // deliberately blocked in sample windows
  std::int64_t database_ns = 0;   // writing metrics.db and bridge.db, commits included
  std::uint64_t timer_reads = 0;  // clock reads spent measuring the above (their own cost)
};

struct StepRecord {
  int condition = 0;
  std::int64_t step = 0;
  StepCounters counters;
  SectionTimes sections;
};

struct MetricSample;
struct SampleKey;

// Receives every sample event (a fresh sample), e.g. to record the run's inputs.
class SampleObserver {
 public:
  virtual ~SampleObserver() = default;
  virtual void on_sample(const SampleKey& key, const MetricSample& sample) = 0;
};

// Receives every completed step. Called on the engine's thread, inside the step loop:
// implementations must be cheap.
class StepObserver {
 public:
  virtual ~StepObserver() = default;
  // A condition is about to be set up; its step 0 includes the setup.
  virtual void on_condition_begin(int /*condition*/) {}
  virtual void on_step(const StepRecord& record) = 0;
};

}  // namespace nrmlab::model
