#include "analysis/attribution.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <array>
#include <boost/math/distributions/normal.hpp>
#include <cmath>
#include <random>
#include <tuple>

#include "analysis/sound_mode.hpp"
#include "analysis/stats/descriptive.hpp"
#include "analysis/stats/nnls.hpp"
#include "analysis/windows.hpp"
#include "util/numeric.hpp"

namespace nrmlab::analysis {
namespace {

// Long segments are averaged into at most this many blocks of consecutive steps: enough for
// unit costs and the bootstrap, and the cost stays linear in the steps (10^6 steps in ms).
constexpr std::size_t k_max_points = 400;
constexpr std::size_t k_replicates = 199;
// Each change point's comparison: fewer replicates (its interval is context, no verdict
// rests on it), and only where a changed condition's segmentation has a few change points
// (k_max_change_points): PELT also cuts a steady trend, and persistent noise, into many
// segments, and comparing them all cost up to three times the whole analysis.
constexpr std::size_t k_change_point_replicates = 99;
constexpr std::uint64_t k_seed = 20261206;
// A counter is priced only when the step-time change it would be charged for is known to
// within k_max_price_error of that change (one standard error; of k_min_price_scale of the
// early step time when the change is smaller). A counter whose growth is many times its
// step-to-step moves, against noisy step times, would be priced by extrapolation: chance
// correlation, multiplied by its growth, was charged 140-210% of a unit-cost doubling it
// had no part in (6 of 400 planted runs; a counter growing tenfold with 2% jitter). The
// same growth against quiet step times, or with larger moves, is priced (a growing
// population with +-2 agents of jitter and 1% noise).
constexpr double k_max_price_error = 0.25;
constexpr double k_min_price_scale = 0.10;
// The most change points a segmentation may have for each to be compared (more: a gradual
// change, which the condition's own comparison describes), and the fewest steps on either
// side of one.
constexpr std::size_t k_max_change_points = 3;
constexpr std::size_t k_min_side_steps = 5;
// The fewest steps a quarter must have to be a side of the condition's own comparison.
constexpr std::size_t k_min_segment_steps = 10;

struct SectionSeries {
  std::string name;
  std::vector<double> time;  // ns per step
};

// One segment, block-averaged: a row per block; NaN where a block has no finite value.
struct Segment {
  Eigen::MatrixXd time;  // blocks x sections
  Eigen::MatrixXd work;  // blocks x counters
};

double finite_mean(std::span<const double> values) {
  double sum = 0.0;
  std::size_t n = 0;
  for (const double v : values)
    if (std::isfinite(v)) {
      sum += v;
      ++n;
    }
  return n ? sum / static_cast<double>(n) : k_nan;
}

Segment average_blocks(const std::vector<SectionSeries>& sections, const Columns& steps,
                       const std::vector<std::string>& counters, Window w) {
  const std::size_t n = w.end - w.begin;
  const std::size_t points = std::min(n, k_max_points);
  const auto rows = static_cast<Eigen::Index>(points);
  Segment seg{Eigen::MatrixXd(rows, static_cast<Eigen::Index>(sections.size())),
              Eigen::MatrixXd(rows, static_cast<Eigen::Index>(counters.size()))};
  for (std::size_t p = 0; p < points; ++p) {
    const std::size_t from = w.begin + p * n / points, to = w.begin + (p + 1) * n / points;
    const auto r = static_cast<Eigen::Index>(p);
    for (std::size_t s = 0; s < sections.size(); ++s)
      seg.time(r, static_cast<Eigen::Index>(s)) =
          finite_mean(std::span(sections[s].time).subspan(from, to - from));
    for (std::size_t k = 0; k < counters.size(); ++k)
      seg.work(r, static_cast<Eigen::Index>(k)) =
          finite_mean(steps[counters[k]].subspan(from, to - from));
  }
  return seg;
}

// What one sample of a segment (its blocks, or a bootstrap resample of them) holds: mean
// time per section, mean work per counter, and its step-to-step differences, centred
// within the segment (each segment's own trend is removed from both sides).
struct Sample {
  Eigen::VectorXd time;             // per section
  Eigen::VectorXd work;             // per counter
  std::vector<Eigen::VectorXd> dx;  // per consecutive pair: the used counters' differences
  std::vector<Eigen::VectorXd> dy;  // per consecutive pair: each section's difference
};

Eigen::VectorXd column_means(const Eigen::MatrixXd& m, const std::vector<std::size_t>& sample) {
  Eigen::VectorXd out(m.cols());
  for (Eigen::Index c = 0; c < m.cols(); ++c) {
    double sum = 0.0;
    std::size_t n = 0;
    for (const std::size_t i : sample) {
      const double v = m(static_cast<Eigen::Index>(i), c);
      if (std::isfinite(v)) {
        sum += v;
        ++n;
      }
    }
    out(c) = n ? sum / static_cast<double>(n) : k_nan;
  }
  return out;
}

// Consecutive blocks of the sample only (a resample's block joins are not steps); pairs
// with a NaN are left out.
Sample take(const Segment& seg, const std::vector<std::size_t>& sample,
            const std::vector<Eigen::Index>& used) {
  Sample out{column_means(seg.time, sample), column_means(seg.work, sample), {}, {}};
  for (std::size_t i = 0; i + 1 < sample.size(); ++i) {
    if (sample[i + 1] != sample[i] + 1) continue;
    const auto a = static_cast<Eigen::Index>(sample[i]), b = a + 1;
    Eigen::VectorXd d(static_cast<Eigen::Index>(used.size()));
    for (std::size_t j = 0; j < used.size(); ++j)
      d(static_cast<Eigen::Index>(j)) = seg.work(b, used[j]) - seg.work(a, used[j]);
    const Eigen::VectorXd y = seg.time.row(b) - seg.time.row(a);
    if (!d.allFinite()) continue;
    out.dx.push_back(std::move(d));
    out.dy.push_back(y);
  }
  if (out.dx.empty()) return out;
  Eigen::VectorXd mx = Eigen::VectorXd::Zero(out.dx.front().size());
  Eigen::VectorXd my = Eigen::VectorXd::Zero(out.dy.front().size());
  for (std::size_t i = 0; i < out.dx.size(); ++i) {
    mx += out.dx[i];
    my += out.dy[i];
  }
  mx /= static_cast<double>(out.dx.size());
  my /= static_cast<double>(out.dy.size());
  for (std::size_t i = 0; i < out.dx.size(); ++i) {
    out.dx[i] -= mx;
    out.dy[i] -= my;
  }
  return out;
}

// Unit costs from both segments' centred differences together (NNLS per section; rows with
// a NaN time are left out): one cost per counter for the whole comparison. Pooling the two
// segments is what separates counters that move together within one segment (agents and
// the pairs among them) but in different proportions in the other; with a cost that did
// change between the segments it estimates their average, which makes the split below the
// midpoint (Shapley) split of the change, with no interaction term left over.
Eigen::MatrixXd pooled_costs(const Sample& early, const Sample& late, Eigen::Index sections) {
  const std::size_t used = early.dx.empty() ? (late.dx.empty() ? 0 : late.dx.front().size())
                                            : static_cast<std::size_t>(early.dx.front().size());
  Eigen::MatrixXd costs = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(used), sections);
  if (used == 0) return costs;
  for (Eigen::Index s = 0; s < sections; ++s) {
    std::vector<const Eigen::VectorXd*> rows;
    std::vector<double> y;
    for (const Sample* part : {&early, &late})
      for (std::size_t i = 0; i < part->dx.size(); ++i)
        if (std::isfinite(part->dy[i](s))) {
          rows.push_back(&part->dx[i]);
          y.push_back(part->dy[i](s));
        }
    if (y.size() < used + 2) continue;
    Eigen::MatrixXd design(static_cast<Eigen::Index>(y.size()), static_cast<Eigen::Index>(used));
    for (std::size_t r = 0; r < y.size(); ++r)
      design.row(static_cast<Eigen::Index>(r)) = rows[r]->transpose();
    const auto fit = stats::nnls(stats::normal_equations(design, y));
    for (std::size_t j = 0; j < used; ++j)
      costs(static_cast<Eigen::Index>(j), s) = fit.coefficients[j];
  }
  return costs;
}

// A counter's cost is identifiable in a segment when its block values move from one block
// to the next other than along an exact line (rounding aside).
std::vector<bool> identifiable_counters(const Segment& seg) {
  std::vector<bool> out;
  for (Eigen::Index k = 0; k < seg.work.cols(); ++k) {
    std::vector<double> d;
    double scale = 0.0;
    for (Eigen::Index r = 0; r + 1 < seg.work.rows(); ++r) {
      const double v = seg.work(r + 1, k) - seg.work(r, k);
      if (std::isfinite(v)) d.push_back(v);
      scale = std::max(scale, std::abs(seg.work(r, k)));
    }
    double spread = 0.0;
    if (d.size() >= 2) {
      const double m = stats::mean(d);
      for (const double v : d)
        spread = std::max(spread, std::abs(v - m));
    }
    out.push_back(spread > 1e-9 * std::max(scale, 1e-300));
  }
  return out;
}

// The standard error of the step-time change that the counters at `columns` (positions
// in the samples' dx) would price: sigma * sqrt(dW' (X'X)^+ dW), with X the pooled centred
// differences, sigma the residual SD of their fit to the step's differences, and dW their
// level change between the segments. (The pseudo-inverse keeps counters that move
// exactly together -- agents and evolve calls in lockstep -- priceable as a sum.) Also
// returns, per column, that column's own share of the error (its term of the sum).
std::pair<double, std::vector<double>> priced_change_error(const std::vector<Eigen::Index>& columns,
                                                           const std::vector<Eigen::Index>& all,
                                                           const Sample& early,
                                                           const Sample& late) {
  std::vector<const Eigen::VectorXd*> rows;
  std::vector<double> y;
  for (const Sample* part : {&early, &late})
    for (std::size_t i = 0; i < part->dx.size(); ++i)
      if (std::isfinite(part->dy[i](0))) {
        rows.push_back(&part->dx[i]);
        y.push_back(part->dy[i](0));
      }
  const auto p = static_cast<Eigen::Index>(columns.size());
  const auto n = static_cast<Eigen::Index>(y.size());
  if (n < p + 2) return {k_nan, {}};
  Eigen::MatrixXd x(n, p);
  for (Eigen::Index r = 0; r < n; ++r)
    for (Eigen::Index j = 0; j < p; ++j)
      x(r, j) = (*rows[static_cast<std::size_t>(r)])(columns[static_cast<std::size_t>(j)]);
  const auto fit = stats::nnls(x, y);
  const Eigen::Map<const Eigen::VectorXd> observed(y.data(), n);
  Eigen::VectorXd cost(p);
  for (Eigen::Index j = 0; j < p; ++j)
    cost(j) = fit.coefficients[static_cast<std::size_t>(j)];
  const double sigma2 = (observed - x * cost).squaredNorm() / static_cast<double>(n - p);
  const Eigen::MatrixXd inverse =
      Eigen::CompleteOrthogonalDecomposition<Eigen::MatrixXd>(x.transpose() * x).pseudoInverse();
  Eigen::VectorXd dw(p);
  for (Eigen::Index j = 0; j < p; ++j) {
    const Eigen::Index k = all[static_cast<std::size_t>(columns[static_cast<std::size_t>(j)])];
    dw(j) = late.work(k) - early.work(k);
  }
  const Eigen::VectorXd weighted = inverse * dw;
  std::vector<double> terms;
  for (Eigen::Index j = 0; j < p; ++j)
    terms.push_back(sigma2 * dw(j) * weighted(j));
  return {std::sqrt(std::max(0.0, sigma2 * dw.dot(weighted))), terms};
}

// The counters of `varying` (indices into the counters) whose growth the run can price:
// while the priced change's standard error (priced_change_error) exceeds
// k_max_price_error of the step-time change (or of k_min_price_scale of the early step
// time, when the change is smaller), the counter that contributes most to that error is
// left out. `early` and `late` are the point samples taken with `varying`.
std::vector<Eigen::Index> well_priced(const std::vector<Eigen::Index>& varying, const Sample& early,
                                      const Sample& late) {
  std::vector<Eigen::Index> columns;
  for (std::size_t j = 0; j < varying.size(); ++j)
    columns.push_back(static_cast<Eigen::Index>(j));
  const double scale =
      std::max(std::abs(late.time(0) - early.time(0)), k_min_price_scale * std::abs(early.time(0)));
  while (!columns.empty()) {
    const auto [error, terms] = priced_change_error(columns, varying, early, late);
    if (!(error > k_max_price_error * scale)) break;  // priceable, or too few pairs to judge
    const auto worst = std::max_element(terms.begin(), terms.end()) - terms.begin();
    columns.erase(columns.begin() + worst);
  }
  std::vector<Eigen::Index> out;
  for (const Eigen::Index j : columns)
    out.push_back(varying[static_cast<std::size_t>(j)]);
  return out;
}

// The two parts of one section's change: more work (the change in work at the pooled unit
// costs of the counters that have one) and the rest, the same work costing more.
struct Parts {
  double change = k_nan, more_work = k_nan, dearer = k_nan;
};

Parts split(const Sample& early, const Sample& late, const Eigen::MatrixXd& costs,
            const std::vector<Eigen::Index>& used, Eigen::Index s) {
  Parts p;
  p.change = late.time(s) - early.time(s);
  p.more_work = 0.0;
  for (std::size_t j = 0; j < used.size(); ++j)
    p.more_work +=
        costs(static_cast<Eigen::Index>(j), s) * (late.work(used[j]) - early.work(used[j]));
  p.dearer = p.change - p.more_work;
  return p;
}

std::vector<std::size_t> identity(std::size_t n) {
  std::vector<std::size_t> out(n);
  for (std::size_t i = 0; i < n; ++i)
    out[i] = i;
  return out;
}

// A moving-block resample (Kuensch 1989) of 0..n-1, blocks of round(n^(1/3)) indices.
std::vector<std::size_t> resample(std::size_t n, std::mt19937_64& rng) {
  const auto block = std::max<std::size_t>(
      1, static_cast<std::size_t>(std::lround(std::cbrt(static_cast<double>(n)))));
  std::uniform_int_distribution<std::size_t> start(0, n - block);
  std::vector<std::size_t> out;
  out.reserve(n + block);
  while (out.size() < n) {
    const std::size_t s = start(rng);
    for (std::size_t i = 0; i < block; ++i)
      out.push_back(s + i);
  }
  out.resize(n);
  return out;
}

// Percentile interval and a two-sided normal p of "zero" with the bootstrap's (robust) SE.
ChangePart summarise(double estimate, std::vector<double> replicates, double confidence) {
  ChangePart part{estimate, k_nan, k_nan, k_nan};
  std::erase_if(replicates, [](double v) { return !std::isfinite(v); });
  if (replicates.size() < 10 || !std::isfinite(estimate)) return part;
  part.ci_low = stats::quantile(replicates, (1 - confidence) / 2);
  part.ci_high = stats::quantile(replicates, (1 + confidence) / 2);
  // The standard error from the replicates' central 68% rather than their SD: a ratio of
  // estimates has a long tail that would inflate an SD and hide a clear effect.
  const double se =
      (stats::quantile(replicates, 0.841345) - stats::quantile(replicates, 0.158655)) / 2;
  if (se > 0) {
    const double z = std::abs(estimate) / se;
    part.p = 2 * boost::math::cdf(boost::math::complement(boost::math::normal(), z));
  } else {
    part.p = estimate == 0 ? 1.0 : 0.0;
  }
  return part;
}

// A watched program's time off the CPU and not waiting for one (wall - CPU - run-queue
// delay): its I/O waits, sleeps and locks. Compared only where its I/O was counted, so that
// more I/O per step can be told from the same I/O costing more (H3 for a program).
std::vector<double> off_cpu_waits(const Columns& steps, const std::vector<double>& runq) {
  const auto wall = steps["wall_ns"], cpu = steps["cpu_ns"];
  std::vector<double> out(wall.size());
  for (std::size_t i = 0; i < wall.size(); ++i) {
    const double queued = i < runq.size() && std::isfinite(runq[i]) ? runq[i] : 0.0;
    out[i] = std::max(0.0, wall[i] - cpu[i] - queued);
  }
  return out;
}

std::vector<SectionSeries> section_series(const Columns& steps) {
  std::vector<SectionSeries> out;
  const auto add = [&](std::string name, std::span<const double> column) {
    out.push_back({std::move(name), std::vector<double>(column.begin(), column.end())});
  };
  add("step", steps["wall_ns"]);
  for (const char* section : {"compute", "database", "sampling", "window", "recorder"}) {
    const std::string column = std::string(section) + "_ns";
    if (!steps.has(column)) continue;
    const auto values = steps[column];
    if (std::any_of(values.begin(), values.end(), [](double v) { return v > 0; }))
      add(section, values);
  }
  std::vector<double> waits = per_step_from_readings(steps, k_runq_column);
  if (std::any_of(waits.begin(), waits.end(), [](double v) { return std::isfinite(v); }))
    out.push_back({"cpu_wait", waits});
  if (steps.has(std::string(k_io_work_column)))
    out.push_back({"off_cpu", off_cpu_waits(steps, waits)});
  return out;
}

struct Segments {
  Window early, late;
  std::string how;
};

Segments choose_segments(const ConditionData& c, const Drift& drift) {
  const std::size_t n = c.steps.rows();
  if (drift.direction == DriftDirection::level_shift && drift.shift_step >= 0) {
    const auto step = c.steps["step"];
    const auto at = static_cast<std::size_t>(
        std::lower_bound(step.begin(), step.end(), static_cast<double>(drift.shift_step)) -
        step.begin());
    if (at >= k_min_side_steps && n - at >= k_min_side_steps)
      return {{0, at}, {at, n}, "change point"};
  }
  // Quarters, or halves when a quarter would have fewer than k_min_segment_steps: the unit
  // costs come from step-to-step differences within the segments, and a quarter of 19 steps
  // gives 3 differences a side -- too few to price any work, so a marked run of 20 steps
  // whose work grew tenfold read "not identifiable" in nearly every run (issue 20).
  if (n / 4 < k_min_segment_steps) return {{0, n / 2}, {n - n / 2, n}, "halves"};
  const std::size_t quarter = n / 4;
  return {{0, quarter}, {n - quarter, n}, "quarters"};
}

}  // namespace

std::vector<double> per_step_from_readings(const Columns& steps, std::string_view column) {
  const std::string name(column);
  if (!steps.has(name)) return {};
  const auto values = steps[name], usage = steps["usage_steps"];
  std::vector<double> out(values.size(), k_nan);
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!(usage[i] > 0) || !std::isfinite(values[i])) continue;
    const auto span = static_cast<std::size_t>(usage[i]);
    if (span > i + 1) continue;
    for (std::size_t j = i + 1 - span; j <= i; ++j)
      out[j] = values[i] / usage[i];
  }
  return out;
}

double cpu_wait_share(const Columns& steps) {
  if (!steps.has(std::string(k_runq_column))) return k_nan;
  const auto wall = steps["wall_ns"], usage = steps["usage_steps"];
  const auto runq = steps[std::string(k_runq_column)];
  double waited = 0.0, time = 0.0;
  for (std::size_t i = 0; i < steps.rows(); ++i) {
    if (!(usage[i] > 0) || !std::isfinite(runq[i])) continue;
    const auto span = static_cast<std::size_t>(usage[i]);
    if (span > i + 1) continue;
    for (std::size_t j = i + 1 - span; j <= i; ++j)
      if (std::isfinite(wall[j])) time += wall[j];
    waited += runq[i];
  }
  return time > 0 ? waited / time : k_nan;
}

const SectionChange* find_section(const Attribution& attribution, std::string_view section) {
  for (const SectionChange& s : attribution.sections)
    if (s.section == section) return &s;
  return nullptr;
}

namespace {

void mark_too_short(Attribution& a) {
  a.segments = "too short";
  a.ratio = a.ratio_ci_low = a.ratio_ci_high = k_nan;
  a.work_share = a.work_share_ci_low = a.work_share_ci_high = k_nan;
}

// Work counters whose level changed between the segments by a material fraction although
// their cost is not estimated: they never vary step to step, or too little to price their
// growth (well_priced).
std::vector<std::string> unidentified_counters(const std::vector<std::string>& counters,
                                               const Sample& early, const Sample& late,
                                               const std::vector<Eigen::Index>& used,
                                               const Thresholds& t) {
  std::vector<std::string> out;
  for (std::size_t k = 0; k < counters.size(); ++k) {
    const auto i = static_cast<Eigen::Index>(k);
    const double we = early.work(i), wl = late.work(i);
    const double level = std::max(std::abs(we), std::abs(wl));
    if (std::find(used.begin(), used.end(), i) == used.end() && level > 0 &&
        std::abs(wl - we) >= t.min_unit_cost_change * level)
      out.push_back(counters[k]);
  }
  return out;
}

// One comparison: the `early_w` steps against the `late_w` steps of a condition, every
// figure of `a` but its condition, segment label and change points. The bootstrap
// replicates and the point estimate run the same code (take, pooled_costs, split), one
// after the other.
void compare(const Columns& steps, const std::vector<SectionSeries>& sections, Window early_w,
             Window late_w, std::size_t replicates, const Thresholds& t, Attribution& a) {
  const auto step = steps["step"];
  a.early_first_step = static_cast<std::int64_t>(step[early_w.begin]);
  a.early_last_step = static_cast<std::int64_t>(step[early_w.end - 1]);
  a.late_first_step = static_cast<std::int64_t>(step[late_w.begin]);
  a.late_last_step = static_cast<std::int64_t>(step[late_w.end - 1]);
  const Segment early = average_blocks(sections, steps, a.counters, early_w);
  const Segment late = average_blocks(sections, steps, a.counters, late_w);
  const std::vector<bool> id_early = identifiable_counters(early);
  const std::vector<bool> id_late = identifiable_counters(late);
  std::vector<Eigen::Index> varying;
  for (std::size_t k = 0; k < a.counters.size(); ++k)
    if (id_early[k] || id_late[k]) varying.push_back(static_cast<Eigen::Index>(k));
  const std::size_t ne = static_cast<std::size_t>(early.time.rows());
  const std::size_t nl = static_cast<std::size_t>(late.time.rows());
  const std::vector<Eigen::Index> used =
      well_priced(varying, take(early, identity(ne), varying), take(late, identity(nl), varying));
  const Sample point_early = take(early, identity(ne), used);
  const Sample point_late = take(late, identity(nl), used);
  a.unidentified = unidentified_counters(a.counters, point_early, point_late, used, t);

  const auto count = static_cast<Eigen::Index>(sections.size());
  std::vector<std::array<std::vector<double>, 3>> reps(sections.size());
  std::vector<double> ratio_reps, share_reps;
  std::mt19937_64 rng(k_seed);
  for (std::size_t r = 0; r < replicates; ++r) {
    const Sample e = take(early, resample(ne, rng), used);
    const Sample l = take(late, resample(nl, rng), used);
    const Eigen::MatrixXd costs = pooled_costs(e, l, count);
    for (Eigen::Index s = 0; s < count; ++s) {
      const Parts p = split(e, l, costs, used, s);
      auto& rep = reps[static_cast<std::size_t>(s)];
      rep[0].push_back(p.change * 1e-6);
      rep[1].push_back(p.more_work * 1e-6);
      rep[2].push_back(p.dearer * 1e-6);
      if (s == 0) {
        ratio_reps.push_back(l.time(0) / e.time(0));
        share_reps.push_back(p.change != 0 ? p.more_work / p.change : k_nan);
      }
    }
  }
  const Eigen::MatrixXd costs = pooled_costs(point_early, point_late, count);
  for (Eigen::Index s = 0; s < count; ++s) {
    const Parts p = split(point_early, point_late, costs, used, s);
    const auto& rep = reps[static_cast<std::size_t>(s)];
    SectionChange out;
    out.section = sections[static_cast<std::size_t>(s)].name;
    out.early_ms = point_early.time(s) * 1e-6;
    out.late_ms = point_late.time(s) * 1e-6;
    out.change = summarise(p.change * 1e-6, rep[0], t.confidence);
    out.more_work = summarise(p.more_work * 1e-6, rep[1], t.confidence);
    out.dearer = summarise(p.dearer * 1e-6, rep[2], t.confidence);
    a.sections.push_back(std::move(out));
    if (s != 0) continue;
    const ChangePart ratio =
        summarise(point_late.time(0) / point_early.time(0), ratio_reps, t.confidence);
    std::tie(a.ratio, a.ratio_ci_low, a.ratio_ci_high) =
        std::tuple(ratio.ms, ratio.ci_low, ratio.ci_high);
    const ChangePart share =
        summarise(p.change != 0 ? p.more_work / p.change : k_nan, share_reps, t.confidence);
    std::tie(a.work_share, a.work_share_ci_low, a.work_share_ci_high) =
        std::tuple(share.ms, share.ci_low, share.ci_high);
  }
}

// The change points of a changed condition whose segmentation has a few of them (at most
// k_max_change_points: the change came in steps), each in step order: the steps since the
// previous change point, or the start, against the steps up to the next, or the end.
// Points whose sides have fewer than k_min_side_steps steps are skipped.
std::vector<Attribution> change_point_changes(const ConditionData& condition, const Drift& drift,
                                              const std::vector<SectionSeries>& sections,
                                              const std::vector<std::string>& counters,
                                              const Thresholds& t) {
  if (!is_change(drift.direction) || drift.change_points.size() > k_max_change_points) return {};
  const auto step = condition.steps["step"];
  std::vector<std::size_t> at{0};
  for (const std::int64_t point : drift.change_points)
    at.push_back(static_cast<std::size_t>(
        std::lower_bound(step.begin(), step.end(), static_cast<double>(point)) - step.begin()));
  at.push_back(step.size());
  std::vector<Attribution> out;
  for (std::size_t i = 1; i + 1 < at.size(); ++i) {
    if (at[i] - at[i - 1] < k_min_side_steps || at[i + 1] - at[i] < k_min_side_steps) continue;
    Attribution a;
    a.condition = condition.name;
    a.segments = "change point";
    a.counters = counters;
    compare(condition.steps, sections, {at[i - 1], at[i]}, {at[i], at[i + 1]},
            k_change_point_replicates, t, a);
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace

Attribution attribute_change(const ConditionData& condition, const Drift& drift,
                             const Thresholds& t) {
  Attribution a;
  a.condition = condition.name;
  const Columns& steps = condition.steps;
  if (steps.rows() < k_min_attribution_steps) {
    mark_too_short(a);
    return a;
  }
  const Segments segments = choose_segments(condition, drift);
  a.segments = segments.how;
  a.counters = work_counters(steps);
  const std::vector<SectionSeries> sections = section_series(steps);
  compare(steps, sections, segments.early, segments.late, k_replicates, t, a);
  a.change_points = change_point_changes(condition, drift, sections, a.counters, t);
  return a;
}

}  // namespace nrmlab::analysis
