#include "cli/run_command.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <optional>

#include "cli/interrupt.hpp"
#include "cli/progress.hpp"
#include "cli/run_output.hpp"
#include "model/experiment_runner.hpp"
#include "study/recycled_run.hpp"
#include "telemetry/instrumented_run.hpp"
#include "telemetry/run_settings.hpp"
#include "util/error.hpp"
#include "util/parse.hpp"

namespace nrmlab::cli {
namespace {

using model::SettingType;

template <typename Number>
Number parsed_default(const model::Setting& setting) {
  return setting.default_text.empty() ? Number{} : *parse_number<Number>(setting.default_text);
}

// One `nrmlab run` option from its setting: flags, help, default, validation and group.
void add_setting_option(CLI::App& run, const model::Setting& setting, SettingSlot& slot,
                        bool outputs_optional) {
  const std::string flags(setting.flags);
  const std::string help(setting.help);
  CLI::Option* option = nullptr;
  switch (setting.type) {
    case SettingType::integer:
      slot.integer = parsed_default<std::int64_t>(setting);
      option = run.add_option(flags, slot.integer, help);
      if (setting.ranged)
        option->check(CLI::Range(static_cast<std::int64_t>(setting.low),
                                 static_cast<std::int64_t>(setting.high)));
      break;
    case SettingType::unsigned_integer:
      slot.unsigned_integer = parsed_default<std::uint64_t>(setting);
      option = run.add_option(flags, slot.unsigned_integer, help);
      break;
    case SettingType::number:
      slot.number = parsed_default<double>(setting);
      option = run.add_option(flags, slot.number, help);
      break;
    case SettingType::names:
      option = run.add_option(flags, slot.names, help)->delimiter(',');
      break;
    case SettingType::toggle:
      slot.text = setting.default_text;
      option = run.add_option(flags, slot.text, help)->check(CLI::IsMember({"on", "off"}));
      break;
    case SettingType::text:
      slot.text = setting.default_text;
      option = run.add_option(flags, slot.text, help);
      if (!setting.accepted.empty())
        option->check(CLI::IsMember(
            std::vector<std::string>(setting.accepted.begin(), setting.accepted.end())));
      break;
  }
  // A grammar worth showing is checked while parsing; the others when the run is built.
  if (!setting.syntax.empty() && setting.check != nullptr) {
    const auto check = setting.check;
    option->check(CLI::Validator(
        [check](const std::string& text) { return check(text).value_or(std::string()); },
        std::string(setting.syntax)));
  }
  if (!setting.default_text.empty()) option->capture_default_str();
  if (setting.required && !outputs_optional) option->required();
  if (!setting.group.empty()) option->group(std::string(setting.group));
  slot.option = option;
}

// The settings given on the command line, in canonical text; the rest take the table's
// defaults when the run is built.
model::SettingValues given_settings(const RunOptions& options) {
  const auto& settings = telemetry::run_settings();
  model::SettingValues values;
  for (std::size_t i = 0; i < settings.size(); ++i) {
    const SettingSlot& slot = options.settings[i];
    if (slot.option->count() == 0) continue;
    std::string text;
    switch (settings[i]->type) {
      case SettingType::integer:
        text = std::to_string(slot.integer);
        break;
      case SettingType::unsigned_integer:
        text = std::to_string(slot.unsigned_integer);
        break;
      case SettingType::number:
        text = fmt::format("{}", slot.number);
        break;
      case SettingType::names:
        for (const std::string& name : slot.names)
          text += (text.empty() ? "" : ",") + name;
        break;
      case SettingType::toggle:
      case SettingType::text:
        text = slot.text;
        break;
    }
    values.emplace_back(std::string(settings[i]->key), std::move(text));
  }
  return values;
}

}  // namespace

CLI::App* add_run_command(CLI::App& app, RunOptions& o) {
  CLI::App* run = app.add_subcommand(
      "run",
      "Run one NRM experiment (four conditions back to back) and write OUT/result.json plus the "
      "faithful databases metrics.db and bridge.db.\n\n"
      "Example: nrmlab run --experiment c256 --preset clean --source synthetic:7 --out runs/a\n"
      "Presets: as-run (the original: a fresh sample on every call, 100 ms blocking window, a "
      "database connection per row -- days at full size), optimized-as-run, "
      "optimized-as-intended, clean (one sample per step, no window, one transaction per "
      "step). --sampling, --window-ms and --persistence override the preset.");
  add_run_settings(*run, o);
  // Presentation only: no setting of the run.
  run->add_flag("--quiet,-q", o.quiet, "No progress line");
  return run;
}

void add_run_settings(CLI::App& command, RunOptions& options, bool outputs_optional) {
  const auto& settings = telemetry::run_settings();
  options.settings.resize(settings.size());
  for (std::size_t i = 0; i < settings.size(); ++i)
    add_setting_option(command, *settings[i], options.settings[i], outputs_optional);
}

model::RunConfig run_config_from(const RunOptions& options) {
  return telemetry::run_request_from(given_settings(options)).config;
}

namespace {

// Runs `config` in this process with a progress line on a terminal. `described` is the run
// as the user asked for it; `checkpoints`: write result.json after each condition;
// `segment` (may be null): the stretch of the one condition this process runs.
telemetry::InstrumentedResult execute_here(const RunOptions& options,
                                           const model::RunConfig& config,
                                           const model::RunConfig& described,
                                           const telemetry::TelemetrySettings& telemetry,
                                           bool checkpoints, const std::atomic<bool>& stop,
                                           const model::Segment* segment = nullptr) {
  std::optional<ProgressLine> progress;
  if (!options.quiet && isatty(STDERR_FILENO) == 1)
    progress.emplace(stderr, std::string(model::experiment_name(config.experiment)),
                     config.params.steps, static_cast<std::int64_t>(config.conditions.size()));
  model::RunHooks hooks;
  hooks.observer = progress ? &*progress : nullptr;
  hooks.stop_requested = &stop;
  hooks.segment = segment;
  if (checkpoints)
    hooks.checkpoint = [&](const model::ExperimentResult& result) {
      try {
        model::write_result(config.out_dir, result);
      } catch (const Error& error) {
        if (!result.stopped_because) throw;  // on the error path, keep the original error
        fmt::print(stderr, "nrmlab: warning: {}\n", error.what());
      }
    };
  telemetry::InstrumentedResult execution = telemetry::run_instrumented(
      config, described, telemetry, hooks,
      [](const std::string& message) { fmt::print(stderr, "nrmlab: warning: {}\n", message); });
  if (progress) progress->finish();
  return execution;
}

std::int64_t monotonic_now_ns() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

}  // namespace

int execute_run(const RunOptions& options) {
  const telemetry::RunRequest request = telemetry::run_request_from(given_settings(options));
  const model::RunConfig& config = request.config;
  prepare_output_dir(config.out_dir);
  const std::atomic<bool>& stop = install_interrupt_handlers();
  telemetry::TelemetrySettings telemetry = request.telemetry;
  telemetry::RecorderOptions& recorder_options = telemetry.recorder;

  telemetry::InstrumentedResult execution;
  const model::Recycling recycling = *model::parse_recycling(config.recycle);
  using Kind = model::Recycling::Kind;
  if (recycling.kind == Kind::every_steps ||
      (recycling.kind == Kind::condition && config.conditions.size() > 1)) {
    recorder_options.origin_ns = monotonic_now_ns();
    execution.result = study::run_recycled(
        config, recycling, stop,
        [&](const model::RunConfig& part, const model::Segment& segment, bool first) {
          recorder_options.append = !first;
          return execute_here(options, part, config, telemetry, false, stop, &segment).result;
        });
    if (telemetry.enabled)
      execution.telemetry_line =
          fmt::format("telemetry: {} (one process per {})", recorder_options.db_path.string(),
                      recycling.kind == Kind::condition
                          ? std::string("condition")
                          : fmt::format("{} steps of a condition", recycling.steps));
  } else {
    execution = execute_here(options, config, config, telemetry, true, stop);
  }
  print_summary(stdout, execution.result);
  fmt::print("\nresult: {}\n", (config.out_dir / "result.json").string());
  if (!execution.telemetry_line.empty()) fmt::print("{}\n", execution.telemetry_line);
  if (!execution.result.complete) {
    fmt::print(stderr, "nrmlab: run interrupted; result.json is marked incomplete\n");
    return 130;
  }
  return 0;
}

}  // namespace nrmlab::cli
