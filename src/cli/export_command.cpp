#include "cli/export_command.hpp"

#include <fmt/format.h>

#include <filesystem>

#include "telemetry/export.hpp"

namespace nrmlab::cli {

CLI::App* add_export_command(CLI::App& app, ExportOptions& o) {
  CLI::App* command = app.add_subcommand(
      "export",
      "Write every table of RUN/telemetry.db as plain files (one per table) for pandas or R.\n"
      "Example: nrmlab export runs/a --format csv   ->  runs/a/export/steps.csv, ...");
  command->add_option("run", o.run_dir, "Run directory (holds telemetry.db)")->required();
  command->add_option("--format", o.format, "csv (empty field = absent) or jsonl (null = absent)")
      ->check(CLI::IsMember({"csv", "jsonl"}))
      ->capture_default_str();
  command->add_option("--out", o.out_dir, "Output directory (default: RUN/export)");
  return command;
}

int execute_export(const ExportOptions& o) {
  const std::filesystem::path run(o.run_dir);
  const std::filesystem::path out =
      o.out_dir.empty() ? run / "export" : std::filesystem::path(o.out_dir);
  const auto written = telemetry::export_telemetry(
      run / "telemetry.db", out,
      o.format == "csv" ? telemetry::ExportFormat::csv : telemetry::ExportFormat::jsonl);
  for (const auto& path : written)
    fmt::print("{}\n", path.string());
  return 0;
}

}  // namespace nrmlab::cli
