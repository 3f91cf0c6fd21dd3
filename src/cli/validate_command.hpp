// `nrmlab validate`: the planted-cause suite (src/validate) -- runs each case's replicates,
// prints the confusion matrix, exits 1 on any wrong verdict. `nrmlab validate-workload` is
// its child: one planted workload in one process (hidden from --help).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace nrmlab::cli {

struct ValidateCommandOptions {
  bool full = false;
  std::string out = "runs/validate";
  std::int64_t replicates = 0;
  std::int64_t steps = 0;
  std::uint64_t seed = 1;
  std::vector<std::string> cases;
  std::optional<double> telemetry_budget;
  bool quiet = false;
  // --calibrate: the calibration suite (validate/calibration.hpp) instead of the cases.
  bool calibrate = false;
  std::size_t runs = 200;
  std::vector<std::string> families;
};

CLI::App* add_validate_command(CLI::App& app, ValidateCommandOptions& options);
int execute_validate(const ValidateCommandOptions& options);

struct WorkloadCommandOptions {
  std::string workload;
  std::uint64_t seed = 1;
  std::int64_t steps = 300;
  std::string out;
  std::string profile = "off";  // --profile off|HZ
  std::int64_t profile_window_ms = 1'000;
  bool quiet = false;
  // As a program for `nrmlab watch` (no telemetry): "markers" prints a step marker per step,
  // "bare" nothing; empty: under the recorder.
  std::string as_program;
  std::int64_t work_scale = 1;
  std::optional<double> telemetry_budget;
};

CLI::App* add_validate_workload_command(CLI::App& app, WorkloadCommandOptions& options);
int execute_validate_workload(const WorkloadCommandOptions& options);

}  // namespace nrmlab::cli
