#include "cli/report_command.hpp"

#include <fmt/format.h>

#include "report/report.hpp"

namespace nrmlab::cli {

CLI::App* add_report_command(CLI::App& app, ReportCommandOptions& o) {
  CLI::App* command = app.add_subcommand(
      "report",
      "Draw the figures and write the report of an analysed run or study (run `nrmlab analyze`\n"
      "first; `nrmlab study` does both):\n"
      "  DIR/report.html   one self-contained page (no network needed): the verdict in plain\n"
      "                    words, where step time goes, drift, each hypothesis with its\n"
      "                    evidence, interventions, paper mode beside sound mode, provenance;\n"
      "                    interactive charts (drag to zoom, click a legend entry to hide it)\n"
      "  DIR/figures/      figures 1-4, S1 and S2 as 300 dpi PNG and SVG, each with the data\n"
      "                    and the gnuplot script that drew it (edit and run `gnuplot ID.gp`),\n"
      "                    a caption file with its provenance, and data/*.csv: every telemetry\n"
      "                    table of the featured run\n"
      "Figures 1, 2 and 4 show one run's steps: --run, or else the slowest complete run.\n"
      "Example: nrmlab report runs/attribution");
  command->add_option("dir", o.dir, "Run or study directory (holds analysis.json)")->required();
  command->add_option("--run", o.run, "The run figures 1, 2 and 4 show (a run id of the study)");
  command->add_flag("--no-figures", o.no_figures, "Write report.html only (no gnuplot figures)");
  command->add_flag("--quiet,-q", o.quiet, "Print only the report's path");
  return command;
}

int execute_report(const ReportCommandOptions& o, std::FILE* out) {
  report::ReportOptions options;
  options.featured_run = o.run;
  options.figures = !o.no_figures;
  const report::ReportOutcome outcome = report::write_report(o.dir, options);
  if (!o.quiet) {
    for (const std::string& line : outcome.verdict)
      fmt::print(out, "verdict  {}\n", line);
    if (!outcome.figures.empty())
      fmt::print(out, "figures: {} ({} files, featured run {})\n",
                 outcome.figures.front().parent_path().string(), outcome.figures.size(),
                 outcome.featured_run);
  }
  fmt::print(out, "report: {} ({:.0f} kB)\n", outcome.html.string(),
             static_cast<double>(outcome.html_bytes) / 1024.0);
  return 0;
}

}  // namespace nrmlab::cli
