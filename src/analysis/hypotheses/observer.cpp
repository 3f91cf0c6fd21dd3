// The observer effect: the lab's own telemetry as a share of the run's wall time. Judged
// once per run; it names no cause of the run's own slowdown.
#include <fmt/format.h>

#include "analysis/hypotheses/evidence.hpp"

namespace nrmlab::analysis {
namespace {

using namespace evidence;

Outcome observer_effect(const RunContext& ctx) {
  const double share = ctx.time.recorder_share;
  const double limit = ctx.thresholds.max_observer_share;
  Outcome o;
  o.effect = share;
  o.evidence.push_back({"recorder share of wall time", share, k_nan, ""});
  if (!std::isfinite(share)) {
    o.reason = "no wall time recorded";
    return o;
  }
  o.testable = true;
  o.supported = share >= limit;
  o.reason = fmt::format("the recorder took {:.2f}% of wall time ({} {:.0f}%)", 100 * share,
                         o.supported ? "at or above" : "below", 100 * limit);
  return o;
}

}  // namespace

extern const HypothesisSpec k_observer_hypothesis{
    .id = "observer",
    .name = "observer effect (the lab's own telemetry)",
    .effect_label = "recorder share of wall time",
    .needs = "wall time per step",
    .run_test = observer_effect,
    .panel = {.source = PanelSource::recorder_share, .y_label = "recorder share of step time (%)"},
    .engine_advice = "telemetry is costly here: lower its cadences",
    .program_advice = "watching is costly here: read /proc less often (a lower --hz)",
    .names_cause = false,
};

}  // namespace nrmlab::analysis
