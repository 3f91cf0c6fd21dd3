// The observer effect: the lab's own telemetry as a share of the run's wall time. Judged
// once per run; it names no cause of the run's own slowdown.
#include <fmt/format.h>

#include <optional>

#include "analysis/hypotheses/evidence.hpp"
#include "util/parse.hpp"

namespace nrmlab::analysis {
namespace {

using namespace evidence;

// A watched program's steps hold none of nrmlab's time (it runs beside the program): its
// cost is its own CPU over the watch as a share of one core (meta recorder_share, beside
// watch.self_cpu_ns). Older watches wrote no such figure.
std::optional<double> watching_share(const RunContext& ctx) {
  if (ctx.run.meta_value("watch.self_cpu_ns").empty()) return std::nullopt;
  return parse_number<double>(ctx.run.meta_value("recorder_share"));
}

// The stack sampler's part of it (meta profile.cpu_ns, its thread's CPU), as the same share.
std::string sampler_part(const RunContext& ctx) {
  const auto sampler_ns = parse_number<double>(ctx.run.meta_value("profile.cpu_ns"));
  const auto wall_ns = parse_number<double>(ctx.run.meta_value("watch.wall_ns"));
  if (!sampler_ns || !wall_ns || *wall_ns <= 0) return "";
  return fmt::format(", {:.2f}% of it sampling stacks", 100 * *sampler_ns / *wall_ns);
}

Outcome observer_effect(const RunContext& ctx) {
  const std::optional<double> watching = watching_share(ctx);
  const double share = watching.value_or(ctx.time.recorder_share);
  const double limit = ctx.thresholds.max_observer_share;
  Outcome o;
  o.effect = share;
  o.evidence.push_back(
      {watching ? "nrmlab's share of one core while watching" : "recorder share of wall time",
       share, k_nan, ""});
  if (!std::isfinite(share)) {
    o.reason = "no wall time recorded";
    return o;
  }
  // nrmlab's start (the stack sampler's set-up, the first /proc walk) is a fixed cost: over
  // a watch of a fraction of a second it is a large share of nothing.
  if (watching && parse_number<double>(ctx.run.meta_value("watch.wall_ns")).value_or(0) < 1e9) {
    o.reason = fmt::format(
        "nrmlab used {:.2f}% of a core, but over a watch under a second its own start decides "
        "that share",
        100 * share);
    return o;
  }
  o.testable = true;
  o.supported = share >= limit;
  const char* relation = o.supported ? "at or above" : "below";
  o.reason = watching ? fmt::format("nrmlab used {:.2f}% of a core while watching{} ({} {:.0f}%)",
                                    100 * share, sampler_part(ctx), relation, 100 * limit)
                      : fmt::format("the recorder took {:.2f}% of wall time ({} {:.0f}%)",
                                    100 * share, relation, 100 * limit);
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
    .program_advice =
        "watching is costly here: sample stacks less often (--profile 19, or off) "
        "or read /proc less often (a lower --hz)",
    .names_cause = false,
};

}  // namespace nrmlab::analysis
