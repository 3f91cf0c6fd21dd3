// Two ways to add up doubles one after another: the plain left fold (`+=`, what Python's
// built-in sum() did for floats up to 3.11) and Python 3.12+'s sum() of floats, which
// compensates the rounding error of each addition (Neumaier's improved Kahan-Babuska
// summation). A program ported from Python reproduces its sums bit for bit only with the
// algorithm of the interpreter that ran it.
#pragma once

#include <cmath>

namespace nrmlab {

class PlainSum {
 public:
  void add(double x) { m_sum += x; }
  double value() const { return m_sum; }

 private:
  double m_sum = 0.0;
};

// Python 3.12+'s sum() over floats. Starting from 0.0 matches sum()'s default start (the
// integer 0): its first addition, 0 + x, gives the same double as 0.0 + x. `start` is for
// an explicit float start value.
class CompensatedSum {
 public:
  CompensatedSum() = default;
  explicit CompensatedSum(double start) : m_sum(start) {}

  void add(double x) {
    const double t = m_sum + x;
    // The larger magnitude keeps its bits in t; what the smaller lost is recovered exactly
    // as (larger - t) + smaller.
    if (std::fabs(m_sum) >= std::fabs(x))
      m_compensation += (m_sum - t) + x;
    else
      m_compensation += (x - t) + m_sum;
    m_sum = t;
  }

  // The compensation joins the sum only when it is non-zero and finite, as in Python: adding
  // a zero would turn a -0.0 sum into +0.0, and after an overflow the compensation is
  // infinite or NaN and would turn an infinite sum into NaN.
  double value() const {
    if (m_compensation != 0.0 && std::isfinite(m_compensation)) return m_sum + m_compensation;
    return m_sum;
  }

 private:
  double m_sum = 0.0;
  double m_compensation = 0.0;
};

}  // namespace nrmlab
