// The work one step did. The telemetry stage records these per step; they are what lets a
// slowdown be split into "more work" and "dearer work" (study.md 4.2).
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string_view>

namespace nrmlab::model {

// Every field is listed in k_step_counter_fields below, with its doc: that list makes the
// telemetry columns, the cost model's work counters and add_counters.
struct StepCounters {
  std::uint64_t agents_alive = 0;
  std::uint64_t evolve_calls = 0;
  std::uint64_t metric_samples = 0;
  std::uint64_t resonance_pairs = 0;
  std::uint64_t resonant_pairs = 0;
  std::uint64_t clusters_found = 0;
  std::uint64_t pattern_count = 0;
  std::uint64_t spawns = 0;
  std::uint64_t deaths = 0;
  std::uint64_t db_transactions = 0;
  std::uint64_t db_rows = 0;
};

// How a counter adds up over a stretch of steps.
enum class Tally {
  sum,    // a count: the steps' values add up
  level,  // a level at the end of the step: the later value replaces the earlier
};

// What the analysis makes of a counter (study.md 4.2).
enum class CounterRole {
  work,    // work a step's time can be charged to: the cost model's counters
  state,   // the size of the model's state, read by the analysis but charged nothing
  detail,  // recorded for inspection only
};

struct StepCounterField {
  std::string_view name;  // the telemetry column (steps.<name>)
  std::uint64_t StepCounters::*member;
  Tally tally;
  CounterRole role;
  std::string_view doc;
};

// The one list of step counters, in telemetry column order. Adding a counter: its field
// above and its entry here.
inline constexpr StepCounterField k_step_counter_fields[] = {
    {"agents", &StepCounters::agents_alive, Tally::level, CounterRole::work,
     "list length at the end of the step (the population)"},
    {"evolve_calls", &StepCounters::evolve_calls, Tally::sum, CounterRole::work,
     "evolve calls, including the recursion into children"},
    {"metric_samples", &StepCounters::metric_samples, Tally::sum, CounterRole::work,
     "fresh samples (sample events)"},
    {"resonance_pairs", &StepCounters::resonance_pairs, Tally::sum, CounterRole::work,
     "pairs examined by cluster detection"},
    {"resonant_pairs", &StepCounters::resonant_pairs, Tally::sum, CounterRole::detail,
     "of which resonant"},
    {"clusters_found", &StepCounters::clusters_found, Tally::sum, CounterRole::work,
     "components found this step"},
    {"pattern_count", &StepCounters::pattern_count, Tally::level, CounterRole::state,
     "cluster-table size at the end of the step"},
    {"spawns", &StepCounters::spawns, Tally::sum, CounterRole::detail, "agents spawned"},
    {"deaths", &StepCounters::deaths, Tally::sum, CounterRole::detail, "agents that died"},
    {"db_transactions", &StepCounters::db_transactions, Tally::sum, CounterRole::work,
     "transactions on the faithful databases"},
    {"db_rows", &StepCounters::db_rows, Tally::sum, CounterRole::work,
     "rows written to the faithful databases"},
};

// With the size check, distinct entries cover every field exactly once.
constexpr bool step_counter_fields_distinct() {
  const auto& fields = k_step_counter_fields;
  for (std::size_t i = 0; i < std::size(fields); ++i)
    for (std::size_t j = i + 1; j < std::size(fields); ++j)
      if (fields[i].member == fields[j].member || fields[i].name == fields[j].name) return false;
  return true;
}
static_assert(sizeof(StepCounters) == std::size(k_step_counter_fields) * sizeof(std::uint64_t),
              "every StepCounters field needs its entry in k_step_counter_fields");
static_assert(step_counter_fields_distinct(), "a StepCounters field is listed twice");

// Adds one step's (or one stretch of steps') counters to a running total (see Tally).
inline void add_counters(StepCounters& total, const StepCounters& later) {
  for (const StepCounterField& field : k_step_counter_fields)
    total.*field.member = field.tally == Tally::level ? later.*field.member
                                                      : total.*field.member + later.*field.member;
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
