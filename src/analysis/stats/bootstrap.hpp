// Moving-block bootstrap (Kuensch 1989) percentile confidence intervals. Resampling whole
// blocks of consecutive points keeps the short-range autocorrelation of a simulation's
// per-step series inside each replicate, so the interval does not come out as narrow as an
// iid bootstrap's would.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <span>
#include <vector>

namespace nrmlab::analysis::stats {

struct BootstrapOptions {
  // Consecutive points per block; default default_block_length(n). 1 gives the iid
  // bootstrap.
  std::optional<std::size_t> block_length;
  std::size_t replicates = 999;
  double confidence = 0.95;
  // std::mt19937_64 seed: the same seed, data and options give the same interval (on any
  // platform: the block starts are drawn from the engine's raw output).
  std::uint64_t seed = 20261122;
};

struct BootstrapInterval {
  double estimate = 0.0;  // the statistic on the original series
  double low = 0.0;       // (1 - confidence) / 2 quantile of the replicates (numpy type 7)
  double high = 0.0;      // (1 + confidence) / 2 quantile
  std::size_t block_length = 0;
  std::size_t replicates = 0;  // replicates whose statistic was not NaN (the ones used)
};

// round(n^(1/3)), at least 1: the rate-optimal order of the block length for variance and
// interval estimation (Hall, Horowitz and Jing 1995); e.g. 10 at n = 1000, 100 at 10^6.
std::size_t default_block_length(std::size_t n);

// One moving-block resample of the indices 0..n-1: blocks of `length` consecutive indices
// from starts drawn uniformly on 0..n-length (the engine's raw output, as below), cut to n.
// For statistics of several series at once (two samples, many functions). Throws
// std::invalid_argument when n is 0 or length is 0 or above n.
std::vector<std::size_t> block_resample(std::size_t n, std::size_t length, std::mt19937_64& engine);

using Statistic = std::function<double(std::span<const double>)>;

// Each replicate concatenates blocks starting at uniformly drawn positions 0..n-L and cuts
// the result to n points, then applies `statistic`. NaN replicates are dropped; low and high
// are NaN if none remain. Costs O(replicates (n + cost of the statistic)). Throws
// std::invalid_argument for fewer than 2 points, a block length of 0 or above n, no
// replicates, or confidence outside (0, 1).
BootstrapInterval block_bootstrap_ci(std::span<const double> series, const Statistic& statistic,
                                     const BootstrapOptions& options = {});

// The OLS slope of y on x with (x, y) pairs resampled in blocks; replicates whose x is
// constant (no slope) are dropped. Throws std::invalid_argument as above and when the
// lengths differ.
BootstrapInterval block_bootstrap_slope_ci(std::span<const double> x, std::span<const double> y,
                                           const BootstrapOptions& options = {});

}  // namespace nrmlab::analysis::stats
