// analysis.json in both directions: one macro line per struct, field names = member names,
// so the structs in analysis_result.hpp stay the schema and the reader cannot drift from
// the writer. NaN is written as null and read back as NaN.
//
// Reading is lenient about what is absent (an older or partial document: the member keeps
// its default) and strict about what is present (a value of the wrong type is an error
// naming the key), so a report drawn from it never guesses.
#include <fmt/format.h>

#include <fstream>
#include <limits>

#include "analysis/analysis_result.hpp"
#include "util/error.hpp"

namespace nrmlab::analysis {

using Json = nlohmann::ordered_json;

namespace {

template <typename T>
void read_value(const Json& j, T& out);

// Doubles (alone or in arrays) accept null as NaN: that is how NaN was written.
inline void read_value(const Json& j, double& out) {
  out = j.is_null() ? std::numeric_limits<double>::quiet_NaN() : j.get<double>();
}
template <typename T>
void read_value(const Json& j, std::vector<T>& out) {
  if (!j.is_array()) throw Error(fmt::format("expected an array, not {}", j.type_name()));
  out.clear();
  out.resize(j.size());
  for (std::size_t i = 0; i < j.size(); ++i)
    read_value(j[i], out[i]);
}
template <typename T>
void read_value(const Json& j, T& out) {
  if constexpr (std::is_same_v<T, Json>)
    out = j;
  else
    j.get_to(out);  // nlohmann's own, or (by ADL) a from_json below or in verdict.hpp
}

template <typename T>
void read_field(const Json& j, const char* key, T& out) {
  const auto it = j.find(key);
  if (it == j.end()) return;
  if (it->is_null() && !std::is_floating_point_v<T>) return;
  try {
    read_value(*it, out);
  } catch (const std::exception& e) {
    throw Error(fmt::format("\"{}\": {}", key, e.what()));
  }
}

}  // namespace

#define NRMLAB_JSON_FROM(field) read_field(nlohmann_json_j, #field, nlohmann_json_t.field);

// nlohmann's NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE (3.11.2) handles only the unordered
// nlohmann::json; these use ordered_json, so fields keep declaration order.
#define NRMLAB_JSON_TYPE(Type, ...)                                           \
  inline void to_json(Json& nlohmann_json_j, const Type& nlohmann_json_t) {   \
    NLOHMANN_JSON_EXPAND(NLOHMANN_JSON_PASTE(NLOHMANN_JSON_TO, __VA_ARGS__))  \
  }                                                                           \
  inline void from_json(const Json& nlohmann_json_j, Type& nlohmann_json_t) { \
    NLOHMANN_JSON_EXPAND(NLOHMANN_JSON_PASTE(NRMLAB_JSON_FROM, __VA_ARGS__))  \
  }

NRMLAB_JSON_TYPE(SectionShare, section, seconds, share)
NRMLAB_JSON_TYPE(TimeDecomposition, scope, steps, wall_seconds, cpu_seconds, cpu_share,
                 off_cpu_share, off_cpu_unexplained_share, recorder_share, cpu_wait_share, sections,
                 dominant)
NRMLAB_JSON_TYPE(WindowPercentiles, first_step, last_step, mean_ms, p50_ms, p95_ms, p99_ms,
                 cpu_share, recorder_share, dominant, dominant_share)
NRMLAB_JSON_TYPE(Drift, condition, steps, median_step_ms, hac_slope_ns_per_step, hac_ci_low,
                 hac_ci_high, hac_p, hac_lag, theil_sen_slope_ns_per_step, theil_sen_ci_low,
                 theil_sen_ci_high, theil_sen_points, mann_kendall_z, mann_kendall_p,
                 mann_kendall_tau, relative_change, ratio, shift_step, shift_ratio, p,
                 change_points, segment_means_ms, drifts, direction, windows)
NRMLAB_JSON_TYPE(UnitCost, counter, unit_cost_ns, share, window_costs_ns, relative_change, trend_p,
                 drifts, count_relative_change)
NRMLAB_JSON_TYPE(CostModel, condition, r_squared, terms, actual_slope_ns_per_step,
                 work_slope_ns_per_step, explained_fraction)
NRMLAB_JSON_TYPE(ChangePart, ms, ci_low, ci_high, p)
NRMLAB_JSON_TYPE(SectionChange, section, early_ms, late_ms, change, more_work, dearer)
NRMLAB_JSON_TYPE(Attribution, condition, segments, early_first_step, early_last_step,
                 late_first_step, late_last_step, ratio, ratio_ci_low, ratio_ci_high, work_share,
                 work_share_ci_low, work_share_ci_high, counters, unidentified, sections,
                 change_points)
NRMLAB_JSON_TYPE(Evidence, what, value, p, note)
NRMLAB_JSON_TYPE(Hypothesis, id, name, verdict, reason, effect_label, effect_size, ci_low, ci_high,
                 p, adjusted_p, experiment, evidence)
NRMLAB_JSON_TYPE(ForecastBacktest, condition, at_fraction, steps_done, model, predicted_total_s,
                 linear_eta_total_s, actual_total_s, predicted_error, linear_eta_error)
NRMLAB_JSON_TYPE(Prediction, backtest)
NRMLAB_JSON_TYPE(SoundAnalysis, run, conditions, drift, cost_models, attribution, hypotheses,
                 prediction)
NRMLAB_JSON_TYPE(CodeTime, function, module, wait_class, caller, caller_module, site, seconds,
                 share, per_step)
NRMLAB_JSON_TYPE(CodeWait, wait_class, seconds, share)
NRMLAB_JSON_TYPE(CodeComparison, condition, segments, status, early_label, late_label,
                 early_first_window, early_last_window, late_first_window, late_last_window,
                 early_steps, late_steps, step_ms_early, step_ms_late, work_counter,
                 work_per_step_early, work_per_step_late, experiment)
NRMLAB_JSON_TYPE(CodeGrowth, condition, function, module, wait_class, self_per_step_early,
                 self_per_step_late, inclusive_per_step_early, inclusive_per_step_late,
                 self_per_unit_early, self_per_unit_late, per_unit_ratio, per_unit_ratio_ci_low,
                 per_unit_ratio_ci_high, share_of_change, interval, more_work_share, dearer_share,
                 change)
NRMLAB_JSON_TYPE(CodeProfile, status, enable_hint, note, off_cpu, sampled_seconds,
                 profiler_cpu_share, waits, time, comparisons, growth)
NRMLAB_JSON_TYPE(StepCoverage, program_seconds, steps_seconds, startup_seconds, tail_seconds, share)
NRMLAB_JSON_TYPE(WindowProxy, what, column, first_quarter, last_quarter, ratio, p)
NRMLAB_JSON_TYPE(PaperHypothesis, id, test, rule, statistics, score, testable, significant, tier,
                 verdict, interpretation)
NRMLAB_JSON_TYPE(VarianceCharacterisation, expected_hours, observed_hours, variance_percent,
                 acceleration_percent_per_hour, milestones, note)
NRMLAB_JSON_TYPE(LevelEffect, level, runs, mean_step_ms, mean_step_delta_ms, mean_step_ci_low,
                 mean_step_ci_high, ratio, drift, drift_delta, drift_ci_low, drift_ci_high)
NRMLAB_JSON_TYPE(FactorEffect, factor, aliases, baseline, levels)
NRMLAB_JSON_TYPE(Interaction, factor_a, factor_b, mean_step_interaction_ms, ci_low, ci_high)
NRMLAB_JSON_TYPE(EquivalenceCheck, reference_run, run, method, equivalent, detail)
NRMLAB_JSON_TYPE(Phase1B, unoptimized_run, optimized_runs, speedup, speedup_band, speedup_confirmed,
                 cv_unoptimized, cv_optimized, acceleration_unoptimized, acceleration_optimized,
                 cv_reduction, acceleration_reduction, variance_reduced, functionally_equivalent,
                 equivalence, verdict, caveats)
NRMLAB_JSON_TYPE(Thresholds, alpha, holm, min_relative_drift, min_explained_fraction,
                 min_unit_cost_change, min_partial_r, min_cpu_wait_share, min_io_share,
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
          {"steps_without_time", a.steps_without_time},
          {"wall_seconds", a.wall_seconds},
          {"program", a.program},
          {"coverage", a.coverage},
          {"proxies", a.proxies},
          {"provenance", a.provenance},
          {"sound", a.has_sound ? Json(a.sound) : Json(nullptr)},
          {"paper", paper_json(a)},
          {"code", a.code}};
}

Json study_json(const StudyAnalysis& s) {
  return {{"runs", s.runs},
          {"interventions", s.interventions},
          {"interactions", s.interactions},
          {"equivalence", s.equivalence},
          {"phase_1b", s.has_phase_1b ? Json(s.phase_1b) : Json(nullptr)},
          {"hypotheses", s.hypotheses}};
}

void read_paper(const Json& j, RunAnalysis& a) {
  a.has_paper = j.is_object();
  if (!a.has_paper) return;
  read_field(j, "steps", a.paper.steps);
  read_field(j, "phase_1a", a.paper.phase_1a);
  read_field(j, "tier_ranking", a.paper.tier_ranking);
  const auto variance = j.find("variance");
  a.paper.has_variance = variance != j.end() && variance->is_object();
  if (a.paper.has_variance) from_json(*variance, a.paper.variance);
}

RunAnalysis run_from_json(const Json& j) {
  RunAnalysis a;
  read_field(j, "id", a.id);
  read_field(j, "dir", a.dir);
  read_field(j, "experiment", a.experiment);
  read_field(j, "preset", a.preset);
  read_field(j, "allocator", a.allocator);
  read_field(j, "outcome", a.outcome);
  read_field(j, "step_source", a.step_source);
  read_field(j, "complete", a.complete);
  read_field(j, "steps", a.steps);
  read_field(j, "steps_without_time", a.steps_without_time);
  read_field(j, "wall_seconds", a.wall_seconds);
  read_field(j, "program", a.program);  // these three: absent before issue 20
  read_field(j, "coverage", a.coverage);
  read_field(j, "proxies", a.proxies);
  read_field(j, "provenance", a.provenance);
  const auto sound = j.find("sound");
  a.has_sound = sound != j.end() && sound->is_object();
  if (a.has_sound) from_json(*sound, a.sound);
  if (const auto paper = j.find("paper"); paper != j.end()) read_paper(*paper, a);
  read_field(j, "code", a.code);  // absent from analyses written before stack sampling
  return a;
}

void read_study(const Json& j, AnalysisReport& report) {
  report.has_study = j.is_object();
  if (!report.has_study) return;
  StudyAnalysis& s = report.study;
  read_field(j, "runs", s.runs);
  read_field(j, "interventions", s.interventions);
  read_field(j, "interactions", s.interactions);
  read_field(j, "equivalence", s.equivalence);
  read_field(j, "hypotheses", s.hypotheses);
  const auto phase_1b = j.find("phase_1b");
  s.has_phase_1b = phase_1b != j.end() && phase_1b->is_object();
  if (s.has_phase_1b) from_json(*phase_1b, s.phase_1b);
}

}  // namespace

Json to_json(const RunAnalysis& run) {
  return run_json(run);
}
Json to_json(const StudyAnalysis& study) {
  return study_json(study);
}
Json to_json(const Thresholds& thresholds) {
  Json j;
  to_json(j, thresholds);
  return j;
}
Json to_json(const CodeComparison& comparison) {
  Json j;
  to_json(j, comparison);
  return j;
}
Json to_json(const CodeGrowth& growth) {
  Json j;
  to_json(j, growth);
  return j;
}

AnalysisReport analysis_from_json(const Json& j) {
  if (!j.is_object()) throw Error("not an analysis document (expected a JSON object)");
  AnalysisReport report;
  read_field(j, "schema", report.schema);
  if (report.schema != k_analysis_schema)
    throw Error(fmt::format("schema \"{}\", expected \"{}\"", report.schema, k_analysis_schema));
  read_field(j, "mode", report.mode);
  read_field(j, "dir", report.dir);
  read_field(j, "nrmlab_version", report.nrmlab_version);
  read_field(j, "nrmlab_commit", report.nrmlab_commit);
  read_field(j, "thresholds", report.thresholds);
  if (const auto runs = j.find("runs"); runs != j.end() && runs->is_array())
    for (const Json& run : *runs)
      report.runs.push_back(run_from_json(run));
  if (const auto study = j.find("study"); study != j.end()) read_study(*study, report);
  read_field(j, "summary", report.summary);
  return report;
}

AnalysisReport read_analysis(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw Error(fmt::format("{}: cannot be read", file.string()));
  try {
    return analysis_from_json(Json::parse(in));
  } catch (const Json::exception& e) {
    throw Error(fmt::format("{}: not valid JSON: {}", file.string(), e.what()));
  } catch (const Error& e) {
    throw Error(fmt::format("{}: {}", file.string(), e.what()));
  }
}

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
