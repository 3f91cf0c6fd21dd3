// H5, emergent complexity (workload growth): the work per step grows while each unit of
// work costs the same, so growing work explains the slowdown.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "analysis/attribution.hpp"
#include "analysis/hypotheses/evidence.hpp"

namespace nrmlab::analysis {
namespace {

using namespace evidence;

// The counters whose level grew between the attribution's segments.
std::string growing_counters(const Attribution& a, const Columns& steps, const Thresholds& t) {
  std::string growing;
  const auto mean_of = [&](const std::string& counter, std::int64_t first, std::int64_t last) {
    return mean_over_steps(steps, steps[counter], first, last);
  };
  for (const std::string& counter : a.counters) {
    const double early = mean_of(counter, a.early_first_step, a.early_last_step);
    const double late = mean_of(counter, a.late_first_step, a.late_last_step);
    if (late - early >= t.min_unit_cost_change * std::max(std::abs(early), std::abs(late)) &&
        late > 0)
      growing += (growing.empty() ? "" : ", ") + counter;
  }
  return growing;
}

// H5 is the "more work" share of the step-time change (attribution.hpp): the work's growth
// priced at the early segment's unit costs, which come from step-to-step variation only, so
// a counter that merely trends with a rising unit cost is not charged for it.
Outcome emergent_complexity(const ConditionContext& ctx) {
  const Thresholds& t = ctx.thresholds;
  const Attribution& a = ctx.attribution;
  const Drift& drift = ctx.drift;
  if (drift.direction == DriftDirection::too_short || a.segments == "too short")
    return untestable("too few steps to compare the start of the condition with its end");
  if (a.counters.empty())
    return untestable(
        "no work counter varies (the engine's counters, or key=value counters on "
        "a program's step markers)");
  Outcome o;
  o.testable = true;
  o.effect = a.work_share;
  o.ci_low = a.work_share_ci_low;
  o.ci_high = a.work_share_ci_high;
  const SectionChange* step = find_section(a, "step");
  const std::string growing = growing_counters(a, ctx.condition.steps, t);
  o.evidence.push_back(
      {"share of the step-time change that more work accounts for "
       "(early unit costs x change in work)",
       a.work_share, step ? step->more_work.p : k_nan,
       fmt::format("interval {:.2f} to {:.2f}", a.work_share_ci_low, a.work_share_ci_high)});
  o.evidence.push_back({"growing work counters", static_cast<double>(!growing.empty()), k_nan,
                        growing.empty() ? "none" : growing});
  if (!step_time_grows(drift) || !step) {
    o.reason = "step time does not grow";
    return o;
  }
  o.p = step->more_work.p;
  // Three regions of the share's interval: wholly at or above min_explained_fraction (more
  // work explains the slowdown), wholly below (it does not: the same work costs more), or
  // across it -- one run cannot tell, and says so. Work that grows but cannot be priced
  // (attribution.hpp) might explain what the priced work leaves: then one run cannot tell.
  const double need = t.min_explained_fraction;
  const bool explains = a.work_share_ci_low >= need && a.work_share >= need;
  if (!explains && !a.unidentified.empty()) {
    o.identifiable = false;
    o.reason = fmt::format(
        "work ({}) grows with the step but varies too little from one step to the next to "
        "be priced, so one run cannot tell more work from the same work costing more",
        fmt::join(a.unidentified, ", "));
    return o;
  }
  if (!explains && a.work_share_ci_high >= need) {
    o.identifiable = false;
    o.reason = fmt::format(
        "more work accounts for {:.0f}% of the slowdown, but the interval ({:.0f}% to {:.0f}%) "
        "is too wide to tell more work from the same work costing more",
        100 * a.work_share, 100 * a.work_share_ci_low, 100 * a.work_share_ci_high);
    return o;
  }
  o.supported = explains && !growing.empty();
  o.reason = o.supported ? fmt::format("more work ({}) accounts for {:.0f}% of the slowdown{}",
                                       growing, 100 * a.work_share,
                                       a.work_share > 1 ? " (and the same work got cheaper)" : "")
             : explains  ? "the work model tracks the slowdown, but no work counter grows"
                         : fmt::format(
                               "more work accounts for only {:.0f}% of the slowdown: the "
                                "same work costs more",
                               100 * std::max(0.0, a.work_share));
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
    .engine_experiment =
        "a study that holds the work fixed while the run goes on (a population cap, or the "
        "model's defect switches off) and one that varies it",
    .program_experiment =
        "repeat the run with the work held fixed (the same input each step) and with it "
        "varied step to step, or add a work counter to the step markers",
};

}  // namespace nrmlab::analysis
