#include "analysis/stats/nnls.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "util/numeric.hpp"

namespace nrmlab::analysis::stats {
namespace {

constexpr double k_epsilon = std::numeric_limits<double>::epsilon();
// Lawson and Hanson terminate in finitely many steps; this only guards against rounding
// cycling in a degenerate problem (scipy's Fortran allows 3k).
constexpr std::size_t k_iterations_per_column = 30;
// The normal-equations form cannot see a constant b below this relative spread.
constexpr double k_constant_b = 1e-12;

struct Solution {
  Eigen::VectorXd x;
  std::vector<bool> passive;
  std::size_t iterations = 0;
};

std::vector<Eigen::Index> indices_of(const std::vector<bool>& passive) {
  std::vector<Eigen::Index> indices;
  for (std::size_t j = 0; j < passive.size(); ++j)
    if (passive[j]) indices.push_back(static_cast<Eigen::Index>(j));
  return indices;
}

// The unconstrained least-squares solution on the passive columns, zero elsewhere.
// LDLT copes with a singular sub-Gram matrix (collinear columns) by zeroing its null
// directions instead of dividing by a rounding-size pivot.
Eigen::VectorXd solve_passive(const Eigen::MatrixXd& gram, const Eigen::VectorXd& rhs,
                              const std::vector<Eigen::Index>& indices) {
  const auto size = static_cast<Eigen::Index>(indices.size());
  Eigen::MatrixXd sub(size, size);
  Eigen::VectorXd sub_rhs(size);
  for (Eigen::Index r = 0; r < size; ++r) {
    sub_rhs(r) = rhs(indices[static_cast<std::size_t>(r)]);
    for (Eigen::Index c = 0; c < size; ++c)
      sub(r, c) = gram(indices[static_cast<std::size_t>(r)], indices[static_cast<std::size_t>(c)]);
  }
  const Eigen::VectorXd solution = sub.ldlt().solve(sub_rhs);
  Eigen::VectorXd full = Eigen::VectorXd::Zero(gram.cols());
  for (Eigen::Index r = 0; r < size; ++r)
    full(indices[static_cast<std::size_t>(r)]) = solution(r);
  return full;
}

Solution lawson_hanson(const Eigen::MatrixXd& gram, const Eigen::VectorXd& atb) {
  const Eigen::Index k = gram.cols();
  const auto columns = static_cast<std::size_t>(k);
  Solution s{Eigen::VectorXd::Zero(k), std::vector<bool>(columns, false), 0};
  // Columns whose entry was rejected for rounding (z_t <= 0 right after entering); they
  // may enter again once x has moved.
  std::vector<bool> rejected(columns, false);
  const double gram_scale = gram.cwiseAbs().maxCoeff();
  const double atb_scale = atb.cwiseAbs().maxCoeff();
  const std::size_t limit = k_iterations_per_column * columns + 10;

  while (true) {
    const Eigen::VectorXd w = atb - gram * s.x;  // the negative gradient, A'(b - A x)
    // w is computed to about eps (|A'b| + |A'A| |x|); anything below that is zero.
    const double tolerance = 10.0 * static_cast<double>(columns) * k_epsilon *
                             (atb_scale + gram_scale * s.x.cwiseAbs().sum());
    Eigen::Index entering = -1;
    double best = tolerance;
    for (Eigen::Index j = 0; j < k; ++j) {
      const auto u = static_cast<std::size_t>(j);
      if (!s.passive[u] && !rejected[u] && w(j) > best) {
        best = w(j);
        entering = j;
      }
    }
    if (entering < 0) break;  // Kuhn-Tucker conditions hold
    s.passive[static_cast<std::size_t>(entering)] = true;

    bool first = true;
    while (true) {
      if (++s.iterations > limit) throw std::runtime_error("nnls: no convergence (cycling)");
      const auto indices = indices_of(s.passive);
      const Eigen::VectorXd z = solve_passive(gram, atb, indices);
      if (first && !(z(entering) > 0.0)) {
        // In exact arithmetic w_t > 0 guarantees z_t > 0; rounding broke that.
        s.passive[static_cast<std::size_t>(entering)] = false;
        rejected[static_cast<std::size_t>(entering)] = true;
        break;
      }
      first = false;
      bool feasible = true;
      double alpha = 1.0;
      Eigen::Index blocking = -1;
      for (const Eigen::Index j : indices) {
        if (z(j) > 0.0) continue;
        feasible = false;
        // x_j >= 0 >= z_j; x_j = 0 (the entering column falling back) gives step 0.
        const double step = s.x(j) > 0.0 ? s.x(j) / (s.x(j) - z(j)) : 0.0;
        if (blocking < 0 || step < alpha) {
          alpha = step;
          blocking = j;
        }
      }
      if (feasible) {
        s.x = z;
        std::fill(rejected.begin(), rejected.end(), false);
        break;
      }
      // Move towards z until the first passive coefficient reaches zero; it (and any other
      // that rounding pushed to zero) becomes active.
      s.x += alpha * (z - s.x);
      for (const Eigen::Index j : indices) {
        if (j == blocking || s.x(j) <= 0.0) {
          s.x(j) = 0.0;
          s.passive[static_cast<std::size_t>(j)] = false;
        }
      }
    }
  }
  return s;
}

NnlsFit to_fit(const Solution& solution) {
  NnlsFit fit;
  fit.coefficients.assign(solution.x.begin(), solution.x.end());
  fit.active.resize(solution.passive.size());
  for (std::size_t j = 0; j < solution.passive.size(); ++j)
    fit.active[j] = !solution.passive[j];
  fit.iterations = solution.iterations;
  return fit;
}

}  // namespace

NormalEquations normal_equations(const Eigen::MatrixXd& a, std::span<const double> b) {
  if (static_cast<std::size_t>(a.rows()) != b.size())
    throw std::invalid_argument("normal_equations: A and b differ in rows");
  if (a.rows() == 0 || a.cols() == 0)
    throw std::invalid_argument("normal_equations: A has no rows or no columns");
  const Eigen::Map<const Eigen::VectorXd> target(b.data(), a.rows());
  NormalEquations equations;
  equations.gram = Eigen::MatrixXd::Zero(a.cols(), a.cols());
  equations.gram.selfadjointView<Eigen::Lower>().rankUpdate(a.transpose());
  equations.gram = equations.gram.selfadjointView<Eigen::Lower>();
  equations.correlation = a.transpose() * target;
  equations.b_squared_norm = target.squaredNorm();
  equations.b_sum = target.sum();
  equations.rows = b.size();
  return equations;
}

NnlsFit nnls(const NormalEquations& equations) {
  const Eigen::Index k = equations.gram.cols();
  if (k == 0 || equations.gram.rows() != k || equations.correlation.size() != k)
    throw std::invalid_argument("nnls: the Gram matrix and A'b have inconsistent sizes");
  if (equations.rows == 0) throw std::invalid_argument("nnls: no rows");
  NnlsFit fit = to_fit(lawson_hanson(equations.gram, equations.correlation));
  const Eigen::Map<const Eigen::VectorXd> x(fit.coefficients.data(), k);
  const double rss = std::max(
      equations.b_squared_norm - 2.0 * x.dot(equations.correlation) + x.dot(equations.gram * x),
      0.0);
  fit.residual_norm = std::sqrt(rss);
  const double tss = equations.b_squared_norm -
                     equations.b_sum * equations.b_sum / static_cast<double>(equations.rows);
  fit.r_squared = tss > k_constant_b * equations.b_squared_norm ? 1.0 - rss / tss : k_nan;
  return fit;
}

NnlsFit nnls(const Eigen::MatrixXd& a, std::span<const double> b) {
  const NormalEquations equations = normal_equations(a, b);
  Solution solution = lawson_hanson(equations.gram, equations.correlation);
  const Eigen::Map<const Eigen::VectorXd> target(b.data(), a.rows());

  // One step of iterative refinement on the passive set, with the residual taken from the
  // rows (corrected semi-normal equations): it recovers most of the accuracy that forming
  // A'A lost. Skipped if it would leave the feasible region.
  const auto indices = indices_of(solution.passive);
  if (!indices.empty()) {
    const Eigen::VectorXd residual = target - a * solution.x;
    const Eigen::VectorXd correction =
        solve_passive(equations.gram, a.transpose() * residual, indices);
    const Eigen::VectorXd refined = solution.x + correction;
    if (std::all_of(indices.begin(), indices.end(),
                    [&](Eigen::Index j) { return refined(j) > 0.0; }))
      solution.x = refined;
  }

  NnlsFit fit = to_fit(solution);
  const Eigen::VectorXd residual = target - a * solution.x;
  fit.residual_norm = residual.norm();
  const double tss = (target.array() - target.mean()).square().sum();
  fit.r_squared = tss > 0.0 ? 1.0 - residual.squaredNorm() / tss : k_nan;
  return fit;
}

}  // namespace nrmlab::analysis::stats
