#include "analysis/stats/ols.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>

#include "analysis/stats/correlation.hpp"

namespace nrmlab::analysis::stats {

OlsFit ols(const Eigen::MatrixXd& x, std::span<const double> y) {
  const auto rows = static_cast<std::size_t>(x.rows());
  const auto columns = static_cast<std::size_t>(x.cols());
  if (rows != y.size()) throw std::invalid_argument("ols: X and y differ in rows");
  if (rows <= columns)
    throw std::invalid_argument("ols: needs more observations than coefficients");
  const Eigen::Map<const Eigen::VectorXd> target(y.data(), static_cast<Eigen::Index>(rows));
  const Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr(x);
  if (qr.rank() < static_cast<Eigen::Index>(columns))
    throw std::invalid_argument("ols: the columns of X are linearly dependent");
  const Eigen::VectorXd beta = qr.solve(target);
  const Eigen::VectorXd residuals = target - x * beta;

  OlsFit fit;
  fit.n = rows;
  fit.degrees_of_freedom = rows - columns;
  const double rss = residuals.squaredNorm();
  const double mean = target.mean();
  const double tss = (target.array() - mean).square().sum();
  // Exactly constant y has no variance to explain. Its computed mean may differ from the
  // values by rounding, so tss alone could be a tiny positive number: test the values.
  const bool constant = (target.array() == target(0)).all();
  fit.r_squared =
      tss > 0.0 && !constant ? 1.0 - rss / tss : std::numeric_limits<double>::quiet_NaN();
  // Var(b) = sigma^2 (X'X)^-1, with (X'X)^-1 from R: X P = Q R, so (X'X)^-1 = P R^-1 R^-T P'.
  const double sigma2 = rss / static_cast<double>(fit.degrees_of_freedom);
  const Eigen::MatrixXd r =
      qr.matrixR().topLeftCorner(x.cols(), x.cols()).triangularView<Eigen::Upper>();
  const Eigen::MatrixXd r_inverse =
      r.triangularView<Eigen::Upper>().solve(Eigen::MatrixXd::Identity(x.cols(), x.cols()));
  const Eigen::MatrixXd unpermuted =
      qr.colsPermutation() * (r_inverse * r_inverse.transpose()) * qr.colsPermutation().transpose();
  for (std::size_t j = 0; j < columns; ++j) {
    const auto k = static_cast<Eigen::Index>(j);
    const double coefficient = beta(k);
    const double se = std::sqrt(sigma2 * unpermuted(k, k));
    fit.coefficients.push_back(coefficient);
    fit.standard_errors.push_back(se);
    // An exactly constant y leaves rounding-sized residuals and coefficients whose ratio
    // is an arbitrary t: no test. A zero coefficient with a zero standard error is 0 / 0.
    double t = std::numeric_limits<double>::quiet_NaN();
    if (!constant && se > 0.0) {
      t = coefficient / se;
    } else if (!constant && coefficient != 0.0) {
      t = std::copysign(std::numeric_limits<double>::infinity(), coefficient);
    }
    fit.t.push_back(t);
    fit.p.push_back(two_sided_t_p(t, static_cast<double>(fit.degrees_of_freedom)));
  }
  return fit;
}

OlsFit linear_fit(std::span<const double> x, std::span<const double> y) {
  if (x.size() != y.size()) throw std::invalid_argument("linear_fit: x and y differ in length");
  Eigen::MatrixXd design(static_cast<Eigen::Index>(x.size()), 2);
  for (std::size_t i = 0; i < x.size(); ++i) {
    design(static_cast<Eigen::Index>(i), 0) = 1.0;
    design(static_cast<Eigen::Index>(i), 1) = x[i];
  }
  return ols(design, y);
}

QuadraticFit quadratic_fit(std::span<const double> x, std::span<const double> y) {
  if (x.size() != y.size()) throw std::invalid_argument("quadratic_fit: x and y differ in length");
  QuadraticFit result;
  const auto n = static_cast<double>(x.size());
  for (const double v : x)
    result.x_mean += v / n;
  double variance = 0.0;
  for (const double v : x)
    variance += (v - result.x_mean) * (v - result.x_mean) / n;
  if (!(variance > 0.0)) throw std::invalid_argument("quadratic_fit: x is constant");
  result.x_scale = std::sqrt(variance);
  Eigen::MatrixXd design(static_cast<Eigen::Index>(x.size()), 3);
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double z = (x[i] - result.x_mean) / result.x_scale;
    const auto row = static_cast<Eigen::Index>(i);
    design(row, 0) = 1.0;
    design(row, 1) = z;
    design(row, 2) = z * z;
  }
  result.fit = ols(design, y);
  return result;
}

}  // namespace nrmlab::analysis::stats
