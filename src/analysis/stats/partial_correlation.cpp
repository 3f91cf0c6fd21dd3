#include "analysis/stats/partial_correlation.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "analysis/stats/ranks.hpp"
#include "analysis/stats/series.hpp"
#include "util/numeric.hpp"

namespace nrmlab::analysis::stats {
namespace {

// Residuals whose norm is below this fraction of the series' own norm are rounding noise:
// the covariates (or the intercept alone) explain the series exactly and the partial
// correlation is undefined (correlating the noise would give an arbitrary r). The norm is
// the uncentred one, sqrt(sum x^2): relative to the centred norm, an exactly constant
// series (centred norm 0, or rounding-sized) slipped through with r up to 1.00 and p = 0.
constexpr double k_exact_fit = 1e-10;

double sum_of_squares(std::span<const double> values) {
  double sum = 0.0;
  for (const double v : values)
    sum += v * v;
  return sum;
}

void check_shapes(std::span<const double> x, std::span<const double> y,
                  const Eigen::MatrixXd& controls, const char* function) {
  if (x.size() != y.size())
    throw std::invalid_argument(std::string(function) + ": x and y differ in length");
  if (controls.rows() != static_cast<Eigen::Index>(x.size()))
    throw std::invalid_argument(std::string(function) + ": the controls differ in rows from x");
}

// Pearson r of the residuals; the p-value charges the covariates' degrees of freedom.
Correlation residual_correlation(std::span<const double> x, std::span<const double> y,
                                 const Eigen::MatrixXd& controls) {
  const std::size_t n = x.size();
  if (n < 3) return {k_nan, k_nan, n};
  Eigen::MatrixXd targets(static_cast<Eigen::Index>(n), 2);
  targets.col(0) = Eigen::Map<const Eigen::VectorXd>(x.data(), static_cast<Eigen::Index>(n));
  targets.col(1) = Eigen::Map<const Eigen::VectorXd>(y.data(), static_cast<Eigen::Index>(n));
  const Residualized fitted = residualize_columns(targets, controls);
  const std::size_t covariates = fitted.rank - 1;    // the intercept is not a covariate
  if (n < covariates + 3) return {k_nan, k_nan, n};  // n - 2 - k < 1
  const auto rx = fitted.residuals.col(0), ry = fitted.residuals.col(1);
  // Residuals on an intercept already have mean zero (to rounding).
  const double sxy = rx.dot(ry), sxx = rx.squaredNorm(), syy = ry.squaredNorm();
  const double floor = k_exact_fit * k_exact_fit;
  if (!(sxx > floor * sum_of_squares(x)) || !(syy > floor * sum_of_squares(y)))
    return {k_nan, k_nan, n};
  Correlation result;
  result.n = n;
  result.r = std::clamp(sxy / std::sqrt(sxx * syy), -1.0, 1.0);
  const auto df = static_cast<double>(n - 2 - covariates);
  result.p = std::fabs(result.r) == 1.0
                 ? 0.0
                 : two_sided_t_p(result.r * std::sqrt(df / (1.0 - result.r * result.r)), df);
  return result;
}

}  // namespace

Correlation partial_pearson(std::span<const double> x, std::span<const double> y,
                            const Eigen::MatrixXd& controls) {
  check_shapes(x, y, controls, "partial_pearson");
  return residual_correlation(x, y, controls);
}

Correlation partial_spearman(std::span<const double> x, std::span<const double> y,
                             const Eigen::MatrixXd& controls) {
  check_shapes(x, y, controls, "partial_spearman");
  const std::vector<double> rank_x = average_ranks(x), rank_y = average_ranks(y);
  Eigen::MatrixXd ranked(controls.rows(), controls.cols());
  for (Eigen::Index j = 0; j < controls.cols(); ++j) {
    const Eigen::VectorXd column = controls.col(j);
    const std::vector<double> ranks = average_ranks(
        std::span<const double>(column.data(), static_cast<std::size_t>(column.size())));
    ranked.col(j) = Eigen::Map<const Eigen::VectorXd>(ranks.data(), column.size());
  }
  return residual_correlation(rank_x, rank_y, ranked);
}

}  // namespace nrmlab::analysis::stats
