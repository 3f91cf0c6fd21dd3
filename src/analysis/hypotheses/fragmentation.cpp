// H2, memory fragmentation: the allocator's ratios grow and unit costs grow with them.
// A single run can only make the case; the allocator intervention (a study factor, or
// `nrmlab validate`'s jemalloc/mimalloc reruns) decides it.
#include <fmt/format.h>

#include "analysis/attribution.hpp"
#include "analysis/hypotheses/evidence.hpp"

namespace nrmlab::analysis {
namespace {

using namespace evidence;

// The mechanism H2 proposes is a rising unit cost: the attribution's "same work costs more"
// part of the step-time change must be positive (its interval above 0).
bool unit_costs_rise(const Attribution& a) {
  const SectionChange* step = find_section(a, "step");
  return step && step->dearer.ci_low > 0;
}

Outcome fragmentation(const ConditionContext& ctx) {
  const Thresholds& t = ctx.thresholds;
  Outcome o;
  const Columns& m = ctx.condition.memory;
  const char* const k_ratios[] = {"rss_per_allocated", "resident_per_active",
                                  "active_per_allocated"};
  bool any_ratio = false, grows = false;
  std::size_t readings = 0;
  for (const char* ratio : k_ratios) {
    if (!m.has(ratio)) continue;
    std::size_t finite = 0;
    for (const double v : m[ratio])
      finite += std::isfinite(v);
    readings = std::max(readings, finite);
    const auto [change, p] = relative_trend(m["step"], m[ratio]);
    if (!std::isfinite(change)) continue;
    any_ratio = true;
    const bool this_grows = change >= t.min_ratio_growth && p < t.alpha;
    grows = grows || this_grows;
    if (this_grows && !(o.p <= p)) o.p = p;
    o.evidence.push_back({fmt::format("relative change of {} over the condition", ratio), change, p,
                          this_grows ? "grows" : "does not grow"});
    if (!std::isfinite(o.effect) || change > o.effect) o.effect = change;
  }
  if (!any_ratio) {
    o.reason = readings == 0 ? "the allocator exposes no statistics to form fragmentation ratios"
                             : fmt::format("{} allocator readings, fewer than {} (or constant)",
                                           readings, k_min_points);
    return o;
  }
  o.testable = true;
  const bool costs_rise = unit_costs_rise(ctx.attribution);
  o.evidence.push_back({"the same work costs more (attribution: dearer part of the change > 0)",
                        costs_rise ? 1.0 : 0.0, k_nan, ""});
  o.supported = grows && costs_rise;
  o.reason = o.supported ? "allocator ratios grow and unit costs grow with them; the allocator "
                           "intervention decides"
             : grows     ? "allocator ratios grow but unit costs do not"
                         : "allocator ratios do not grow";
  return o;
}

}  // namespace

extern const HypothesisSpec k_fragmentation_hypothesis{
    .id = "H2",
    .name = "memory fragmentation",
    .effect_label = "relative growth of the largest allocator ratio",
    .needs = "allocator statistics (glibc, jemalloc or mimalloc) on the memory cadence",
    .condition_test = fragmentation,
    .panel = {.source = PanelSource::memory_column,
              .column = "rss_bytes",
              .scale = 1e-6,
              .y_label = "resident set (MB)",
              .empty_reason = "no memory readings (the run had --memory-every 0)"},
    .engine_advice =
        "allocator ratios grow with unit costs: run the allocator intervention "
        "(jemalloc, mimalloc) to decide",
    .program_advice =
        "allocator ratios grow with unit costs: run the program again under "
        "another allocator (LD_PRELOAD=libjemalloc.so.2 or libmimalloc.so.2) "
        "to decide",
};

}  // namespace nrmlab::analysis
