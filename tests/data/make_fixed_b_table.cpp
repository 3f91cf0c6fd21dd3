// Generates the table of the fixed-b null distribution that src/analysis/stats/hac.cpp
// uses for hac_trend (Kiefer-Vogelsang-Bunzel: Bartlett kernel, bandwidth = n, i.e. b = 1).
//
// For y_t = a + b t + u_t with Gaussian iid u, the slope's t statistic is Z / sqrt(Q) with
// Z ~ N(0, 1) independent of Q = (2/n) sum_t S_t^2 / (sigma^2 sum_t (t - tbar)^2), where S_t
// are the partial sums of the slope scores (t - tbar) e_t of the OLS residuals e (the
// residuals are a Gaussian projection orthogonal to the slope's numerator, hence
// independence). Its limit as n grows is the fixed-b distribution (Kiefer and Vogelsang
// 2005; Bunzel and Vogelsang 2005 for the trend). We simulate Q at n = 500 and print
// quantiles of Q at cell midpoints; hac.cpp mixes normal tails over them:
// P(|t| > c) = sum_k w_k 2 Phi(-c sqrt(q_k)).
//
// Build and run by hand (about half a minute):
//   g++ -O2 -std=c++20 tests/data/make_fixed_b_table.cpp -o /tmp/fixed_b && /tmp/fixed_b
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

int main() {
  const std::size_t n = 500, reps = 2000000;
  std::mt19937_64 engine(20261206);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<double> e(n), q(reps);
  const double tbar = (static_cast<double>(n) - 1.0) / 2.0;
  double sxx = 0.0;
  for (std::size_t t = 0; t < n; ++t)
    sxx += (static_cast<double>(t) - tbar) * (static_cast<double>(t) - tbar);
  for (std::size_t r = 0; r < reps; ++r) {
    double mean = 0.0, sxy = 0.0;
    for (std::size_t t = 0; t < n; ++t) {
      e[t] = normal(engine);
      mean += e[t];
      sxy += (static_cast<double>(t) - tbar) * e[t];
    }
    mean /= static_cast<double>(n);
    const double slope = sxy / sxx;
    double partial = 0.0, sum_squares = 0.0;
    for (std::size_t t = 0; t < n; ++t) {
      const double centred = static_cast<double>(t) - tbar;
      partial += centred * (e[t] - mean - slope * centred);
      sum_squares += partial * partial;
    }
    q[r] = 2.0 * sum_squares / static_cast<double>(n) / sxx;  // sigma = 1
  }
  std::sort(q.begin(), q.end());
  std::vector<double> edges = {0.0, 2e-5, 1e-4, 5e-4, 1e-3, 2.5e-3, 5e-3};
  for (int k = 1; k <= 100; ++k)
    edges.push_back(k / 100.0);
  for (std::size_t k = 0; k + 1 < edges.size(); ++k) {
    const double middle = 0.5 * (edges[k] + edges[k + 1]);
    const auto index = static_cast<std::size_t>(middle * static_cast<double>(reps));
    std::printf("    {%.6g, %.8g},\n", edges[k + 1] - edges[k], q[std::min(index, reps - 1)]);
  }
}
