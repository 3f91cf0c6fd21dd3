#include "analysis/forecast.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

namespace nrmlab::analysis {
namespace {

// The fit runs on block means: at most this many, so a 10^6-step condition costs what a
// 100-step one does, and a block's mean is the quantity the sums need (a median would
// miss the time a skewed step distribution spends in its tail).
constexpr std::size_t k_max_blocks = 64;
constexpr std::array<double, 3> k_backtest_fractions = {0.10, 0.25, 0.50};

struct Blocks {
  Eigen::VectorXd x;       // the block's mean step index
  Eigen::VectorXd y;       // its mean step time (s)
  Eigen::VectorXd weight;  // its finite steps
};

Blocks block_means(std::span<const double> done) {
  const std::size_t n = done.size();
  const std::size_t count = std::min(n, k_max_blocks);
  Blocks b{Eigen::VectorXd(static_cast<Eigen::Index>(count)),
           Eigen::VectorXd(static_cast<Eigen::Index>(count)),
           Eigen::VectorXd(static_cast<Eigen::Index>(count))};
  Eigen::Index used = 0;
  for (std::size_t k = 0; k < count; ++k) {
    double sx = 0, sy = 0, m = 0;
    for (std::size_t i = k * n / count; i < (k + 1) * n / count; ++i)
      if (std::isfinite(done[i])) {
        sx += static_cast<double>(i);
        sy += done[i];
        m += 1;
      }
    if (m == 0) continue;
    b.x(used) = sx / m;
    b.y(used) = sy / m;
    b.weight(used) = m;
    ++used;
  }
  b.x.conservativeResize(used);
  b.y.conservativeResize(used);
  b.weight.conservativeResize(used);
  return b;
}

// Sum of s^p for s in [from, to), p = 0, 1, 2, in closed form (no loop over the steps to
// come, however many).
double power_sum(int p, double from, double to) {
  const auto upto = [p](double m) {  // sum over [0, m)
    if (p == 0) return m;
    if (p == 1) return m * (m - 1) / 2;
    return (m - 1) * m * (2 * m - 1) / 6;
  };
  return upto(to) - upto(from);
}

struct Fit {
  Eigen::VectorXd coefficients;  // c0 + c1 s + c2 s^2, as many as the degree needs
  double bic = std::numeric_limits<double>::infinity();
};

// Weighted least squares of the block means on a polynomial of `degree` in the step index
// (scaled to [0, 1] for the conditioning), with its BIC.
Fit fit_polynomial(const Blocks& b, int degree, double scale) {
  const Eigen::Index n = b.x.size(), k = degree + 1;
  Eigen::MatrixXd design(n, k);
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = 0; j < k; ++j)
      design(i, j) = std::pow(b.x(i) / scale, static_cast<double>(j));
  const Eigen::VectorXd w = b.weight.cwiseSqrt();
  const Eigen::MatrixXd a = w.asDiagonal() * design;
  const Eigen::VectorXd rhs = w.cwiseProduct(b.y);
  Fit fit;
  fit.coefficients = a.colPivHouseholderQr().solve(rhs);
  // Residuals below the arithmetic's own error are no evidence: an exact line fits a
  // parabola as well to the last bits, and the simpler model must win that tie.
  const double centred = (rhs.array() - rhs.mean()).matrix().squaredNorm();
  const double rss = std::max((a * fit.coefficients - rhs).squaredNorm(), 1e-20 * centred + 1e-300);
  const double nd = static_cast<double>(n);
  fit.bic = nd * std::log(rss / nd) + static_cast<double>(k) * std::log(nd);
  return fit;
}

// The fitted step time at step s (with the same scaling as the fit).
double evaluate(const Fit& fit, double s, double scale) {
  double value = 0, power = 1;
  for (Eigen::Index j = 0; j < fit.coefficients.size(); ++j, power *= s / scale)
    value += fit.coefficients(j) * power;
  return value;
}

// A fit may be extrapolated only while it stays positive up to the last step: a falling
// line or a parabola turning down would forecast steps that take no time.
bool stays_positive(const Fit& fit, double from, double to, double scale) {
  if (evaluate(fit, from, scale) <= 0 || evaluate(fit, to - 1, scale) <= 0) return false;
  if (fit.coefficients.size() == 3 && fit.coefficients(2) != 0) {
    const double vertex = -fit.coefficients(1) / (2 * fit.coefficients(2)) * scale;
    if (vertex > from && vertex < to - 1 && evaluate(fit, vertex, scale) <= 0) return false;
  }
  return true;
}

}  // namespace

TotalForecast forecast_total(std::span<const double> done, std::size_t total_steps) {
  TotalForecast out;
  double sum = 0, finite = 0;
  for (const double v : done)
    if (std::isfinite(v)) {
      sum += v;
      finite += 1;
    }
  if (finite == 0 || total_steps < done.size()) return out;
  const double mean = sum / finite;
  const auto k = static_cast<double>(done.size()), n = static_cast<double>(total_steps);
  const double done_s = sum + (k - finite) * mean;
  out.linear_eta_total_s = done_s + (n - k) * mean;
  if (done.size() < k_min_forecast_steps) return out;
  const Blocks blocks = block_means(done);
  static constexpr std::array<const char*, 3> k_models = {"constant", "linear", "quadratic"};
  Fit best;
  int chosen = -1;
  for (int degree = 0; degree <= 2; ++degree) {
    if (blocks.x.size() < 2 * (degree + 2)) break;  // too few blocks to judge this degree
    const Fit fit = fit_polynomial(blocks, degree, k);
    if (fit.bic < best.bic && stays_positive(fit, k, n, k)) {
      best = fit;
      chosen = degree;
    }
  }
  if (chosen < 0) return out;
  double rest = 0;
  for (Eigen::Index j = 0; j < best.coefficients.size(); ++j)
    rest += best.coefficients(j) * power_sum(static_cast<int>(j), k, n) /
            std::pow(k, static_cast<double>(j));
  out.model = k_models[static_cast<std::size_t>(chosen)];
  out.total_s = done_s + rest;
  return out;
}

std::vector<ForecastBacktest> backtest_forecast(const std::string& condition,
                                                std::span<const double> step_seconds) {
  std::vector<ForecastBacktest> out;
  double actual = 0;
  for (const double v : step_seconds)
    if (std::isfinite(v)) actual += v;
  if (step_seconds.empty() || !(actual > 0)) return out;
  for (const double fraction : k_backtest_fractions) {
    const auto done =
        static_cast<std::size_t>(std::lround(fraction * static_cast<double>(step_seconds.size())));
    if (done == 0) continue;
    const TotalForecast f = forecast_total(step_seconds.first(done), step_seconds.size());
    ForecastBacktest b;
    b.condition = condition;
    b.at_fraction = fraction;
    b.steps_done = done;
    b.model = f.model;
    b.predicted_total_s = f.total_s;
    b.linear_eta_total_s = f.linear_eta_total_s;
    b.actual_total_s = actual;
    b.predicted_error = (f.total_s - actual) / actual;
    b.linear_eta_error = (f.linear_eta_total_s - actual) / actual;
    out.push_back(std::move(b));
  }
  return out;
}

Prediction predict_run(const RunData& run) {
  Prediction p;
  // Fixed windows of wall time each last the window, whatever the program did: nothing to
  // forecast from them.
  if (parse_step_source(run.meta_value("step_source", "engine")) == StepSource::time_windows)
    return p;
  for (const ConditionData& c : run.conditions) {
    if (!c.steps.has("wall_ns")) continue;
    const auto wall = c.steps["wall_ns"];
    std::vector<double> seconds(wall.begin(), wall.end());
    for (double& v : seconds)
      v *= 1e-9;
    for (auto& b : backtest_forecast(c.name, seconds))
      p.backtest.push_back(std::move(b));
  }
  return p;
}

void LiveEta::begin_condition() {
  if (m_begun > 0) {
    m_finished_s.push_back(m_in_condition_s);
    m_finished_steps_s += m_in_condition_s;
  }
  m_entries.clear();
  m_stride = 1;
  m_pending = 0;
  m_pending_s = 0.0;
  m_done = 0;
  m_in_condition_s = 0.0;
  ++m_begun;
}

void LiveEta::add_step(double seconds) {
  ++m_done;
  m_in_condition_s += seconds;
  m_pending_s += seconds;
  if (++m_pending < m_stride) return;
  m_entries.push_back(m_pending_s);
  m_pending = 0;
  m_pending_s = 0.0;
  if (m_entries.size() >= m_max_entries) compact();
}

// Neighbouring entries summed, the stride doubled; an odd last entry waits as pending.
void LiveEta::compact() {
  const std::size_t pairs = m_entries.size() / 2;
  if (m_entries.size() % 2 == 1) {
    m_pending = m_stride;
    m_pending_s = m_entries.back();
  }
  for (std::size_t i = 0; i < pairs; ++i)
    m_entries[i] = m_entries[2 * i] + m_entries[2 * i + 1];
  m_entries.resize(pairs);
  m_stride *= 2;
}

LiveEta::Estimate LiveEta::estimate() const {
  Estimate out;
  const std::size_t later = m_conditions > m_begun ? m_conditions - m_begun : 0;
  // The mean rate over every step of the run so far, as a progress bar has it.
  const double done_steps =
      static_cast<double>(m_finished_s.size() * m_steps_per_condition + m_done);
  const double total_steps = static_cast<double>(m_conditions * m_steps_per_condition);
  const double elapsed = m_finished_steps_s + m_in_condition_s;
  if (done_steps > 0)
    out.rate_remaining_s = elapsed / done_steps * std::max(0.0, total_steps - done_steps);
  // The trend over whole entries (m_stride steps each): the condition's total in entries.
  const TotalForecast forecast =
      forecast_total(m_entries, (m_steps_per_condition + m_stride - 1) / m_stride);
  if (forecast.model.empty() || m_done > m_steps_per_condition) {
    out.remaining_s = out.rate_remaining_s;
    out.basis = "mean rate";
    return out;
  }
  const double per_condition = m_finished_s.empty()
                                   ? forecast.total_s
                                   : m_finished_steps_s / static_cast<double>(m_finished_s.size());
  out.remaining_s = std::max(0.0, forecast.total_s - m_in_condition_s) +
                    static_cast<double>(later) * per_condition;
  out.basis = forecast.model + " trend";
  return out;
}

}  // namespace nrmlab::analysis
