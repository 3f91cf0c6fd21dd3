// The hypotheses of sound mode (study.md 4.4), each declared once: its id and name, what it
// needs to be testable, its test, the figure panel that shows its evidence, the advice when
// it is supported, and whether it names a cause of slowdown (the validator's labels count
// only those). The analysis, the summary, the report and the validator all iterate this
// registry rather than naming hypotheses.
//
// To add a hypothesis: one file in src/analysis/hypotheses/ that defines a
// `const HypothesisSpec k_<name>_hypothesis`, plus one line in the list of
// hypothesis_registry.cpp (and the file in CMakeLists.txt). Only a validation case planted
// for one hypothesis (the thermal case: H4) names an id. The report draws its panel from
// the PanelSpec, so a hypothesis whose evidence is a telemetry column needs no report code.
#pragma once

#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/analysis_result.hpp"
#include "analysis/run_data.hpp"
#include "analysis/thresholds.hpp"

namespace nrmlab::analysis {

// What a hypothesis' test concluded in one condition (or, for a run-level hypothesis, the
// run). NaN where a number could not be computed.
struct Outcome {
  bool testable = false;
  bool supported = false;
  std::string reason;
  double effect = std::numeric_limits<double>::quiet_NaN();
  double ci_low = std::numeric_limits<double>::quiet_NaN();
  double ci_high = std::numeric_limits<double>::quiet_NaN();
  // The p of the test that decided "supported" (NaN when none did); the run's error control
  // adjusts it across every test of the run and withdraws support it no longer carries.
  double p = std::numeric_limits<double>::quiet_NaN();
  double adjusted_p = std::numeric_limits<double>::quiet_NaN();  // set by the error control
  // The data could test it but cannot tell it from a rival explanation in one run.
  bool identifiable = true;
  std::vector<Evidence> evidence;
};

// The run's error control (hypotheses.cpp): Holm's adjustment over every testable outcome
// of the run (outcomes[hypothesis][condition]); sets each adjusted_p and, when
// thresholds.holm, withdraws support whose adjusted p is not below alpha, saying why.
void control_family(std::vector<std::vector<Outcome>>& outcomes, const Thresholds& t);

// Everything a per-condition test may look at.
struct ConditionContext {
  const RunData& run;
  const ConditionData& condition;
  const Drift& drift;
  const CostModel& cost;
  const Attribution& attribution;  // the condition's change: more work vs the same work dearer
  const TimeDecomposition& time;   // the condition's own decomposition
  const Thresholds& thresholds;
};

// A run-level test sees the whole run's decomposition.
struct RunContext {
  const RunData& run;
  const TimeDecomposition& time;
  const Thresholds& thresholds;
};

// Where a hypothesis panel's series come from: declarative, so the report stage (which
// may not name hypotheses) draws any of them.
enum class PanelSource {
  step_column,     // `column` of the steps table (divided by `per_column` when set)
  memory_column,   // `column` of the memory table
  sensors,         // every sensor reading (CPU frequency, temperature)
  work_counters,   // the run's own work counters: the engine's, or a program's markers
  recorder_share,  // the recorder's share of each step's wall time
};

struct PanelSpec {
  PanelSource source = PanelSource::step_column;
  std::string_view column{};      // step_column, memory_column
  double scale = 1.0;             // multiplies the column
  std::string_view per_column{};  // step_column: divide by this column (row by row)
  std::string_view y_label{};
  std::string_view empty_reason{};  // when the run has no such data
};

struct HypothesisSpec {
  std::string_view id{};    // "H1", ...: the key in analysis.json
  std::string_view name{};  // "system resource contention"
  std::string_view effect_label{};
  std::string_view needs{};  // what the data must hold for it to be testable
  // Judged in each condition (never across a boundary, where the work changes by design),
  // or once for the whole run. Exactly one is set.
  Outcome (*condition_test)(const ConditionContext&) = nullptr;
  Outcome (*run_test)(const RunContext&) = nullptr;
  // Untestable ("too few steps") in a condition too short to fit a trend.
  bool needs_trend = true;
  PanelSpec panel{};
  std::string_view engine_advice{};   // when supported in a run of the NRM engine
  std::string_view program_advice{};  // when supported in a watched program
  // When one run cannot identify it: the experiment that would decide.
  std::string_view engine_experiment{};
  std::string_view program_experiment{};
  bool names_cause = true;  // a cause of slowdown (the validator's labels)
  // Supported, it accounts for off-CPU time (preemption is time off the CPU), so the
  // validator does not also call the run "off-CPU".
  bool explains_off_cpu = false;
};

// In the order of analysis.json and the summary.
const std::vector<const HypothesisSpec*>& hypothesis_registry();
// nullptr for an id no registered hypothesis has (an analysis.json from another version).
const HypothesisSpec* find_hypothesis(std::string_view id);

}  // namespace nrmlab::analysis
