// Verdict thresholds. They are pre-registered: a study file's [thresholds] table sets them
// before any data is seen; what is not set keeps the documented default below. Paper-mode
// defaults are the seed README's numbers (study.md section 3).
#pragma once

#include <filesystem>
#include <string>

namespace nrmlab::analysis {

struct Thresholds {
  // ---- sound mode
  double alpha = 0.05;  // significance level of every test
  // Error control: Holm's correction across every hypothesis test of a run (hypotheses x
  // conditions x indicators), so the run's family-wise false-support rate is at most alpha.
  bool holm = true;
  // A condition drifts when the HAC interval of its slope excludes 0 and step time changes
  // by at least this fraction of its median over the condition.
  double min_relative_drift = 0.10;
  // H5: the share of the drift that growing work at constant unit costs must explain.
  double min_explained_fraction = 0.5;
  // A unit cost drifts when it changes by at least this fraction over the condition.
  double min_unit_cost_change = 0.10;
  // Correlation evidence (H1, H2, H3, H4) counts only with |partial r| at least this.
  double min_partial_r = 0.2;
  // H1: contention needs the run to wait for a CPU (runnable, not running: run-queue delay)
  // for at least this share of its step time.
  double min_cpu_wait_share = 0.10;
  // H3: database work must take at least this share of step time to explain anything.
  double min_io_share = 0.02;
  // H2: an allocator ratio grows when it changes by at least this fraction.
  double min_ratio_growth = 0.05;
  // Observer effect: the lab's own share of wall time above which it is reported as an effect.
  double max_observer_share = 0.05;
  // Windows per condition for percentiles and unit costs.
  int windows = 20;
  // Functional equivalence with live inputs: TOST margin relative to the reference mean.
  double equivalence_margin = 0.05;
  // Interventions: confidence level of the intervals over replicates.
  double confidence = 0.95;

  // ---- paper mode (the seed README's values)
  double paper_alpha = 0.05;
  double paper_h2_r_squared = 0.5;
  double paper_h3_r_squared = 0.3;
  double paper_h5_r_squared = 0.3;
  double paper_tier1 = 0.7;
  double paper_tier2 = 0.3;
  double paper_speedup_low = 160.0;
  double paper_speedup_high = 190.0;
  double paper_speedup_partial = 100.0;
  double paper_variance_reduction = 0.5;
};

// Reads the [thresholds] table of a TOML study file over the defaults. Unknown keys, wrong
// types and out-of-range values are errors naming the file, line and accepted keys.
Thresholds load_thresholds(const std::filesystem::path& file);

}  // namespace nrmlab::analysis
