// Sound mode (study.md section 4): where a run's time goes, whether each condition drifts,
// what the work x unit-cost model says, and the evidence for each hypothesis.
#pragma once

#include "analysis/analysis_result.hpp"
#include "analysis/run_data.hpp"
#include "analysis/thresholds.hpp"

namespace nrmlab::analysis {

// Sections partition wall time: sampling, window (deliberate sleeps), database, recorder,
// compute (the rest). CPU vs off-CPU is the orthogonal split.
TimeDecomposition decompose(const std::string& scope, const std::vector<const Columns*>& steps);

// Step time against step index within one condition. Conditions shorter than
// k_min_drift_steps get NaN statistics and direction "too short"; fixed time windows (a
// program that marked no steps: each "step" lasts the window, whatever the program did)
// get them too, with direction "no steps".
inline constexpr std::size_t k_min_drift_steps = 10;
Drift analyse_drift(const ConditionData& condition, StepSource source,
                    const Thresholds& thresholds);

// The work counters a cost model can use in a condition: the engine's work counters and a
// watched program's (work.<name>) that vary, are never absent, and are not a multiple of
// one already taken.
std::vector<std::string> work_counters(const Columns& steps);

// NNLS of wall time on the work counters that vary, whole condition and per window.
CostModel fit_cost_model(const ConditionData& condition, const Thresholds& thresholds);

// Every registered hypothesis in every condition (study.md 4.4), with the run's error
// control (Holm) applied across all of their tests.
std::vector<Hypothesis> assess_hypotheses(const RunData& run, const SoundAnalysis& sound,
                                          const Thresholds& thresholds);

SoundAnalysis analyse_sound(const RunData& run, const Thresholds& thresholds);

}  // namespace nrmlab::analysis
