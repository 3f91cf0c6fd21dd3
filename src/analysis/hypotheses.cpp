// Sound mode's verdicts (study.md 4.4). Each registered hypothesis is judged per condition --
// never across a condition boundary, where the work changes by design -- and the run's
// verdict is "supported" when any condition supports it, "not testable" when no condition
// could test it, else "not supported". The tests themselves live in src/analysis/hypotheses/,
// one file each; correlations there are partial Spearman correlations controlling for step
// index and agent count, i.e. on detrended series, because two series that both trend
// correlate whatever their relation.
#include <cmath>

#include "analysis/hypotheses/evidence.hpp"
#include "analysis/sound_mode.hpp"

namespace nrmlab::analysis {
namespace {

Verdict verdict_of(const Outcome& o) {
  return o.supported  ? Verdict::supported
         : o.testable ? Verdict::not_supported
                      : Verdict::not_testable;
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

// The strongest condition decides: supported over testable over untestable, then the
// largest |effect|. Every condition's evidence is kept, prefixed with its name.
Hypothesis combine(const HypothesisSpec& spec, const std::vector<std::string>& conditions,
                   const std::vector<Outcome>& outcomes) {
  Hypothesis h = blank(spec);
  const Outcome* chosen = nullptr;
  const auto rank = [](const Outcome* x) {
    return !x ? 0 : x->supported ? 3 : x->testable ? 2 : 1;
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
  return h;
}

Hypothesis judge_run(const HypothesisSpec& spec, const RunContext& ctx) {
  Outcome o = spec.run_test(ctx);
  Hypothesis h = blank(spec);
  h.verdict = verdict_of(o);
  h.reason = std::move(o.reason);
  h.effect_size = o.effect;
  h.ci_low = o.ci_low;
  h.ci_high = o.ci_high;
  h.evidence = std::move(o.evidence);
  return h;
}

}  // namespace

std::vector<Hypothesis> assess_hypotheses(const RunData& run, const std::vector<Drift>& drift,
                                          const std::vector<CostModel>& costs,
                                          const std::vector<TimeDecomposition>& times,
                                          const TimeDecomposition& time, const Thresholds& t) {
  std::vector<std::string> names;
  for (const ConditionData& c : run.conditions)
    names.push_back(c.name);
  std::vector<Hypothesis> out;
  for (const HypothesisSpec* spec : hypothesis_registry()) {
    if (spec->run_test) {
      out.push_back(judge_run(*spec, RunContext{run, time, t}));
      continue;
    }
    std::vector<Outcome> outcomes;
    for (std::size_t i = 0; i < run.conditions.size(); ++i) {
      if (spec->needs_trend && drift[i].direction == DriftDirection::too_short) {
        outcomes.push_back(evidence::untestable("too few steps"));
        continue;
      }
      outcomes.push_back(
          spec->condition_test({run, run.conditions[i], drift[i], costs[i], times[i], t}));
    }
    out.push_back(combine(*spec, names, outcomes));
  }
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
