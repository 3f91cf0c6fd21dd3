#include <Eigen/Dense>
#include <algorithm>
#include <cmath>

#include "analysis/sound_mode.hpp"
#include "analysis/stats/correlation.hpp"
#include "analysis/stats/descriptive.hpp"
#include "analysis/stats/hac.hpp"
#include "analysis/stats/mann_kendall.hpp"
#include "analysis/stats/nnls.hpp"
#include "analysis/stats/theil_sen.hpp"
#include "analysis/windows.hpp"
#include "model/step_counters.hpp"

namespace nrmlab::analysis {
namespace {

constexpr std::size_t k_min_cost_window_steps = 20;

}  // namespace

// The counters that vary in this condition and are not a multiple of one already taken
// (per-call sampling makes metric_samples track evolve_calls exactly, and NNLS cannot split
// the cost of two proportional columns).
std::vector<std::string> work_counters(const Columns& steps) {
  std::vector<std::string> used;
  // The engine's work counters (study.md 4.2), then any a watched program named (work.<name>).
  // Not its I/O per step (io.syscalls, io.bytes): those are readings spread over the steps by
  // interpolation, so for steps shorter than the reading period a constant I/O rate would be
  // a "counter" proportional to step time, and would explain any slowdown as more work.
  std::vector<std::string> candidates;
  for (const model::StepCounterField& field : model::k_step_counter_fields)
    if (field.role == model::CounterRole::work) candidates.emplace_back(field.name);
  for (const std::string& name : steps.names())
    if (name.starts_with("work.")) candidates.push_back(name);
  for (const std::string& counter : candidates) {
    if (!steps.has(counter)) continue;  // a steps table of another kind of run
    const auto column = steps[counter];
    if (column.size() < 3 || stats::is_constant(column)) continue;
    // A program's counter missing from some markers cannot be charged for those steps.
    if (std::any_of(column.begin(), column.end(), [](double v) { return std::isnan(v); })) continue;
    bool duplicate = false;
    for (const auto& taken : used) {
      const auto r = stats::pearson(steps[taken], column).r;
      if (std::isfinite(r) && std::abs(r) > 0.9999) duplicate = true;
    }
    if (!duplicate) used.emplace_back(counter);
  }
  return used;
}

namespace {

// Columns scaled to a maximum of 1 so NNLS is well conditioned; costs are unscaled after.
struct Design {
  Eigen::MatrixXd matrix;
  std::vector<double> scale;
};

Design design(const Columns& steps, const std::vector<std::string>& counters, Window w) {
  const auto rows = static_cast<Eigen::Index>(w.end - w.begin);
  Design d{Eigen::MatrixXd::Ones(rows, static_cast<Eigen::Index>(counters.size() + 1)), {1.0}};
  for (std::size_t c = 0; c < counters.size(); ++c) {
    const auto column = steps[counters[c]].subspan(w.begin, w.end - w.begin);
    double max = 0.0;
    for (const double v : column)
      max = std::max(max, std::abs(v));
    if (max == 0.0) max = 1.0;
    d.scale.push_back(max);
    for (Eigen::Index r = 0; r < rows; ++r)
      d.matrix(r, static_cast<Eigen::Index>(c + 1)) = column[static_cast<std::size_t>(r)] / max;
  }
  return d;
}

std::vector<double> fit_costs(const Columns& steps, const std::vector<std::string>& counters,
                              Window w, double* r_squared = nullptr) {
  const Design d = design(steps, counters, w);
  const auto fit = stats::nnls(d.matrix, steps["wall_ns"].subspan(w.begin, w.end - w.begin));
  std::vector<double> costs(counters.size() + 1);
  for (std::size_t c = 0; c < costs.size(); ++c)
    costs[c] = fit.coefficients[c] / d.scale[c];
  // A counter constant within the window cannot be told apart from the per-step constant.
  for (std::size_t c = 0; c < counters.size(); ++c)
    if (stats::is_constant(steps[counters[c]].subspan(w.begin, w.end - w.begin)))
      costs[c + 1] = std::nan("");
  if (r_squared) *r_squared = fit.r_squared;
  return costs;
}

// Change of a per-window series over the condition, from its Theil-Sen line, relative to
// the line's value at the first window; and Mann-Kendall's p.
std::pair<double, double> trend_over_windows(std::span<const double> values) {
  std::vector<double> index, finite;
  for (std::size_t i = 0; i < values.size(); ++i)
    if (std::isfinite(values[i])) {
      index.push_back(static_cast<double>(i));
      finite.push_back(values[i]);
    }
  if (finite.size() < 4) return {std::nan(""), std::nan("")};
  const auto line = stats::theil_sen(index, finite, 0.95);
  const double first = line.intercept + line.slope * index.front();
  const double last = line.intercept + line.slope * index.back();
  const double change = std::abs(first) > 0 ? (last - first) / std::abs(first) : std::nan("");
  return {change, stats::mann_kendall(finite).p};
}

}  // namespace

CostModel fit_cost_model(const ConditionData& condition, const Thresholds& thresholds) {
  CostModel model;
  model.condition = condition.name;
  const Columns& steps = condition.steps;
  const std::size_t n = steps.rows();
  const double nan = std::nan("");
  model.r_squared = model.actual_slope_ns_per_step = model.work_slope_ns_per_step =
      model.explained_fraction = nan;
  if (n < k_min_drift_steps) return model;

  const auto counters = work_counters(steps);
  const Window all{0, n};
  const auto costs = fit_costs(steps, counters, all, &model.r_squared);
  const auto windows = split_windows(n, static_cast<std::size_t>(thresholds.windows),
                                     std::max(k_min_cost_window_steps, counters.size() + 2));
  std::vector<std::vector<double>> window_costs;
  for (const Window& w : windows)
    window_costs.push_back(fit_costs(steps, counters, w));

  // Fitted step time at constant (whole-condition) unit costs: what the work explains.
  std::vector<double> fitted(n, costs[0]);
  for (std::size_t c = 0; c < counters.size(); ++c) {
    const auto column = steps[counters[c]];
    for (std::size_t i = 0; i < n; ++i)
      fitted[i] += costs[c + 1] * column[i];
  }
  const double fitted_total = sum_of(fitted);
  const auto step = steps["step"];
  for (std::size_t c = 0; c <= counters.size(); ++c) {
    UnitCost term;
    term.counter = c == 0 ? "per_step" : counters[c - 1];
    term.unit_cost_ns = costs[c];
    const double total =
        c == 0 ? costs[0] * static_cast<double>(n) : costs[c] * sum_of(steps[counters[c - 1]]);
    term.share = fitted_total > 0 ? total / fitted_total : nan;
    for (const auto& w : window_costs)
      term.window_costs_ns.push_back(w[c]);
    std::tie(term.relative_change, term.trend_p) = trend_over_windows(term.window_costs_ns);
    term.drifts = std::isfinite(term.relative_change) &&
                  std::abs(term.relative_change) >= thresholds.min_unit_cost_change &&
                  term.trend_p < thresholds.alpha && term.share >= 0.01;
    if (c == 0) {
      term.count_relative_change = 0.0;
    } else {
      // Growth of the count itself: the last window's mean against the first's, relative
      // to the condition's mean (finite even when the count starts at zero).
      const auto counts = steps[counters[c - 1]];
      const auto window_mean = [&](const Window& w) {
        return stats::mean(counts.subspan(w.begin, w.end - w.begin));
      };
      const double overall = stats::mean(counts);
      term.count_relative_change =
          overall > 0 ? (window_mean(windows.back()) - window_mean(windows.front())) / overall
                      : nan;
    }
    model.terms.push_back(std::move(term));
  }
  model.actual_slope_ns_per_step = stats::hac_trend(step, steps["wall_ns"], 0.95).slope;
  model.work_slope_ns_per_step = stats::hac_trend(step, fitted, 0.95).slope;
  model.explained_fraction = model.actual_slope_ns_per_step > 0
                                 ? model.work_slope_ns_per_step / model.actual_slope_ns_per_step
                                 : nan;
  return model;
}

}  // namespace nrmlab::analysis
