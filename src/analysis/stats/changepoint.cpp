#include "analysis/stats/changepoint.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "analysis/stats/descriptive.hpp"
#include "analysis/stats/series.hpp"

namespace nrmlab::analysis::stats {
namespace {

constexpr double k_infinity = std::numeric_limits<double>::infinity();
// 1 / Phi^-1(3/4): makes the MAD a consistent estimator of a normal standard deviation.
constexpr double k_mad_to_sigma = 1.482602218505602;
// The modified BIC's 3 ln(n) (see default_change_penalty).
constexpr double k_penalty_per_log_n = 3.0;

// Segment costs in O(1) from prefix sums of the centred series (centring keeps the
// subtraction S2 - S1^2 / m from cancelling when the level is far from 0).
class SquaredErrorCost {
 public:
  explicit SquaredErrorCost(std::span<const double> y)
      : m_sum(y.size() + 1), m_squares(y.size() + 1) {
    m_centre = mean(y);
    for (std::size_t i = 0; i < y.size(); ++i) {
      const double v = y[i] - m_centre;
      m_sum[i + 1] = m_sum[i] + v;
      m_squares[i + 1] = m_squares[i] + v * v;
    }
  }

  // Sum of squared deviations from their mean of y[begin, end).
  double cost(std::size_t begin, std::size_t end) const {
    const double sum = m_sum[end] - m_sum[begin];
    const double value =
        m_squares[end] - m_squares[begin] - sum * sum / static_cast<double>(end - begin);
    return std::max(value, 0.0);
  }

  // The mean of y[begin, end) less the series' mean (the scale the pruning works on).
  double centred_mean(std::size_t begin, std::size_t end) const {
    return (m_sum[end] - m_sum[begin]) / static_cast<double>(end - begin);
  }

  double mean_of(std::size_t begin, std::size_t end) const {
    return m_centre + centred_mean(begin, end);
  }

 private:
  double m_centre = 0.0;
  std::vector<double> m_sum;
  std::vector<double> m_squares;
};

// A closed interval of candidate last-segment means.
struct Interval {
  double low = 0.0;
  double high = 0.0;
};

// A possible last change point and the set of last-segment means for which it is the best
// one (sorted, disjoint intervals); the sets of all candidates partition the real line.
struct Candidate {
  std::size_t tau = 0;
  std::vector<Interval> region;
};

// Keeps region within `keep` and appends the rest to `lost`. Pieces of zero width are
// dropped: at a single mean the neighbouring owner ties, so nothing is lost.
void split(std::vector<Interval>& region, Interval keep, std::vector<Interval>& lost) {
  std::vector<Interval> inside;
  for (const Interval& piece : region) {
    const double low = std::max(piece.low, keep.low), high = std::min(piece.high, keep.high);
    if (low < high) {
      inside.push_back({low, high});
      if (piece.low < low) lost.push_back({piece.low, low});
      if (high < piece.high) lost.push_back({high, piece.high});
    } else {
      lost.push_back(piece);
    }
  }
  region.swap(inside);
}

}  // namespace

double default_change_penalty(std::span<const double> y) {
  if (y.size() < 3) throw std::invalid_argument("default_change_penalty: needs at least 3 points");
  const std::vector<double> differences = first_differences(y);
  const double centre = median(differences);
  std::vector<double> deviations(differences.size());
  for (std::size_t i = 0; i < differences.size(); ++i)
    deviations[i] = std::fabs(differences[i] - centre);
  double sigma = k_mad_to_sigma * median(deviations) / std::sqrt(2.0);
  if (!(sigma > 0.0)) sigma = standard_deviation(differences, 1) / std::sqrt(2.0);
  if (!(sigma > 0.0)) sigma = standard_deviation(y, 1);
  return k_penalty_per_log_n * sigma * sigma * std::log(static_cast<double>(y.size()));
}

namespace {

// Checks pelt's arguments and returns the penalty it uses: the given one, else the default.
double checked_penalty(std::span<const double> y, std::optional<double> penalty,
                       std::size_t min_segment_length) {
  const std::size_t n = y.size();
  const std::size_t m = min_segment_length;
  if (m == 0) throw std::invalid_argument("pelt: minimum segment length is 0");
  if (n < m) throw std::invalid_argument("pelt: fewer points than the minimum segment length");
  if (std::any_of(y.begin(), y.end(), [](double v) { return std::isnan(v); }))
    throw std::invalid_argument("pelt: y contains NaN");
  const double beta = penalty ? *penalty : (n >= 3 ? default_change_penalty(y) : 0.0);
  if (!(beta >= 0.0) || std::isinf(beta))
    throw std::invalid_argument("pelt: the penalty must be finite and >= 0");
  return beta;
}

// Makes t (whose best[t] is finite) a possible last change point: every earlier candidate
// loses the means for which t beats it (and is dropped when none are left), and t gets what
// they lost. `kept` and `taken` are scratch space, reused across calls to spare allocations.
void add_candidate(std::size_t t, const std::vector<double>& best, const SquaredErrorCost& costs,
                   std::vector<Candidate>& candidates, std::vector<Candidate>& kept,
                   std::vector<Interval>& taken) {
  kept.clear();
  taken.clear();
  for (Candidate& candidate : candidates) {
    // From now on, for every end, candidate t beats tau exactly where
    // best[tau] - best[t] + sum_{tau <= i < t} (y_i - mu)^2 > 0, mu being the last
    // segment's mean: outside mean(tau, t) -+ sqrt(slack / (t - tau)). The later
    // points add the same terms to both and cannot change that.
    const double slack = best[t] - best[candidate.tau] - costs.cost(candidate.tau, t);
    Interval keep{k_infinity, -k_infinity};  // empty: PELT's test, slack <= 0
    if (slack > 0.0) {
      const double centre = costs.centred_mean(candidate.tau, t);
      const double radius = std::sqrt(slack / static_cast<double>(t - candidate.tau));
      keep = {centre - radius, centre + radius};
    }
    split(candidate.region, keep, taken);
    if (!candidate.region.empty()) kept.push_back(std::move(candidate));
  }
  candidates.swap(kept);
  std::sort(taken.begin(), taken.end(),
            [](const Interval& a, const Interval& b) { return a.low < b.low; });
  Candidate arrival{t, {}};
  for (const Interval& piece : taken) {
    if (!arrival.region.empty() && piece.low <= arrival.region.back().high) {
      arrival.region.back().high = std::max(arrival.region.back().high, piece.high);
    } else {
      arrival.region.push_back(piece);
    }
  }
  if (t == 0) arrival.region = {{-k_infinity, k_infinity}};  // alone, it owns every mean
  if (!arrival.region.empty()) candidates.push_back(std::move(arrival));
}

// Fills result's change points, segment means and cost from last[t], the start of the last
// segment of the optimal segmentation of y[0, t).
void trace_back(const std::vector<std::size_t>& last, const SquaredErrorCost& costs, std::size_t n,
                ChangePoints& result) {
  std::vector<std::size_t> starts;
  for (std::size_t end = n; end > 0; end = last[end])
    starts.push_back(last[end]);
  std::reverse(starts.begin(), starts.end());  // 0, then the change points
  for (std::size_t s = 0; s < starts.size(); ++s) {
    const std::size_t begin = starts[s];
    const std::size_t end = s + 1 < starts.size() ? starts[s + 1] : n;
    if (s > 0) result.change_points.push_back(begin);
    result.segment_means.push_back(costs.mean_of(begin, end));
    result.cost += costs.cost(begin, end);
  }
}

}  // namespace

ChangePoints pelt(std::span<const double> y, std::optional<double> penalty,
                  std::size_t min_segment_length) {
  const std::size_t n = y.size();
  const std::size_t m = min_segment_length;
  ChangePoints result;
  result.penalty = checked_penalty(y, penalty, min_segment_length);
  const double beta = result.penalty;
  const SquaredErrorCost costs(y);
  if (std::all_of(y.begin(), y.end(), [&](double v) { return v == y[0]; })) {
    // With penalty 0 every segmentation of a constant series ties; it has no changes.
    result.segment_means.push_back(y[0]);
    return result;
  }

  // best[t]: the optimal penalised cost of y[0, t), counting beta per segment less one
  // (hence best[0] = -beta); last[t]: the start of its last segment.
  std::vector<double> best(n + 1, k_infinity);
  std::vector<std::size_t> last(n + 1, 0);
  best[0] = -beta;
  std::vector<Candidate> candidates, kept;  // increasing tau
  std::vector<Interval> taken;
  for (std::size_t end = m; end <= n; ++end) {
    // t = end - m becomes a possible last change point now that m points fit after it.
    const std::size_t t = end - m;
    if (std::isfinite(best[t])) add_candidate(t, best, costs, candidates, kept, taken);
    for (const Candidate& candidate : candidates) {
      const double value = best[candidate.tau] + costs.cost(candidate.tau, end) + beta;
      if (value < best[end]) {  // strict: among ties, the earliest candidate
        best[end] = value;
        last[end] = candidate.tau;
      }
    }
  }
  trace_back(last, costs, n, result);
  return result;
}

}  // namespace nrmlab::analysis::stats
