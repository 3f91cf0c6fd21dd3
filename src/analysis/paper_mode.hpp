// Paper mode (study.md section 3): the seed README's Phase 1A tests, tiers and variance
// characterisation, exactly as specified -- including their weaknesses, which sound mode
// exists to fix. Phase 1B needs several runs and lives in study_analysis.
#pragma once

#include <vector>

#include "analysis/analysis_result.hpp"
#include "analysis/run_data.hpp"
#include "analysis/thresholds.hpp"

namespace nrmlab::analysis {

// The per-step records the paper's analysis reads, all conditions concatenated in run order.
struct PaperSeries {
  std::vector<double> runtime;         // s
  std::vector<double> cpu_percent;     // system-wide, latest side sample at or before the step
  std::vector<double> memory_percent;  // likewise
  std::vector<double> pattern_count;
  std::vector<double> db_size_mb;  // faithful databases and WALs, MiB (0 with persistence off)
  std::vector<double> cumulative_cycles;  // global step index
};
PaperSeries paper_series(const RunData& run);

struct VarianceOptions {
  double expected_hours = 0.0;  // E; 0 = not given (no variance characterisation)
  std::vector<double> milestone_hours;
};

PaperAnalysis analyse_paper(const RunData& run, const Thresholds& thresholds,
                            const VarianceOptions& variance);

// Tier of a score: "Tier 1" (>= tier1), "Tier 2" (>= tier2), "Tier 3", or "untestable" (NaN).
std::string paper_tier(double score, const Thresholds& thresholds);

}  // namespace nrmlab::analysis
