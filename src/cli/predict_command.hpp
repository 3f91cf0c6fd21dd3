// `nrmlab predict [the run options]`: how long `nrmlab run` with the same options will take
// on this machine, and where its time will go, before it runs (study/prediction.hpp).
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <string>

#include "cli/run_command.hpp"

namespace nrmlab::cli {

struct PredictOptions {
  RunOptions run;
  std::filesystem::path json;       // empty: no JSON file
  std::filesystem::path cache_dir;  // empty: study::default_cache_dir()
  bool recalibrate = false;
};

CLI::App* add_predict_command(CLI::App& app, PredictOptions& options);

// Returns the exit status (0). Throws nrmlab::Error for an impossible run or an unwritable
// JSON file.
int execute_predict(const PredictOptions& options);

}  // namespace nrmlab::cli
