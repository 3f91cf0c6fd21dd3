// Where the model's "reality" comes from (model.md section 1). One interface, three
// implementations: live (/proc and statvfs), replay of a recorded trace, synthetic.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "model/metric_sample.hpp"

namespace nrmlab::model {

// Identifies one sample event: the k-th fresh sample ("call") within step `step` of a
// condition. Samples taken while a condition is set up belong to step 0.
struct SampleKey {
  int condition = 0;
  std::int64_t step = 0;
  std::int64_t call = 0;
};

class MetricSource {
 public:
  virtual ~MetricSource() = default;

  // A new condition starts: stateful sources (the live CPU baseline) start afresh.
  virtual void begin_condition(int condition) = 0;

  // Takes one sample. `window` is the blocking sample window: the live source measures
  // CPU% over it; the others simply wait it out, so the window costs the same everywhere.
  virtual MetricSample sample(const SampleKey& key, std::chrono::milliseconds window) = 0;

  // True when the values come from a recording rather than a measurement. Replay fixes
  // a run's inputs: the sampler then never holds a value past its step (see Sampler).
  virtual bool replays_recording() const { return false; }
};

// Sleeps for the window (used by sources that have nothing to measure during it).
void wait_out(std::chrono::milliseconds window);

double wall_clock_seconds();

}  // namespace nrmlab::model
