// `nrmlab run`: one experiment, its four conditions back to back, result.json plus the
// two faithful databases in the output directory.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "model/params.hpp"
#include "telemetry/recorder.hpp"

namespace nrmlab::cli {

struct RunOptions {
  std::string experiment = "c256";
  std::string variant = "as-intended";
  std::string preset = "clean";
  std::string sampling;         // empty: the preset's
  std::int64_t window_ms = -1;  // negative: the preset's
  std::string persistence;      // empty: the preset's
  std::string source = "live";
  std::string granularity = "step";
  std::string recursive_evolve = "on";
  std::string accumulating_clusters = "on";
  std::vector<std::string> conditions;
  std::uint64_t seed = 1;
  std::string out_dir;
  std::string db_dir;
  std::string record_trace;
  std::string recycle = "never";
  bool quiet = false;
  model::ModelParams params;
  std::string telemetry = "on";
  telemetry::RecorderOptions recorder;
};

CLI::App* add_run_command(CLI::App& app, RunOptions& options);

// Returns the process exit status: 0 complete, 130 interrupted. Throws nrmlab::Error.
int execute_run(const RunOptions& options);

}  // namespace nrmlab::cli
