// The terminal summary: what a person needs in ten seconds -- what dominates step time,
// whether the run drifts, which hypotheses the evidence supports and how strongly, and what
// to change. Plain lines, no colour, so it also reads well in a log or a report.
#pragma once

#include <string>
#include <vector>

#include "analysis/analysis_result.hpp"

namespace nrmlab::analysis {

std::vector<std::string> summarise(const AnalysisReport& report);

// A time section in words ("database work"). `foreign`: a watched program, whose
// uninstrumented time is all of its own work (on or off the CPU), not the model's.
std::string section_label(const std::string& section, bool foreign);

// The late level against the early one, as a user reads it: "x1.39" (an analysis.json
// written before the ratio existed: from the HAC slope's relative change).
double level_ratio(const Drift& drift);
std::string format_ratio(double ratio);  // "x1.39", "x0.14", "n/a"
// One condition's drift in words: "slower x1.39 over the condition", "level shift at step
// 812: x1.40", "stable", "too short to tell".
std::string describe_drift(const Drift& drift);

}  // namespace nrmlab::analysis
