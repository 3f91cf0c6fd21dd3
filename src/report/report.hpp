// `nrmlab report DIR`: DIR/report.html and DIR/figures/ for a run or a study that has been
// analysed (DIR/analysis.json).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace nrmlab::report {

struct ReportOptions {
  std::string featured_run;  // the run figures 1, 2 and 4 show (default: the slowest)
  bool figures = true;       // draw the static figures with gnuplot
};

struct ReportOutcome {
  std::filesystem::path html;
  std::size_t html_bytes = 0;
  std::vector<std::filesystem::path> figures;  // PNG and SVG files
  std::string featured_run;
  std::vector<std::string> verdict;  // the verdict in plain words
};

// Throws nrmlab::Error when the directory has no analysis or a figure cannot be drawn; the
// HTML is written before the static figures are drawn, so it survives a missing gnuplot.
ReportOutcome write_report(const std::filesystem::path& dir, const ReportOptions& options = {});

}  // namespace nrmlab::report
