#include "analysis/code_growth.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <tuple>
#include <unordered_map>

#include "analysis/code_profile.hpp"
#include "analysis/sound_mode.hpp"
#include "analysis/stats/bootstrap.hpp"
#include "analysis/stats/descriptive.hpp"
#include "analysis/stats/p_values.hpp"
#include "model/step_counters.hpp"

namespace nrmlab::analysis {
namespace {

using telemetry::profile::ProfileData;
using telemetry::profile::WaitClass;

constexpr std::uint64_t k_growth_seed = 20261207;

// A place time is charged to: a function (as every view names it), its file, how it waited.
struct Key {
  std::string function;
  std::string module;
  WaitClass wait = WaitClass::other;
  auto operator<=>(const Key&) const = default;
};

// Every key seen on either side, numbered in order of appearance.
struct KeyTable {
  std::map<Key, std::size_t> index;
  std::vector<Key> keys;
  std::vector<std::int64_t> samples;  // both sides

  std::size_t id(const Key& key) {
    const auto [it, added] = index.emplace(key, keys.size());
    if (added) {
      keys.push_back(key);
      samples.push_back(0);
    }
    return it->second;
  }
};

// One side's time per key and window (ns): self (charged to the key) and inclusive (the
// key's function anywhere on the stack, once per stack).
struct SideTimes {
  std::vector<std::vector<double>> self;  // [key][window position]
  std::vector<std::vector<double>> inclusive;

  void fit(std::size_t keys, std::size_t windows) {
    if (self.size() < keys) {
      self.resize(keys, std::vector<double>(windows, 0.0));
      inclusive.resize(keys, std::vector<double>(windows, 0.0));
    }
  }
};

// The function a stack's time is charged to, and every function on it (distinct).
struct StackNames {
  std::string function;
  std::string module;
  std::vector<std::pair<std::string, std::string>> on_stack;
};

StackNames names_of(const ProfileData& data, std::int64_t stack) {
  StackNames names;
  const std::vector<std::int64_t> path = data.frame_path(stack);
  const CodePlace place = place_of(data, path);
  names.function = frame_name(place.function);
  names.module = place.function ? place.function->module : "";
  std::set<std::pair<std::string, std::string>> seen;
  for (const std::int64_t id : path) {
    const telemetry::ProfileFrameRow& frame = data.frame(id);
    std::pair<std::string, std::string> name{frame_name(&frame), frame.module};
    if (seen.insert(name).second) names.on_stack.push_back(std::move(name));
  }
  if (path.empty()) names.on_stack.emplace_back(names.function, names.module);
  return names;
}

void collect(const ProfileData& data, const GrowthSide& side, KeyTable& keys, SideTimes& times) {
  std::unordered_map<std::int64_t, std::size_t> position;
  for (std::size_t i = 0; i < side.windows.size(); ++i)
    position.emplace(side.windows[i], i);
  std::unordered_map<std::int64_t, StackNames> stacks;
  const std::size_t n = side.windows.size();
  for (const ProfileData::Count& count : data.counts) {
    const auto at = position.find(count.window);
    if (at == position.end()) continue;
    auto it = stacks.find(count.stack);
    if (it == stacks.end()) it = stacks.emplace(count.stack, names_of(data, count.stack)).first;
    const StackNames& names = it->second;
    const auto weight = static_cast<double>(count.weight_ns);
    const std::size_t self = keys.id({names.function, names.module, count.wait});
    keys.samples[self] += count.samples;
    times.fit(keys.keys.size(), n);
    times.self[self][at->second] += weight;
    for (const auto& [function, module] : names.on_stack) {
      const std::size_t k = keys.id({function, module, count.wait});
      times.fit(keys.keys.size(), n);
      times.inclusive[k][at->second] += weight;
    }
  }
}

// A side's sums over a resample, given as how many times each window was drawn.
struct Sums {
  double steps = 0.0;
  double wall_ns = 0.0;
  double work = 0.0;
};

double weighted(const std::vector<double>& values, const std::vector<double>& times) {
  double sum = 0.0;
  for (std::size_t i = 0; i < values.size(); ++i)
    if (times[i] != 0.0 && std::isfinite(values[i])) sum += times[i] * values[i];
  return sum;
}

Sums sums_of(const GrowthSide& side, const std::vector<double>& times) {
  return {weighted(side.steps, times), weighted(side.wall_ns, times),
          side.work.empty() ? k_not_recorded : weighted(side.work, times)};
}

std::vector<double> multiplicities(std::size_t n, const std::vector<std::size_t>& drawn) {
  std::vector<double> times(n, 0.0);
  for (const std::size_t i : drawn)
    times[i] += 1.0;
  return times;
}

// One function's figures on one resample of both sides.
struct KeyFigures {
  double per_step_early = k_not_recorded, per_step_late = k_not_recorded;
  double per_unit_early = k_not_recorded, per_unit_late = k_not_recorded;
  double share = k_not_recorded;  // of the step-time change
  double log_ratio = k_not_recorded;
};

KeyFigures figures_of(double self_early, const Sums& e, double self_late, const Sums& l) {
  KeyFigures f;
  if (!(e.steps > 0) || !(l.steps > 0)) return f;
  f.per_step_early = self_early / 1e9 / e.steps;
  f.per_step_late = self_late / 1e9 / l.steps;
  const bool has_work = std::isfinite(e.work) && std::isfinite(l.work) && e.work > 0 && l.work > 0;
  f.per_unit_early = has_work ? self_early / 1e9 / e.work : f.per_step_early;
  f.per_unit_late = has_work ? self_late / 1e9 / l.work : f.per_step_late;
  const double step_change = (l.wall_ns / l.steps - e.wall_ns / e.steps) / 1e9;
  f.share = (f.per_step_late - f.per_step_early) / step_change;
  // A function absent on one side has a finite log ratio through a floor relative to the
  // other side (a millionth: ratio 1e6). Not an absolute floor: a unit of work may cost far
  // less than a nanosecond (a pass over an array element), and both sides would sit on it.
  const double floor = 1e-6 * std::max(f.per_unit_early, f.per_unit_late);
  f.log_ratio = floor > 0 ? std::log(std::max(f.per_unit_late, floor)) -
                                std::log(std::max(f.per_unit_early, floor))
                          : 0.0;
  return f;
}

// The one-sided p of "changed by more than `material` per unit", in the estimate's
// direction (doubled for having picked it), from the bootstrap's robust standard error.
double change_p(double log_ratio, std::vector<double> replicates, double material) {
  std::erase_if(replicates, [](double v) { return !std::isfinite(v); });
  if (replicates.size() < 10 || !std::isfinite(log_ratio)) return k_not_recorded;
  const double se = (stats::quantile(replicates, 0.8413) - stats::quantile(replicates, 0.1587)) / 2;
  const double margin = std::abs(log_ratio) - std::log1p(material);
  if (margin <= 0) return 1.0;
  if (!(se > 0)) return 0.0;
  const double one_sided = stats::two_sided_normal_p(margin / se) / 2;
  return std::min(1.0, 2 * one_sided);
}

struct Candidate {
  std::size_t key = 0;
  KeyFigures point;
  std::vector<double> shares;      // bootstrap replicates
  std::vector<double> log_ratios;  // bootstrap replicates
};

// The keys ranked by contribution to the change (positive shares first), at most `entries`.
std::vector<Candidate> candidates_of(const KeyTable& keys, const SideTimes& early, const Sums& e,
                                     const SideTimes& late, const Sums& l, std::size_t entries) {
  std::vector<Candidate> out;
  const std::vector<double> all_e(early.self.empty() ? 0 : early.self.front().size(), 1.0);
  const std::vector<double> all_l(late.self.empty() ? 0 : late.self.front().size(), 1.0);
  for (std::size_t k = 0; k < keys.keys.size(); ++k) {
    const double se = k < early.self.size() ? weighted(early.self[k], all_e) : 0.0;
    const double sl = k < late.self.size() ? weighted(late.self[k], all_l) : 0.0;
    if (se == 0.0 && sl == 0.0) continue;  // only ever inclusive (a caller)
    out.push_back({k, figures_of(se, e, sl, l), {}, {}});
  }
  std::sort(out.begin(), out.end(), [&](const Candidate& a, const Candidate& b) {
    const double sa = std::isfinite(a.point.share) ? a.point.share : -1e300;
    const double sb = std::isfinite(b.point.share) ? b.point.share : -1e300;
    return sa != sb ? sa > sb : keys.keys[a.key] < keys.keys[b.key];
  });
  if (out.size() > entries) out.resize(entries);
  return out;
}

void bootstrap(const GrowthSide& early, const SideTimes& te, const GrowthSide& late,
               const SideTimes& tl, const GrowthOptions& options,
               std::vector<Candidate>& candidates) {
  const std::size_t ne = early.windows.size(), nl = late.windows.size();
  const std::size_t le = stats::default_block_length(ne), ll = stats::default_block_length(nl);
  std::mt19937_64 rng(k_growth_seed);
  for (std::size_t r = 0; r < options.replicates; ++r) {
    const std::vector<double> me = multiplicities(ne, stats::block_resample(ne, le, rng));
    const std::vector<double> ml = multiplicities(nl, stats::block_resample(nl, ll, rng));
    const Sums e = sums_of(early, me), l = sums_of(late, ml);
    for (Candidate& c : candidates) {
      const double se = c.key < te.self.size() ? weighted(te.self[c.key], me) : 0.0;
      const double sl = c.key < tl.self.size() ? weighted(tl.self[c.key], ml) : 0.0;
      const KeyFigures f = figures_of(se, e, sl, l);
      c.shares.push_back(f.share);
      c.log_ratios.push_back(f.log_ratio);
    }
  }
}

std::pair<double, double> percentile_interval(std::vector<double> values, double confidence) {
  std::erase_if(values, [](double v) { return !std::isfinite(v); });
  if (values.size() < 10) return {k_not_recorded, k_not_recorded};
  return {stats::quantile(values, (1 - confidence) / 2),
          stats::quantile(values, (1 + confidence) / 2)};
}

double inclusive_per_step(const SideTimes& times, std::size_t key, double steps) {
  if (key >= times.inclusive.size() || !(steps > 0)) return 0.0;
  double sum = 0.0;
  for (const double v : times.inclusive[key])
    sum += v;
  return sum / 1e9 / steps;
}

CodeChange change_of(const Candidate& c, double adjusted_p, bool has_work, double work_ratio,
                     std::int64_t samples, const GrowthOptions& options) {
  const double alpha = 1 - options.confidence;
  if (samples < options.min_samples) return CodeChange::unchanged;
  if (std::isfinite(adjusted_p) && adjusted_p < alpha) {
    if (!has_work) return CodeChange::not_identifiable;
    return c.point.log_ratio > 0 ? CodeChange::dearer : CodeChange::cheaper;
  }
  const double per_step_ratio = c.point.per_step_late / c.point.per_step_early;
  if (has_work && work_ratio > 1 + options.material && per_step_ratio > 1 + options.material)
    return CodeChange::more_work;
  return CodeChange::unchanged;
}

void describe_sides(const GrowthSide& early, const Sums& e, const GrowthSide& late, const Sums& l,
                    CodeComparison& comparison) {
  comparison.early_label = early.label;
  comparison.late_label = late.label;
  if (!early.windows.empty()) {
    comparison.early_first_window = early.windows.front();
    comparison.early_last_window = early.windows.back();
  }
  if (!late.windows.empty()) {
    comparison.late_first_window = late.windows.front();
    comparison.late_last_window = late.windows.back();
  }
  comparison.early_steps = e.steps;
  comparison.late_steps = l.steps;
  comparison.step_ms_early = e.steps > 0 ? e.wall_ns / e.steps / 1e6 : k_not_recorded;
  comparison.step_ms_late = l.steps > 0 ? l.wall_ns / l.steps / 1e6 : k_not_recorded;
  comparison.work_per_step_early = e.steps > 0 ? e.work / e.steps : k_not_recorded;
  comparison.work_per_step_late = l.steps > 0 ? l.work / l.steps : k_not_recorded;
}

CodeGrowth growth_of(const Candidate& c, const Key& key, const SideTimes& te, const SideTimes& tl,
                     const Sums& e, const Sums& l, bool has_work, const GrowthOptions& options) {
  CodeGrowth g;
  g.function = key.function;
  g.module = key.module;
  g.wait_class = std::string(to_string(key.wait));
  g.self_per_step_early = c.point.per_step_early;
  g.self_per_step_late = c.point.per_step_late;
  g.inclusive_per_step_early = inclusive_per_step(te, c.key, e.steps);
  g.inclusive_per_step_late = inclusive_per_step(tl, c.key, l.steps);
  if (has_work) {
    g.self_per_unit_early = c.point.per_unit_early;
    g.self_per_unit_late = c.point.per_unit_late;
  }
  g.per_unit_ratio = c.point.per_unit_late / c.point.per_unit_early;
  const auto [rl, rh] = percentile_interval(c.log_ratios, options.confidence);
  g.per_unit_ratio_ci_low = std::exp(rl);
  g.per_unit_ratio_ci_high = std::exp(rh);
  g.share_of_change = c.point.share;
  const auto [sl, sh] = percentile_interval(c.shares, options.confidence);
  g.interval = {sl, sh};
  if (has_work) {
    // u_l w_l - u_e w_e = mean(u) dw + mean(w) du, each over the step-time change.
    const double we = e.work / e.steps, wl = l.work / l.steps;
    const double ue = c.point.per_unit_early, ul = c.point.per_unit_late;
    const double step_change = (l.wall_ns / l.steps - e.wall_ns / e.steps) / 1e9;
    g.more_work_share = (ue + ul) / 2 * (wl - we) / step_change;
    g.dearer_share = (we + wl) / 2 * (ul - ue) / step_change;
  }
  return g;
}

// Rows of the condition whose step number is `step` (the first such row), or rows() when
// none: an attribution names its segments by step number.
std::size_t row_of_step(const Columns& steps, std::int64_t step) {
  const auto column = steps["step"];
  const auto it = std::lower_bound(column.begin(), column.end(), static_cast<double>(step));
  return static_cast<std::size_t>(it - column.begin());
}

}  // namespace

std::string dominant_work_counter(const ConditionData& condition, const CostModel* cost) {
  const UnitCost* best = nullptr;
  if (cost != nullptr)
    for (const UnitCost& term : cost->terms)
      if (term.counter != "per_step" && condition.steps.has(term.counter) &&
          (best == nullptr || term.share > best->share))
        best = &term;
  if (best != nullptr) return best->counter;
  if (const auto varying = work_counters(condition.steps); !varying.empty()) return varying.front();
  // A counter that is there but never changes: the work is constant.
  std::vector<std::string> candidates;
  for (const model::StepCounterField& field : model::k_step_counter_fields)
    if (field.role == model::CounterRole::work) candidates.emplace_back(field.name);
  for (const std::string& name : condition.steps.names())
    if (name.starts_with("work.")) candidates.push_back(name);
  for (const std::string& name : candidates) {
    if (!condition.steps.has(name)) continue;
    const auto column = condition.steps[name];
    if (!column.empty() && std::all_of(column.begin(), column.end(),
                                       [](double v) { return std::isfinite(v) && v > 0; }))
      return name;
  }
  return "";
}

GrowthSide growth_side(const ConditionData& condition, std::size_t first_row, std::size_t last_row,
                       std::int64_t window_ns, const std::string& work_counter, std::string label) {
  GrowthSide side;
  side.label = std::move(label);
  const Columns& steps = condition.steps;
  if (window_ns <= 0 || first_row > last_row || last_row >= steps.rows()) return side;
  const auto t = steps["t_ns"];
  const auto wall = steps["wall_ns"];
  const std::span<const double> work =
      work_counter.empty() ? std::span<const double>() : steps[work_counter];
  const double begin = t[first_row];
  const double end = t[last_row] + (std::isfinite(wall[last_row]) ? wall[last_row] : 0.0);
  const auto w = static_cast<double>(window_ns);
  const auto first = static_cast<std::int64_t>(std::floor(begin / w));
  const auto last = static_cast<std::int64_t>(std::floor(end / w));
  for (std::int64_t k = first; k <= last; ++k) {
    const double overlap =
        std::min(end, static_cast<double>(k + 1) * w) - std::max(begin, static_cast<double>(k) * w);
    if (overlap >= w / 2) side.windows.push_back(k);
  }
  side.steps.assign(side.windows.size(), 0.0);
  side.wall_ns.assign(side.windows.size(), 0.0);
  if (!work.empty()) side.work.assign(side.windows.size(), 0.0);
  // Every step of the condition begun in a side's window (t_ns ascends within a condition).
  for (std::size_t i = 0; i < side.windows.size(); ++i) {
    const double from = static_cast<double>(side.windows[i]) * w;
    const auto lo = std::lower_bound(t.begin(), t.end(), from);
    const auto hi = std::lower_bound(t.begin(), t.end(), from + w);
    for (auto it = lo; it != hi; ++it) {
      const auto row = static_cast<std::size_t>(it - t.begin());
      if (!std::isfinite(wall[row])) continue;
      side.steps[i] += 1.0;
      side.wall_ns[i] += wall[row];
      if (!work.empty() && std::isfinite(work[row])) side.work[i] += work[row];
    }
  }
  return side;
}

std::vector<CodeGrowth> compare_code(const ProfileData& early_data, const GrowthSide& early,
                                     const ProfileData& late_data, const GrowthSide& late,
                                     const GrowthOptions& options, CodeComparison& comparison) {
  const std::vector<double> all_e(early.windows.size(), 1.0), all_l(late.windows.size(), 1.0);
  const Sums e = sums_of(early, all_e), l = sums_of(late, all_l);
  describe_sides(early, e, late, l, comparison);
  if (early.windows.size() < options.min_windows || late.windows.size() < options.min_windows) {
    comparison.status = fmt::format(
        "too few windows: {} early and {} late of {:g} s of stack samples each; {} a side are "
        "needed (a longer run, or shorter windows: nrmlab watch --profile-window-ms)",
        early.windows.size(), late.windows.size(), static_cast<double>(late_data.window_ns) / 1e9,
        options.min_windows);
    return {};
  }
  if (!(e.steps > 0) || !(l.steps > 0)) {
    comparison.status = "no steps began in one side's windows";
    return {};
  }
  KeyTable keys;
  SideTimes te, tl;
  collect(early_data, early, keys, te);
  collect(late_data, late, keys, tl);
  te.fit(keys.keys.size(), early.windows.size());
  tl.fit(keys.keys.size(), late.windows.size());
  std::vector<Candidate> candidates = candidates_of(keys, te, e, tl, l, options.entries);
  bootstrap(early, te, late, tl, options, candidates);
  std::vector<double> p;
  for (const Candidate& c : candidates)
    p.push_back(keys.samples[c.key] < options.min_samples
                    ? k_not_recorded
                    : change_p(c.point.log_ratio, c.log_ratios, options.material));
  const std::vector<double> adjusted = stats::holm(p);
  const bool has_work = std::isfinite(e.work) && std::isfinite(l.work) && e.work > 0 && l.work > 0;
  const double work_ratio = has_work ? (l.work / l.steps) / (e.work / e.steps) : k_not_recorded;
  std::vector<CodeGrowth> out;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    CodeGrowth g =
        growth_of(candidates[i], keys.keys[candidates[i].key], te, tl, e, l, has_work, options);
    g.condition = comparison.condition;
    g.change = change_of(candidates[i], adjusted[i], has_work, work_ratio,
                         keys.samples[candidates[i].key], options);
    out.push_back(std::move(g));
  }
  comparison.status = "compared";
  return out;
}

void add_code_growth(const RunData& run, const SoundAnalysis& sound, const ProfileData& data,
                     const Thresholds& thresholds, CodeProfile& code) {
  if (!data.sampled() || data.window_ns <= 0) return;
  GrowthOptions options;
  options.confidence = thresholds.confidence;
  for (std::size_t i = 0; i < run.conditions.size() && i < sound.attribution.size(); ++i) {
    const ConditionData& condition = run.conditions[i];
    const Attribution& a = sound.attribution[i];
    CodeComparison comparison;
    comparison.condition = condition.name;
    comparison.segments = a.segments;
    const CostModel* cost = i < sound.cost_models.size() ? &sound.cost_models[i] : nullptr;
    comparison.work_counter = dominant_work_counter(condition, cost);
    if (comparison.work_counter.empty())
      comparison.experiment =
          "report a work counter with each step (a key=value in the step marker, e.g. "
          "work.items=N; nrmlab watch --help), so that time per unit of work can be compared";
    const Columns& steps = condition.steps;
    if (a.segments == "too short" || !steps.has("step") || !steps.has("t_ns")) {
      comparison.status = "too short";
      code.comparisons.push_back(std::move(comparison));
      continue;
    }
    const auto side = [&](std::int64_t first, std::int64_t last, const char* label) {
      const std::size_t from = row_of_step(steps, first);
      const std::size_t to = std::min(row_of_step(steps, last), steps.rows() - 1);
      return growth_side(condition, from, to, data.window_ns, comparison.work_counter, label);
    };
    const GrowthSide early = side(a.early_first_step, a.early_last_step, "early");
    const GrowthSide late = side(a.late_first_step, a.late_last_step, "late");
    for (CodeGrowth& g : compare_code(data, early, data, late, options, comparison))
      code.growth.push_back(std::move(g));
    code.comparisons.push_back(std::move(comparison));
  }
}

namespace {

std::string ratio_text(double ratio) {
  if (!std::isfinite(ratio)) return "new";
  return fmt::format("x{:.{}f}", ratio, ratio < 10 ? 1 : 0);
}

std::string work_phrase(const CodeComparison& c, const CodeGrowth& g, double material) {
  if (c.work_counter.empty() || !std::isfinite(g.self_per_unit_early)) return "work not measured";
  const double work_ratio = c.work_per_step_late / c.work_per_step_early;
  const std::string per_unit =
      fmt::format("per unit of {} {}", c.work_counter, ratio_text(g.per_unit_ratio));
  if (std::abs(work_ratio - 1) <= material) return "work constant";
  return fmt::format("work {} per step, {}", ratio_text(work_ratio), per_unit);
}

}  // namespace

std::string growth_line(const CodeProfile& code, const std::vector<std::string>& slower) {
  const CodeComparison* best = nullptr;
  const CodeComparison* uncompared = nullptr;
  double best_rise = 0.0;
  for (const CodeComparison& c : code.comparisons) {
    if (std::find(slower.begin(), slower.end(), c.condition) == slower.end()) continue;
    if (c.status != "compared") {
      if (uncompared == nullptr) uncompared = &c;
      continue;
    }
    const double rise = c.step_ms_late / c.step_ms_early - 1;
    if (std::isfinite(rise) && rise > best_rise) {
      best = &c;
      best_rise = rise;
    }
  }
  if (best == nullptr)
    return uncompared == nullptr
               ? ""
               : fmt::format("which code got slower: not compared{}: {}",
                             code.comparisons.size() > 1 ? " for " + uncompared->condition : "",
                             uncompared->status);
  const auto top = std::find_if(code.growth.begin(), code.growth.end(), [&](const CodeGrowth& g) {
    return g.condition == best->condition && g.share_of_change > 0;
  });
  if (top == code.growth.end()) return "";
  const double per_step = top->self_per_step_late / top->self_per_step_early;
  const bool several = code.comparisons.size() > 1;
  std::string line =
      fmt::format("{:.0f}% of the slowdown{} is in {}{} (self time per step {}, {})",
                  100 * top->share_of_change, several ? " of " + best->condition : "",
                  short_function(top->function),
                  top->wait_class == "on_cpu" ? "" : " (" + top->wait_class + ")",
                  ratio_text(per_step), work_phrase(*best, *top, GrowthOptions{}.material));
  if (top->change != CodeChange::unchanged) line += fmt::format(": {}", to_string(top->change));
  return line;
}

}  // namespace nrmlab::analysis
