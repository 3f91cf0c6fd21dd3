#include "analysis/stats/series.hpp"

#include <stdexcept>

namespace nrmlab::analysis::stats {

std::vector<double> first_differences(std::span<const double> y) {
  if (y.size() < 2) throw std::invalid_argument("first_differences: needs at least 2 values");
  std::vector<double> differences(y.size() - 1);
  for (std::size_t i = 0; i + 1 < y.size(); ++i)
    differences[i] = y[i + 1] - y[i];
  return differences;
}

std::vector<double> detrend_linear(std::span<const double> x, std::span<const double> y) {
  if (x.size() != y.size()) throw std::invalid_argument("detrend_linear: x and y differ in length");
  if (y.size() < 3) throw std::invalid_argument("detrend_linear: needs at least 3 points");
  const Eigen::Map<const Eigen::VectorXd> column(x.data(), static_cast<Eigen::Index>(x.size()));
  return residualize(y, column);
}

std::vector<double> residualize(std::span<const double> y, const Eigen::MatrixXd& controls) {
  const Eigen::Map<const Eigen::VectorXd> target(y.data(), static_cast<Eigen::Index>(y.size()));
  const Residualized result = residualize_columns(target, controls);
  return {result.residuals.col(0).begin(), result.residuals.col(0).end()};
}

Residualized residualize_columns(const Eigen::MatrixXd& targets, const Eigen::MatrixXd& controls) {
  const Eigen::Index rows = targets.rows();
  if (controls.rows() != rows)
    throw std::invalid_argument("residualize: the series and the controls differ in rows");
  if (rows == 0) throw std::invalid_argument("residualize: no points");
  Eigen::MatrixXd design(rows, controls.cols() + 1);
  design.col(0).setOnes();
  design.rightCols(controls.cols()) = controls;
  // Column pivoting finds the rank; solve() then uses only independent columns, and the
  // residual of the projection does not depend on which ones.
  const Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr(design);
  Residualized result;
  result.rank = static_cast<std::size_t>(qr.rank());
  result.residuals = targets - design * qr.solve(targets);
  return result;
}

}  // namespace nrmlab::analysis::stats
