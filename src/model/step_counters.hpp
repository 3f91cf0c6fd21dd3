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

struct StepRecord {
  int condition = 0;
  std::int64_t step = 0;
  StepCounters counters;
};

// Receives every completed step. Called on the engine's thread, inside the step loop:
// implementations must be cheap.
class StepObserver {
 public:
  virtual ~StepObserver() = default;
  virtual void on_step(const StepRecord& record) = 0;
};

}  // namespace nrmlab::model
