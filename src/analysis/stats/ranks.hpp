// Ranks for rank statistics: tied values share the mean of the ranks they span (1-based),
// as scipy.stats.rankdata(method="average") does.
#pragma once

#include <span>
#include <vector>

namespace nrmlab::analysis::stats {

std::vector<double> average_ranks(std::span<const double> values);

}  // namespace nrmlab::analysis::stats
