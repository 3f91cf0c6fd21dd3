#include <algorithm>
#include <cmath>

#include "analysis/sound_mode.hpp"
#include "analysis/stats/changepoint.hpp"
#include "analysis/stats/descriptive.hpp"
#include "analysis/stats/hac.hpp"
#include "analysis/stats/mann_kendall.hpp"
#include "analysis/stats/theil_sen.hpp"
#include "analysis/windows.hpp"

namespace nrmlab::analysis {
namespace {

// Theil-Sen is quadratic in its input and PELT is sensitive to single slow steps: both see
// block medians of long conditions (robust to the heavy right tail of step times).
constexpr std::size_t k_theil_sen_points = 1000;
constexpr std::size_t k_changepoint_points = 500;
constexpr std::size_t k_min_drift_window_steps = 5;

std::vector<WindowPercentiles> percentiles(const Columns& steps, int windows) {
  const auto step = steps["step"], wall = steps["wall_ns"], cpu = steps["cpu_ns"];
  const char* const k_sections[] = {"sampling", "window", "database", "recorder", "compute"};
  std::vector<WindowPercentiles> out;
  for (const Window& w :
       split_windows(wall.size(), static_cast<std::size_t>(windows), k_min_drift_window_steps)) {
    const auto part = [&](std::span<const double> column) {
      return column.subspan(w.begin, w.end - w.begin);
    };
    const auto ys = part(wall);
    WindowPercentiles p;
    p.first_step = static_cast<std::int64_t>(step[w.begin]);
    p.last_step = static_cast<std::int64_t>(step[w.end - 1]);
    p.mean_ms = stats::mean(ys) * 1e-6;
    p.p50_ms = stats::quantile(ys, 0.50) * 1e-6;
    p.p95_ms = stats::quantile(ys, 0.95) * 1e-6;
    p.p99_ms = stats::quantile(ys, 0.99) * 1e-6;
    const double total = sum_of(ys);
    p.cpu_share = total > 0 ? std::min(1.0, sum_of(part(cpu)) / total) : std::nan("");
    for (const char* section : k_sections) {
      const double share =
          total > 0 ? sum_of(part(steps[std::string(section) + "_ns"])) / total : std::nan("");
      if (std::string(section) == "recorder") p.recorder_share = share;
      if (p.dominant.empty() || share > p.dominant_share) {
        p.dominant = section;
        p.dominant_share = share;
      }
    }
    out.push_back(std::move(p));
  }
  return out;
}

// Mean of the first and of the last quarter of a series: the level ratio a user reads
// (x1.39), which stays positive however steep a fall is.
double quarter_ratio(std::span<const double> wall) {
  const std::size_t quarter = std::max<std::size_t>(1, wall.size() / 4);
  const double first = stats::mean(wall.first(quarter));
  const double last = stats::mean(wall.last(quarter));
  return first > 0 ? last / first : std::nan("");
}

// A level shift: PELT finds at most two change points, the largest jump is significant as a
// mean difference with HAC standard errors (the step indicator as the regressor), it moves
// the level by at least min_relative_drift, and neither side has a trend of its own. Then
// the change is a step, not a trend, and is reported as such.
void find_level_shift(std::span<const double> step, std::span<const double> wall, Drift& d,
                      const Thresholds& t) {
  if (d.change_points.empty() || d.change_points.size() > 2) return;
  std::size_t best = 0;
  double best_jump = 0.0;
  for (std::size_t c = 0; c < d.change_points.size(); ++c) {
    const double jump = std::abs(d.segment_means_ms[c + 1] - d.segment_means_ms[c]);
    if (jump > best_jump) {
      best_jump = jump;
      best = c;
    }
  }
  const auto at = static_cast<std::size_t>(
      std::lower_bound(step.begin(), step.end(), static_cast<double>(d.change_points[best])) -
      step.begin());
  if (at < k_min_drift_steps || wall.size() - at < k_min_drift_steps) return;
  std::vector<double> after(wall.size());
  for (std::size_t i = 0; i < wall.size(); ++i)
    after[i] = i >= at ? 1.0 : 0.0;
  const auto jump = stats::hac_trend(after, wall, t.confidence);
  const double before_mean = stats::mean(wall.first(at));
  const double ratio = before_mean > 0 ? stats::mean(wall.subspan(at)) / before_mean : 0.0;
  const auto flat = [&](std::span<const double> x, std::span<const double> y) {
    return stats::is_constant(y) || !(stats::hac_trend(x, y, t.confidence).p < t.alpha);
  };
  if (jump.p < t.alpha && std::abs(ratio - 1) >= t.min_relative_drift &&
      flat(step.first(at), wall.first(at)) && flat(step.subspan(at), wall.subspan(at))) {
    d.shift_step = static_cast<std::int64_t>(step[at]);
    d.shift_ratio = ratio;
    d.direction = DriftDirection::level_shift;
    d.drifts = false;
    d.p = jump.p;
  }
}

void mark_too_short(Drift& d) {
  const double nan = std::nan("");
  for (double* field : {&d.hac_slope_ns_per_step, &d.hac_ci_low, &d.hac_ci_high, &d.hac_p,
                        &d.theil_sen_slope_ns_per_step, &d.theil_sen_ci_low, &d.theil_sen_ci_high,
                        &d.mann_kendall_z, &d.mann_kendall_p, &d.mann_kendall_tau,
                        &d.relative_change, &d.ratio, &d.p})
    *field = nan;
  d.direction = DriftDirection::too_short;
}

// An exactly constant series has no trend: every statistic says so (not NaN, not a
// "significant" slope of rounding size).
void mark_constant(Drift& d) {
  d.hac_slope_ns_per_step = d.hac_ci_low = d.hac_ci_high = 0.0;
  d.theil_sen_slope_ns_per_step = d.theil_sen_ci_low = d.theil_sen_ci_high = 0.0;
  d.mann_kendall_z = d.mann_kendall_tau = d.relative_change = 0.0;
  d.hac_p = d.mann_kendall_p = d.p = 1.0;
  d.ratio = 1.0;
  d.direction = DriftDirection::stable;
}

}  // namespace

Drift analyse_drift(const ConditionData& condition, StepSource source,
                    const Thresholds& thresholds) {
  const double nan = std::nan("");
  Drift d;
  d.condition = condition.name;
  const auto step = condition.steps["step"];
  const auto wall = condition.steps["wall_ns"];
  d.steps = wall.size();
  d.median_step_ms = d.steps ? stats::median(wall) * 1e-6 : nan;
  d.windows = percentiles(condition.steps, thresholds.windows);
  if (d.steps < k_min_drift_steps || source == StepSource::time_windows) {
    mark_too_short(d);
    if (source == StepSource::time_windows) d.direction = DriftDirection::no_steps;
    return d;
  }
  if (stats::is_constant(wall)) {
    mark_constant(d);
    return d;
  }
  const auto hac = stats::hac_trend(step, wall, thresholds.confidence);
  d.hac_slope_ns_per_step = hac.slope;
  d.hac_ci_low = hac.ci_low;
  d.hac_ci_high = hac.ci_high;
  d.hac_p = hac.p;
  d.hac_lag = hac.lag;

  std::vector<double> positions;
  const auto medians = block_medians(step, wall, k_theil_sen_points, positions);
  const auto theil_sen = stats::theil_sen(positions, medians, thresholds.confidence);
  d.theil_sen_slope_ns_per_step = theil_sen.slope;
  d.theil_sen_ci_low = theil_sen.ci_low;
  d.theil_sen_ci_high = theil_sen.ci_high;
  d.theil_sen_points = medians.size();

  // Mann-Kendall with the autocorrelation correction: persistent noise is not a trend.
  const auto mk = stats::mann_kendall_corrected(wall);
  d.mann_kendall_z = mk.z;
  d.mann_kendall_p = mk.p;
  d.mann_kendall_tau = mk.tau;

  const double span = step.back() - step.front();
  d.relative_change = d.median_step_ms > 0 ? hac.slope * span / (d.median_step_ms * 1e6) : nan;
  d.ratio = quarter_ratio(wall);

  std::vector<double> cp_positions;
  const auto cp_series = block_medians(step, wall, k_changepoint_points, cp_positions);
  const auto segments = stats::pelt(cp_series);
  for (const std::size_t start : segments.change_points)
    d.change_points.push_back(static_cast<std::int64_t>(std::llround(cp_positions[start])));
  for (const double mean : segments.segment_means)
    d.segment_means_ms.push_back(mean * 1e-6);

  // Drift needs a trend and a change large enough to matter (the level of the last quarter
  // against the first, in the same direction). The trend is either test's: the corrected
  // Mann-Kendall (monotone, robust to curvature) or the fixed-b HAC slope (linear, more power
  // on short noisy conditions), Bonferroni-combined (twice the smaller p) so that the pair
  // keeps the size of one test; both must point the way the level moved. Either alone falls
  // short: a curved slowdown leaves residuals around a straight line that look like
  // persistent noise to HAC (a fall from 10 ms to 0.5 ms read "stable"), and Mann-Kendall's
  // correction leaves it little power on 160 jittery steps.
  const bool up = d.ratio > 1;
  d.p = std::min(1.0, 2 * std::min(mk.p, hac.p));
  const bool trend = d.p < thresholds.alpha && (mk.z > 0) == up && (hac.slope > 0) == up;
  d.drifts = trend && std::abs(d.ratio - 1) >= thresholds.min_relative_drift;
  d.direction = !d.drifts ? DriftDirection::stable
                : up      ? DriftDirection::slower
                          : DriftDirection::faster;
  find_level_shift(step, wall, d, thresholds);
  return d;
}

}  // namespace nrmlab::analysis
