#include "analysis/stats/hac.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "analysis/stats/p_values.hpp"

namespace nrmlab::analysis::stats {
namespace {

constexpr double k_nan = std::numeric_limits<double>::quiet_NaN();

}  // namespace

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
  fit.r_squared = tss > 0.0 ? 1.0 - rss / tss : k_nan;
  for (Eigen::Index j = 0; j < columns; ++j) {
    const double coefficient = beta(j);
    const double se = std::sqrt(std::max(covariance(j, j), 0.0));
    double t = k_nan;  // 0 / 0: a zero coefficient known exactly has no t statistic
    if (se > 0.0) {
      t = coefficient / se;
    } else if (coefficient != 0.0) {
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
  const auto rows = static_cast<Eigen::Index>(x.size());
  Eigen::MatrixXd design(rows, 2);
  design.col(0).setOnes();
  design.col(1) = Eigen::Map<const Eigen::VectorXd>(x.data(), rows);
  HacTrend trend;
  trend.n = x.size();
  trend.lag = newey_west_lag(trend.n);
  const OlsFit fit = ols_hac(design, y, trend.lag);
  trend.intercept = fit.coefficients[0];
  trend.slope = fit.coefficients[1];
  trend.standard_error = fit.standard_errors[1];
  trend.p = fit.p[1];
  const double z = normal_quantile(0.5 + 0.5 * confidence);
  trend.ci_low = trend.slope - z * trend.standard_error;
  trend.ci_high = trend.slope + z * trend.standard_error;
  return trend;
}

}  // namespace nrmlab::analysis::stats
