// Runs one experiment: its conditions back to back in this process, sharing the metric
// source, the two databases and the trace, as the original did.
#pragma once

#include <atomic>
#include <functional>

#include "model/result.hpp"
#include "model/run_config.hpp"
#include "model/step_counters.hpp"

namespace nrmlab::model {

struct RunHooks {
  StepObserver* observer = nullptr;                   // every step, on the engine's thread
  const std::atomic<bool>* stop_requested = nullptr;  // checked before every step
  // Called with the result so far after each condition and when the run ends (also when it
  // ends in an error), so a crash or an interruption loses at most one condition's summary.
  std::function<void(const ExperimentResult&)> checkpoint;
  SampleObserver* sample_observer = nullptr;  // every sample event
  bool time_sections = false;                 // measure sampling, window and database time per step
};

// Throws nrmlab::Error for an invalid configuration or a failing source or database; the
// checkpoint has then already seen the partial result with the error in stopped_because.
ExperimentResult run_experiment(const RunConfig& config, const RunHooks& hooks = {});

}  // namespace nrmlab::model
