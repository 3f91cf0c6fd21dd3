// Non-negative least squares, min ||A x - b|| subject to x >= 0, by Lawson and Hanson's
// active-set algorithm (Solving Least Squares Problems, 1974, ch. 23), the algorithm behind
// scipy.optimize.nnls. Used to split a slowdown into non-negative contributions of
// candidate causes.
//
// The iterations work on the Gram matrix A'A and A'b (k x k and k), never on the rows, so
// a tall A (10^6 rows, a dozen columns) costs one O(n k^2) product plus O(k^3) per
// iteration. The price is the squared condition number of A'A; the A overload removes most
// of it again with a refinement step on the rows.
#pragma once

#include <Eigen/Dense>
#include <cstddef>
#include <span>
#include <vector>

namespace nrmlab::analysis::stats {

struct NnlsFit {
  std::vector<double> coefficients;
  // active[j]: the constraint x_j >= 0 is active, i.e. coefficient j is held at exactly 0
  // (Lawson and Hanson's set Z).
  std::vector<bool> active;
  double residual_norm = 0.0;  // ||A x - b||
  double r_squared = 0.0;      // 1 - RSS / sum (b - mean b)^2; NaN when b is constant
  std::size_t iterations = 0;  // passive-set solves
};

// The least-squares normal equations of a tall problem, enough to solve it and to report
// the residual and R^2 without the rows.
struct NormalEquations {
  Eigen::MatrixXd gram;         // A'A
  Eigen::VectorXd correlation;  // A'b
  double b_squared_norm = 0.0;  // b'b
  double b_sum = 0.0;           // sum of b, for R^2
  std::size_t rows = 0;
};

// Throws std::invalid_argument when the rows differ or A has no columns or no rows.
NormalEquations normal_equations(const Eigen::MatrixXd& a, std::span<const double> b);

// Solves from the normal equations alone. residual_norm comes from
// b'b - 2 x'A'b + x'A'A x and so is accurate only to about 1e-16 b'b in RSS (a nearly
// exact fit reports a residual of rounding size). Throws std::invalid_argument on
// inconsistent sizes.
NnlsFit nnls(const NormalEquations& equations);

// Solves min ||A x - b||, x >= 0. Coefficients agree with scipy.optimize.nnls to about
// 1e-8 relative on reasonably conditioned A; the residual is computed from the rows.
// Both overloads throw std::runtime_error if rounding makes the active set cycle (more
// than 30 k passive-set solves; never seen, Lawson-Hanson needs about k).
NnlsFit nnls(const Eigen::MatrixXd& a, std::span<const double> b);

}  // namespace nrmlab::analysis::stats
