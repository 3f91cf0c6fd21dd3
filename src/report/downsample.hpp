// Long series are thinned for display: a 10^6-step run must still give a report of a few
// megabytes that a browser draws at once. Largest-triangle-three-buckets (Steinarsson
// 2013) keeps the points that shape the curve: spikes and level shifts survive, which a
// stride or a bucket mean would erase.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace nrmlab::report {

// Indices (ascending) of at most `budget` points of (x, y) chosen by LTTB. The first and
// last points are always kept; a series no longer than the budget is kept whole. NaN
// points are never chosen unless the whole bucket is NaN (gaps stay gaps). budget < 3
// keeps the two ends.
std::vector<std::size_t> lttb_indices(std::span<const double> x, std::span<const double> y,
                                      std::size_t budget);

// The values of `values` at `indices`.
std::vector<double> pick(std::span<const double> values, std::span<const std::size_t> indices);

}  // namespace nrmlab::report
