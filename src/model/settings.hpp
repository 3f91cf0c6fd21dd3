// The settings table: every setting that defines a `nrmlab run`, defined once -- its study-file
// key, `nrmlab run` flag, type, default, accepted values or range, help, the stage that reads
// it and where it lands in the config structs. Everything else is generated from it:
// `nrmlab run`'s options (src/cli), a study file's knobs (src/study/knobs), the plan's cost
// inputs (a RunConfig built by run_config_from). The telemetry cadences are read by a later
// stage, so src/telemetry/run_settings appends its own small table to this one and offers the
// one combined list.
//
// Values travel as canonical text ("per-step", "120", "0.5", "on", "OFF-OFF,ON-ON"): the form a
// study file's values are kept in and the arguments a study passes to `nrmlab run`.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/run_config.hpp"

namespace nrmlab::model {

enum class SettingType {
  text,              // a closed vocabulary (`accepted`) or a grammar (`check`)
  integer,           // std::int64_t in [low, high]
  unsigned_integer,  // std::uint64_t (the seed)
  number,            // a finite double
  toggle,            // on | off
  names,             // distinct names from `accepted`, comma-separated
};

// Which stage reads a setting.
enum class SettingReader { model, telemetry };

// What a study file may do with a setting.
enum class StudyUse {
  run_table,        // a knob of the [run] table (or a factor)
  telemetry_table,  // a knob of the [telemetry] table (or a factor)
  runner,           // decided by the study runner (output places, seeds, telemetry on/off)
};

struct Setting {
  std::string_view key;    // study-file key, snake_case
  std::string_view flags;  // the `nrmlab run` option, e.g. "--steps,--cycles" (first: its name)
  SettingType type = SettingType::text;
  std::string_view help;   // as `nrmlab run --help` shows it
  std::string_view group;  // its section of `nrmlab run --help`; empty: the main one
  SettingReader reader = SettingReader::model;
  std::string_view lands_in;  // e.g. "RunConfig::params.steps"
  std::string default_text;   // canonical; empty: none (the preset's, or unset)
  std::vector<std::string_view> accepted;
  bool ranged = false;  // integer types: [low, high]
  double low = 0.0;
  double high = 0.0;
  // Beyond the type, vocabulary and range: what is wrong with a value of the right type
  // ("expected ..."), or nothing -- a grammar, or a limit another stage defines.
  std::optional<std::string> (*check)(std::string_view value) = nullptr;
  // The grammar in one line; `nrmlab run` then checks it while parsing and shows it in --help.
  std::string_view syntax;
  bool required = false;
  StudyUse study = StudyUse::run_table;

  // "--steps": the name messages use.
  std::string_view flag() const { return flags.substr(0, flags.find(',')); }
};

// A setting and how its value lands in the struct of the stage that reads it.
template <class Target>
struct SettingFor {
  Setting setting;
  void (*land)(Target& target, std::string_view value) = nullptr;
};

// key -> canonical text, in any order; keys of no setting are ignored.
using SettingValues = std::vector<std::pair<std::string, std::string>>;

// The settings the model reads, in `nrmlab run --help` order.
const std::vector<SettingFor<RunConfig>>& run_config_settings();

// What is wrong with a canonical value, in `nrmlab run` words ("'0': expected an integer in
// [1, 100000000]", "'ON-ON' is given twice"), or nothing.
std::optional<std::string> check_setting(const Setting& setting, std::string_view value);

// `value` if given, else the setting's default; nothing when neither exists.
std::optional<std::string> value_or_default(const Setting& setting, const SettingValues& values);

// Checks and lands every setting of `table` that has a value (given, else the default) into
// `target`, in table order (so a preset lands before the overrides of its knobs). Throws
// nrmlab::Error naming the flag and the value.
template <class Target>
void land_settings(const std::vector<SettingFor<Target>>& table, const SettingValues& values,
                   Target& target);

// A RunConfig from settings as `nrmlab run` builds it: the model's settings landed, then the
// settings that depend on one another resolved (the source on the seed and granularity, the
// database directory on --out) and checked together. Throws nrmlab::Error naming the flag.
RunConfig run_config_from(const SettingValues& values);

// Implementation of the template above: "--steps '0': expected ...".
[[noreturn]] void throw_bad_setting(const Setting& setting, std::string_view problem);

template <class Target>
void land_settings(const std::vector<SettingFor<Target>>& table, const SettingValues& values,
                   Target& target) {
  for (const SettingFor<Target>& entry : table) {
    const std::optional<std::string> value = value_or_default(entry.setting, values);
    if (!value) continue;
    if (const auto problem = check_setting(entry.setting, *value))
      throw_bad_setting(entry.setting, *problem);
    entry.land(target, *value);
  }
}

}  // namespace nrmlab::model
