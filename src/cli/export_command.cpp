#include "cli/export_command.hpp"

#include <fmt/format.h>

#include <filesystem>

#include "analysis/segment_export.hpp"
#include "telemetry/export.hpp"

namespace nrmlab::cli {

CLI::App* add_export_command(CLI::App& app, ExportOptions& o) {
  CLI::App* command = app.add_subcommand(
      "export",
      "Write every table of RUN/telemetry.db as plain files (one per table) for pandas or R,\n"
      "or the run's stack samples for flame-graph tools.\n"
      "With --format folded or speedscope, after nrmlab analyze RUN, also the early and late\n"
      "segments the analysis compared (code.comparisons in analysis.json), one file each, for\n"
      "a differential flame graph.\n"
      "Examples:\n"
      "  nrmlab export runs/a --format csv     ->  runs/a/export/steps.csv, ...\n"
      "  nrmlab export runs/a --format folded  ->  runs/a/export/profile.folded\n"
      "  nrmlab analyze runs/a && nrmlab export runs/a --format folded\n"
      "      ->  profile.folded, profile.early.folded, profile.late.folded; then\n"
      "  difffolded.pl profile.early.folded profile.late.folded | flamegraph.pl > diff.svg");
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

// The segments' files on stdout with the paths; what they are on stderr, so that stdout stays
// a list of files.
void print_segments(const std::filesystem::path& run, const std::filesystem::path& out,
                    const std::string& format) {
  const auto segments = analysis::export_segment_profiles(
      run, out,
      format == "folded" ? telemetry::profile::ProfileFormat::folded
                         : telemetry::profile::ProfileFormat::speedscope);
  if (segments.empty() && !std::filesystem::exists(run / "analysis.json"))
    fmt::print(stderr,
               "export: nrmlab analyze {} first to also get the early and late segments it "
               "compares\n",
               run.string());
  for (const auto& s : segments) {
    if (s.early_file.empty()) {
      fmt::print(stderr, "export: {}: no early and late segments: {}\n", s.condition, s.status);
      continue;
    }
    fmt::print("{}\n{}\n", s.early_file.string(), s.late_file.string());
    fmt::print(stderr, "export: {}: early segment windows {}..{}, late {}..{}{}\n", s.condition,
               s.early.first, s.early.last, s.late.first, s.late.last,
               format == "folded"
                   ? fmt::format("; diff: difffolded.pl {} {} | flamegraph.pl",
                                 s.early_file.filename().string(), s.late_file.filename().string())
                   : std::string("; open both in speedscope"));
  }
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
  if (o.format == "folded" || o.format == "speedscope") print_segments(run, out, o.format);
  return 0;
}

}  // namespace nrmlab::cli
