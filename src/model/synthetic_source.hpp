// A deterministic stand-in for a machine: every sample is a pure function of (seed,
// condition, step, call), so it does not matter in which order or how often it is asked.
#pragma once

#include <cstdint>

#include "model/metric_source.hpp"

namespace nrmlab::model {

struct SyntheticParams {
  std::uint64_t seed = 0;
  double cpu_percent = 25.0;
  double memory_percent = 40.0;
  double disk_percent = 50.0;
  double jitter = 10.0;  // each percentage varies uniformly within +-jitter; 0 = constant
};

class SyntheticSource final : public MetricSource {
 public:
  explicit SyntheticSource(SyntheticParams params) : m_params(params) {}
  void begin_condition(int) override {}
  MetricSample sample(const SampleKey& key, std::chrono::milliseconds window) override;

 private:
  SyntheticParams m_params;
};

}  // namespace nrmlab::model
