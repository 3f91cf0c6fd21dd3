// H1, system resource contention: other work keeps the run's threads waiting for a CPU.
//
// Measured where it costs: the run-queue delay (schedstat: time runnable but not running)
// per getrusage reading. Preemption counts and the machine's load only give context:
// preemptions arrive per CPU-second, so long steps collect more of them whatever made them
// long, and a busy machine with a free core costs the run nothing. Blocking I/O and sleeps
// are not CPU waits, so they can never read as contention.
//
// Supported when the wait is a material share of step time (min_cpu_wait_share) and it
// explains the condition's change (the growth of the wait accounts for at least
// min_explained_fraction of the step-time change between the attribution's segments) or its
// variation (steps that waited longer were slower, partial Spearman over one point per
// reading, controlling for step index and agents).
#include <fmt/format.h>

#include "analysis/attribution.hpp"
#include "analysis/hypotheses/evidence.hpp"

namespace nrmlab::analysis {
namespace {

using namespace evidence;

struct Waits {
  Aligned per_step;  // wait per step against step time per step, one point per reading
  double wait_ns = 0.0, wall_ns = 0.0, cpu_ns = 0.0, involuntary = 0.0;
};

Waits waits(const Columns& s) {
  Waits w;
  if (!s.has(std::string(k_runq_column))) return w;
  const auto steps = s["step"], wall = s["wall_ns"], cpu = s["cpu_ns"], agents = s["agents"];
  const auto usage = s["usage_steps"], runq = s[std::string(k_runq_column)];
  const auto involuntary = s["involuntary_switches"];
  for (std::size_t i = 0; i < s.rows(); ++i) {
    if (!(usage[i] > 0) || !std::isfinite(runq[i])) continue;
    const auto span = static_cast<std::size_t>(usage[i]);
    if (span > i + 1) continue;
    double time = 0.0, on_cpu = 0.0;
    for (std::size_t j = i + 1 - span; j <= i; ++j) {
      time += wall[j];
      on_cpu += cpu[j];
    }
    w.wait_ns += runq[i];
    w.wall_ns += time;
    w.cpu_ns += on_cpu;
    if (std::isfinite(involuntary[i])) w.involuntary += involuntary[i];
    w.per_step.add(runq[i] / usage[i], time / usage[i], steps[i], agents[i]);
  }
  return w;
}

// The growth of the wait as a share of the step-time change between the segments.
Outcome explains_change(const ConditionContext& ctx) {
  Outcome o;
  const SectionChange* step = find_section(ctx.attribution, "step");
  const SectionChange* wait = find_section(ctx.attribution, "cpu_wait");
  if (!is_change(ctx.drift.direction) || !step || !wait || !(step->change.ms > 0)) return o;
  o.testable = true;
  o.effect = wait->change.ms / step->change.ms;
  o.p = wait->change.p;
  o.evidence.push_back(
      {"share of the step-time change that waiting for a CPU accounts for", o.effect,
       wait->change.p,
       fmt::format("{:.3g} of {:.3g} ms per step", wait->change.ms, step->change.ms)});
  o.supported = o.effect >= ctx.thresholds.min_explained_fraction && wait->change.ci_low > 0 &&
                o.p < ctx.thresholds.alpha;
  o.reason = fmt::format("waiting for a CPU grew by {:.3g} ms per step, {:.0f}% of the change",
                         wait->change.ms, 100 * o.effect);
  return o;
}

Outcome contention(const ConditionContext& ctx) {
  const Thresholds& t = ctx.thresholds;
  const Waits w = waits(ctx.condition.steps);
  if (w.per_step.indicator.size() < k_min_points)
    return untestable(
        "no run-queue delay was recorded (schedstat; telemetry recorded before it existed "
        "lacks it), so waiting for a CPU cannot be measured");
  Outcome o;
  o.testable = true;
  const double share = cpu_wait_share(ctx.condition.steps);  // the same as w's totals' ratio
  o.effect = share;
  o.evidence.push_back({"share of step time spent waiting for a CPU (run-queue delay)", share,
                        k_nan,
                        fmt::format("{:.3g} s of {:.3g} s", w.wait_ns * 1e-9, w.wall_ns * 1e-9)});
  o.evidence.push_back({"preemptions per CPU-second",
                        w.cpu_ns > 0 ? w.involuntary / (w.cpu_ns * 1e-9) : k_nan, k_nan,
                        "context: preemptions track CPU time whatever the contention"});
  if (!(share >= t.min_cpu_wait_share)) {
    o.reason = fmt::format("the run waited for a CPU {:.1f}% of its step time (under {:.0f}%)",
                           100 * share, 100 * t.min_cpu_wait_share);
    return o;
  }
  Outcome change = explains_change(ctx);
  Outcome variation = correlate("time waiting for a CPU per step", w.per_step, t);
  for (const Outcome* part : {&change, &variation})
    o.evidence.insert(o.evidence.end(), part->evidence.begin(), part->evidence.end());
  const Outcome& decisive = change.supported ? change : variation;
  o.supported = decisive.supported;
  o.p = change.supported ? change.p : variation.p;
  o.reason = o.supported ? fmt::format("the run waited for a CPU {:.0f}% of its step time, and {}",
                                       100 * share, decisive.reason)
                         : fmt::format(
                               "the run waited for a CPU {:.0f}% of its step time, steadily: "
                               "it costs time but explains no change",
                               100 * share);
  return o;
}

}  // namespace

extern const HypothesisSpec k_contention_hypothesis{
    .id = "H1",
    .name = "system resource contention",
    .effect_label = "share of step time waiting for a CPU",
    .needs = "run-queue delay per step (schedstat), recorded by nrmlab run and watch",
    .condition_test = contention,
    .panel = {.source = PanelSource::step_column,
              .column = "runq_ns",
              .scale = 1e-6,
              .per_column = "usage_steps",
              .y_label = "time waiting for a CPU per step (ms)",
              .empty_reason = "no run-queue delay was recorded"},
    .engine_advice = "other work competes for the CPU: run alone or on reserved cores",
    .program_advice = "other work competes for the CPU: run alone or on reserved cores",
    .engine_experiment = "repeat the run on reserved cores (taskset) or an idle machine",
    .program_experiment = "repeat the run on reserved cores (taskset) or an idle machine",
    .explains_off_cpu = true,
};

}  // namespace nrmlab::analysis
