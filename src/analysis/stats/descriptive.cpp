#include "analysis/stats/descriptive.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "util/numeric.hpp"

namespace nrmlab::analysis::stats {
namespace {

void require_values(std::span<const double> values, const char* function) {
  if (values.empty()) throw std::invalid_argument(std::string(function) + ": no values");
}

bool contains_nan(std::span<const double> values) {
  return std::any_of(values.begin(), values.end(), [](double v) { return std::isnan(v); });
}

}  // namespace

double mean(std::span<const double> values) {
  require_values(values, "mean");
  double sum = 0.0;
  for (const double v : values)
    sum += v;
  return sum / static_cast<double>(values.size());
}

double variance(std::span<const double> values, std::size_t ddof) {
  if (values.size() <= ddof)
    throw std::invalid_argument("variance: needs more values than ddof (" + std::to_string(ddof) +
                                ")");
  const double centre = mean(values);
  double sum = 0.0;
  for (const double v : values)
    sum += (v - centre) * (v - centre);
  return sum / static_cast<double>(values.size() - ddof);
}

double standard_deviation(std::span<const double> values, std::size_t ddof) {
  return std::sqrt(variance(values, ddof));
}

double quantile(std::span<const double> values, double q) {
  require_values(values, "quantile");
  if (!(q >= 0.0 && q <= 1.0)) throw std::invalid_argument("quantile: q is outside [0, 1]");
  // nth_element needs a strict weak order, which NaN breaks; numpy answers NaN.
  if (contains_nan(values)) return k_nan;
  std::vector<double> copy(values.begin(), values.end());
  const double position = q * static_cast<double>(copy.size() - 1);
  const auto below = static_cast<std::size_t>(std::floor(position));
  const double fraction = position - static_cast<double>(below);
  const auto lower_it = copy.begin() + static_cast<std::ptrdiff_t>(below);
  std::nth_element(copy.begin(), lower_it, copy.end());
  const double lower = *lower_it;
  if (below + 1 >= copy.size()) return lower;
  // After nth_element everything beyond `below` is >= lower, so the next order statistic
  // is the minimum of that tail.
  const double upper = *std::min_element(lower_it + 1, copy.end());
  // numpy's lerp: interpolate from the nearer end, so q = 1 - epsilon stays monotone and
  // the result is bit-identical to numpy's.
  const double difference = upper - lower;
  return fraction >= 0.5 ? upper - difference * (1.0 - fraction) : lower + difference * fraction;
}

double median(std::span<const double> values) {
  require_values(values, "median");
  if (contains_nan(values)) return k_nan;
  std::vector<double> copy(values.begin(), values.end());
  const std::size_t half = copy.size() / 2;
  const auto middle = copy.begin() + static_cast<std::ptrdiff_t>(half);
  std::nth_element(copy.begin(), middle, copy.end());
  if (copy.size() % 2 == 1) return *middle;
  const double below = *std::max_element(copy.begin(), middle);
  return (below + *middle) / 2.0;
}

bool is_constant(std::span<const double> values) {
  for (const double v : values)
    if (v != values.front()) return false;
  return true;
}

}  // namespace nrmlab::analysis::stats
