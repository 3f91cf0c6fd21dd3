// `nrmlab run`: one experiment, its four conditions back to back, result.json plus the
// two faithful databases in the output directory. The options are generated from the
// settings table (telemetry::run_settings(); model/settings.hpp) and the run itself is
// telemetry::run_instrumented, so this command only parses, calls and prints.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "model/run_config.hpp"

namespace nrmlab::cli {

// Where CLI11 stores one setting's value, typed as the setting is.
struct SettingSlot {
  std::string text;  // text and toggle
  std::int64_t integer = 0;
  std::uint64_t unsigned_integer = 0;
  double number = 0.0;
  std::vector<std::string> names;
  CLI::Option* option = nullptr;
};

struct RunOptions {
  std::vector<SettingSlot> settings;  // one per telemetry::run_settings() entry, in its order
  bool quiet = false;
};

// `options` must outlive the parse and not move: CLI11 writes into its slots.
CLI::App* add_run_command(CLI::App& app, RunOptions& options);

// The run's settings as options of `command` (`nrmlab run`'s, and `nrmlab predict`'s with
// `outputs_optional`: nothing is written, so --out is not required).
void add_run_settings(CLI::App& command, RunOptions& options, bool outputs_optional = false);
// The run as the given options build it (the settings table's defaults for the rest).
model::RunConfig run_config_from(const RunOptions& options);

// Returns the process exit status: 0 complete, 130 interrupted. Throws nrmlab::Error.
int execute_run(const RunOptions& options);

}  // namespace nrmlab::cli
