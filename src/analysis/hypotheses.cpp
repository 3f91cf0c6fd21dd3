// Sound mode's verdicts (study.md 4.4). Each registered hypothesis is judged per condition --
// never across a condition boundary, where the work changes by design -- and the run's
// verdict is "supported" when any condition supports it, "not testable" when no condition
// could test it, else "not supported". The tests themselves live in src/analysis/hypotheses/,
// one file each; correlations there are partial Spearman correlations controlling for step
// index and agent count, i.e. on detrended series, because two series that both trend
// correlate whatever their relation.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "analysis/attribution.hpp"
#include "analysis/forecast.hpp"
#include "analysis/hypotheses/evidence.hpp"
#include "analysis/sound_mode.hpp"
#include "analysis/stats/p_values.hpp"

namespace nrmlab::analysis {
namespace {

Verdict verdict_of(const Outcome& o) {
  return o.supported      ? Verdict::supported
         : !o.testable    ? Verdict::not_testable
         : o.identifiable ? Verdict::not_supported
                          : Verdict::not_identifiable;
}

Hypothesis blank(const HypothesisSpec& spec) {
  Hypothesis h;
  h.id = spec.id;
  h.name = spec.name;
  h.verdict = Verdict::not_testable;
  h.effect_label = spec.effect_label;
  h.effect_size = h.ci_low = h.ci_high = evidence::k_nan;
  return h;
}

// The strongest condition decides: supported over not identifiable over testable over
// untestable, then the largest |effect|. Every condition's evidence is kept, prefixed with
// its name.
Hypothesis combine(const HypothesisSpec& spec, const std::vector<std::string>& conditions,
                   const std::vector<Outcome>& outcomes) {
  Hypothesis h = blank(spec);
  const Outcome* chosen = nullptr;
  const auto rank = [](const Outcome* x) {
    return !x ? 0 : x->supported ? 4 : !x->testable ? 1 : x->identifiable ? 2 : 3;
  };
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    const Outcome& o = outcomes[i];
    for (Evidence e : o.evidence) {
      e.what = conditions[i] + ": " + e.what;
      h.evidence.push_back(std::move(e));
    }
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
  h.verdict = verdict_of(*chosen);
  h.reason = conditions[at] + ": " + chosen->reason;
  h.effect_size = chosen->effect;
  h.ci_low = chosen->ci_low;
  h.ci_high = chosen->ci_high;
  h.p = chosen->p;
  h.adjusted_p = chosen->adjusted_p;
  return h;
}

// What a condition's steps lack for a test: markers (every per-condition test compares steps,
// and fixed windows of wall time are not steps), or enough of them to fit a trend.
std::string needed_steps(const HypothesisSpec& spec, const Drift& drift) {
  if (drift.direction == DriftDirection::no_steps)
    return "needs step markers: fixed windows of wall time show no slowdown per step";
  if (spec.needs_trend && drift.direction == DriftDirection::too_short)
    return fmt::format("needs at least {} steps to fit a trend (this condition has {})",
                       k_min_drift_steps, drift.steps);
  return {};
}

}  // namespace

// The run's family: every test that could have supported a hypothesis in some condition
// (the tests each hypothesis ran, one p each). Holm's step-down adjustment (Holm 1979)
// controls the family-wise error rate under any dependence between the tests; support whose
// adjusted p is no longer below alpha is withdrawn, with the reason saying so.
void control_family(std::vector<std::vector<Outcome>>& outcomes, const Thresholds& t) {
  std::vector<double> p;
  for (const auto& per_spec : outcomes)
    for (const Outcome& o : per_spec)
      p.push_back(o.testable ? o.p : evidence::k_nan);
  const std::vector<double> adjusted = stats::holm(p);
  std::size_t tests = 0;
  for (const double v : adjusted)
    tests += std::isfinite(v);
  std::size_t i = 0;
  for (auto& per_spec : outcomes)
    for (Outcome& o : per_spec) {
      const double a = adjusted[i++];
      o.adjusted_p = a;
      if (!o.supported || !t.holm || !std::isfinite(o.p) || a < t.alpha) continue;
      o.supported = false;
      o.reason = fmt::format(
          "{}, but not after Holm's correction over the run's {} tests "
          "(adjusted p = {})",
          o.reason, tests, evidence::format_p(a));
    }
}

std::vector<Hypothesis> assess_hypotheses(const RunData& run, const SoundAnalysis& sound,
                                          const Thresholds& t) {
  std::vector<std::string> names;
  for (const ConditionData& c : run.conditions)
    names.push_back(c.name);
  const auto& registry = hypothesis_registry();
  std::vector<std::vector<Outcome>> outcomes(registry.size());
  for (std::size_t h = 0; h < registry.size(); ++h) {
    const HypothesisSpec& spec = *registry[h];
    if (spec.run_test) {
      outcomes[h].push_back(spec.run_test(RunContext{run, sound.run, t}));
      continue;
    }
    for (std::size_t i = 0; i < run.conditions.size(); ++i) {
      if (const std::string needs = needed_steps(spec, sound.drift[i]); !needs.empty()) {
        outcomes[h].push_back(evidence::untestable(needs));
        continue;
      }
      outcomes[h].push_back(
          spec.condition_test({run, run.conditions[i], sound.drift[i], sound.cost_models[i],
                               sound.attribution[i], sound.conditions[i], t}));
    }
  }
  control_family(outcomes, t);
  std::vector<Hypothesis> out;
  for (std::size_t h = 0; h < registry.size(); ++h) {
    const HypothesisSpec& spec = *registry[h];
    Hypothesis hyp =
        combine(spec, spec.run_test ? std::vector<std::string>{"run"} : names, outcomes[h]);
    if (spec.run_test) hyp.reason = outcomes[h].front().reason;
    if (hyp.verdict == Verdict::not_identifiable)
      hyp.experiment =
          std::string(is_foreign(parse_step_source(run.meta_value("step_source", "engine")))
                          ? spec.program_experiment
                          : spec.engine_experiment);
    out.push_back(std::move(hyp));
  }
  return out;
}

SoundAnalysis analyse_sound(const RunData& run, const Thresholds& thresholds) {
  SoundAnalysis sound;
  const StepSource source = parse_step_source(run.meta_value("step_source", "engine"));
  std::vector<const Columns*> all;
  for (const auto& c : run.conditions) {
    all.push_back(&c.steps);
    sound.conditions.push_back(decompose(c.name, {&c.steps}));
    sound.drift.push_back(analyse_drift(c, source, thresholds));
    sound.cost_models.push_back(fit_cost_model(c, thresholds));
    sound.attribution.push_back(attribute_change(c, sound.drift.back(), thresholds));
  }
  sound.run = decompose("run", all);
  sound.hypotheses = assess_hypotheses(run, sound, thresholds);
  sound.prediction = predict_run(run);
  return sound;
}

}  // namespace nrmlab::analysis
