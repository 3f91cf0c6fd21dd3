#include "cli/analyze_command.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>

#include "analysis/analyze.hpp"
#include "analysis/thresholds.hpp"
#include "util/error.hpp"

namespace nrmlab::cli {

CLI::App* add_analyze_command(CLI::App& app, AnalyzeCommandOptions& o) {
  CLI::App* command = app.add_subcommand(
      "analyze",
      "Analyse the telemetry of a run (DIR/telemetry.db) or a study (DIR/runs/*/): write\n"
      "DIR/analysis.json (schema nrmlab.analysis/1) and print a ten-second summary.\n"
      "Sound mode (default) says where step time goes, whether each condition drifts, and\n"
      "which hypothesis (H1 contention, H2 fragmentation, H3 I/O accumulation, H4 thermal,\n"
      "H5 workload growth) the evidence supports. Paper mode runs the seed study's Phase 1A,\n"
      "Phase 1B and V/A characterisation exactly as specified.\n"
      "Examples:\n"
      "  nrmlab analyze runs/demo\n"
      "  nrmlab analyze studies/out/attribution --mode all\n"
      "  nrmlab analyze runs/c256 --mode paper --expected-hours 20.1 --milestones 24,36");
  command->add_option("dir", o.dir, "Run or study directory")->required();
  command->add_option("--mode", o.mode, "sound, paper or all")
      ->check(CLI::IsMember({"sound", "paper", "all"}))
      ->capture_default_str();
  command->add_option("--thresholds", o.thresholds_file,
                      "TOML file whose [thresholds] table overrides the verdict thresholds "
                      "(default: DIR/study.toml when present; see ARCHITECTURE.md)");
  command
      ->add_option("--expected-hours", o.expected_hours,
                   "Paper mode: the expected runtime E for V = (T-E)/E and A = V/E")
      ->check(CLI::PositiveNumber);
  command
      ->add_option("--milestones", o.milestone_hours,
                   "Paper mode: elapsed hours at which to report V and A (comma-separated)")
      ->delimiter(',');
  command->add_option("--out", o.out, "Where to write analysis.json (default: DIR/analysis.json)");
  command->add_flag("--quiet", o.quiet, "Do not print the summary");
  return command;
}

int execute_analyze(const AnalyzeCommandOptions& o, std::FILE* stream) {
  namespace fs = std::filesystem;
  const fs::path dir(o.dir);
  analysis::AnalyzeOptions options;
  options.mode = o.mode == "paper" ? analysis::Mode::paper
                 : o.mode == "all" ? analysis::Mode::all
                                   : analysis::Mode::sound;
  const fs::path thresholds =
      !o.thresholds_file.empty() ? fs::path(o.thresholds_file) : dir / "study.toml";
  if (!o.thresholds_file.empty() || fs::exists(thresholds))
    options.thresholds = analysis::load_thresholds(thresholds);
  if (!o.milestone_hours.empty() && o.expected_hours <= 0)
    throw Error("--milestones needs --expected-hours (V and A are relative to an expectation)");
  options.variance = {o.expected_hours, o.milestone_hours};
  const bool terminal = isatty(STDERR_FILENO);
  options.on_run = [terminal](std::size_t index, std::size_t count, const fs::path& run) {
    if (count > 1 && terminal)
      fmt::print(stderr, "\ranalyze: run {}/{} {}\033[K", index + 1, count,
                 run.filename().string());
  };
  const auto report = analysis::analyze(dir, options);
  if (terminal) fmt::print(stderr, "\r\033[K");
  const fs::path out = o.out.empty() ? dir / "analysis.json" : fs::path(o.out);
  analysis::write_analysis(report, out);
  if (!o.quiet)
    for (const auto& line : report.summary)
      fmt::print(stream, "{}\n", line);
  fmt::print(stream, "analysis: {}\n", out.string());
  return 0;
}

}  // namespace nrmlab::cli
