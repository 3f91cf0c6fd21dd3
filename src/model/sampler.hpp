// Applies the sampling policy between the model and its metric source. Every "sample
// event" (a fresh sample) pays the blocking window, becomes one metrics.db row and, when
// recording, one trace line; the model's other requests reuse the sample held.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>

#include "model/metric_source.hpp"
#include "model/overheads.hpp"
#include "model/step_counters.hpp"

namespace nrmlab::model {

class FaithfulStores;
class TraceWriter;

// Thrown by the sampler when a stop was requested mid-step: a step under the original's
// overheads takes minutes (hundreds of 100 ms windows), too long to make Ctrl-C wait. The
// runner discards the partial step.
struct StepInterrupted {};

// Where in the step a sample is needed; only spawn-shared sampling tells sites apart.
enum class SampleSite { setup, reality_sources, evolve, energy_recovery, spawn };

class Sampler {
 public:
  // `stop_requested` (may be null) is checked before every sample event.
  Sampler(MetricSource& source, SamplingPolicy policy, std::chrono::milliseconds window,
          FaithfulStores* stores, TraceWriter* trace,
          const std::atomic<bool>* stop_requested = nullptr);

  void begin_condition(int condition);
  // Setup (root creation) belongs to step 0 and comes before step 0's loop body. Under
  // spawn-shared the step's shared sample waits for begin_step(0): the optimized script
  // created the root before its loop took the step's shared sample (model.md section 8), so
  // a trace recorded from it has the root's sample first. The other policies' root uses the
  // step's sample, taken here.
  void begin_setup();
  // Idempotent within a step.
  void begin_step(std::int64_t step);
  const MetricSample& sample(SampleSite site);

  // Between two steps: what the next step's samples depend on (the step, the sample held,
  // the source's state), for a condition continued in another process. restore() follows
  // begin_condition() there.
  nlohmann::json save() const;
  void restore(const nlohmann::json& saved);

  std::uint64_t events() const { return m_events; }

  // Section timing (off by default: it costs two clock reads per sample event).
  void enable_timing(bool on) { m_timing = on; }
  // Cumulative sampling and window time and the clock reads spent measuring them.
  const SectionTimes& section_totals() const { return m_sections; }
  // Told of every sample event (may be null).
  void set_observer(SampleObserver* observer) { m_observer = observer; }

 private:
  const MetricSample& take_fresh();
  void take_step_sample();

  MetricSource& m_source;
  SamplingPolicy m_policy;
  std::chrono::milliseconds m_window;
  FaithfulStores* m_stores;
  TraceWriter* m_trace;
  const std::atomic<bool>* m_stop_requested;
  SampleObserver* m_observer = nullptr;
  bool m_timing = false;
  SectionTimes m_sections;
  int m_condition = 0;
  std::int64_t m_step = -1;
  std::int64_t m_call = 0;
  std::uint64_t m_events = 0;
  MetricSample m_fresh;   // the latest fresh sample (per-call requests)
  MetricSample m_shared;  // the sample held for shared requests
  bool m_has_shared = false;
  bool m_step_sampled = false;  // the current step's shared sample is taken (or not needed)
};

}  // namespace nrmlab::model
