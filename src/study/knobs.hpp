// The knobs a study file may set or vary: a view of the settings table (model/settings.hpp,
// telemetry::run_settings()) -- every `nrmlab run` setting a study may use, with its TOML
// key, type, accepted values and the flag it becomes -- plus the knobs only the runner can
// apply (the allocator, preloaded into the child). One table drives parsing, error
// messages, `--plan` and the child's command line.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/settings.hpp"

namespace nrmlab::study {

enum class KnobScope {
  run,        // a `nrmlab run` setting of the [run] table
  telemetry,  // a `nrmlab run` telemetry cadence of the [telemetry] table
  runner,     // applied by the runner to the child process ([run] table)
};

using KnobType = model::SettingType;

struct Knob {
  std::string_view key;  // TOML key, snake_case
  KnobScope scope = KnobScope::run;
  KnobType type = KnobType::text;
  std::string_view flag;                   // the `nrmlab run` flag; empty for runner knobs
  std::vector<std::string_view> accepted;  // closed vocabularies (text and names)
  std::string_view help;
  const model::Setting* setting = nullptr;  // its setting; null for runner knobs
};

const std::vector<Knob>& knobs();
const Knob* find_knob(std::string_view key);
// "a, b, c": the keys of one scope, for "unknown key" messages.
std::string knob_keys(KnobScope scope);
// A `nrmlab run` setting that the study runner decides (out, seed, telemetry on/off, ...).
bool decided_by_runner(std::string_view key);

// What a value must look like, for messages ("one of: on, off", "an integer in [1, 1e6]").
std::string describe_expected(const Knob& knob);

// Checks one canonical value (the text form every value is kept in, e.g. "per-step", "120",
// "0.5", "on", "OFF-OFF,ON-ON"); returns what is wrong, or nothing.
std::optional<std::string> check_value(const Knob& knob, std::string_view value);

}  // namespace nrmlab::study
