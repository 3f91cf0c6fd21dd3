#include "report/report.hpp"

#include "report/figures.hpp"
#include "report/gnuplot.hpp"
#include "report/html.hpp"
#include "report/report_input.hpp"
#include "telemetry/export.hpp"
#include "util/atomic_file.hpp"

namespace nrmlab::report {

ReportOutcome write_report(const std::filesystem::path& dir, const ReportOptions& options) {
  const ReportInput input = load_report_input(dir, options.featured_run);
  const std::vector<Figure> figures = build_figures(input);
  const std::filesystem::path figures_dir = dir / "figures";
  std::filesystem::create_directories(figures_dir);
  // The full per-step data behind the thinned charts, one click from the page.
  telemetry::export_telemetry(input.runs[input.featured].dir / "telemetry.db", figures_dir / "data",
                              telemetry::ExportFormat::csv);

  ReportOutcome outcome;
  outcome.featured_run = input.runs[input.featured].id;
  outcome.verdict = plain_verdict(input);
  const std::string page = render_html(input, figures);
  outcome.html = dir / "report.html";
  outcome.html_bytes = page.size();
  write_file_atomically(outcome.html, page);
  if (options.figures)
    for (const Figure& figure : figures) {
      const FigureFiles files = write_figure(figure, figures_dir);
      outcome.figures.push_back(files.png);
      outcome.figures.push_back(files.svg);
    }
  return outcome;
}

}  // namespace nrmlab::report
