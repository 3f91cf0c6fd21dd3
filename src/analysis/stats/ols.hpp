// Ordinary least squares by QR decomposition (Eigen), with R^2, coefficient standard
// errors, t statistics and two-sided p-values; and the degree-2 polynomial fit that paper
// mode's H2 test needs, on centred and scaled x (x^2 reaches 1e8 on raw step indices).
#pragma once

#include <Eigen/Dense>
#include <span>
#include <vector>

namespace nrmlab::analysis::stats {

struct OlsFit {
  std::vector<double> coefficients;  // in the columns' order
  std::vector<double> standard_errors;
  std::vector<double> t;
  std::vector<double> p;  // two-sided
  double r_squared = 0.0;
  std::size_t n = 0;
  std::size_t degrees_of_freedom = 0;
};

// Fits y = X b. X must have full column rank and more rows than columns; otherwise
// std::invalid_argument. R^2 is relative to the mean of y (X should contain an intercept);
// NaN when y is constant, and so are every t and p (an exactly constant y has no test).
OlsFit ols(const Eigen::MatrixXd& x, std::span<const double> y);

// y = b0 + b1 x (an intercept column is added).
OlsFit linear_fit(std::span<const double> x, std::span<const double> y);

// y = b0 + b1 z + b2 z^2 with z = (x - mean(x)) / sd(x). The sign of b2 and R^2 are those
// of the fit on raw x; the coefficients are on the z scale.
struct QuadraticFit {
  OlsFit fit;
  double x_mean = 0.0;
  double x_scale = 1.0;
};
QuadraticFit quadratic_fit(std::span<const double> x, std::span<const double> y);

}  // namespace nrmlab::analysis::stats
