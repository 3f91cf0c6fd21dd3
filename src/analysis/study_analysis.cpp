#include "analysis/study_analysis.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/math/distributions/students_t.hpp>
#include <cmath>
#include <set>
#include <span>

#include "analysis/stats/descriptive.hpp"
#include "analysis/stats/group_tests.hpp"
#include "analysis/windows.hpp"
#include "util/numeric.hpp"

namespace nrmlab::analysis {
namespace {

// Configuration fields that name a run rather than describe it.
bool is_identity(const std::string& path) {
  return path == "seed" || path == "out_dir" || path == "db_dir" || path == "record_trace";
}

// Fields that change cost but must never change results (study.md 4.6).
bool is_overhead(const std::string& path) {
  return path == "preset" || path.rfind("overheads.", 0) == 0 || path == "allocator" ||
         path == "source.granularity";
}

void flatten(const nlohmann::json& value, const std::string& path,
             std::map<std::string, std::string>& out) {
  if (value.is_object()) {
    for (const auto& [key, child] : value.items())
      flatten(child, path.empty() ? key : path + "." + key, out);
  } else {
    out[path] = value.is_string() ? value.get<std::string>() : value.dump();
  }
}

struct Group {
  std::vector<double> values;
  double mean() const { return values.empty() ? k_nan : stats::mean(values); }
  double variance() const { return values.size() < 2 ? k_nan : stats::variance(values, 1); }
};

// Welch interval of mean(a) - mean(b); NaN without two values on each side.
std::pair<double, double> welch_interval(const Group& a, const Group& b, double confidence) {
  const double va = a.variance() / static_cast<double>(a.values.size());
  const double vb = b.variance() / static_cast<double>(b.values.size());
  if (!std::isfinite(va) || !std::isfinite(vb)) return {k_nan, k_nan};
  const double delta = a.mean() - b.mean();
  const double se = std::sqrt(va + vb);
  if (se == 0) return {delta, delta};
  const double df = (va + vb) * (va + vb) /
                    (va * va / static_cast<double>(a.values.size() - 1) +
                     vb * vb / static_cast<double>(b.values.size() - 1));
  const double q = boost::math::quantile(boost::math::students_t(df), 0.5 + confidence / 2);
  return {delta - q * se, delta + q * se};
}

// The factors that vary between runs. Fields that vary in lockstep (a preset and the
// overhead settings it implies) are one factor: the first name stands for them and the
// others become its aliases, since no design can separate them.
std::vector<std::pair<std::string, std::vector<std::string>>> varying_factors(
    const std::vector<RunSummary>& runs) {
  std::map<std::string, std::set<std::string>> values;
  for (const auto& r : runs)
    for (const auto& [key, value] : r.factors)
      values[key].insert(value);
  const auto level_of = [&](const RunSummary& r, const std::string& key) {
    const auto it = r.factors.find(key);
    return it == r.factors.end() ? std::string("(unset)") : it->second;
  };
  // Two fields are aliases when each one's level determines the other's.
  const auto aliased = [&](const std::string& a, const std::string& b) {
    std::map<std::string, std::string> forward, backward;
    for (const auto& r : runs) {
      const auto la = level_of(r, a), lb = level_of(r, b);
      if (forward.try_emplace(la, lb).first->second != lb) return false;
      if (backward.try_emplace(lb, la).first->second != la) return false;
    }
    return true;
  };
  std::vector<std::pair<std::string, std::vector<std::string>>> factors;
  // The allocator and the preset name the factor when they take part in an alias group.
  std::vector<std::string> keys;
  for (const char* preferred : {"allocator", "preset"})
    if (values.count(preferred) && values[preferred].size() > 1) keys.emplace_back(preferred);
  for (const auto& [key, set] : values)
    if (set.size() > 1 && key != "allocator" && key != "preset") keys.push_back(key);
  for (const auto& key : keys) {
    bool merged = false;
    for (auto& [name, aliases] : factors)
      if (aliased(name, key)) {
        aliases.push_back(key);
        merged = true;
        break;
      }
    if (!merged) factors.push_back({key, {}});
  }
  return factors;
}

FactorEffect factor_effect(const std::vector<RunSummary>& runs, const std::string& factor,
                           const Thresholds& t) {
  std::map<std::string, Group> step, drift;
  for (const auto& r : runs) {
    const auto it = r.factors.find(factor);
    const std::string level = it == r.factors.end() ? "(unset)" : it->second;
    step[level].values.push_back(r.mean_step_ms);
    if (std::isfinite(r.drift))
      drift[level].values.push_back(r.drift);
    else
      drift[level];
  }
  FactorEffect effect;
  effect.factor = factor;
  // The baseline: the system allocator for the allocator factor, else the most replicated
  // level (ties: first by name), so a balanced design compares against a stable reference.
  effect.baseline = step.begin()->first;
  for (const auto& [level, group] : step)
    if (group.values.size() > step[effect.baseline].values.size()) effect.baseline = level;
  if (factor == "allocator" && step.count("glibc")) effect.baseline = "glibc";
  const Group& base_step = step[effect.baseline];
  const Group& base_drift = drift[effect.baseline];
  for (const auto& [level, group] : step) {
    LevelEffect l;
    l.level = level;
    l.runs = group.values.size();
    l.mean_step_ms = group.mean();
    l.mean_step_delta_ms = l.mean_step_ms - base_step.mean();
    l.ratio = base_step.mean() > 0 ? l.mean_step_ms / base_step.mean() : k_nan;
    std::tie(l.mean_step_ci_low, l.mean_step_ci_high) =
        welch_interval(group, base_step, t.confidence);
    l.drift = drift[level].mean();
    l.drift_delta = l.drift - base_drift.mean();
    std::tie(l.drift_ci_low, l.drift_ci_high) =
        welch_interval(drift[level], base_drift, t.confidence);
    effect.levels.push_back(l);
  }
  return effect;
}

std::vector<Interaction> interactions(const std::vector<RunSummary>& runs,
                                      const std::vector<std::string>& factors,
                                      const Thresholds& t) {
  std::vector<Interaction> out;
  for (std::size_t i = 0; i < factors.size(); ++i)
    for (std::size_t j = i + 1; j < factors.size(); ++j) {
      std::map<std::pair<std::string, std::string>, Group> cells;
      std::set<std::string> levels_a, levels_b;
      for (const auto& r : runs) {
        const std::string a = r.factors.count(factors[i]) ? r.factors.at(factors[i]) : "";
        const std::string b = r.factors.count(factors[j]) ? r.factors.at(factors[j]) : "";
        levels_a.insert(a);
        levels_b.insert(b);
        cells[{a, b}].values.push_back(r.mean_step_ms);
      }
      if (levels_a.size() != 2 || levels_b.size() != 2 || cells.size() != 4) continue;
      const auto a0 = *levels_a.begin(), a1 = *levels_a.rbegin();
      const auto b0 = *levels_b.begin(), b1 = *levels_b.rbegin();
      const Group* g[4] = {&cells[{a0, b0}], &cells[{a1, b0}], &cells[{a0, b1}], &cells[{a1, b1}]};
      Interaction x{factors[i], factors[j],
                    (g[3]->mean() - g[2]->mean()) - (g[1]->mean() - g[0]->mean()), k_nan, k_nan};
      // Welch-Satterthwaite over the four cells.
      double v = 0.0, denominator = 0.0;
      bool all_replicated = true;
      for (const Group* cell : g) {
        const double n = static_cast<double>(cell->values.size());
        const double term = cell->variance() / n;
        all_replicated = all_replicated && std::isfinite(term);
        v += term;
        denominator += term * term / (n - 1);
      }
      if (all_replicated && v > 0) {
        const double q = boost::math::quantile(boost::math::students_t(v * v / denominator),
                                               0.5 + t.confidence / 2);
        x.ci_low = x.mean_step_interaction_ms - q * std::sqrt(v);
        x.ci_high = x.mean_step_interaction_ms + q * std::sqrt(v);
      }
      out.push_back(x);
    }
  return out;
}

std::string science_key(const RunSummary& r) {
  std::string key;
  for (const auto& [path, value] : configuration_fields(*r.run))
    if (!is_overhead(path) && (path == "seed" || !is_identity(path)))  // same seed, same science
      key += path + "=" + value + ";";
  return key;
}

// How two runs with live (non-reproducible) inputs are compared.
enum class LiveRule {
  paper_tost,  // paper mode: TOST on the two runs' population values as samples (means)
  trajectory,  // sound mode: the trajectories compared window by window in step order
};

struct TrajectoryComparison {
  bool equivalent = false;
  double largest_difference = 0.0;  // of window means
  std::size_t windows = 0;
};

// Sound mode's functional equivalence of two live runs' population trajectories. TOST on
// the means (the paper's rule) calls two mirror-image trajectories -- one rising, one
// falling, the same mean -- equivalent. Comparing step by step catches that, but live
// inputs make single steps noisy, so the steps are grouped into up to 10 consecutive
// windows of at least 20 steps, and the runs are equivalent when every window's mean
// population differs by at most the margin (and the runs have the same number of steps):
// a tolerance band around the reference trajectory at a tenth of its length. Mirror images
// differ most at both ends; step-level noise averages out within a window.
TrajectoryComparison compare_trajectories(std::span<const double> x, std::span<const double> y,
                                          double margin) {
  TrajectoryComparison c;
  const std::size_t n = std::min(x.size(), y.size());
  c.windows = std::clamp<std::size_t>(n / 20, 1, 10);
  for (std::size_t k = 0; k < c.windows; ++k) {
    const std::size_t begin = k * n / c.windows, end = (k + 1) * n / c.windows;
    const double difference =
        stats::mean(y.subspan(begin, end - begin)) - stats::mean(x.subspan(begin, end - begin));
    c.largest_difference = std::max(c.largest_difference, std::abs(difference));
  }
  c.equivalent = x.size() == y.size() && c.largest_difference <= margin;
  return c;
}

EquivalenceCheck compare_results(const RunData& reference, const RunData& run, const Thresholds& t,
                                 LiveRule rule) {
  EquivalenceCheck check{reference.id, run.id, "", false, ""};
  if (!reference.result || !run.result) {
    check.method = "none";
    check.detail = "result.json missing or unreadable";
    return check;
  }
  const auto& a = *reference.result;
  const auto& b = *run.result;
  const std::string source = reference.meta_value("source");
  const bool deterministic = source.rfind("live", 0) != 0;
  if (deterministic) {
    // Same inputs (synthetic or replayed): trajectories must match exactly.
    check.method = "exact";
    std::vector<std::string> differences;
    for (const auto& [name, condition] : a["conditions"].items()) {
      if (!b["conditions"].contains(name)) {
        differences.push_back(name + " missing");
        continue;
      }
      for (const char* series : {"population_history", "pattern_count_history"})
        if (condition[series] != b["conditions"][name][series])
          differences.push_back(fmt::format("{} {}", name, series));
    }
    const auto classification = [](const nlohmann::json& r) {
      return r.contains("synergy") && r["synergy"].is_object() ? r["synergy"]["classification"]
                                                               : nlohmann::json();
    };
    if (classification(a) != classification(b)) differences.push_back("synergy classification");
    check.equivalent = differences.empty();
    check.detail = check.equivalent
                       ? "population trajectories, pattern counts and synergy class identical"
                       : "differ: " + fmt::format("{}", fmt::join(differences, ", "));
    return check;
  }
  // Live inputs: each condition's population history, compared within a margin relative
  // to the reference's mean, by the rule the caller asks for.
  std::vector<std::string> details;
  check.method = rule == LiveRule::trajectory ? "trajectory" : "TOST";
  check.equivalent = true;
  for (const auto& [name, condition] : a["conditions"].items()) {
    if (!b["conditions"].contains(name)) continue;
    const auto x = condition["population_history"].get<std::vector<double>>();
    const auto y = b["conditions"][name]["population_history"].get<std::vector<double>>();
    if (x.size() < 2 || y.size() < 2) continue;
    const double margin = t.equivalence_margin * std::abs(stats::mean(x));
    if (rule == LiveRule::trajectory) {
      const TrajectoryComparison c = compare_trajectories(x, y, margin);
      check.equivalent = check.equivalent && c.equivalent;
      details.push_back(
          x.size() != y.size()
              ? fmt::format("{} lengths differ ({} and {} steps)", name, x.size(), y.size())
              : fmt::format("{} largest window difference {:.3g} ({} margin {:.3g})", name,
                            c.largest_difference, c.equivalent ? "within" : "outside", margin));
    } else {
      const auto tost = stats::tost(x, y, margin, t.alpha);
      check.equivalent = check.equivalent && tost.equivalent;
      details.push_back(fmt::format("{} p = {:.2g}", name, tost.p));
    }
  }
  check.detail = fmt::format(
      "population per condition{}, margin {:.0f}% of the mean: {}",
      rule == LiveRule::trajectory ? " in step order, window means (up to 10 windows)" : "",
      100 * t.equivalence_margin, fmt::join(details, "; "));
  return check;
}

std::vector<EquivalenceCheck> equivalence(const std::vector<RunSummary>& runs, const Thresholds& t,
                                          LiveRule rule) {
  std::map<std::string, std::vector<const RunSummary*>> groups;
  for (const auto& r : runs)
    groups[science_key(r)].push_back(&r);
  std::vector<EquivalenceCheck> checks;
  for (const auto& [key, members] : groups) {
    if (members.size() < 2) continue;
    // The reference: the as-run preset when present (the configuration being optimised).
    const RunSummary* reference = members.front();
    for (const auto* m : members)
      if (m->factors.count("preset") && m->factors.at("preset") == "as-run") reference = m;
    for (const auto* m : members)
      if (m != reference) checks.push_back(compare_results(*reference->run, *m->run, t, rule));
  }
  return checks;
}

// Coefficient of variation and the paper's acceleration (last fifth vs first fifth).
std::pair<double, double> variability(const std::vector<double>& r) {
  if (r.empty()) return {k_nan, k_nan};
  const double cv = stats::standard_deviation(r, 0) / stats::mean(r);
  if (r.size() < 10) return {cv, k_nan};
  const std::size_t fifth = r.size() / 5;
  const double first = stats::mean(std::span(r).first(fifth));
  const double last = stats::mean(std::span(r).last(fifth));
  return {cv, (last - first) / first};
}

// Where the paper's Phase 1B rules mislead on these data (issue 17 item 6). Paper mode
// keeps its rules; these notes say when their numbers should not be read as they read.
std::vector<std::string> phase_1b_caveats(const Phase1B& p,
                                          const std::vector<EquivalenceCheck>& trajectory_checks) {
  std::vector<std::string> caveats;
  const double before = p.acceleration_unoptimized, after = p.acceleration_optimized;
  if (std::isfinite(before) && std::isfinite(after)) {
    // (A_u - A_o) / A_u is a reduction only for a positive baseline and a result of the
    // same sign; otherwise its size and sign are artefacts of the division.
    if (before != 0.0 && after != 0.0 && (before > 0.0) != (after > 0.0)) {
      caveats.push_back(fmt::format(
          "acceleration changed sign, from {:+.2f} (unoptimized) to {:+.2f} (optimized): the "
          "specified \"acceleration reduction\" of {:.0f}% is a sign flip, not a reduction",
          before, after, 100 * p.acceleration_reduction));
    } else if (before <= 0.0) {
      caveats.push_back(fmt::format(
          "the unoptimized run does not accelerate (acceleration {:+.2f}): an \"acceleration "
          "reduction\" relative to it ({:.0f}%) has no meaning",
          before, 100 * p.acceleration_reduction));
    }
  }
  for (const auto& check : p.equivalence) {
    if (check.method != "TOST" || !check.equivalent) continue;
    for (const auto& stepwise : trajectory_checks)
      if (stepwise.reference_run == check.reference_run && stepwise.run == check.run &&
          !stepwise.equivalent)
        caveats.push_back(fmt::format(
            "TOST compares means only: it calls {} equivalent to {}, but their trajectories "
            "differ step by step ({})",
            check.run, check.reference_run, stepwise.detail));
  }
  return caveats;
}

Phase1B phase_1b(const std::vector<RunSummary>& runs, const std::vector<EquivalenceCheck>& checks,
                 const std::vector<EquivalenceCheck>& trajectory_checks, const Thresholds& t) {
  Phase1B p;
  std::vector<const RunSummary*> unoptimized, optimized;
  for (const auto& r : runs) {
    const auto preset = r.factors.count("preset") ? r.factors.at("preset") : "";
    if (preset == "as-run") unoptimized.push_back(&r);
    if (preset.rfind("optimized", 0) == 0) optimized.push_back(&r);
  }
  Group t_unopt, t_opt, cv_u, cv_o, acc_u, acc_o;
  for (const auto* r : unoptimized) {
    t_unopt.values.push_back(r->wall_seconds);
    const auto [cv, acc] = variability(r->runtimes);
    cv_u.values.push_back(cv);
    acc_u.values.push_back(acc);
  }
  for (const auto* r : optimized) {
    p.optimized_runs.push_back(r->run->id);
    t_opt.values.push_back(r->wall_seconds);
    const auto [cv, acc] = variability(r->runtimes);
    cv_o.values.push_back(cv);
    acc_o.values.push_back(acc);
  }
  p.unoptimized_run = unoptimized.front()->run->id;
  p.speedup = t_unopt.mean() / t_opt.mean();
  p.speedup_band = p.speedup > t.paper_speedup_high      ? "exceeds"
                   : p.speedup >= t.paper_speedup_low    ? "within prediction"
                   : p.speedup > t.paper_speedup_partial ? "partial"
                                                         : "not primary";
  p.speedup_confirmed = p.speedup_band == "within prediction";
  p.cv_unoptimized = cv_u.mean();
  p.cv_optimized = cv_o.mean();
  p.acceleration_unoptimized = acc_u.mean();
  p.acceleration_optimized = acc_o.mean();
  p.cv_reduction = (p.cv_unoptimized - p.cv_optimized) / p.cv_unoptimized;
  p.acceleration_reduction =
      (p.acceleration_unoptimized - p.acceleration_optimized) / p.acceleration_unoptimized;
  p.variance_reduced = p.cv_reduction > t.paper_variance_reduction &&
                       p.acceleration_reduction > t.paper_variance_reduction;
  for (const auto& check : checks)
    for (const auto* r : unoptimized)
      if (check.reference_run == r->run->id) p.equivalence.push_back(check);
  p.functionally_equivalent =
      !p.equivalence.empty() && std::all_of(p.equivalence.begin(), p.equivalence.end(),
                                            [](const auto& c) { return c.equivalent; });
  const int passed = p.speedup_confirmed + p.variance_reduced;
  p.verdict = passed == 2 && p.functionally_equivalent ? "strong"
              : passed == 2                            ? "moderate"
              : passed == 1                            ? "weak"
                                                       : "rejected";
  p.caveats = phase_1b_caveats(p, trajectory_checks);
  return p;
}

// H2 is decided by the allocator intervention (study.md 4.4): fragmentation of the system
// allocator shows as drift that a size-class allocator removes.
Hypothesis allocator_verdict(const FactorEffect& allocator, const Thresholds& t) {
  Hypothesis h;
  h.id = "H2";
  h.name = "memory fragmentation (allocator intervention)";
  h.verdict = Verdict::not_supported;
  h.effect_label = "change in drift under the alternative allocator";
  h.effect_size = h.ci_low = h.ci_high = k_nan;
  const LevelEffect* base = nullptr;
  for (const auto& l : allocator.levels)
    if (l.level == allocator.baseline) base = &l;
  for (const auto& l : allocator.levels) {
    if (&l == base) continue;
    h.evidence.push_back(
        {fmt::format("drift under {} minus drift under {}", l.level, allocator.baseline),
         l.drift_delta, k_nan,
         fmt::format("interval [{:.3g}, {:.3g}] over {} runs", l.drift_ci_low, l.drift_ci_high,
                     l.runs)});
    if (!std::isfinite(h.effect_size) || l.drift_delta < h.effect_size) {
      h.effect_size = l.drift_delta;
      h.ci_low = l.drift_ci_low;
      h.ci_high = l.drift_ci_high;
    }
  }
  if (!base || !std::isfinite(base->drift)) {
    h.verdict = Verdict::not_testable;
    h.reason = "no drift measured under the baseline allocator";
  } else if (!std::isfinite(h.ci_high)) {
    h.verdict = Verdict::not_testable;
    h.reason = "the allocator levels need at least two replicates each for an interval";
  } else if (base->drift >= t.min_relative_drift && h.ci_high < 0) {
    h.verdict = Verdict::supported;
    h.reason = fmt::format(
        "step time drifts {:.0f}% under {} and a size-class allocator "
        "reduces the drift",
        100 * base->drift, allocator.baseline);
  } else {
    h.reason = base->drift < t.min_relative_drift
                   ? fmt::format(
                         "step time does not grow under {} (mean drift {:+.1f}% per "
                         "condition, below the {:.0f}% threshold)",
                         allocator.baseline, 100 * base->drift, 100 * t.min_relative_drift)
                   : "changing the allocator does not reduce the drift";
  }
  return h;
}

}  // namespace

std::map<std::string, std::string> configuration_fields(const RunData& run) {
  std::map<std::string, std::string> fields;
  const auto text = run.meta_value("configuration");
  const auto parsed = nlohmann::json::parse(text, nullptr, false);
  if (!parsed.is_discarded()) flatten(parsed, "", fields);
  return fields;
}

RunSummary summarise_run(const RunData& run, const SoundAnalysis& sound) {
  RunSummary s;
  s.run = &run;
  for (const auto& [path, value] : configuration_fields(run))
    if (!is_identity(path)) s.factors[path] = value;
  s.factors["allocator"] = run.meta_value("allocator", "unknown");
  double wall = 0.0;
  std::size_t steps = 0;
  for (const auto& c : run.conditions) {
    for (const double w : c.steps["wall_ns"])
      s.runtimes.push_back(w * 1e-9);
    wall += sum_of(c.steps["wall_ns"]);
    steps += c.steps.rows();
  }
  s.wall_seconds = wall * 1e-9;
  s.mean_step_ms = steps ? wall / static_cast<double>(steps) * 1e-6 : k_nan;
  std::vector<double> changes;
  for (const auto& d : sound.drift)
    if (std::isfinite(d.relative_change)) changes.push_back(d.relative_change);
  s.drift = changes.empty() ? k_nan : stats::mean(changes);
  return s;
}

StudyAnalysis analyse_study(const std::vector<RunSummary>& runs, const Thresholds& t) {
  StudyAnalysis study;
  study.runs = runs.size();
  std::vector<std::string> factors;
  for (const auto& [factor, aliases] : varying_factors(runs)) {
    factors.push_back(factor);
    study.interventions.push_back(factor_effect(runs, factor, t));
    study.interventions.back().aliases = aliases;
    if (factor == "allocator")
      study.hypotheses.push_back(allocator_verdict(study.interventions.back(), t));
  }
  study.interactions = interactions(runs, factors, t);
  study.equivalence = equivalence(runs, t, LiveRule::trajectory);
  const bool has_unoptimized = std::any_of(runs.begin(), runs.end(), [](const auto& r) {
    return r.factors.count("preset") && r.factors.at("preset") == "as-run";
  });
  const bool has_optimized = std::any_of(runs.begin(), runs.end(), [](const auto& r) {
    return r.factors.count("preset") && r.factors.at("preset").rfind("optimized", 0) == 0;
  });
  if (has_unoptimized && has_optimized) {
    study.has_phase_1b = true;
    // Phase 1B is paper mode: its equivalence is the paper's TOST on means; sound mode's
    // trajectory checks only feed its caveats.
    study.phase_1b =
        phase_1b(runs, equivalence(runs, t, LiveRule::paper_tost), study.equivalence, t);
  }
  return study;
}

}  // namespace nrmlab::analysis
