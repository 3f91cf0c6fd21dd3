// `nrmlab report DIR`: the figures and the self-contained HTML report of an analysed run or
// study.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

namespace nrmlab::cli {

struct ReportCommandOptions {
  std::string dir;
  std::string run;  // the featured run
  bool no_figures = false;
  bool quiet = false;
};

CLI::App* add_report_command(CLI::App& app, ReportCommandOptions& options);
// Prints the verdict, the figures' and the report's paths on `out` (`watch`: stderr).
int execute_report(const ReportCommandOptions& options, std::FILE* out = stdout);

}  // namespace nrmlab::cli
