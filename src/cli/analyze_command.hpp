// `nrmlab analyze DIR`: analysis.json and the ten-second summary for a run or a study.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <vector>

namespace nrmlab::cli {

struct AnalyzeCommandOptions {
  std::string dir;
  std::string mode = "sound";
  std::string thresholds_file;  // default: DIR/study.toml when it exists
  double expected_hours = 0.0;
  std::vector<double> milestone_hours;
  std::string out;  // default: DIR/analysis.json
  bool quiet = false;
};

CLI::App* add_analyze_command(CLI::App& app, AnalyzeCommandOptions& options);
// Prints the summary and the path of analysis.json on `out` (`watch`: stderr, so that the
// watched program's stdout stays its own).
int execute_analyze(const AnalyzeCommandOptions& options, std::FILE* out = stdout);

}  // namespace nrmlab::cli
