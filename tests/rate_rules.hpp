// The binomial pass rules of the tests that measure a rule's error rates on planted data
// (issue 17): a count of events is a failure only when it is improbable (p < 0.001) at the
// rate the rule allows, so a test fails on a real change of rate, not on chance.
#pragma once

#include <boost/math/distributions/binomial.hpp>
#include <cstddef>

namespace nrmlab::testing {

// `count` events in `runs` are more than `rate` allows: P(X >= count) < 0.001.
inline bool improbable_at(std::size_t count, std::size_t runs, double rate) {
  if (count == 0) return false;
  const boost::math::binomial binomial(static_cast<double>(runs), rate);
  return boost::math::cdf(boost::math::complement(binomial, static_cast<double>(count) - 1)) <
         0.001;
}

// `hits` in `runs` are fewer than `rate` promises: P(X <= hits) < 0.001.
inline bool too_few_at(std::size_t hits, std::size_t runs, double rate) {
  const boost::math::binomial binomial(static_cast<double>(runs), rate);
  return boost::math::cdf(binomial, static_cast<double>(hits)) < 0.001;
}

}  // namespace nrmlab::testing
