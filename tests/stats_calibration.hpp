// Planted-data error rates for the trend tests (tests/stats_hac_test.cpp,
// tests/stats_trend_test.cpp): step times of about 1 ms with stationary AR(1) noise, with
// or without a planted trend, and the binomial pass rule of issue 17.
#pragma once

#include <boost/math/distributions/binomial.hpp>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <random>
#include <span>
#include <vector>

#include <gtest/gtest.h>

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

using Rejects = std::function<bool(std::span<const double>)>;

// The size table (trendless AR(1), phi x n, 400 series a cell, 200 at n = 3000) of a test
// `after` and of the test it replaced, `before`, then its power for a x1.3 rise over 400
// steps in AR(1) 0.5 noise at 5% and 10% sd. `after` must hold its size in every cell (the
// binomial rule) and find at least 90% of the rises; `before` must fail every cell with phi
// at least `before_fails_from`, which is what made the replacement necessary. Prints both.
inline void expect_size_and_power(const char* before_name, const Rejects& before,
                                  const char* after_name, const Rejects& after,
                                  double before_fails_from, std::uint64_t seed) {
  for (const double phi : {0.0, 0.5, 0.9, 0.95}) {
    for (const std::size_t n : {100, 400, 3000}) {
      const std::size_t runs = n > 1000 ? 200 : 400;  // the long cells cost the most time
      const std::size_t limit = improbable_count(runs, 0.05);
      const std::size_t old_count = count_rejections(before, runs, n, phi, 0.1, 0.0, seed);
      const std::size_t new_count = count_rejections(after, runs, n, phi, 0.1, 0.0, seed);
      ++seed;
      std::printf("size phi %.2f n %4zu: %s %.3f, %s %.3f\n", phi, n, before_name,
                  static_cast<double>(old_count) / runs, after_name,
                  static_cast<double>(new_count) / runs);
      EXPECT_LT(new_count, limit) << "phi " << phi << " n " << n;
      if (phi >= before_fails_from) {
        EXPECT_GE(old_count, limit) << "phi " << phi << " n " << n;
      }
    }
  }
  const std::size_t runs = 400;
  for (const double sd : {0.05, 0.1}) {
    const std::size_t hits = count_rejections(after, runs, 400, 0.5, sd, 0.3, seed++);
    std::printf("power x1.3 over 400 steps, AR(1) 0.5, sd %.2f: %s %.3f\n", sd, after_name,
                static_cast<double>(hits) / runs);
    EXPECT_GE(hits, runs * 9 / 10) << sd;
  }
}

}  // namespace nrmlab::analysis::stats::testing
