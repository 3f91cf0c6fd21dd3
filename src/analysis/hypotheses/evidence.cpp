#include "analysis/hypotheses/evidence.hpp"

#include <fmt/format.h>

#include <Eigen/Dense>
#include <algorithm>
#include <boost/math/distributions/normal.hpp>
#include <cmath>

#include "analysis/stats/mann_kendall.hpp"
#include "analysis/stats/partial_correlation.hpp"
#include "analysis/stats/theil_sen.hpp"
#include "analysis/windows.hpp"

namespace nrmlab::analysis::evidence {
namespace {

// Fisher-z interval of a (partial) correlation with k controls.
std::pair<double, double> correlation_interval(double r, std::size_t n, std::size_t k,
                                               double confidence) {
  if (!std::isfinite(r) || n < k + 4 || std::abs(r) >= 1.0) return {k_nan, k_nan};
  const double z = std::atanh(r);
  const double q = boost::math::quantile(boost::math::normal(), 0.5 + confidence / 2);
  const double half = q / std::sqrt(static_cast<double>(n - k - 3));
  return {std::tanh(z - half), std::tanh(z + half)};
}

}  // namespace

double mean_over_steps(const Columns& steps, std::span<const double> values, std::int64_t first,
                       std::int64_t last) {
  const auto step = steps["step"];
  double sum = 0.0;
  std::size_t n = 0;
  for (std::size_t i = 0; i < step.size(); ++i)
    if (step[i] >= static_cast<double>(first) && step[i] <= static_cast<double>(last) &&
        std::isfinite(values[i])) {
      sum += values[i];
      ++n;
    }
  return n ? sum / static_cast<double>(n) : k_nan;
}

void set_relative_dearer(const SectionChange& section, Outcome& o) {
  const double base = section.early_ms;
  if (base > 0) {
    o.effect = section.dearer.ms / base;
    o.ci_low = section.dearer.ci_low / base;
    o.ci_high = section.dearer.ci_high / base;
  }
  o.p = section.dearer.p;
}

bool step_time_grows(const Drift& drift) {
  return drift.direction == DriftDirection::slower ||
         (drift.direction == DriftDirection::level_shift && drift.shift_ratio > 1);
}

Outcome untestable(std::string reason) {
  Outcome o;
  o.reason = std::move(reason);
  return o;
}

std::string format_p(double p) {
  return std::isfinite(p) ? fmt::format("{:.2g}", p) : "n/a";
}

std::size_t step_index(std::span<const double> steps, double step) {
  const auto it = std::lower_bound(steps.begin(), steps.end(), step);
  return std::min<std::size_t>(static_cast<std::size_t>(it - steps.begin()), steps.size() - 1);
}

void Aligned::add(double value, double time, double at_step, double agent_count) {
  if (!std::isfinite(value) || !std::isfinite(time)) return;
  if (!step.empty() && step.back() == at_step) {
    // Another reading in the same step: one point per step (averaged), since the readings
    // share one step time and would count as independent evidence many times over.
    const double n = ++m_readings_in_last;
    indicator.back() += (value - indicator.back()) / n;
    return;
  }
  m_readings_in_last = 1;
  indicator.push_back(value);
  step_time.push_back(time);
  step.push_back(at_step);
  agents.push_back(agent_count);
}

Outcome correlate(const std::string& what, const Aligned& a, const Thresholds& t, double sign) {
  Outcome o;
  if (a.indicator.size() < k_min_points) {
    o.reason = fmt::format("fewer than {} readings of {}", k_min_points, what);
    return o;
  }
  Eigen::MatrixXd controls(static_cast<Eigen::Index>(a.step.size()), 2);
  for (std::size_t i = 0; i < a.step.size(); ++i) {
    controls(static_cast<Eigen::Index>(i), 0) = a.step[i];
    controls(static_cast<Eigen::Index>(i), 1) = a.agents[i];
  }
  const auto c = stats::partial_spearman(a.indicator, a.step_time, controls);
  o.evidence.push_back({fmt::format("partial Spearman({}, step time | step, agents)", what), c.r,
                        c.p, fmt::format("n = {}", c.n)});
  if (!std::isfinite(c.r)) {
    o.reason = fmt::format("{} does not vary once step index and agents are accounted for", what);
    return o;
  }
  o.testable = true;
  o.effect = c.r;
  o.p = c.p;
  std::tie(o.ci_low, o.ci_high) = correlation_interval(c.r, c.n, 2, t.confidence);
  o.supported = sign * c.r >= t.min_partial_r && c.p < t.alpha;
  o.reason = o.supported
                 ? fmt::format("{} goes with slower steps (partial r = {:.2f}, p = {})", what, c.r,
                               format_p(c.p))
                 : fmt::format("{} does not go with slower steps (partial r = {:.2f}, p = {})",
                               what, c.r, format_p(c.p));
  return o;
}

std::pair<double, double> relative_trend(std::span<const double> x, std::span<const double> y) {
  std::vector<double> fx, fy;
  finite_pairs(x, y, fx, fy);
  if (fx.size() < k_min_points) return {k_nan, k_nan};
  std::vector<double> positions;
  const auto medians = block_medians(fx, fy, 1000, positions);
  const auto line = stats::theil_sen(positions, medians, 0.95);
  const double first = line.intercept + line.slope * fx.front();
  const double last = line.intercept + line.slope * fx.back();
  return {std::abs(first) > 0 ? (last - first) / std::abs(first) : k_nan,
          stats::mann_kendall(fy).p};
}

}  // namespace nrmlab::analysis::evidence
