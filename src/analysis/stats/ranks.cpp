#include "analysis/stats/ranks.hpp"

#include <algorithm>
#include <numeric>

namespace nrmlab::analysis::stats {

std::vector<double> average_ranks(std::span<const double> values) {
  const std::size_t n = values.size();
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return values[a] < values[b]; });
  std::vector<double> ranks(n);
  for (std::size_t start = 0; start < n;) {
    std::size_t end = start + 1;
    while (end < n && values[order[end]] == values[order[start]])
      ++end;
    // Positions start..end-1 hold equal values: ranks start+1..end, averaged.
    const double rank = 0.5 * static_cast<double>(start + 1 + end);
    for (std::size_t k = start; k < end; ++k)
      ranks[order[k]] = rank;
    start = end;
  }
  return ranks;
}

std::vector<std::size_t> tie_group_sizes(std::span<const double> sorted) {
  std::vector<std::size_t> sizes;
  for (std::size_t start = 0; start < sorted.size();) {
    std::size_t end = start + 1;
    while (end < sorted.size() && sorted[end] == sorted[start])
      ++end;
    sizes.push_back(end - start);
    start = end;
  }
  return sizes;
}

}  // namespace nrmlab::analysis::stats
