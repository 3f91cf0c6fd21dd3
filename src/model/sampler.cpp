#include "model/sampler.hpp"

#include <chrono>

#include "model/faithful_stores.hpp"
#include "model/metric_trace.hpp"
#include "model/snapshot.hpp"

namespace nrmlab::model {

Sampler::Sampler(MetricSource& source, SamplingPolicy policy, std::chrono::milliseconds window,
                 FaithfulStores* stores, TraceWriter* trace,
                 const std::atomic<bool>* stop_requested)
    : m_source(source),
      m_policy(policy),
      m_window(window),
      m_stores(stores),
      m_trace(trace),
      m_stop_requested(stop_requested) {}

void Sampler::begin_condition(int condition) {
  m_condition = condition;
  m_step = -1;
  m_has_shared = false;
  m_step_sampled = false;
  m_source.begin_condition(condition);
}

void Sampler::begin_setup() {
  m_step = 0;
  m_call = 0;
  m_step_sampled = false;
  if (m_policy.kind != SamplingPolicy::Kind::spawn_shared) take_step_sample();
}

void Sampler::begin_step(std::int64_t step) {
  if (step != m_step) {
    m_step = step;
    m_call = 0;
    m_step_sampled = false;
  }
  if (!m_step_sampled) take_step_sample();
}

void Sampler::take_step_sample() {
  m_step_sampled = true;
  using Kind = SamplingPolicy::Kind;
  switch (m_policy.kind) {
    case Kind::per_call:
      break;
    case Kind::spawn_shared:
    case Kind::per_step:
      m_shared = take_fresh();
      break;
    case Kind::every_k:
      if (m_step % m_policy.k == 0 || !m_has_shared) {
        m_shared = take_fresh();
      } else if (m_source.fixes_inputs_per_step()) {
        // Replay fixes the inputs of every step: holding a sample across steps would make
        // the policy change results. The refresh is not a sample event (no row, no window).
        m_shared = m_source.sample({m_condition, m_step, 0}, std::chrono::milliseconds(0));
      }
      break;
  }
  m_has_shared = true;
}

nlohmann::json Sampler::save() const {
  return {{"step", m_step},
          {"has_shared", m_has_shared},
          {"shared", to_json(m_shared)},
          {"source", m_source.save_state()}};
}

void Sampler::restore(const nlohmann::json& saved) {
  m_step = saved.at("step").get<std::int64_t>();
  m_call = 0;
  m_step_sampled = true;  // saved between steps: the saved step is over
  m_has_shared = saved.at("has_shared").get<bool>();
  m_shared = sample_from_json(saved.at("shared"));
  m_source.restore_state(saved.at("source"));
}

const MetricSample& Sampler::sample(SampleSite site) {
  using Kind = SamplingPolicy::Kind;
  switch (m_policy.kind) {
    case Kind::per_call:
      return take_fresh();
    case Kind::spawn_shared:
      return site == SampleSite::spawn ? m_shared : take_fresh();
    case Kind::per_step:
    case Kind::every_k:
      return m_shared;
  }
  return m_shared;
}

const MetricSample& Sampler::take_fresh() {
  if (m_stop_requested != nullptr && m_stop_requested->load(std::memory_order_relaxed))
    throw StepInterrupted{};
  const SampleKey key{m_condition, m_step, m_call++};
  if (m_timing) {
    const auto started = std::chrono::steady_clock::now();
    const auto blocked_before = m_source.blocked();
    m_fresh = m_source.sample(key, m_window);
    const std::int64_t elapsed = (std::chrono::steady_clock::now() - started).count();
    const std::int64_t blocked = (m_source.blocked() - blocked_before).count();
    m_sections.window_ns += blocked;
    m_sections.sampling_ns += elapsed - blocked;
    m_sections.timer_reads += 2;
  } else {
    m_fresh = m_source.sample(key, m_window);
  }
  ++m_events;
  if (m_stores != nullptr) m_stores->write_metric(m_fresh);
  if (m_trace != nullptr) m_trace->write(key, m_fresh);
  if (m_observer != nullptr) m_observer->on_sample(key, m_fresh);
  return m_fresh;
}

}  // namespace nrmlab::model
