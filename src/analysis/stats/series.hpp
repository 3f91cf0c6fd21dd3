// Transformations of series before testing them: differencing, removing a linear trend,
// and removing the part of a series explained by control variables (the residual method
// of partial correlation).
#pragma once

#include <Eigen/Dense>
#include <span>
#include <vector>

namespace nrmlab::analysis::stats {

// y[i + 1] - y[i]; n - 1 values. Throws std::invalid_argument for fewer than 2 values.
std::vector<double> first_differences(std::span<const double> y);

// Residuals of the least-squares fit y = b0 + b1 x (y minus its mean when x is constant).
// Throws std::invalid_argument when the lengths differ or for fewer than 3 points.
std::vector<double> detrend_linear(std::span<const double> x, std::span<const double> y);

// Residuals of y on an intercept plus the columns of `controls` (one row per value of y;
// zero columns leaves y minus its mean). The residuals are those of the projection onto
// the span of [1, controls], which is unique even when controls are linearly dependent
// (a constant control, say the agent count within one condition, adds nothing and is not
// an error). Throws std::invalid_argument when the rows differ or y is empty.
std::vector<double> residualize(std::span<const double> y, const Eigen::MatrixXd& controls);

// The same for each column of `targets` with one factorisation, and the rank of
// [1, controls] (the degrees of freedom the projection used).
struct Residualized {
  Eigen::MatrixXd residuals;
  std::size_t rank = 0;
};
Residualized residualize_columns(const Eigen::MatrixXd& targets, const Eigen::MatrixXd& controls);

}  // namespace nrmlab::analysis::stats
