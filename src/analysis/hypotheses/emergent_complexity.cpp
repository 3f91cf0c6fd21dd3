// H5, emergent complexity (workload growth): the work per step grows while each unit of
// work costs the same, so growing work explains the slowdown.
#include <fmt/format.h>

#include "analysis/hypotheses/evidence.hpp"

namespace nrmlab::analysis {
namespace {

using namespace evidence;

// The counters whose count grows and that carry a share of the step time.
std::string growing_counters(const CostModel& cost, const Thresholds& t) {
  std::string growing;
  for (const auto& term : cost.terms)
    if (term.counter != "per_step" && term.count_relative_change >= t.min_unit_cost_change &&
        term.share >= 0.01)
      growing += (growing.empty() ? "" : ", ") + term.counter;
  return growing;
}

Outcome emergent_complexity(const ConditionContext& ctx) {
  const Thresholds& t = ctx.thresholds;
  const CostModel& cost = ctx.cost;
  const Drift& drift = ctx.drift;
  Outcome o;
  if (drift.direction == DriftDirection::too_short) {
    o.reason = "too few steps to fit a trend";
    return o;
  }
  o.testable = true;
  o.effect = cost.explained_fraction;
  if (drift.hac_ci_low > 0 && cost.work_slope_ns_per_step > 0) {
    o.ci_low = cost.work_slope_ns_per_step / drift.hac_ci_high;
    o.ci_high = cost.work_slope_ns_per_step / drift.hac_ci_low;
  }
  const std::string growing = growing_counters(cost, t);
  o.evidence.push_back({"share of the step-time slope explained by work at constant unit costs",
                        cost.explained_fraction, k_nan,
                        fmt::format("work slope {:.3g} ns/step of {:.3g}",
                                    cost.work_slope_ns_per_step, cost.actual_slope_ns_per_step)});
  o.evidence.push_back({"NNLS R^2 of step time on work counters", cost.r_squared, k_nan, ""});
  o.evidence.push_back({"growing work counters", static_cast<double>(!growing.empty()), k_nan,
                        growing.empty() ? "none" : growing});
  if (!(drift.drifts && drift.direction == DriftDirection::slower)) {
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

}  // namespace

extern const HypothesisSpec k_emergent_complexity_hypothesis{
    .id = "H5",
    .name = "emergent complexity (workload growth)",
    .effect_label = "share of the slowdown explained by work",
    .needs =
        "work counters per step (the engine's, or key=value counters on a program's "
        "step markers) and enough steps to fit a trend",
    .condition_test = emergent_complexity,
    .needs_trend = false,  // says "too few steps to fit a trend" itself
    .panel = {.source = PanelSource::work_counters,
              .column = "resonance_pairs",
              .y_label = "resonance pairs checked per step"},
    .engine_advice =
        "work grows step by step: find what accumulates (pattern memory, agents "
        "that are never dropped -- the model's defect switches)",
    .program_advice =
        "work grows step by step: find what accumulates in the program's state "
        "(the growing counters are named above)",
};

}  // namespace nrmlab::analysis
