// `nrmlab watch [options] -- PROGRAM ARGS...` (or `--pid PID`): record any program into a
// run directory, then analyse it and write its report, as for a native run.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace nrmlab::cli {

struct WatchCommandOptions {
  std::string out;
  int pid = 0;
  std::string step_regex;
  std::int64_t hz = 10;
  std::int64_t window_ms = 1000;
  bool children = false;
  std::string profile = "99";  // --profile off|HZ
  std::int64_t profile_window_ms = 1000;
  std::string stdout_file;
  std::string stderr_file;
  bool no_analysis = false;
  bool quiet = false;
  std::vector<std::string> program;  // PROGRAM ARGS...
};

CLI::App* add_watch_command(CLI::App& app, WatchCommandOptions& options);
// The CLI11 check of a --profile value (telemetry::profile::parse_profile_rate): empty when
// it is good, else what is wrong. `validate-workload` uses it too.
std::string check_profile_option(const std::string& value);
int execute_watch(const WatchCommandOptions& options);

}  // namespace nrmlab::cli
