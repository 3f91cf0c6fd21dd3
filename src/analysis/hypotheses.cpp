// Hypothesis evidence (study.md 4.4). Each hypothesis is judged per condition -- never
// across a condition boundary, where the work changes by design -- and the run's verdict is
// "supported" when any condition supports it, "not testable" when no condition could test
// it, else "not supported". Correlations are partial Spearman correlations controlling for
// step index and agent count, i.e. on detrended series, because two series that both trend
// correlate whatever their relation.
#include <fmt/format.h>

#include <algorithm>
#include <boost/math/distributions/normal.hpp>
#include <cmath>

#include "analysis/sound_mode.hpp"
#include "analysis/stats/descriptive.hpp"
#include "analysis/stats/hac.hpp"
#include "analysis/stats/mann_kendall.hpp"
#include "analysis/stats/nnls.hpp"
#include "analysis/stats/partial_correlation.hpp"
#include "analysis/stats/theil_sen.hpp"
#include "analysis/windows.hpp"

namespace nrmlab::analysis {
namespace {

constexpr double k_nan = std::numeric_limits<double>::quiet_NaN();
constexpr std::size_t k_min_points = 10;

struct Outcome {
  bool testable = false;
  bool supported = false;
  std::string reason;
  double effect = k_nan;
  double ci_low = k_nan;
  double ci_high = k_nan;
  std::vector<Evidence> evidence;
};

Outcome untestable(std::string reason) {
  Outcome o;
  o.reason = std::move(reason);
  return o;
}

std::string fmt_p(double p) {
  return std::isfinite(p) ? fmt::format("{:.2g}", p) : "n/a";
}

// Fisher-z interval of a (partial) correlation with k controls.
std::pair<double, double> correlation_interval(double r, std::size_t n, std::size_t k,
                                               double confidence) {
  if (!std::isfinite(r) || n < k + 4 || std::abs(r) >= 1.0) return {k_nan, k_nan};
  const double z = std::atanh(r);
  const double q = boost::math::quantile(boost::math::normal(), 0.5 + confidence / 2);
  const double half = q / std::sqrt(static_cast<double>(n - k - 3));
  return {std::tanh(z - half), std::tanh(z + half)};
}

// Index of the step row with step number `step` (steps ascend within a condition).
std::size_t step_index(std::span<const double> steps, double step) {
  const auto it = std::lower_bound(steps.begin(), steps.end(), step);
  return std::min<std::size_t>(static_cast<std::size_t>(it - steps.begin()), steps.size() - 1);
}

// Aligned series for a partial correlation: the indicator, the step time over the same
// steps, and the controls (step index and agents).
struct Aligned {
  std::vector<double> indicator, step_time, step, agents;
  void add(double value, double time, double at_step, double agent_count) {
    if (!std::isfinite(value) || !std::isfinite(time)) return;
    indicator.push_back(value);
    step_time.push_back(time);
    step.push_back(at_step);
    agents.push_back(agent_count);
  }
};

// Partial Spearman of an indicator with step time; positive when the indicator goes with
// slower steps. `sign` = -1 for indicators whose *fall* should slow steps (CPU frequency).
Outcome correlate(const std::string& what, const Aligned& a, const Thresholds& t, double sign = 1) {
  Outcome o;
  if (a.indicator.size() < k_min_points) {
    o.reason = fmt::format("fewer than {} readings of {}", k_min_points, what);
    return o;
  }
  Eigen::MatrixXd controls(static_cast<Eigen::Index>(a.step.size()), 2);
  for (std::size_t i = 0; i < a.step.size(); ++i) {
    controls(static_cast<Eigen::Index>(i), 0) = a.step[i];
    controls(static_cast<Eigen::Index>(i), 1) = a.agents[i];
  }
  const auto c = stats::partial_spearman(a.indicator, a.step_time, controls);
  o.evidence.push_back({fmt::format("partial Spearman({}, step time | step, agents)", what), c.r,
                        c.p, fmt::format("n = {}", c.n)});
  if (!std::isfinite(c.r)) {
    o.reason = fmt::format("{} does not vary once step index and agents are accounted for", what);
    return o;
  }
  o.testable = true;
  o.effect = c.r;
  std::tie(o.ci_low, o.ci_high) = correlation_interval(c.r, c.n, 2, t.confidence);
  o.supported = sign * c.r >= t.min_partial_r && c.p < t.alpha;
  o.reason = o.supported
                 ? fmt::format("{} goes with slower steps (partial r = {:.2f}, p = {})", what, c.r,
                               fmt_p(c.p))
                 : fmt::format("{} does not go with slower steps (partial r = {:.2f}, p = {})",
                               what, c.r, fmt_p(c.p));
  return o;
}

// Change of a series over its span, relative to its start (Theil-Sen line on at most 1000
// block medians), and Mann-Kendall's p.
std::pair<double, double> relative_trend(std::span<const double> x, std::span<const double> y) {
  std::vector<double> fx, fy;
  finite_pairs(x, y, fx, fy);
  if (fx.size() < k_min_points) return {k_nan, k_nan};
  std::vector<double> positions;
  const auto medians = block_medians(fx, fy, 1000, positions);
  const auto line = stats::theil_sen(positions, medians, 0.95);
  const double first = line.intercept + line.slope * fx.front();
  const double last = line.intercept + line.slope * fx.back();
  return {std::abs(first) > 0 ? (last - first) / std::abs(first) : k_nan,
          stats::mann_kendall(fy).p};
}

// ---- H1: contention ------------------------------------------------------------------

Outcome contention(const ConditionData& c, const TimeDecomposition& time, const Thresholds& t) {
  const Columns& s = c.steps;
  const auto steps = s["step"], wall = s["wall_ns"], agents = s["agents"];
  const auto usage = s["usage_steps"], involuntary = s["involuntary_switches"];
  Aligned switches;
  for (std::size_t i = 0; i < s.rows(); ++i) {
    if (!(usage[i] > 0) || !std::isfinite(involuntary[i])) continue;
    const auto span = static_cast<std::size_t>(usage[i]);
    if (span > i + 1) continue;
    double time = 0.0;
    for (std::size_t j = i + 1 - span; j <= i; ++j)
      time += wall[j];
    switches.add(involuntary[i] / usage[i], time / usage[i], steps[i], agents[i]);
  }
  // The side stream: other processes' CPU (a delta per sample) and the load average.
  Aligned others, load;
  const Columns& sys = c.system;
  if (sys.rows() > 1 && !steps.empty()) {
    const auto t_ns = sys["t_ns"], sys_step = sys["step"], other = sys["other_cpu_ns"];
    const auto load1 = sys["load1"];
    for (std::size_t r = 1; r < sys.rows(); ++r) {
      const std::size_t from = step_index(steps, sys_step[r - 1]);
      const std::size_t to = step_index(steps, sys_step[r]);
      double time = 0.0;
      for (std::size_t j = from; j <= to; ++j)
        time += wall[j];
      time /= static_cast<double>(to - from + 1);
      const double dt = t_ns[r] - t_ns[r - 1];
      if (dt > 0) others.add(other[r] / dt, time, steps[to], agents[to]);
      load.add(load1[r], time, steps[to], agents[to]);
    }
  }
  Outcome best;
  std::vector<std::string> untestable;
  for (const auto& [what, series] :
       {std::pair{std::string("involuntary context switches per step"), &switches},
        std::pair{std::string("other processes' CPU share"), &others},
        std::pair{std::string("load average"), &load}}) {
    Outcome o = correlate(what, *series, t);
    if (!o.testable) {
      untestable.push_back(o.reason);
      best.evidence.insert(best.evidence.end(), o.evidence.begin(), o.evidence.end());
      continue;
    }
    const bool better = !best.testable || (o.supported && !best.supported) ||
                        (o.supported == best.supported && o.effect > best.effect);
    auto evidence = std::move(best.evidence);
    evidence.insert(evidence.end(), o.evidence.begin(), o.evidence.end());
    if (better) best = std::move(o);
    best.evidence = std::move(evidence);
  }
  if (!best.testable) best.reason = fmt::format("{}", fmt::join(untestable, "; "));
  // Contention slows a step by keeping it off the CPU while it is runnable: without such
  // time, a correlation with preemptions cannot be what makes the run slow.
  best.evidence.push_back(
      {"off-CPU share outside deliberate sleeps", time.off_cpu_unexplained_share, k_nan, ""});
  if (best.supported && !(time.off_cpu_unexplained_share >= t.min_contention_share)) {
    best.supported = false;
    best.reason = fmt::format(
        "{}, but steps spend only {:.1f}% of their time off-CPU beyond "
        "deliberate sleeps",
        best.reason, 100 * time.off_cpu_unexplained_share);
  }
  return best;
}

// ---- H2: fragmentation ---------------------------------------------------------------

bool unit_costs_rise(const CostModel& cost, const Drift& drift, const Thresholds& t) {
  for (const auto& term : cost.terms)
    if (term.drifts && term.relative_change > 0) return true;
  // Slower steps that growing work does not explain: the efficiency loss H2/H3 would cause.
  return drift.drifts && drift.direction == "slower" &&
         !(cost.explained_fraction >= t.min_explained_fraction);
}

Outcome fragmentation(const ConditionData& c, const CostModel& cost, const Drift& drift,
                      const Thresholds& t) {
  Outcome o;
  const Columns& m = c.memory;
  const char* const k_ratios[] = {"rss_per_allocated", "resident_per_active",
                                  "active_per_allocated"};
  bool any_ratio = false, grows = false;
  std::size_t readings = 0;
  for (const char* ratio : k_ratios) {
    if (!m.has(ratio)) continue;
    std::size_t finite = 0;
    for (const double v : m[ratio])
      finite += std::isfinite(v);
    readings = std::max(readings, finite);
    const auto [change, p] = relative_trend(m["step"], m[ratio]);
    if (!std::isfinite(change)) continue;
    any_ratio = true;
    const bool this_grows = change >= t.min_ratio_growth && p < t.alpha;
    grows = grows || this_grows;
    o.evidence.push_back({fmt::format("relative change of {} over the condition", ratio), change, p,
                          this_grows ? "grows" : "does not grow"});
    if (!std::isfinite(o.effect) || change > o.effect) o.effect = change;
  }
  if (!any_ratio) {
    o.reason = readings == 0 ? "the allocator exposes no statistics to form fragmentation ratios"
                             : fmt::format("{} allocator readings, fewer than {} (or constant)",
                                           readings, k_min_points);
    return o;
  }
  o.testable = true;
  const bool costs_rise = unit_costs_rise(cost, drift, t);
  o.evidence.push_back({"unit costs rise (NNLS windows, or drift that work does not explain)",
                        costs_rise ? 1.0 : 0.0, k_nan, ""});
  o.supported = grows && costs_rise;
  o.reason = o.supported ? "allocator ratios grow and unit costs grow with them; the allocator "
                           "intervention decides"
             : grows     ? "allocator ratios grow but unit costs do not"
                         : "allocator ratios do not grow";
  return o;
}

// ---- H3: I/O accumulation ------------------------------------------------------------

// Database cost per step is commits plus rows: database_ns = a transactions + b rows. Fitted
// per window (NNLS, no intercept: no operations cost nothing), the cost of the condition's
// average work mix, a T + b R, tracks the price of the same I/O over time. A per-row or
// per-transaction ratio would not: a commit's cost is shared by the rows it holds, so a
// changing number of rows per transaction moves either ratio with no change in price.
Outcome io_accumulation(const ConditionData& c, const TimeDecomposition& time,
                        const Thresholds& t) {
  Outcome o;
  const Columns& s = c.steps;
  const auto transactions = s["db_transactions"], rows = s["db_rows"];
  const auto database = s["database_ns"];
  std::size_t active = 0;
  for (std::size_t i = 0; i < s.rows(); ++i)
    active += transactions[i] > 0 || rows[i] > 0;
  if (active < k_min_points) {
    o.reason = "the run did almost no database work (persistence off?)";
    return o;
  }
  const double mean_transactions = stats::mean(transactions), mean_rows = stats::mean(rows);
  std::vector<double> index, price;
  const auto windows = split_windows(s.rows(), static_cast<std::size_t>(t.windows), 20);
  for (std::size_t w = 0; w < windows.size(); ++w) {
    const Window& win = windows[w];
    const auto size = static_cast<Eigen::Index>(win.end - win.begin);
    Eigen::MatrixXd design(size, 2);
    for (Eigen::Index r = 0; r < size; ++r) {
      design(r, 0) = transactions[win.begin + static_cast<std::size_t>(r)];
      design(r, 1) = rows[win.begin + static_cast<std::size_t>(r)] / std::max(1.0, mean_rows);
    }
    const auto fit = stats::nnls(design, database.subspan(win.begin, win.end - win.begin));
    index.push_back(static_cast<double>(w));
    price.push_back(fit.coefficients[0] * mean_transactions +
                    fit.coefficients[1] * mean_rows / std::max(1.0, mean_rows));
  }
  if (price.size() < 4) {
    o.reason = fmt::format("too few steps for {} windows of database cost", 4);
    return o;
  }
  o.testable = true;
  const auto line = stats::theil_sen(index, price, t.confidence);
  const double start = line.intercept;
  const double span = index.back();
  if (start > 0) {
    o.effect = line.slope * span / start;
    o.ci_low = line.ci_low * span / start;
    o.ci_high = line.ci_high * span / start;
  }
  const auto trend = stats::mann_kendall(price);
  o.evidence.push_back(
      {"relative change of the database cost of the average step's I/O "
       "(per-window NNLS on transactions and rows; Theil-Sen over windows)",
       o.effect, trend.p, fmt::format("{:.3g} µs per step at first", start * 1e-3)});
  double database_share = k_nan;
  for (const auto& section : time.sections)
    if (section.section == "database") database_share = section.share;
  o.evidence.push_back({"database share of step time", database_share, k_nan, ""});
  if (c.files.rows() >= 2) {
    const auto bytes = c.files["database_bytes"];
    o.evidence.push_back({"database files growth (bytes)", bytes.back() - bytes.front(), k_nan,
                          fmt::format("{:.3g} MB at the end", bytes.back() / 1e6)});
  }
  const bool grows = o.ci_low > 0 && o.effect >= t.min_unit_cost_change && trend.p < t.alpha;
  o.supported = grows && database_share >= t.min_io_share;
  o.reason = o.supported ? "the same database work costs more as the store grows"
             : grows     ? "database work gets dearer, but it is a negligible share of step time"
                         : "database work does not get dearer";
  return o;
}

// ---- H4: thermal ---------------------------------------------------------------------

Outcome thermal(const RunData& run, const ConditionData& c, const Thresholds& t) {
  Outcome o;
  if (run.sensor_readings == 0) {
    o.reason = "this machine exposes no CPU frequency or temperature sensors";
    return o;
  }
  const Columns& sensors = c.sensors;
  const auto steps = c.steps["step"], wall = c.steps["wall_ns"], agents = c.steps["agents"];
  Aligned frequency, temperature;
  for (std::size_t r = 0; r < sensors.rows(); ++r) {
    const std::size_t i = step_index(steps, sensors["step"][r]);
    (sensors["is_frequency"][r] > 0 ? frequency : temperature)
        .add(sensors["value"][r], wall[i], steps[i], agents[i]);
  }
  Outcome by_frequency = correlate("CPU frequency", frequency, t, -1);
  Outcome by_temperature = correlate("CPU temperature", temperature, t, 1);
  Outcome& best =
      by_frequency.supported || !by_temperature.testable ? by_frequency : by_temperature;
  o = best;
  Outcome& other = &best == &by_frequency ? by_temperature : by_frequency;
  o.evidence.insert(o.evidence.end(), other.evidence.begin(), other.evidence.end());
  o.testable = by_frequency.testable || by_temperature.testable;
  if (!o.testable) o.reason = "sensors exist but their readings do not vary";
  return o;
}

// ---- H5: emergent complexity ---------------------------------------------------------

Outcome emergent_complexity(const CostModel& cost, const Drift& drift, const Thresholds& t) {
  Outcome o;
  if (drift.direction == "too short") {
    o.reason = "too few steps to fit a trend";
    return o;
  }
  o.testable = true;
  o.effect = cost.explained_fraction;
  if (drift.hac_ci_low > 0 && cost.work_slope_ns_per_step > 0) {
    o.ci_low = cost.work_slope_ns_per_step / drift.hac_ci_high;
    o.ci_high = cost.work_slope_ns_per_step / drift.hac_ci_low;
  }
  std::string growing;
  for (const auto& term : cost.terms)
    if (term.counter != "per_step" && term.count_relative_change >= t.min_unit_cost_change &&
        term.share >= 0.01)
      growing += (growing.empty() ? "" : ", ") + term.counter;
  o.evidence.push_back({"share of the step-time slope explained by work at constant unit costs",
                        cost.explained_fraction, k_nan,
                        fmt::format("work slope {:.3g} ns/step of {:.3g}",
                                    cost.work_slope_ns_per_step, cost.actual_slope_ns_per_step)});
  o.evidence.push_back({"NNLS R^2 of step time on work counters", cost.r_squared, k_nan, ""});
  o.evidence.push_back({"growing work counters", static_cast<double>(!growing.empty()), k_nan,
                        growing.empty() ? "none" : growing});
  if (!(drift.drifts && drift.direction == "slower")) {
    o.reason = "step time does not grow";
    return o;
  }
  const bool explains = cost.explained_fraction >= t.min_explained_fraction;
  o.supported = explains && !growing.empty();
  o.reason = o.supported ? fmt::format(
                               "growing work ({}) at constant unit costs explains {:.0f}% "
                               "of the slowdown",
                               growing, 100 * cost.explained_fraction)
             : explains ? "the work model tracks the slowdown, but no work counter grows"
                        : fmt::format("growing work explains only {:.0f}% of the slowdown",
                                      100 * std::max(0.0, cost.explained_fraction));
  return o;
}

// ---- assembling a verdict over conditions --------------------------------------------

Hypothesis combine(std::string id, std::string name, std::string effect_label,
                   const std::vector<std::string>& conditions, std::vector<Outcome> outcomes) {
  Hypothesis h{std::move(id), std::move(name), "not testable", "", std::move(effect_label),
               k_nan,         k_nan,           k_nan,          {}};
  const Outcome* chosen = nullptr;
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    const Outcome& o = outcomes[i];
    for (Evidence e : o.evidence) {
      e.what = conditions[i] + ": " + e.what;
      h.evidence.push_back(std::move(e));
    }
    const auto rank = [](const Outcome* x) {
      return !x ? 0 : x->supported ? 3 : x->testable ? 2 : 1;
    };
    const bool stronger =
        std::isfinite(o.effect) && (!chosen || !std::isfinite(chosen->effect) ||
                                    std::abs(o.effect) > std::abs(chosen->effect));
    if (rank(&o) > rank(chosen) || (rank(&o) == rank(chosen) && stronger)) chosen = &o;
  }
  if (!chosen) {
    h.reason = "no condition to test";
    return h;
  }
  const std::size_t at = static_cast<std::size_t>(chosen - outcomes.data());
  h.verdict = chosen->supported ? "supported" : chosen->testable ? "not supported" : "not testable";
  h.reason = conditions[at] + ": " + chosen->reason;
  h.effect_size = chosen->effect;
  h.ci_low = chosen->ci_low;
  h.ci_high = chosen->ci_high;
  return h;
}

}  // namespace

std::vector<Hypothesis> assess_hypotheses(const RunData& run, const std::vector<Drift>& drift,
                                          const std::vector<CostModel>& costs,
                                          const std::vector<TimeDecomposition>& times,
                                          const TimeDecomposition& time, const Thresholds& t) {
  std::vector<std::string> names;
  std::vector<Outcome> h1, h2, h3, h4, h5;
  for (std::size_t i = 0; i < run.conditions.size(); ++i) {
    const ConditionData& c = run.conditions[i];
    names.push_back(c.name);
    if (drift[i].direction == "too short") {
      for (auto* outcomes : {&h1, &h2, &h3, &h4})
        outcomes->push_back(untestable("too few steps"));
    } else {
      h1.push_back(contention(c, times[i], t));
      h2.push_back(fragmentation(c, costs[i], drift[i], t));
      h3.push_back(io_accumulation(c, times[i], t));
      h4.push_back(thermal(run, c, t));
    }
    h5.push_back(emergent_complexity(costs[i], drift[i], t));
  }
  std::vector<Hypothesis> out;
  out.push_back(
      combine("H1", "system resource contention", "partial Spearman r", names, std::move(h1)));
  out.push_back(combine("H2", "memory fragmentation",
                        "relative growth of the largest allocator ratio", names, std::move(h2)));
  out.push_back(combine("H3", "I/O accumulation",
                        "relative growth of the database cost of the same work", names,
                        std::move(h3)));
  out.push_back(combine("H4", "thermal throttling", "partial Spearman r", names, std::move(h4)));
  out.push_back(combine("H5", "emergent complexity (workload growth)",
                        "share of the slowdown explained by work", names, std::move(h5)));
  // The observer effect: the lab's own share of wall time, and whether it grows.
  Hypothesis observer{"observer",
                      "observer effect (the lab's own telemetry)",
                      "",
                      "",
                      "recorder share of wall time",
                      time.recorder_share,
                      k_nan,
                      k_nan,
                      {}};
  observer.evidence.push_back({"recorder share of wall time", time.recorder_share, k_nan, ""});
  if (!std::isfinite(time.recorder_share)) {
    observer.verdict = "not testable";
    observer.reason = "no wall time recorded";
  } else {
    observer.verdict = time.recorder_share >= t.max_observer_share ? "supported" : "not supported";
    observer.reason = fmt::format(
        "the recorder took {:.2f}% of wall time ({} {:.0f}%)", 100 * time.recorder_share,
        observer.verdict == "supported" ? "at or above" : "below", 100 * t.max_observer_share);
  }
  out.push_back(std::move(observer));
  return out;
}

SoundAnalysis analyse_sound(const RunData& run, const Thresholds& thresholds) {
  SoundAnalysis sound;
  std::vector<const Columns*> all;
  for (const auto& c : run.conditions) {
    all.push_back(&c.steps);
    sound.conditions.push_back(decompose(c.name, {&c.steps}));
    sound.drift.push_back(analyse_drift(c, thresholds));
    sound.cost_models.push_back(fit_cost_model(c, thresholds));
  }
  sound.run = decompose("run", all);
  sound.hypotheses = assess_hypotheses(run, sound.drift, sound.cost_models, sound.conditions,
                                       sound.run, thresholds);
  return sound;
}

}  // namespace nrmlab::analysis
