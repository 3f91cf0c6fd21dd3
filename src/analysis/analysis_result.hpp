// analysis.json (schema nrmlab.analysis/1). These structs are the schema: to_json writes
// every field under its member's name (minus the m_ prefix they do not have), in
// declaration order. Numbers that could not be computed are NaN and appear as null.
// ARCHITECTURE.md documents the meaning of each field.
#pragma once

#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analysis/thresholds.hpp"
#include "analysis/verdict.hpp"

namespace nrmlab::analysis {

inline constexpr const char* k_analysis_schema = "nrmlab.analysis/1";
// The default of fields added after the schema's first version: an analysis.json written
// before them reads as "not computed", never as a made-up 0.
inline constexpr double k_not_recorded = std::numeric_limits<double>::quiet_NaN();

// ---- sound mode: where the time goes -------------------------------------------------

struct SectionShare {
  std::string section;  // sampling | window | database | recorder | compute | off_cpu_other
  double seconds = 0.0;
  double share = 0.0;  // of wall time
};

struct TimeDecomposition {
  std::string scope;  // "run" or a condition name
  std::size_t steps = 0;
  double wall_seconds = 0.0;
  double cpu_seconds = 0.0;
  double cpu_share = 0.0;
  double off_cpu_share = 0.0;  // 1 - CPU/wall
  // Off-CPU time outside the deliberate sample windows: waiting the run did not ask for
  // (I/O, preemption by other processes).
  double off_cpu_unexplained_share = 0.0;
  double recorder_share = 0.0;  // the lab's own telemetry (observer effect)
  // Runnable but waiting for a CPU (run-queue delay), as a share of the wall time of the
  // steps its readings cover: the largest condition's for the run. NaN when not recorded.
  double cpu_wait_share = k_not_recorded;
  std::vector<SectionShare> sections;  // largest first
  std::string dominant;                // the section with the largest share
};

struct WindowPercentiles {
  std::int64_t first_step = 0;
  std::int64_t last_step = 0;
  double mean_ms = 0.0;
  double p50_ms = 0.0;
  double p95_ms = 0.0;
  double p99_ms = 0.0;
  // The time decomposition over the window: CPU share, the lab's own share, and the
  // section that took most of the wall time.
  double cpu_share = 0.0;
  double recorder_share = 0.0;
  std::string dominant;
  double dominant_share = 0.0;
};

struct Drift {
  std::string condition;
  std::size_t steps = 0;
  double median_step_ms = 0.0;
  // OLS slope of step time on step index with Newey-West (HAC) interval.
  double hac_slope_ns_per_step = 0.0;
  double hac_ci_low = 0.0;
  double hac_ci_high = 0.0;
  double hac_p = 0.0;
  std::size_t hac_lag = 0;
  // Theil-Sen slope (on block medians when the condition is long) and its interval.
  double theil_sen_slope_ns_per_step = 0.0;
  double theil_sen_ci_low = 0.0;
  double theil_sen_ci_high = 0.0;
  std::size_t theil_sen_points = 0;
  double mann_kendall_z = 0.0;
  double mann_kendall_p = 0.0;
  double mann_kendall_tau = 0.0;
  // Growth of step time over the condition implied by the HAC slope, relative to its median.
  double relative_change = 0.0;
  // The level of the last quarter of the steps against the first (x1.39; always positive,
  // unlike relative_change, which a steep fall takes below -100%).
  double ratio = k_not_recorded;
  // A level shift (direction "level shift"): the step where the level changes, and the mean
  // after it against the mean before. -1 and NaN when there is none.
  std::int64_t shift_step = -1;
  double shift_ratio = k_not_recorded;
  // The p of the drift decision (twice the smaller of the Mann-Kendall and HAC p's), for the
  // run's error control.
  double p = k_not_recorded;
  std::vector<std::int64_t> change_points;  // steps where the mean level shifts (PELT)
  std::vector<double> segment_means_ms;
  bool drifts = false;
  DriftDirection direction = DriftDirection::stable;
  std::vector<WindowPercentiles> windows;
};

struct UnitCost {
  std::string counter;                  // a work counter, or "per_step" for the constant term
  double unit_cost_ns = 0.0;            // whole-condition NNLS coefficient
  double share = 0.0;                   // of the fitted step time
  std::vector<double> window_costs_ns;  // the NNLS coefficient in each window
  double relative_change = 0.0;         // Theil-Sen change over the windows, relative to the first
  double trend_p = 0.0;                 // Mann-Kendall over the windows
  bool drifts = false;
  double count_relative_change = 0.0;  // growth of the counter itself over the condition
};

struct CostModel {
  std::string condition;
  double r_squared = 0.0;
  std::vector<UnitCost> terms;  // counters that vary (others are folded into per_step)
  // Drift of step time split in two: what growing work at constant unit costs explains,
  // and what is left (efficiency loss: unit costs rising).
  double actual_slope_ns_per_step = 0.0;
  double work_slope_ns_per_step = 0.0;
  double explained_fraction = 0.0;
};

// One part of a change in a section's mean time per step (ms, late segment minus early), its
// bootstrap interval, and the p of "this part is zero" (normal approximation with the
// bootstrap's standard error: the run's error control needs p-values smaller than a
// bootstrap's resolution).
struct ChangePart {
  double ms = 0.0;
  double ci_low = 0.0;
  double ci_high = 0.0;
  double p = 0.0;
};

struct SectionChange {
  std::string
      section;  // "step" (all of it), compute, database, sampling, window, recorder, cpu_wait
  double early_ms = 0.0;  // mean time per step in the early segment
  double late_ms = 0.0;
  ChangePart change;     // late - early = more_work + dearer
  ChangePart more_work;  // the change in work at the unit costs of the two segments together
  ChangePart dearer;     // the rest: the same work costing more (per-step constant included)
};

// The slowdown attribution of one condition (src/analysis/attribution.hpp).
struct Attribution {
  std::string condition;
  std::string segments;  // "quarters", "halves" (under 40 steps), "change point", "too short"
  std::int64_t early_first_step = 0;
  std::int64_t early_last_step = 0;
  std::int64_t late_first_step = 0;
  std::int64_t late_last_step = 0;
  double ratio = 0.0;  // late / early mean step time (x1.39)
  double ratio_ci_low = 0.0;
  double ratio_ci_high = 0.0;
  double work_share = 0.0;  // the share of the step-time change that more work accounts for
  double work_share_ci_low = 0.0;
  double work_share_ci_high = 0.0;
  std::vector<std::string> counters;  // the work counters with a unit cost
  // Counters whose work changed between the segments but varies too little step to step to
  // be priced (attribution.hpp): their cost cannot be told from a unit cost that changes
  // over the same steps.
  std::vector<std::string> unidentified;
  std::vector<SectionChange> sections;  // "step" first
  // When the condition's drift is a change that came in steps (a segmentation with at most
  // 3 change points): one per change point, in step order, the steps since the previous
  // change point (or the start) against those up to the next (or the end), split the same
  // way (intervals from 99 replicates); their own change_points are empty.
  std::vector<Attribution> change_points;
};

struct Evidence {
  std::string what;  // e.g. "partial Spearman(involuntary switches, step time | step, agents)"
  double value = 0.0;
  double p = 0.0;  // NaN when the item is a measurement, not a test
  std::string note;
};

struct Hypothesis {
  std::string id;    // H1..H5, observer
  std::string name;  // "contention", ...
  Verdict verdict = Verdict::not_testable;
  std::string reason;        // one sentence: why this verdict
  std::string effect_label;  // what effect_size measures
  double effect_size = 0.0;
  double ci_low = 0.0;
  double ci_high = 0.0;
  // The deciding test's p, and that p adjusted for the run's family of tests (Holm across
  // hypotheses x conditions x indicators); NaN when no test decided.
  double p = k_not_recorded;
  double adjusted_p = k_not_recorded;
  // "not identifiable": the experiment that would decide (a study factor, the allocator...).
  std::string experiment;
  std::vector<Evidence> evidence;
};

// What the forecast of a condition's total time (forecast.hpp) would have said part-way
// through it, beside the rate-based figure and what the condition really took.
struct ForecastBacktest {
  std::string condition;
  double at_fraction = 0.0;  // of the condition's steps done when forecasting
  std::size_t steps_done = 0;
  std::string model;  // the trend fitted (constant | linear | quadratic); "" when none
  double predicted_total_s = k_not_recorded;
  double linear_eta_total_s = k_not_recorded;  // done + their mean rate x the steps to come
  double actual_total_s = 0.0;
  double predicted_error = k_not_recorded;  // (predicted - actual) / actual
  double linear_eta_error = k_not_recorded;
};

struct Prediction {
  std::vector<ForecastBacktest> backtest;  // per condition, at 10%, 25% and 50%
};

struct SoundAnalysis {
  TimeDecomposition run;
  std::vector<TimeDecomposition> conditions;
  std::vector<Drift> drift;
  std::vector<CostModel> cost_models;
  std::vector<Attribution> attribution;  // per condition, the change split into work and cost
  std::vector<Hypothesis> hypotheses;
  Prediction prediction;  // added 2026-12-07: absent from older analysis.json
};

// ---- paper mode (study.md section 3) -------------------------------------------------

struct PaperHypothesis {
  std::string id;
  std::string test;                   // the statistic, as the paper specifies it
  std::string rule;                   // the paper's "significant" rule with its thresholds
  nlohmann::ordered_json statistics;  // rho/p or R^2/coefficients, as the test produces
  double score = 0.0;                 // NaN = untestable
  bool testable = true;
  bool significant = false;
  std::string tier;     // "Tier 1" | "Tier 2" | "Tier 3" | "untestable"
  std::string verdict;  // "SIGNIFICANT" | "NOT SIGNIFICANT" | "UNTESTABLE"
  std::string interpretation;
};

struct VarianceCharacterisation {
  double expected_hours = 0.0;
  double observed_hours = 0.0;
  double variance_percent = 0.0;               // V = (T - E) / E x 100
  double acceleration_percent_per_hour = 0.0;  // A = V / E
  std::vector<nlohmann::ordered_json> milestones;
  std::string note;
};

struct PaperAnalysis {
  std::size_t steps = 0;
  std::vector<PaperHypothesis> phase_1a;
  std::string tier_ranking;
  bool has_variance = false;
  VarianceCharacterisation variance;
};

// ---- study level ---------------------------------------------------------------------

struct LevelEffect {
  std::string level;
  std::size_t runs = 0;
  double mean_step_ms = 0.0;
  double mean_step_delta_ms = 0.0;  // against the baseline level
  double mean_step_ci_low = 0.0;
  double mean_step_ci_high = 0.0;
  double ratio = 0.0;  // mean step time relative to the baseline level
  double drift = 0.0;  // mean relative change of step time over a condition
  double drift_delta = 0.0;
  double drift_ci_low = 0.0;
  double drift_ci_high = 0.0;
};

struct FactorEffect {
  std::string factor;
  // Configuration fields that varied in lockstep with this one (a preset's overheads): the
  // design cannot separate them, so their effect is this factor's.
  std::vector<std::string> aliases;
  std::string baseline;
  std::vector<LevelEffect> levels;
};

struct Interaction {
  std::string factor_a;
  std::string factor_b;
  double mean_step_interaction_ms = 0.0;  // (b1a1 - b0a1) - (b1a0 - b0a0)
  double ci_low = 0.0;
  double ci_high = 0.0;
};

struct EquivalenceCheck {
  std::string reference_run;
  std::string run;
  std::string method;  // "exact" (same inputs) or "TOST" (live inputs)
  bool equivalent = false;
  std::string detail;
};

struct Phase1B {
  std::string unoptimized_run;
  std::vector<std::string> optimized_runs;
  double speedup = 0.0;
  std::string speedup_band;  // "within prediction" | "exceeds" | "partial" | "not primary"
  bool speedup_confirmed = false;
  double cv_unoptimized = 0.0;
  double cv_optimized = 0.0;
  double acceleration_unoptimized = 0.0;
  double acceleration_optimized = 0.0;
  double cv_reduction = 0.0;
  double acceleration_reduction = 0.0;
  bool variance_reduced = false;
  bool functionally_equivalent = false;
  std::vector<EquivalenceCheck> equivalence;
  std::string verdict;  // strong | moderate | weak | rejected
  // Where the paper's rules mislead on these data (study_analysis.cpp, phase_1b_caveats).
  std::vector<std::string> caveats;
};

struct StudyAnalysis {
  std::size_t runs = 0;
  std::vector<FactorEffect> interventions;
  std::vector<Interaction> interactions;
  std::vector<EquivalenceCheck> equivalence;
  bool has_phase_1b = false;
  Phase1B phase_1b;
  std::vector<Hypothesis> hypotheses;  // study-level verdicts (interventions decide)
};

// ---- code: where the time goes, by function (stack sampling, issue 18) ----------------

// Time sampled in one place of the code, waiting (or running) one way.
struct CodeTime {
  // The innermost named frame of the program's stacks: where the time was spent on the CPU,
  // or the call the thread was blocked in ("clock_nanosleep", "fdatasync").
  std::string function;
  std::string module;      // its file ("libc.so.6"), "[kernel]", or empty
  std::string wait_class;  // on_cpu, run_queue, sleep, disk, lock, network, page_fault, other
  // The call site in the program's own code: the innermost frame outside the system's
  // libraries (libc, the loader, libstdc++, the kernel); empty when the stack has none.
  std::string caller;
  std::string caller_module;
  // The innermost frame in the program's executable (the module of the stack's outermost
  // frame), when it is not the caller: "persist_row" for an fdatasync that SQLite's unixSync
  // makes. Empty when the stack has none, or the executable's frame is the caller itself.
  std::string site;
  double seconds = 0.0;
  double share = 0.0;                // of all the sampled time
  double per_step = k_not_recorded;  // seconds per step (NaN without steps)
};

struct CodeWait {
  std::string wait_class;
  double seconds = 0.0;
  double share = 0.0;
};

// Which code got slower (issue 19; code_growth.hpp): the two sides a differential profile
// compares -- the early and late segments of one condition (the verdict decomposition's:
// quarters, or either side of a change point), or two runs of one program (`nrmlab
// compare`) -- and what was done on each.
struct CodeComparison {
  std::string condition;  // the condition (for two runs, the one both ran)
  std::string segments;   // the attribution's ("quarters", "halves", "change point"), or "runs"
  // "compared", or why not ("too few windows: ...", "not sampled", "too short").
  std::string status = "not compared";
  std::string early_label = "early";  // a run's directory for two runs
  std::string late_label = "late";
  // The profile windows (profile_counts.window) of each side, both ends included; -1 when
  // the side has none. For two runs, each side's own run.
  std::int64_t early_first_window = -1;
  std::int64_t early_last_window = -1;
  std::int64_t late_first_window = -1;
  std::int64_t late_last_window = -1;
  double early_steps = 0.0;  // steps begun in those windows
  double late_steps = 0.0;
  double step_ms_early = k_not_recorded;  // mean wall time per step
  double step_ms_late = k_not_recorded;
  // The dominant work counter (largest share of the fitted step time among those that vary,
  // else one that is constant); empty when the run reports none.
  std::string work_counter;
  double work_per_step_early = k_not_recorded;
  double work_per_step_late = k_not_recorded;
  // When dearer cannot be told from more work: the experiment that would tell them apart.
  std::string experiment;
};

// One function's time (in one wait class) on both sides of a comparison.
struct CodeGrowth {
  std::string condition;  // the comparison's
  std::string function;   // the place the time is charged to (CodeTime::function)
  std::string module;
  std::string wait_class;
  double self_per_step_early = 0.0;  // seconds per step: time in the function itself
  double self_per_step_late = 0.0;
  double inclusive_per_step_early = 0.0;  // time with the function anywhere on the stack
  double inclusive_per_step_late = 0.0;
  double self_per_unit_early = k_not_recorded;  // seconds per unit of the work counter
  double self_per_unit_late = k_not_recorded;
  // late / early self time per unit of work (per step when the run has no work counter),
  // with its block-bootstrap interval.
  double per_unit_ratio = k_not_recorded;
  double per_unit_ratio_ci_low = k_not_recorded;
  double per_unit_ratio_ci_high = k_not_recorded;
  // Its change of self time per step over the change of the mean step time, with the
  // interval; split (midpoint) into the part more work explains and the part per unit.
  double share_of_change = 0.0;
  std::vector<double> interval;  // [low, high] of share_of_change
  double more_work_share = k_not_recorded;
  double dearer_share = k_not_recorded;
  CodeChange change = CodeChange::unchanged;
};

struct CodeProfile {
  // "sampled", "off", "unavailable: <why>", "not recorded" (telemetry from before stack
  // sampling); profile_data.hpp
  std::string status = "not recorded";
  std::string enable_hint;                  // the setting that would enable sampling
  std::string note;                         // what was limited though sampled
  std::string off_cpu;                      // how off-CPU time was seen
  double sampled_seconds = 0.0;             // thread time the samples stand for (every thread)
  double profiler_cpu_share = 0.0;          // the sampler's own CPU time over the run's wall time
  std::vector<CodeWait> waits;              // every class seen, largest first
  std::vector<CodeTime> time;               // largest first, at most k_code_entries
  std::vector<CodeComparison> comparisons;  // one per condition with an attribution
  // Per comparison, largest contribution to the step-time change first, at most
  // k_code_entries each.
  std::vector<CodeGrowth> growth;
  static constexpr std::size_t k_code_entries = 20;
};

// ---- a watched program's steps (step_coverage.hpp) ------------------------------------

// How much of a watched program's time its steps cover. NaN where a figure is unknown
// (telemetry written before it was recorded, or an engine run: there every step is covered).
struct StepCoverage {
  double program_seconds = k_not_recorded;  // the program's wall time, from start to end
  double steps_seconds = k_not_recorded;    // inside the analysed steps
  // The first marker's step, left out of the analysis: it began when the program started, so
  // it holds the start-up (telemetry_reader.hpp).
  double startup_seconds = k_not_recorded;
  double tail_seconds = k_not_recorded;  // after the last marker: no whole step
  double share = k_not_recorded;         // steps_seconds / program_seconds
};

// Without step markers a window of wall time cannot get slower, but what the program does in
// each window can change: its CPU time, its syscalls, its I/O. One proxy's first quarter of
// the windows against the last, and the corrected Mann-Kendall trend test over all of them.
struct WindowProxy {
  std::string what;                       // "CPU time (s)"
  std::string column;                     // the steps table's column
  double first_quarter = k_not_recorded;  // mean per window
  double last_quarter = k_not_recorded;
  double ratio = k_not_recorded;
  double p = k_not_recorded;
};

// ---- the document --------------------------------------------------------------------

struct RunAnalysis {
  std::string id;
  std::string dir;
  std::string experiment;
  std::string preset;
  std::string allocator;
  std::string outcome;
  // What a step is: the engine's (a native run), or for `nrmlab watch` the program's
  // markers, or fixed windows of wall time (it printed none).
  StepSource step_source = StepSource::engine;
  bool complete = false;
  std::size_t steps = 0;
  std::size_t steps_without_time = 0;  // step rows left out of the analysis: no wall time
  double wall_seconds = 0.0;
  // A watched program: its name (argv[0]'s file name; empty when attached by pid or a native
  // run), how much of its time its steps cover, and with time windows what can be seen.
  std::string program;
  StepCoverage coverage;
  std::vector<WindowProxy> proxies;
  nlohmann::ordered_json provenance;
  bool has_sound = false;
  SoundAnalysis sound;
  bool has_paper = false;
  PaperAnalysis paper;
  CodeProfile code;
};

struct AnalysisReport {
  std::string schema = k_analysis_schema;
  std::string mode;  // sound | paper | all
  std::string dir;
  std::string nrmlab_version;
  std::string nrmlab_commit;
  Thresholds thresholds;
  std::vector<RunAnalysis> runs;
  bool has_study = false;
  StudyAnalysis study;
  std::vector<std::string> summary;  // the terminal summary, line by line
};

nlohmann::ordered_json to_json(const AnalysisReport& report);
// Parts of the document, as they appear in it (the report embeds them).
nlohmann::ordered_json to_json(const RunAnalysis& run);
nlohmann::ordered_json to_json(const StudyAnalysis& study);
nlohmann::ordered_json to_json(const Thresholds& thresholds);
// A differential profile's entries as code.comparisons and code.growth hold them (`nrmlab
// compare` writes the same objects).
nlohmann::ordered_json to_json(const CodeComparison& comparison);
nlohmann::ordered_json to_json(const CodeGrowth& growth);
// The inverse of to_json. Absent keys keep their defaults (older documents); a present
// value of the wrong type, or another schema, throws nrmlab::Error naming the key.
AnalysisReport analysis_from_json(const nlohmann::ordered_json& json);
// analysis_from_json of a file; errors name the file.
AnalysisReport read_analysis(const std::filesystem::path& file);

}  // namespace nrmlab::analysis
