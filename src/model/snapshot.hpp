// The engine's state between two steps of a condition, so that the condition can go on in
// a fresh process (process recycling inside a condition). It only ever crosses a pipe
// between two processes of one run of one binary, so its layout is not a stored format.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>

#include "model/metric_sample.hpp"

namespace nrmlab::model {

struct Snapshot {
  int condition = -1;          // -1: no state (nothing was suspended)
  std::int64_t next_step = 0;  // the first step the resumed condition runs
  nlohmann::json engine;       // Simulation::save(): agents, cluster table, sampler, source
};

nlohmann::json to_json(const Snapshot& snapshot);
// Throws nlohmann::json::exception on a malformed document.
Snapshot snapshot_from_json(const nlohmann::json& json);

// Doubles travel as their bit patterns: a resumed condition must be bit-identical.
nlohmann::json bits_of(double value);
double double_from_bits(const nlohmann::json& json);

nlohmann::json to_json(const MetricSample& sample);
MetricSample sample_from_json(const nlohmann::json& json);

}  // namespace nrmlab::model
