// `nrmlab compare A B` (issue 19): the differential profile of code_growth.hpp between two
// runs of one program -- before and after a change, or on two machines -- rather than two
// segments of one run. Per condition both runs ran (matched by name), side A is every step of
// it in run A and side B every step in run B, each over its own run's profile windows; the
// work counter is A's dominant one when B reports it too.
//
// Unlike `analyze`, every sampled function is judged, not only the largest contributions:
// a function named for a CI gate must be decided even when its share of the change is small.
// Holm's adjustment then runs over all of them (a little more conservative).
//
// The gate (`--function`, `--fail-on-dearer`) fails only on "dearer": more time per unit of
// work than the threshold allows, with the adjusted p below 1 - confidence. A named function
// that is slower per step in a program that reports no work cannot be judged ("not
// identifiable"), and neither can a name that matches no sampled function: both leave the
// gate undecided, so that a CI job does not pass on a typo or a missing counter.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analysis/analysis_result.hpp"
#include "analysis/run_data.hpp"
#include "telemetry/profile/profile_data.hpp"

namespace nrmlab::analysis {

inline constexpr const char* k_compare_schema = "nrmlab.compare/1";

struct RunComparisonOptions {
  double material = 0.10;  // the change of time per unit of work below which "unchanged"
  double confidence = 0.95;
};

struct RunComparison {
  std::string a;  // the run directories, as given
  std::string b;
  double material = 0.10;
  double confidence = 0.95;                 // of every interval
  std::vector<CodeComparison> comparisons;  // one per condition both runs ran, in A's order
  // Per comparison, every function sampled on either side, largest contribution to the
  // change of step time first.
  std::vector<CodeGrowth> growth;
  std::vector<std::string> notes;  // conditions only one run ran
};

// The comparison of runs already read. Throws nrmlab::Error naming the run when its profile
// holds no samples (its status, and how to record them) or the runs share no condition.
RunComparison compare_runs(const RunData& a, const telemetry::profile::ProfileData& profile_a,
                           const RunData& b, const telemetry::profile::ProfileData& profile_b,
                           const RunComparisonOptions& options);

// Reads runs `a` and `b` (telemetry.db each) and compares them; errors as above, and when a
// directory or its telemetry.db is missing.
RunComparison compare_runs(const std::filesystem::path& a, const std::filesystem::path& b,
                           const RunComparisonOptions& options);

// The terminal table: per comparison the step times and work, the `rows` largest
// contributions and any function `named` matches (substrings), then the growth line.
std::vector<std::string> comparison_lines(const RunComparison& comparison,
                                          const std::vector<std::string>& named,
                                          std::size_t rows = CodeProfile::k_code_entries);

struct ComparisonGate {
  std::vector<std::string> functions;  // substrings of function names (--function)
  bool any_function = false;           // every function is gated (--fail-on-dearer)
};

enum class GateOutcome { not_asked, passed, failed, undecided };

struct GateResult {
  GateOutcome outcome = GateOutcome::not_asked;
  std::vector<std::string> lines;  // one per function judged, and why undecided
};

// failed when a gated function is dearer; else undecided when a name matches no sampled
// function, a gated function is slower per step but not identifiable, or no condition could
// be compared; else passed.
GateResult judge_gate(const RunComparison& comparison, const ComparisonGate& gate);

// {"schema", "a", "b", "threshold", "comparisons", "growth", "notes"}: comparisons and
// growth as analysis.json's code.comparisons and code.growth.
nlohmann::ordered_json to_json(const RunComparison& comparison);
void write_run_comparison(const RunComparison& comparison, const std::filesystem::path& path);

}  // namespace nrmlab::analysis
