#include "cli/export_command.hpp"

#include <fmt/format.h>

#include <filesystem>

#include "telemetry/export.hpp"

namespace nrmlab::cli {

CLI::App* add_export_command(CLI::App& app, ExportOptions& o) {
  CLI::App* command = app.add_subcommand(
      "export",
      "Write every table of RUN/telemetry.db as plain files (one per table) for pandas or R,\n"
      "or the run's stack samples for flame-graph tools.\n"
      "Example: nrmlab export runs/a --format csv     ->  runs/a/export/steps.csv, ...\n"
      "         nrmlab export runs/a --format folded  ->  runs/a/export/profile.folded");
  command->add_option("run", o.run_dir, "Run directory (holds telemetry.db)")->required();
  command
      ->add_option("--format", o.format,
                   "csv (empty field = absent) or jsonl (null = absent): every table;\n"
                   "folded: stack samples as FlameGraph's folded stacks, one line per stack,\n"
                   "outermost frame first, off-CPU time ending in its wait ([sleep], [disk],\n"
                   "...), the count in microseconds of wall time (profile.folded);\n"
                   "speedscope: the same as speedscope JSON, weights in nanoseconds\n"
                   "(profile.speedscope.json)")
      ->check(CLI::IsMember({"csv", "jsonl", "folded", "speedscope"}))
      ->capture_default_str();
  command->add_option("--out", o.out_dir, "Output directory (default: RUN/export)");
  return command;
}

namespace {

telemetry::ExportFormat export_format_named(const std::string& name) {
  if (name == "jsonl") return telemetry::ExportFormat::jsonl;
  if (name == "folded") return telemetry::ExportFormat::folded;
  if (name == "speedscope") return telemetry::ExportFormat::speedscope;
  return telemetry::ExportFormat::csv;
}

}  // namespace

int execute_export(const ExportOptions& o) {
  const std::filesystem::path run(o.run_dir);
  const std::filesystem::path out =
      o.out_dir.empty() ? run / "export" : std::filesystem::path(o.out_dir);
  const auto written =
      telemetry::export_telemetry(run / "telemetry.db", out, export_format_named(o.format));
  for (const auto& path : written)
    fmt::print("{}\n", path.string());
  return 0;
}

}  // namespace nrmlab::cli
