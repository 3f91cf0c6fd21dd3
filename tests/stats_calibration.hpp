// Planted-data error rates for the trend tests (tests/stats_hac_test.cpp,
// tests/stats_trend_test.cpp): step times of about 1 ms with stationary AR(1) noise, with
// or without a planted trend, and the binomial pass rule of issue 17.
#pragma once

#include <boost/math/distributions/binomial.hpp>
#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <span>
#include <vector>

namespace nrmlab::analysis::stats::testing {

// n step times in ns: 1e6 (1 + growth t / 400) plus AR(1) noise with coefficient phi and
// stationary standard deviation `sd` (a fraction of the 1 ms level), started stationary.
inline std::vector<double> ar1_steps(std::mt19937_64& engine, std::size_t n, double phi, double sd,
                                     double growth) {
  std::normal_distribution<double> normal(0.0, 1.0);
  const double innovation = sd * std::sqrt(1.0 - phi * phi);
  std::vector<double> y(n);
  double state = sd * normal(engine);
  for (std::size_t t = 0; t < n; ++t) {
    if (t > 0) state = phi * state + innovation * normal(engine);
    y[t] = 1e6 * (1.0 + growth * static_cast<double>(t) / 400.0 + state);
  }
  return y;
}

// How many of `runs` planted series (fixed seed per cell) `rejects` flags.
inline std::size_t count_rejections(const std::function<bool(std::span<const double>)>& rejects,
                                    std::size_t runs, std::size_t n, double phi, double sd,
                                    double growth, std::uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::size_t count = 0;
  for (std::size_t r = 0; r < runs; ++r)
    count += rejects(ar1_steps(engine, n, phi, sd, growth)) ? 1 : 0;
  return count;
}

// The smallest count whose upper tail P(X >= count) is below 0.001 for X ~ Binomial(runs,
// rate): a false-positive count at or above it is improbable at the nominal rate.
inline std::size_t improbable_count(std::size_t runs, double rate) {
  const boost::math::binomial distribution(static_cast<double>(runs), rate);
  std::size_t k = 0;
  // P(X >= k) = 1 - cdf(k - 1)
  while (k <= runs &&
         (k == 0 ? 1.0 : boost::math::cdf(boost::math::complement(distribution, k - 1.0))) >= 1e-3)
    ++k;
  return k;
}

}  // namespace nrmlab::analysis::stats::testing
