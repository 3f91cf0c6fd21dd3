// The knobs a study file may set or vary: every `nrmlab run` option that defines a run (model
// parameters, overheads, defect switches, metric source, telemetry cadences) plus the ones
// only the runner can apply (the allocator, preloaded into the child). Each knob knows its
// TOML key, its type and accepted values, and the `nrmlab run` flag it becomes, so one table
// drives parsing, error messages, `--plan` and the child's command line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/params.hpp"
#include "telemetry/recorder.hpp"

namespace nrmlab::study {

enum class KnobScope {
  run,        // a `nrmlab run` option of the [run] table
  telemetry,  // a `nrmlab run` telemetry cadence of the [telemetry] table
  runner,     // applied by the runner to the child process ([run] table)
};

enum class KnobType { text, integer, number, toggle, names };

struct Knob {
  std::string_view key;  // TOML key, snake_case
  KnobScope scope = KnobScope::run;
  KnobType type = KnobType::text;
  std::string_view flag;                   // the `nrmlab run` flag; empty for runner knobs
  std::vector<std::string_view> accepted;  // closed vocabularies (text and names)
  double low = 0.0;                        // integer and number ranges
  double high = 0.0;
  std::string_view help;
  // Where a numeric knob lands, so whole parameter sets can be validated before any run.
  std::int64_t model::ModelParams::*model_integer = nullptr;
  double model::ModelParams::*model_number = nullptr;
  std::int64_t telemetry::RecorderOptions::*cadence = nullptr;
};

const std::vector<Knob>& knobs();
const Knob* find_knob(std::string_view key);
// "a, b, c": the keys of one scope, for "unknown key" messages.
std::string knob_keys(KnobScope scope);

// What a value must look like, for messages ("one of: on, off", "an integer in [1, 1e6]").
std::string describe_expected(const Knob& knob);

// Checks one canonical value (the text form every value is kept in, e.g. "per-step", "120",
// "0.5", "on", "OFF-OFF,ON-ON"); returns what is wrong, or nothing.
std::optional<std::string> check_value(const Knob& knob, std::string_view value);

}  // namespace nrmlab::study
