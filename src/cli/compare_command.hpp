// `nrmlab compare A B`: which code got slower from one run of a program to another
// (analysis/run_comparison.hpp), with an exit status a CI job can gate on.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace nrmlab::cli {

struct CompareCommandOptions {
  std::string a;
  std::string b;
  std::string json;  // --json FILE
  double threshold = 0.10;
  std::vector<std::string> functions;  // --function NAME (repeatable)
  bool fail_on_dearer = false;
};

CLI::App* add_compare_command(CLI::App& app, CompareCommandOptions& options);
// 0: nothing gated is dearer (or no gate asked); 1: a gated function is dearer; 2: bad input,
// or the gate could not be decided.
int execute_compare(const CompareCommandOptions& options);

}  // namespace nrmlab::cli
