// H1, system resource contention: other work keeps the run's steps off the CPU.
#include <fmt/format.h>

#include "analysis/hypotheses/evidence.hpp"

namespace nrmlab::analysis {
namespace {

using namespace evidence;

// Involuntary context switches per step, over each getrusage reading's span of steps.
Aligned switches_per_step(const Columns& s) {
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
  return switches;
}

// The side stream: other processes' CPU (a delta per sample) and the load average, each
// against the mean step time between two samples.
std::pair<Aligned, Aligned> machine_load(const ConditionData& c) {
  const auto steps = c.steps["step"], wall = c.steps["wall_ns"], agents = c.steps["agents"];
  Aligned others, load;
  const Columns& sys = c.system;
  if (sys.rows() <= 1 || steps.empty()) return {others, load};
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
  return {others, load};
}

Outcome contention(const ConditionContext& ctx) {
  const Thresholds& t = ctx.thresholds;
  const Aligned switches = switches_per_step(ctx.condition.steps);
  const auto [others, load] = machine_load(ctx.condition);
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
  const double off_cpu = ctx.time.off_cpu_unexplained_share;
  best.evidence.push_back({"off-CPU share outside deliberate sleeps", off_cpu, k_nan, ""});
  if (best.supported && !(off_cpu >= t.min_contention_share)) {
    best.supported = false;
    best.reason = fmt::format(
        "{}, but steps spend only {:.1f}% of their time off-CPU beyond "
        "deliberate sleeps",
        best.reason, 100 * off_cpu);
  }
  return best;
}

}  // namespace

extern const HypothesisSpec k_contention_hypothesis{
    .id = "H1",
    .name = "system resource contention",
    .effect_label = "partial Spearman r",
    .needs = "context-switch counts (getrusage) or machine-wide CPU and load readings",
    .condition_test = contention,
    .panel = {.source = PanelSource::step_column,
              .column = "involuntary_switches",
              .per_column = "usage_steps",
              .y_label = "involuntary context switches per step"},
    .engine_advice = "other work competes for the CPU: run alone or on reserved cores",
    .program_advice = "other work competes for the CPU: run alone or on reserved cores",
    .explains_off_cpu = true,
};

}  // namespace nrmlab::analysis
