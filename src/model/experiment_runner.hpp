// Runs one experiment: its conditions back to back in this process, sharing the metric
// source, the two databases and the trace, as the original did.
#pragma once

#include <atomic>
#include <functional>

#include "model/result.hpp"
#include "model/run_config.hpp"
#include "model/snapshot.hpp"
#include "model/step_counters.hpp"

namespace nrmlab::model {

// One stretch of one condition run by one process (process recycling inside a condition).
// The run's configuration must then name exactly that condition.
struct Segment {
  const Snapshot* resume = nullptr;  // continue from this state (null: the condition's start)
  std::int64_t end_step = 0;         // > 0: stop before this step if the condition goes on
  Snapshot* suspended = nullptr;     // receives the state when the segment stops there
};

struct RunHooks {
  StepObserver* observer = nullptr;                   // every step, on the engine's thread
  const std::atomic<bool>* stop_requested = nullptr;  // checked before every step
  // Called with the result so far after each condition and when the run ends (also when it
  // ends in an error), so a crash or an interruption loses at most one condition's summary.
  std::function<void(const ExperimentResult&)> checkpoint;
  SampleObserver* sample_observer = nullptr;  // every sample event
  bool time_sections = false;                 // measure sampling, window and database time per step
  const Segment* segment = nullptr;           // null: every condition from start to end
  // The databases only counted, never written (FaithfulStores's CountOnly): the predictor's
  // work count. The counters are those of the configured persistence mode.
  bool count_database_work = false;
};

// Throws nrmlab::Error for an invalid configuration or a failing source or database; the
// checkpoint has then already seen the partial result with the error in stopped_because.
ExperimentResult run_experiment(const RunConfig& config, const RunHooks& hooks = {});

}  // namespace nrmlab::model
