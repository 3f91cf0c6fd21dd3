// The verdict of one analysed run, named by one label so planted causes and verdicts can
// be tallied: "none" (no hypothesis supported), a hypothesis ("H1".."H5"), "off-CPU"
// (off-CPU time dominates and contention does not explain it: the run waits, as with the
// blocking sampler), several joined by "+", "dearer" (no hypothesis supported, yet the run
// drifts slower and growing work, H5, does not explain it: the same work costs more through
// no tested mechanism), "no steps" or "too few steps" (nothing supported, and the drift could
// not be judged: a watched program without markers, or a run too short for a trend), and for
// the thermal case "H4 <verdict>".
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "analysis/analysis_result.hpp"

namespace nrmlab::validate {

// Off-CPU time "dominates" a run at or above this share of its wall time.
inline constexpr double k_off_cpu_dominates = 0.5;

struct Verdict {
  std::string label;
  std::vector<std::string> supported;  // H1..H5 that the sound analysis supports
  double off_cpu_share = 0.0;
  std::string dominant;
  double relative_change = 0.0;  // the first condition's level ratio - 1 (validation runs have one)
  double cpu_wait_share = 0.0;   // the largest condition's run-queue share; NaN: not recorded
  std::string reason;            // the decisive hypothesis' reason, or the time split
};

// `thermal`: the case asks about H4 alone, so its verdict is part of the label.
Verdict read_verdict(const analysis::RunAnalysis& run, bool thermal);

// What the thermal case must conclude on the machine that recorded `run`: H4 cannot be
// tested without sensors; with them nothing planted may be found.
std::string expected_thermal_label(const analysis::RunAnalysis& run);

// Which code got slower (issue 19), as the validation cases and the calibration judge it: a
// planted dearer function must be named first in its condition's code.growth, "dearer", with
// at least this share of the step-time change.
inline constexpr double k_min_first_share = 0.8;

// The first code.growth entry of `condition` (its largest contribution), or null.
const analysis::CodeGrowth* first_growth(const analysis::CodeProfile& code,
                                         const std::string& condition);

// Whether `first` names `function` (a part of its name), dearer, with k_min_first_share.
bool names_dearer_first(const analysis::CodeGrowth* first, std::string_view function);

// The first summary line that makes one of `claims` (a claim is a phrase the line contains):
// the line, or empty. A case forbids claims its planted cause makes false.
std::string forbidden_claim(const std::vector<std::string>& claims,
                            const std::vector<std::string>& summary);

}  // namespace nrmlab::validate
