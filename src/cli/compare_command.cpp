#include "cli/compare_command.hpp"

#include <fmt/format.h>

#include <cmath>
#include <exception>
#include <filesystem>

#include "analysis/run_comparison.hpp"
#include "util/error.hpp"

namespace nrmlab::cli {

CLI::App* add_compare_command(CLI::App& app, CompareCommandOptions& o) {
  CLI::App* command = app.add_subcommand(
      "compare",
      "Which code got slower from run A to run B of one program (before and after a change,\n"
      "or on two machines): per condition both ran, each function's self time per step and\n"
      "per unit of the program's work in A and in B, its share of the change of step time\n"
      "(95% interval) and a verdict: dearer (more time per unit of work), more work, cheaper,\n"
      "unchanged, or not identifiable (the program reports no work counter). Both runs need\n"
      "stack samples (nrmlab watch --profile 99 -- PROGRAM; on by default).\n"
      "Exit status: 0 nothing gated is dearer; 1 a function named by --function (or any, with\n"
      "--fail-on-dearer) is dearer beyond --threshold; 2 bad input (a missing run, a run\n"
      "without stack samples) or a gate that cannot be decided (a name no sampled function\n"
      "has, a slower function in a program that reports no work). Without --function or\n"
      "--fail-on-dearer nothing is gated: the status is 0 unless the input is bad.\n"
      "Examples:\n"
      "  nrmlab compare runs/before runs/after\n"
      "  nrmlab compare runs/before runs/after --function scan_history --function parse\n"
      "  nrmlab compare runs/laptop runs/server --fail-on-dearer --threshold 0.25 \\\n"
      "      --json compare.json");
  command->add_option("a", o.a, "Run A, the reference (a run directory holding telemetry.db)")
      ->required();
  command->add_option("b", o.b, "Run B, compared with A")->required();
  command
      ->add_option("--threshold", o.threshold,
                   "The change of a function's time per unit of work that is material: below it\n"
                   "the function is unchanged, above it (and beyond chance) dearer or cheaper")
      ->capture_default_str();
  // One NAME per --function, so that `--function f A B` does not take the runs as names.
  command
      ->add_option("--function", o.functions,
                   "Gate on the functions whose name contains NAME (repeatable): exit 1 when\n"
                   "one is dearer")
      ->type_name("NAME")
      ->allow_extra_args(false);
  command->add_flag("--fail-on-dearer", o.fail_on_dearer,
                    "Gate on every function: exit 1 when any is dearer");
  command
      ->add_option("--json", o.json,
                   "Also write the comparison as JSON (schema nrmlab.compare/1; comparisons\n"
                   "and growth as analysis.json's code.comparisons and code.growth)")
      ->type_name("FILE");
  return command;
}

namespace {

int compare(const CompareCommandOptions& o) {
  if (!(o.threshold > 0) || !std::isfinite(o.threshold))
    throw Error(
        fmt::format("--threshold {}: expected a positive fraction (0.10 = 10%)", o.threshold));
  analysis::RunComparisonOptions options;
  options.material = o.threshold;
  const analysis::RunComparison comparison = analysis::compare_runs(o.a, o.b, options);
  for (const std::string& line : analysis::comparison_lines(comparison, o.functions))
    fmt::print("{}\n", line);
  const analysis::GateResult gate =
      analysis::judge_gate(comparison, {o.functions, o.fail_on_dearer});
  for (const std::string& line : gate.lines)
    fmt::print("{}\n", line);
  if (!o.json.empty()) {
    analysis::write_run_comparison(comparison, o.json);
    fmt::print("comparison: {}\n", o.json);
  }
  switch (gate.outcome) {
    case analysis::GateOutcome::failed:
      return 1;
    case analysis::GateOutcome::undecided:
      return 2;
    default:
      return 0;
  }
}

}  // namespace

int execute_compare(const CompareCommandOptions& o) {
  // Status 1 means "dearer" here, so no failure may reach main's handler (which returns 1).
  try {
    return compare(o);
  } catch (const std::exception& error) {
    fmt::print(stderr, "nrmlab: error: {}\n", error.what());
    return 2;
  }
}

}  // namespace nrmlab::cli
