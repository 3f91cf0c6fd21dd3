#include "analysis/run_comparison.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "analysis/code_growth.hpp"
#include "analysis/code_profile.hpp"
#include "analysis/sound_mode.hpp"
#include "analysis/telemetry_reader.hpp"
#include "util/atomic_file.hpp"
#include "util/error.hpp"

namespace nrmlab::analysis {
namespace {

using telemetry::profile::ProfileData;

// The runs were read, so the only thing left that can make them incomparable is a profile
// without samples: say which run, why, and how to record one.
void require_compare_samples(const char* which, const RunData& run, const ProfileData& profile) {
  if (profile.sampled() && !profile.counts.empty() && profile.window_ns > 0) return;
  std::string message = fmt::format(
      "run {} ({}): no stack samples to compare (profile status: {}{})", which, run.dir.string(),
      profile.status, profile.sampled() ? ", but no time was counted" : "");
  message += profile.enable_hint.empty()
                 ? "; record both runs with stack sampling on, e.g. nrmlab watch --profile 99 -- "
                   "PROGRAM (or nrmlab run --profile 99)"
                 : "; to enable sampling: " + profile.enable_hint;
  throw Error(message);
}

const ConditionData* same_named_condition(const RunData& run, const std::string& name) {
  for (const ConditionData& condition : run.conditions)
    if (condition.name == name) return &condition;
  return nullptr;
}

std::string compare_condition_list(const RunData& run) {
  std::string names;
  for (const ConditionData& condition : run.conditions)
    names += (names.empty() ? "" : ", ") + condition.name;
  return names;
}

// A's dominant work counter, when B reports it too: time per unit must be of the same unit.
std::string shared_work_counter(const ConditionData& a, const ConditionData& b,
                                const RunComparisonOptions& options, RunComparison& out) {
  Thresholds thresholds;
  thresholds.confidence = options.confidence;
  const CostModel cost = fit_cost_model(a, thresholds);
  const std::string counter = dominant_work_counter(a, &cost);
  if (counter.empty() || b.steps.has(counter)) return counter;
  out.notes.push_back(
      fmt::format("{}: run A's work counter {} is not in run B, so time per unit "
                  "of work cannot be compared",
                  a.name, counter));
  return "";
}

bool has_compare_step_times(const ConditionData& condition) {
  return condition.steps.rows() > 0 && condition.steps.has("t_ns") &&
         condition.steps.has("wall_ns");
}

void compare_condition(const ConditionData& a, const ProfileData& profile_a, const ConditionData& b,
                       const ProfileData& profile_b, const RunComparisonOptions& options,
                       RunComparison& out) {
  CodeComparison comparison;
  comparison.condition = a.name;
  comparison.segments = "runs";
  comparison.work_counter = shared_work_counter(a, b, options, out);
  if (comparison.work_counter.empty())
    comparison.experiment =
        "report a work counter with each step in both runs (a key=value in the step marker, "
        "e.g. work.items=N; nrmlab watch --help), so that time per unit of work can be compared";
  if (!has_compare_step_times(a) || !has_compare_step_times(b)) {
    comparison.status = "too short";
    out.comparisons.push_back(std::move(comparison));
    return;
  }
  GrowthOptions growth;
  growth.confidence = options.confidence;
  growth.material = options.material;
  growth.entries = std::numeric_limits<std::size_t>::max();  // every function is judged
  const GrowthSide side_a =
      growth_side(a, 0, a.steps.rows() - 1, profile_a.window_ns, comparison.work_counter, out.a);
  const GrowthSide side_b =
      growth_side(b, 0, b.steps.rows() - 1, profile_b.window_ns, comparison.work_counter, out.b);
  for (CodeGrowth& g : compare_code(profile_a, side_a, profile_b, side_b, growth, comparison))
    out.growth.push_back(std::move(g));
  out.comparisons.push_back(std::move(comparison));
}

RunData read_labelled(const std::filesystem::path& dir, const char* which) {
  try {
    return read_run(dir);
  } catch (const Error& error) {
    throw Error(fmt::format("run {}: {}", which, error.what()));
  }
}

}  // namespace

RunComparison compare_runs(const RunData& a, const ProfileData& profile_a, const RunData& b,
                           const ProfileData& profile_b, const RunComparisonOptions& options) {
  require_compare_samples("A", a, profile_a);
  require_compare_samples("B", b, profile_b);
  RunComparison out;
  out.a = a.dir.string();
  out.b = b.dir.string();
  out.material = options.material;
  out.confidence = options.confidence;
  for (const ConditionData& condition : a.conditions) {
    if (const ConditionData* other = same_named_condition(b, condition.name))
      compare_condition(condition, profile_a, *other, profile_b, options, out);
    else
      out.notes.push_back(fmt::format("{}: only run A ran it", condition.name));
  }
  for (const ConditionData& condition : b.conditions)
    if (same_named_condition(a, condition.name) == nullptr)
      out.notes.push_back(fmt::format("{}: only run B ran it", condition.name));
  if (out.comparisons.empty())
    throw Error(fmt::format("runs {} and {} share no condition (A ran {}; B ran {})", out.a, out.b,
                            compare_condition_list(a), compare_condition_list(b)));
  return out;
}

RunComparison compare_runs(const std::filesystem::path& a, const std::filesystem::path& b,
                           const RunComparisonOptions& options) {
  const RunData run_a = read_labelled(a, "A");
  const RunData run_b = read_labelled(b, "B");
  const ProfileData profile_a = telemetry::profile::read_profile(a / "telemetry.db");
  const ProfileData profile_b = telemetry::profile::read_profile(b / "telemetry.db");
  return compare_runs(run_a, profile_a, run_b, profile_b, options);
}

namespace {

std::string compare_ms(double seconds) {
  return std::isfinite(seconds) ? fmt::format("{:.3g}", seconds * 1e3) : "-";
}

std::string compare_percent(double share) {
  return std::isfinite(share) ? fmt::format("{:+.0f}%", share * 100) : "-";
}

std::string compare_times(double ratio) {
  if (std::isinf(ratio)) return "new";
  return std::isfinite(ratio) ? fmt::format("x{:.3g}", ratio) : "-";
}

std::string compare_interval(double low, double high, std::string (*format)(double)) {
  if (!std::isfinite(low) || !std::isfinite(high)) return "";
  return fmt::format(" [{}, {}]", format(low), format(high));
}

bool matches_any_name(const std::string& function, const std::vector<std::string>& named) {
  return std::any_of(named.begin(), named.end(), [&](const std::string& name) {
    return function.find(name) != std::string::npos;
  });
}

std::string comparison_header(const RunComparison& run, const CodeComparison& c) {
  if (c.status != "compared")
    return fmt::format("{}  {} -> {}: not compared: {}", c.condition, run.a, run.b, c.status);
  const std::string work = c.work_counter.empty()
                               ? std::string("no work counter")
                               : fmt::format("{} {:.4g} -> {:.4g} per step", c.work_counter,
                                             c.work_per_step_early, c.work_per_step_late);
  return fmt::format(
      "{}  {} -> {}: {} -> {} ms per step ({}); {}; {:.0f} and {:.0f} steps", c.condition, run.a,
      run.b, fmt::format("{:.3g}", c.step_ms_early), fmt::format("{:.3g}", c.step_ms_late),
      compare_times(c.step_ms_late / c.step_ms_early), work, c.early_steps, c.late_steps);
}

std::string comparison_row(const CodeGrowth& g) {
  std::string name = short_function(g.function);
  if (name.size() > 32) name = name.substr(0, 29) + "...";
  const std::string share =
      compare_percent(g.share_of_change) +
      (g.interval.size() == 2 ? compare_interval(g.interval[0], g.interval[1], compare_percent)
                              : "");
  const std::string ratio =
      compare_times(g.per_unit_ratio) +
      compare_interval(g.per_unit_ratio_ci_low, g.per_unit_ratio_ci_high, compare_times);
  const std::string per_step =
      fmt::format("{} -> {}", compare_ms(g.self_per_step_early), compare_ms(g.self_per_step_late));
  return fmt::format("  {:<32} {:<10} {:<19} {:<22} {:<24} {}", name, g.wait_class, per_step, share,
                     ratio, to_string(g.change));
}

}  // namespace

std::vector<std::string> comparison_lines(const RunComparison& run,
                                          const std::vector<std::string>& named, std::size_t rows) {
  std::vector<std::string> lines;
  for (const CodeComparison& c : run.comparisons) {
    lines.push_back(comparison_header(run, c));
    if (c.status != "compared") continue;
    if (!c.experiment.empty()) lines.push_back("  note: " + c.experiment);
    const std::string level = fmt::format("[{:g}%]", 100 * run.confidence);
    lines.push_back(fmt::format(
        "  {:<32} {:<10} {:<19} {:<22} {:<24} {}", "function", "wait", "self ms/step A -> B",
        "share of change " + level,
        (c.work_counter.empty() ? "B/A per step " : "B/A per unit ") + level, "verdict"));
    std::size_t shown = 0;
    for (const CodeGrowth& g : run.growth) {
      if (g.condition != c.condition) continue;
      if (shown < rows || matches_any_name(g.function, named)) lines.push_back(comparison_row(g));
      ++shown;
    }
    if (shown > rows)
      lines.push_back(
          fmt::format("  ... {} more functions (--json FILE lists every one)", shown - rows));
  }
  CodeProfile code;
  code.comparisons = run.comparisons;
  code.growth = run.growth;
  // Between two runs, "slower" is B's step time above A's (or not known: then the line says
  // why the condition could not be compared).
  std::vector<std::string> slower;
  for (const CodeComparison& c : run.comparisons)
    if (!(c.step_ms_late <= c.step_ms_early)) slower.push_back(c.condition);
  const std::string growth = growth_line(code, slower);
  lines.push_back("growth   " + (growth.empty() ? std::string("no condition is slower per step "
                                                              "in B than in A: no slowdown to "
                                                              "explain")
                                                : growth));
  for (const std::string& note : run.notes)
    lines.push_back("note     " + note);
  return lines;
}

namespace {

struct CompareGateState {
  const RunComparison& run;
  GateResult result;
  bool failed = false;
  bool undecided = false;

  void judge(const CodeGrowth& g) {
    const std::string who =
        fmt::format("{} ({}, {})", short_function(g.function), g.condition, g.wait_class);
    const std::string ratio =
        compare_times(g.per_unit_ratio) +
        compare_interval(g.per_unit_ratio_ci_low, g.per_unit_ratio_ci_high, compare_times);
    if (g.change == CodeChange::dearer) {
      failed = true;
      result.lines.push_back(
          fmt::format("gate     {}: dearer, time per unit of work {} beyond the threshold {}: FAIL",
                      who, ratio, compare_times(1 + run.material)));
    } else if (g.change == CodeChange::not_identifiable && g.per_unit_ratio > 1) {
      undecided = true;
      result.lines.push_back(fmt::format(
          "gate     {}: time per step {}, but the runs report no work counter, so dearer work "
          "cannot be told from more work: UNDECIDED",
          who, ratio));
    } else {
      result.lines.push_back(
          fmt::format("gate     {}: {}, time per unit {}: pass", who, to_string(g.change), ratio));
    }
  }
};

}  // namespace

GateResult judge_gate(const RunComparison& run, const ComparisonGate& gate) {
  if (gate.functions.empty() && !gate.any_function) return {};
  CompareGateState state{run, {}};
  const bool compared = std::any_of(run.comparisons.begin(), run.comparisons.end(),
                                    [](const CodeComparison& c) { return c.status == "compared"; });
  if (!compared) {
    state.undecided = true;
    state.result.lines.push_back("gate     no condition could be compared: nothing to judge");
  }
  for (const std::string& name : gate.functions) {
    bool matched = false;
    for (const CodeGrowth& g : run.growth)
      if (g.function.find(name) != std::string::npos) {
        matched = true;
        state.judge(g);
      }
    if (!matched && compared) {
      state.undecided = true;
      state.result.lines.push_back(
          fmt::format("gate     --function {}: no function sampled in A or B has it in its name: "
                      "UNDECIDED (nrmlab export RUN --format folded lists the sampled functions)",
                      name));
    }
  }
  if (gate.any_function) {
    for (const CodeGrowth& g : run.growth)
      if (g.change == CodeChange::dearer && !matches_any_name(g.function, gate.functions))
        state.judge(g);
    if (!state.failed && compared)
      state.result.lines.push_back("gate     --fail-on-dearer: no function is dearer: pass");
  }
  state.result.outcome = state.failed      ? GateOutcome::failed
                         : state.undecided ? GateOutcome::undecided
                                           : GateOutcome::passed;
  return state.result;
}

nlohmann::ordered_json to_json(const RunComparison& run) {
  nlohmann::ordered_json comparisons = nlohmann::ordered_json::array();
  for (const CodeComparison& c : run.comparisons)
    comparisons.push_back(to_json(c));
  nlohmann::ordered_json growth = nlohmann::ordered_json::array();
  for (const CodeGrowth& g : run.growth)
    growth.push_back(to_json(g));
  return {{"schema", k_compare_schema},
          {"a", run.a},
          {"b", run.b},
          {"threshold", run.material},
          {"confidence", run.confidence},
          {"comparisons", comparisons},
          {"growth", growth},
          {"notes", run.notes}};
}

void write_run_comparison(const RunComparison& run, const std::filesystem::path& path) {
  // Symbol names are bytes, not always UTF-8: replace what JSON cannot hold.
  write_file_atomically(
      path,
      to_json(run).dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n");
}

}  // namespace nrmlab::analysis
