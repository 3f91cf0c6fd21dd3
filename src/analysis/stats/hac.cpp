#include "analysis/stats/hac.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "analysis/stats/p_values.hpp"
#include "util/numeric.hpp"

namespace nrmlab::analysis::stats {
namespace {

// The fixed-b null distribution of Q (see hac.hpp), printed by
// tests/data/make_fixed_b_table.cpp: each row is a cell of the distribution, {its
// probability, the quantile of Q at the cell's middle}. Cells are finer in the lower tail,
// where small Q makes large |t| and the small p-values come from.
struct QuantileCell {
  double mass;
  double q;
};
constexpr QuantileCell k_fixed_b_q[] = {
    {2e-05, 0.014652854},  {8e-05, 0.017216758},  {0.0004, 0.020520786}, {0.0005, 0.023017538},
    {0.0015, 0.025788155}, {0.0025, 0.029007487}, {0.005, 0.032685289},  {0.01, 0.037415447},
    {0.01, 0.041924694},   {0.01, 0.045556853},   {0.01, 0.048726071},   {0.01, 0.051614096},
    {0.01, 0.054294119},   {0.01, 0.056852419},   {0.01, 0.059280456},   {0.01, 0.061635173},
    {0.01, 0.063902567},   {0.01, 0.06613464},    {0.01, 0.068286856},   {0.01, 0.070466154},
    {0.01, 0.072588097},   {0.01, 0.074736893},   {0.01, 0.076844513},   {0.01, 0.078910607},
    {0.01, 0.08100746},    {0.01, 0.083095626},   {0.01, 0.085199224},   {0.01, 0.087320575},
    {0.01, 0.089443966},   {0.01, 0.091569425},   {0.01, 0.093684887},   {0.01, 0.095857702},
    {0.01, 0.098069971},   {0.01, 0.10028958},    {0.01, 0.10254607},    {0.01, 0.10479585},
    {0.01, 0.10706397},    {0.01, 0.10938197},    {0.01, 0.1117614},     {0.01, 0.11416407},
    {0.01, 0.11656203},    {0.01, 0.11900465},    {0.01, 0.12148019},    {0.01, 0.12404567},
    {0.01, 0.12664755},    {0.01, 0.12927765},    {0.01, 0.13196824},    {0.01, 0.13468821},
    {0.01, 0.13746353},    {0.01, 0.14030965},    {0.01, 0.14322704},    {0.01, 0.14617121},
    {0.01, 0.14917049},    {0.01, 0.15228039},    {0.01, 0.15542347},    {0.01, 0.1586421},
    {0.01, 0.16196486},    {0.01, 0.16537235},    {0.01, 0.16885952},    {0.01, 0.17243732},
    {0.01, 0.17612187},    {0.01, 0.17989664},    {0.01, 0.18377927},    {0.01, 0.18774663},
    {0.01, 0.19188864},    {0.01, 0.1961494},     {0.01, 0.20055617},    {0.01, 0.20510192},
    {0.01, 0.20976741},    {0.01, 0.21452905},    {0.01, 0.21955856},    {0.01, 0.22468985},
    {0.01, 0.23008703},    {0.01, 0.23559786},    {0.01, 0.24139179},    {0.01, 0.24742221},
    {0.01, 0.25371292},    {0.01, 0.26018934},    {0.01, 0.26695967},    {0.01, 0.27411852},
    {0.01, 0.28153169},    {0.01, 0.28934262},    {0.01, 0.29768856},    {0.01, 0.30628651},
    {0.01, 0.31543767},    {0.01, 0.32506644},    {0.01, 0.33533781},    {0.01, 0.34630262},
    {0.01, 0.35796888},    {0.01, 0.37030142},    {0.01, 0.38363011},    {0.01, 0.3979939},
    {0.01, 0.41339941},    {0.01, 0.43024345},    {0.01, 0.44856111},    {0.01, 0.46890003},
    {0.01, 0.49145748},    {0.01, 0.5168898},     {0.01, 0.5461538},     {0.01, 0.57955648},
    {0.01, 0.61877266},    {0.01, 0.66672753},    {0.01, 0.72728255},    {0.01, 0.81147144},
    {0.01, 0.93956303},    {0.01, 1.2186631},
};

constexpr double k_max_ar = 0.99;

// Sum over s, t of (1 - |s - t| / T) w_s w_t for the series w of length T, in O(T) through
// the partial sums S_t and their complements R_t = S_T - S_t (Kiefer, Vogelsang and Bunzel
// 2000): the sum equals (sum_{t<T} (S_t^2 + R_t^2) + S_T^2) / T.
double bartlett_full_bandwidth_sum(std::span<const double> w) {
  double total = 0.0;
  for (const double v : w)
    total += v;
  double partial = 0.0, squares = 0.0;
  for (std::size_t t = 0; t + 1 < w.size(); ++t) {
    partial += w[t];
    const double rest = total - partial;
    squares += partial * partial + rest * rest;
  }
  return (squares + total * total) / static_cast<double>(w.size());
}

}  // namespace

double fixed_b_p(double t) {
  if (std::isnan(t)) return k_nan;
  if (std::isinf(t)) return 0.0;
  double p = 0.0;
  for (const QuantileCell& cell : k_fixed_b_q)
    p += cell.mass * std::erfc(std::fabs(t) * std::sqrt(cell.q) / std::sqrt(2.0));
  return std::min(p, 1.0);
}

double fixed_b_mean_q() {
  double mean = 0.0;
  for (const QuantileCell& cell : k_fixed_b_q)
    mean += cell.mass * cell.q;
  return mean;
}

double fixed_b_critical_value(double confidence) {
  if (!(confidence > 0.0 && confidence < 1.0))
    throw std::invalid_argument("fixed_b_critical_value: confidence is outside (0, 1)");
  // fixed_b_p falls monotonically from 1 at 0; bisect (60 halvings reach double precision).
  double low = 0.0, high = 1.0;
  while (fixed_b_p(high) > 1.0 - confidence)
    high *= 2.0;
  for (int i = 0; i < 60; ++i) {
    const double middle = 0.5 * (low + high);
    (fixed_b_p(middle) > 1.0 - confidence ? low : high) = middle;
  }
  return 0.5 * (low + high);
}

double prewhitened_score_variance(std::span<const double> centred_x,
                                  std::span<const double> residuals, double* ar) {
  const std::size_t n = residuals.size();
  if (centred_x.size() != n || n < 3)
    throw std::invalid_argument("prewhitened_score_variance: needs equal lengths of at least 3");
  double lagged = 0.0, previous = 0.0;
  for (std::size_t t = 1; t < n; ++t) {
    lagged += residuals[t] * residuals[t - 1];
    previous += residuals[t - 1] * residuals[t - 1];
  }
  const double size = static_cast<double>(n);
  const double estimate = previous > 0.0 ? lagged / previous : 0.0;
  const double phi = std::clamp(estimate + (2.0 + 4.0 * estimate) / size, -k_max_ar, k_max_ar);
  if (ar != nullptr) *ar = phi;
  std::vector<double> whitened(n - 1);
  for (std::size_t t = 1; t < n; ++t)
    whitened[t - 1] = centred_x[t] * residuals[t] - phi * centred_x[t - 1] * residuals[t - 1];
  // The sum estimates (n - 1) times the long-run variance of w; rescale to n terms and
  // recolour.
  return bartlett_full_bandwidth_sum(whitened) * size / (size - 1.0) / ((1.0 - phi) * (1.0 - phi));
}

std::size_t newey_west_lag(std::size_t n) {
  return static_cast<std::size_t>(
      std::floor(4.0 * std::pow(static_cast<double>(n) / 100.0, 2.0 / 9.0)));
}

OlsFit ols_hac(const Eigen::MatrixXd& x, std::span<const double> y,
               std::optional<std::size_t> lag) {
  const auto rows = x.rows();
  const auto columns = x.cols();
  if (static_cast<std::size_t>(rows) != y.size())
    throw std::invalid_argument("ols_hac: X and y differ in rows");
  if (rows <= columns)
    throw std::invalid_argument("ols_hac: needs more observations than coefficients");
  const Eigen::Map<const Eigen::VectorXd> target(y.data(), rows);
  const Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr(x);
  if (qr.rank() < columns)
    throw std::invalid_argument("ols_hac: the columns of X are linearly dependent");
  const Eigen::VectorXd beta = qr.solve(target);
  const Eigen::VectorXd residuals = target - x * beta;

  // (X'X)^-1 from R (X P = Q R), never from forming X'X, which squares the condition number.
  const Eigen::MatrixXd r = qr.matrixR().topLeftCorner(columns, columns);
  const Eigen::MatrixXd r_inverse =
      r.triangularView<Eigen::Upper>().solve(Eigen::MatrixXd::Identity(columns, columns));
  const Eigen::MatrixXd bread =
      qr.colsPermutation() * (r_inverse * r_inverse.transpose()) * qr.colsPermutation().transpose();

  // The scores u_t = x_t e_t; each lag's cross-products are one (n - l) x k by k GEMM, so
  // the cost is O(n k^2) per lag and nothing n x n is ever formed.
  const Eigen::MatrixXd scores = x.array().colwise() * residuals.array();
  const std::size_t lags = lag.value_or(newey_west_lag(static_cast<std::size_t>(rows)));
  Eigen::MatrixXd meat = scores.transpose() * scores;
  for (std::size_t l = 1; l <= lags && static_cast<Eigen::Index>(l) < rows; ++l) {
    const auto shift = static_cast<Eigen::Index>(l);
    const double weight = 1.0 - static_cast<double>(l) / static_cast<double>(lags + 1);
    const Eigen::MatrixXd cross =
        scores.bottomRows(rows - shift).transpose() * scores.topRows(rows - shift);
    meat += weight * (cross + cross.transpose());
  }
  const Eigen::MatrixXd covariance = bread * meat * bread;

  OlsFit fit;
  fit.n = static_cast<std::size_t>(rows);
  fit.degrees_of_freedom = static_cast<std::size_t>(rows - columns);
  const double rss = residuals.squaredNorm();
  const double tss = (target.array() - target.mean()).square().sum();
  const bool constant = (target.array() == target(0)).all();
  fit.r_squared = tss > 0.0 && !constant ? 1.0 - rss / tss : k_nan;
  for (Eigen::Index j = 0; j < columns; ++j) {
    const double coefficient = beta(j);
    const double se = std::sqrt(std::max(covariance(j, j), 0.0));
    // 0 / 0: a zero coefficient known exactly has no t statistic, and neither has any
    // coefficient of an exactly constant y (rounding-sized residuals: an arbitrary t).
    double t = k_nan;
    if (!constant && se > 0.0) {
      t = coefficient / se;
    } else if (!constant && coefficient != 0.0) {
      t = std::copysign(std::numeric_limits<double>::infinity(), coefficient);
    }
    fit.coefficients.push_back(coefficient);
    fit.standard_errors.push_back(se);
    fit.t.push_back(t);
    fit.p.push_back(two_sided_normal_p(t));
  }
  return fit;
}

HacTrend hac_trend(std::span<const double> x, std::span<const double> y, double confidence) {
  if (x.size() != y.size()) throw std::invalid_argument("hac_trend: x and y differ in length");
  if (x.size() < 3) throw std::invalid_argument("hac_trend: needs at least 3 points");
  if (!(confidence > 0.0 && confidence < 1.0))
    throw std::invalid_argument("hac_trend: confidence is outside (0, 1)");
  const std::size_t n = x.size();
  const auto size = static_cast<double>(n);
  double x_mean = 0.0, y_mean = 0.0;
  for (std::size_t t = 0; t < n; ++t) {
    x_mean += x[t] / size;
    y_mean += y[t] / size;
  }
  std::vector<double> centred(n), residuals(n);
  double sxx = 0.0, sxy = 0.0;
  for (std::size_t t = 0; t < n; ++t) {
    centred[t] = x[t] - x_mean;
    sxx += centred[t] * centred[t];
    sxy += centred[t] * (y[t] - y_mean);
  }
  if (!(sxx > 0.0)) throw std::invalid_argument("hac_trend: x is constant");
  HacTrend trend;
  trend.n = n;
  trend.lag = n - 1;
  // Exactly constant y: no trend, and rounding in the means must not fake one (a slope of
  // 1e-20 with a standard error of 0 would be "infinitely significant").
  if (std::all_of(y.begin(), y.end(), [&](double v) { return v == y[0]; })) {
    trend.intercept = y[0];
    trend.p = 1.0;
    return trend;
  }
  trend.slope = sxy / sxx;
  trend.intercept = y_mean - trend.slope * x_mean;
  for (std::size_t t = 0; t < n; ++t)
    residuals[t] = y[t] - y_mean - trend.slope * centred[t];
  const double variance = prewhitened_score_variance(centred, residuals, &trend.prewhitening_ar);
  trend.standard_error = std::sqrt(std::max(variance, 0.0)) / sxx;
  double t = k_nan;  // 0 / 0 cannot happen here (y is not constant), but stay defined
  if (trend.standard_error > 0.0) {
    t = trend.slope / trend.standard_error;
  } else if (trend.slope != 0.0) {
    t = std::copysign(std::numeric_limits<double>::infinity(), trend.slope);  // exact line
  }
  trend.p = fixed_b_p(t);
  const double c = fixed_b_critical_value(confidence);
  trend.ci_low = trend.slope - c * trend.standard_error;
  trend.ci_high = trend.slope + c * trend.standard_error;
  return trend;
}

}  // namespace nrmlab::analysis::stats
