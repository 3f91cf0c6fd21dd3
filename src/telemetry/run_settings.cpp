#include "telemetry/run_settings.hpp"

#include <fmt/format.h>

#include <string>
#include <utility>

#include "telemetry/profile/profiler.hpp"
#include "util/error.hpp"
#include "util/parse.hpp"

namespace nrmlab::telemetry {
namespace {

using Entry = model::SettingFor<TelemetrySettings>;

constexpr std::string_view k_group =
    "Telemetry (OUT/telemetry.db; see ARCHITECTURE.md for the schema)";

// The recorder owns its limits (validate); a cadence is checked by them alone.
template <std::int64_t RecorderOptions::*Field>
std::optional<std::string> check_cadence(std::string_view value) {
  RecorderOptions options;
  options.*Field = *parse_number<std::int64_t>(value);
  const std::vector<std::string> problems = validate(options);
  if (problems.empty()) return std::nullopt;
  return problems.front();
}

// What every telemetry setting shares: its group and reader, and a study sets it in the
// [telemetry] table.
Entry telemetry_entry(std::string_view key, std::string_view flags, model::SettingType type,
                      std::string_view lands_in, std::string default_text, std::string_view help) {
  Entry entry;
  model::Setting& setting = entry.setting;
  setting.key = key;
  setting.flags = flags;
  setting.type = type;
  setting.help = help;  // a view: every help text is a literal
  setting.group = k_group;
  setting.reader = model::SettingReader::telemetry;
  setting.lands_in = lands_in;
  setting.default_text = std::move(default_text);
  setting.study = model::StudyUse::telemetry_table;
  return entry;
}

template <std::int64_t RecorderOptions::*Field>
Entry cadence(std::string_view key, std::string_view flags, std::string_view lands_in,
              std::string_view help) {
  Entry entry = telemetry_entry(key, flags, model::SettingType::integer, lands_in,
                                std::to_string(RecorderOptions{}.*Field), help);
  entry.setting.check = check_cadence<Field>;
  entry.land = [](TelemetrySettings& target, std::string_view value) {
    target.recorder.*Field = *parse_number<std::int64_t>(value);
  };
  return entry;
}

std::optional<std::string> check_profile_rate(std::string_view value) {
  try {
    profile::parse_profile_rate(value);
    return std::nullopt;
  } catch (const Error& error) {
    return std::string(error.what());
  }
}

Entry profile_rate() {
  Entry entry = telemetry_entry(
      "profile", "--profile", model::SettingType::text, "TelemetrySettings::profile_hz",
      std::to_string(TelemetrySettings{}.profile_hz),
      "Stack samples per second of each thread's CPU time, on and off the CPU (where the time "
      "goes in the code: analysis.json code, the report's flame graph, `nrmlab export --format "
      "folded`), or off");
  entry.setting.check = check_profile_rate;
  entry.setting.syntax = profile::k_profile_syntax;
  entry.land = [](TelemetrySettings& target, std::string_view value) {
    target.profile_hz = profile::parse_profile_rate(value);
  };
  return entry;
}

std::optional<std::string> check_budget(std::string_view value) {
  RecorderOptions options;
  const auto share = parse_number<double>(value);
  if (!share) return "a number in [0, 1] expected, got '" + std::string(value) + "'";
  options.budget_share = *share;
  const std::vector<std::string> problems = validate(options);
  if (problems.empty()) return std::nullopt;
  return problems.front();
}

Entry budget_share() {
  Entry entry = telemetry_entry(
      "telemetry_budget", "--telemetry-budget", model::SettingType::number,
      "RecorderOptions::budget_share", fmt::format("{}", RecorderOptions{}.budget_share),
      "Share of wall time the per-step readings may cost the run: on shorter steps the "
      "getrusage, memory and allocation-probe cadences stretch and the CPU clock skips its "
      "system call between context switches (0: the plain cadences, the CPU clock's call every "
      "step)");
  entry.setting.check = check_budget;
  entry.land = [](TelemetrySettings& target, std::string_view value) {
    target.recorder.budget_share = *parse_number<double>(value);
  };
  return entry;
}

std::vector<Entry> make_table() {
  Entry enabled = telemetry_entry(
      "telemetry", "--telemetry", model::SettingType::toggle, "TelemetrySettings::enabled",
      TelemetrySettings{}.enabled ? "on" : "off", "Record per-step telemetry");
  enabled.setting.study = model::StudyUse::runner;  // on or off for the whole study
  enabled.land = [](TelemetrySettings& target, std::string_view value) {
    target.enabled = value == "on";
  };
  return {
      enabled,
      cadence<&RecorderOptions::rusage_every>(
          "rusage_every", "--rusage-every", "RecorderOptions::rusage_every",
          "Steps between getrusage readings (context switches, faults; 1: every step)"),
      cadence<&RecorderOptions::memory_every>("memory_every", "--memory-every",
                                              "RecorderOptions::memory_every",
                                              "Steps between RSS and allocator readings (0: off)"),
      cadence<&RecorderOptions::pss_period_ms>("pss_period_ms", "--pss-period-ms",
                                               "RecorderOptions::pss_period_ms",
                                               "Period of PSS readings (0: off)"),
      cadence<&RecorderOptions::alloc_probe_every>(
          "alloc_probe_every", "--alloc-probe-every", "RecorderOptions::alloc_probe_every",
          "Steps between allocation-latency probes (0: off)"),
      cadence<&RecorderOptions::side_period_ms>("side_period_ms", "--side-period-ms",
                                                "RecorderOptions::side_period_ms",
                                                "Period of the machine-wide side streams (0: off)"),
      cadence<&RecorderOptions::batch_steps>("batch_steps", "--batch-steps",
                                             "RecorderOptions::batch_steps",
                                             "Steps per telemetry write"),
      budget_share(),
      profile_rate(),
  };
}

std::vector<const model::Setting*> make_list() {
  std::vector<const model::Setting*> list;
  bool telemetry_added = false;
  for (const auto& entry : model::run_config_settings()) {
    // The telemetry's section of --help comes before the model parameters' sections.
    if (!telemetry_added && !entry.setting.group.empty()) {
      for (const auto& own : telemetry_settings())
        list.push_back(&own.setting);
      telemetry_added = true;
    }
    list.push_back(&entry.setting);
  }
  if (!telemetry_added)
    for (const auto& own : telemetry_settings())
      list.push_back(&own.setting);
  return list;
}

}  // namespace

const std::vector<model::SettingFor<TelemetrySettings>>& telemetry_settings() {
  static const std::vector<Entry> k_table = make_table();
  return k_table;
}

const std::vector<const model::Setting*>& run_settings() {
  static const std::vector<const model::Setting*> k_list = make_list();
  return k_list;
}

const model::Setting* find_run_setting(std::string_view key) {
  for (const model::Setting* setting : run_settings())
    if (setting->key == key) return setting;
  return nullptr;
}

RunRequest run_request_from(const model::SettingValues& values) {
  RunRequest request;
  request.config = model::run_config_from(values);
  model::land_settings(telemetry_settings(), values, request.telemetry);
  request.telemetry.recorder.db_path = request.config.out_dir / "telemetry.db";
  // batch_ms is no setting; validate covers it and every cadence.
  if (const auto problems = validate(request.telemetry.recorder); !problems.empty())
    throw Error(problems.front());
  return request;
}

}  // namespace nrmlab::telemetry
