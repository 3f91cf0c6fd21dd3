// `nrmlab export RUN`: a run's telemetry as CSV or JSON Lines, or its stack samples as folded
// stacks or speedscope JSON.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace nrmlab::cli {

struct ExportOptions {
  std::string run_dir;
  std::string format = "csv";
  std::string out_dir;  // default: RUN/export
};

CLI::App* add_export_command(CLI::App& app, ExportOptions& options);
int execute_export(const ExportOptions& options);

}  // namespace nrmlab::cli
