// Where the model's "reality" comes from (model.md section 1). One interface, three
// implementations: live (/proc and statvfs), replay of a recorded trace, synthetic.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
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

  // True when the source's values are fixed per step by a recording (step-granularity
  // replay): the sampler then never holds a value past its step, so sampling policies
  // change cost and never inputs. Call-granularity replay reproduces the recording's own
  // sampling pattern, holds included, so it answers false.
  virtual bool fixes_inputs_per_step() const { return false; }

  // State that a later sample depends on, for a condition continued in another process
  // (after begin_condition there). Stateless sources keep the defaults.
  virtual nlohmann::json save_state() const { return nullptr; }
  virtual void restore_state(const nlohmann::json& /*state*/) {}

  // Total time this source has spent deliberately blocked in sample windows.
  std::chrono::nanoseconds blocked() const { return m_blocked; }

 protected:
  // Sleeps for the window and accounts for it. Every source blocks through here.
  void block(std::chrono::milliseconds window);

 private:
  std::chrono::nanoseconds m_blocked{0};
};

double wall_clock_seconds();

}  // namespace nrmlab::model
