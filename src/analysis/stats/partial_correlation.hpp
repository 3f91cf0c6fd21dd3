// Partial correlation of x and y controlling for k covariates by the residual method:
// correlate the residuals of x and of y on an intercept plus the covariates (what pingouin's
// partial_corr computes). The p-value is two-sided from t with n - 2 - k degrees of freedom,
// t = r sqrt((n - 2 - k) / (1 - r^2)): each covariate costs a degree of freedom that the
// plain correlation of the residuals would not charge.
#pragma once

#include <Eigen/Dense>
#include <span>

#include "analysis/stats/correlation.hpp"

namespace nrmlab::analysis::stats {

// `controls` has one row per point and one column per covariate (zero columns gives the
// plain correlation). k counts only linearly independent covariates (a constant or
// duplicated covariate changes nothing and costs no degree of freedom). r and p are NaN
// when x or y is constant after residualising (residual norm within 1e-10 of the series'
// own norm sqrt(sum v^2): exactly constant, or explained exactly by the covariates) or
// n - 2 - k < 1. Throws std::invalid_argument when the lengths differ.
Correlation partial_pearson(std::span<const double> x, std::span<const double> y,
                            const Eigen::MatrixXd& controls);
// The same on average ranks of x, y and each covariate.
Correlation partial_spearman(std::span<const double> x, std::span<const double> y,
                             const Eigen::MatrixXd& controls);

}  // namespace nrmlab::analysis::stats
