// Descriptive statistics: mean, variance and standard deviation with an explicit ddof (the
// divisor is n - ddof, as numpy's), and quantiles by linear interpolation between order
// statistics, identical to numpy's default (Hyndman and Fan type 7).
#pragma once

#include <cstddef>
#include <span>

namespace nrmlab::analysis::stats {

// Throws std::invalid_argument on empty input.
double mean(std::span<const double> values);

// Two-pass (deviations from the mean), so a large common offset does not cancel the
// variance away. Throws std::invalid_argument unless n > ddof.
double variance(std::span<const double> values, std::size_t ddof);
double standard_deviation(std::span<const double> values, std::size_t ddof);

// numpy.quantile(values, q) with method="linear": position q (n - 1) between the sorted
// values. q must lie in [0, 1] and values must not be empty (std::invalid_argument); NaN
// when values contains NaN, as numpy. Copies the values (selection, not a full sort).
double quantile(std::span<const double> values, double q);

// numpy.median: the middle value, or the mean of the two middle values.
double median(std::span<const double> values);

// Every value equal to the first (true for none or one): a series with nothing to test.
bool is_constant(std::span<const double> values);

}  // namespace nrmlab::analysis::stats
