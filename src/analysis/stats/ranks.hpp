// Ranks for rank statistics: tied values share the mean of the ranks they span (1-based),
// as scipy.stats.rankdata(method="average") does.
#pragma once

#include <span>
#include <vector>

namespace nrmlab::analysis::stats {

std::vector<double> average_ranks(std::span<const double> values);

// The sizes of the runs of equal values in sorted data (1 for an untied value): what every
// tie correction (Mann-Whitney, Mann-Kendall) sums over.
std::vector<std::size_t> tie_group_sizes(std::span<const double> sorted);

}  // namespace nrmlab::analysis::stats
