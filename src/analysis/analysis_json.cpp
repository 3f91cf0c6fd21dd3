// to_json for analysis.json: one macro line per struct, field names = member names, so the
// structs in analysis_result.hpp stay the schema. NaN is written as null.
#include "analysis/analysis_result.hpp"

namespace nrmlab::analysis {

using Json = nlohmann::ordered_json;

// nlohmann's NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE (3.11.2) writes only the unordered
// nlohmann::json; this writes ordered_json, so fields keep declaration order.
#define NRMLAB_JSON_WRITER(Type, ...)                                        \
  inline void to_json(Json& nlohmann_json_j, const Type& nlohmann_json_t) {  \
    NLOHMANN_JSON_EXPAND(NLOHMANN_JSON_PASTE(NLOHMANN_JSON_TO, __VA_ARGS__)) \
  }

NRMLAB_JSON_WRITER(SectionShare, section, seconds, share)
NRMLAB_JSON_WRITER(TimeDecomposition, scope, steps, wall_seconds, cpu_seconds, cpu_share,
                   off_cpu_share, off_cpu_unexplained_share, recorder_share, sections, dominant)
NRMLAB_JSON_WRITER(WindowPercentiles, first_step, last_step, mean_ms, p50_ms, p95_ms, p99_ms,
                   cpu_share, recorder_share, dominant, dominant_share)
NRMLAB_JSON_WRITER(Drift, condition, steps, median_step_ms, hac_slope_ns_per_step, hac_ci_low,
                   hac_ci_high, hac_p, hac_lag, theil_sen_slope_ns_per_step, theil_sen_ci_low,
                   theil_sen_ci_high, theil_sen_points, mann_kendall_z, mann_kendall_p,
                   mann_kendall_tau, relative_change, change_points, segment_means_ms, drifts,
                   direction, windows)
NRMLAB_JSON_WRITER(UnitCost, counter, unit_cost_ns, share, window_costs_ns, relative_change,
                   trend_p, drifts, count_relative_change)
NRMLAB_JSON_WRITER(CostModel, condition, r_squared, terms, actual_slope_ns_per_step,
                   work_slope_ns_per_step, explained_fraction)
NRMLAB_JSON_WRITER(Evidence, what, value, p, note)
NRMLAB_JSON_WRITER(Hypothesis, id, name, verdict, reason, effect_label, effect_size, ci_low,
                   ci_high, evidence)
NRMLAB_JSON_WRITER(SoundAnalysis, run, conditions, drift, cost_models, hypotheses)
void to_json(Json& j, const PaperHypothesis& h) {
  j = {{"id", h.id},
       {"test", h.test},
       {"rule", h.rule},
       {"statistics", h.statistics},
       {"score", h.score},
       {"testable", h.testable},
       {"significant", h.significant},
       {"tier", h.tier},
       {"verdict", h.verdict},
       {"interpretation", h.interpretation}};
}
void to_json(Json& j, const VarianceCharacterisation& v) {
  j = {{"expected_hours", v.expected_hours},
       {"observed_hours", v.observed_hours},
       {"variance_percent", v.variance_percent},
       {"acceleration_percent_per_hour", v.acceleration_percent_per_hour},
       {"milestones", v.milestones},
       {"note", v.note}};
}
NRMLAB_JSON_WRITER(LevelEffect, level, runs, mean_step_ms, mean_step_delta_ms, mean_step_ci_low,
                   mean_step_ci_high, ratio, drift, drift_delta, drift_ci_low, drift_ci_high)
NRMLAB_JSON_WRITER(FactorEffect, factor, aliases, baseline, levels)
NRMLAB_JSON_WRITER(Interaction, factor_a, factor_b, mean_step_interaction_ms, ci_low, ci_high)
NRMLAB_JSON_WRITER(EquivalenceCheck, reference_run, run, method, equivalent, detail)
NRMLAB_JSON_WRITER(Phase1B, unoptimized_run, optimized_runs, speedup, speedup_band,
                   speedup_confirmed, cv_unoptimized, cv_optimized, acceleration_unoptimized,
                   acceleration_optimized, cv_reduction, acceleration_reduction, variance_reduced,
                   functionally_equivalent, equivalence, verdict)
NRMLAB_JSON_WRITER(Thresholds, alpha, min_relative_drift, min_explained_fraction,
                   min_unit_cost_change, min_partial_r, min_contention_share, min_io_share,
                   min_ratio_growth, max_observer_share, windows, equivalence_margin, confidence,
                   paper_alpha, paper_h2_r_squared, paper_h3_r_squared, paper_h5_r_squared,
                   paper_tier1, paper_tier2, paper_speedup_low, paper_speedup_high,
                   paper_speedup_partial, paper_variance_reduction)

namespace {

// Optional parts are null when absent, so a reader sees every key of the schema.
Json paper_json(const RunAnalysis& a) {
  if (!a.has_paper) return nullptr;
  Json j{{"steps", a.paper.steps},
         {"phase_1a", a.paper.phase_1a},
         {"tier_ranking", a.paper.tier_ranking},
         {"variance", nullptr}};
  if (a.paper.has_variance) j["variance"] = a.paper.variance;
  return j;
}

Json run_json(const RunAnalysis& a) {
  return {{"id", a.id},
          {"dir", a.dir},
          {"experiment", a.experiment},
          {"preset", a.preset},
          {"allocator", a.allocator},
          {"outcome", a.outcome},
          {"step_source", a.step_source},
          {"complete", a.complete},
          {"steps", a.steps},
          {"wall_seconds", a.wall_seconds},
          {"provenance", a.provenance},
          {"sound", a.has_sound ? Json(a.sound) : Json(nullptr)},
          {"paper", paper_json(a)}};
}

Json study_json(const StudyAnalysis& s) {
  return {{"runs", s.runs},
          {"interventions", s.interventions},
          {"interactions", s.interactions},
          {"equivalence", s.equivalence},
          {"phase_1b", s.has_phase_1b ? Json(s.phase_1b) : Json(nullptr)},
          {"hypotheses", s.hypotheses}};
}

}  // namespace

Json to_json(const AnalysisReport& report) {
  Json runs = Json::array();
  for (const auto& run : report.runs)
    runs.push_back(run_json(run));
  return {{"schema", report.schema},
          {"mode", report.mode},
          {"dir", report.dir},
          {"nrmlab_version", report.nrmlab_version},
          {"nrmlab_commit", report.nrmlab_commit},
          {"thresholds", report.thresholds},
          {"runs", std::move(runs)},
          {"study", report.has_study ? study_json(report.study) : Json(nullptr)},
          {"summary", report.summary}};
}

}  // namespace nrmlab::analysis
