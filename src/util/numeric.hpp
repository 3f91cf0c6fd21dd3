// Numeric constants shared by every stage.
#pragma once

#include <limits>

namespace nrmlab {

// "Not a number": a statistic that could not be computed (too few values, a zero variance).
inline constexpr double k_nan = std::numeric_limits<double>::quiet_NaN();

}  // namespace nrmlab
