// H3, I/O accumulation: the same database work costs more as the store grows.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "analysis/attribution.hpp"
#include "analysis/hypotheses/evidence.hpp"

namespace nrmlab::analysis {
namespace {

using namespace evidence;

// H3 reads the database section of the attribution (attribution.hpp): its change split into
// more database work (transactions, rows... at the early segment's unit costs, estimated from
// step-to-step variation) and the same work costing more. Fitting prices per window instead
// cannot work where transactions and rows are constant in a window (the fit has rank 1 and
// reads a rising constant as a rising price), which once made H3 and H5 both "supported"
// on one run.
void add_context(const ConditionContext& ctx, Outcome& o, double& database_share) {
  for (const auto& section : ctx.time.sections)
    if (section.section == "database") database_share = section.share;
  o.evidence.push_back({"database share of step time", database_share, k_nan, ""});
  const Columns& files = ctx.condition.files;
  if (files.rows() >= 2) {
    const auto bytes = files["database_bytes"];
    o.evidence.push_back({"database files growth (bytes)", bytes.back() - bytes.front(), k_nan,
                          fmt::format("{:.3g} MB at the end", bytes.back() / 1e6)});
  }
}

Outcome io_accumulation(const ConditionContext& ctx) {
  const Thresholds& t = ctx.thresholds;
  const Columns& s = ctx.condition.steps;
  const auto transactions = s["db_transactions"], rows = s["db_rows"];
  std::size_t active = 0;
  for (std::size_t i = 0; i < s.rows(); ++i)
    active += transactions[i] > 0 || rows[i] > 0;
  if (active < k_min_points)
    return untestable(is_foreign(parse_step_source(ctx.run.meta_value("step_source", "engine")))
                          ? "no database work was counted for the program's steps"
                          : "the run did almost no database work (persistence off?)");
  const SectionChange* database = find_section(ctx.attribution, "database");
  if (!database || !std::isfinite(database->dearer.ms))
    return untestable("too few steps to compare the database cost of the start and the end");
  Outcome o;
  o.testable = true;
  const double base = database->early_ms;
  if (base > 0) {
    o.effect = database->dearer.ms / base;
    o.ci_low = database->dearer.ci_low / base;
    o.ci_high = database->dearer.ci_high / base;
  }
  o.p = database->dearer.p;
  o.evidence.push_back(
      {"relative change of the database cost of the same work (early work at late unit "
       "costs, against the early database time)",
       o.effect, database->dearer.p,
       fmt::format("{:.3g} ms per step at first; more database work adds {:.3g} ms", base,
                   database->more_work.ms)});
  double database_share = k_nan;
  add_context(ctx, o, database_share);
  const bool dearer = o.ci_low > 0 && o.effect >= t.min_unit_cost_change && o.p < t.alpha;
  o.supported = dearer && database_share >= t.min_io_share;
  if (dearer && !ctx.attribution.unidentified.empty()) {
    o.supported = false;
    o.identifiable = false;
    o.reason = fmt::format(
        "database time grows, but the work ({}) varies too little from one step to "
        "the next to be priced, so its price cannot be told from its amount",
        fmt::join(ctx.attribution.unidentified, ", "));
    return o;
  }
  o.reason = o.supported ? "the same database work costs more as the store grows"
             : dearer    ? "database work gets dearer, but it is a negligible share of step time"
                         : "database work does not get dearer";
  return o;
}

}  // namespace

extern const HypothesisSpec k_io_accumulation_hypothesis{
    .id = "H3",
    .name = "I/O accumulation",
    .effect_label = "relative growth of the database cost of the same work",
    .needs =
        "timed database work with transaction and row counts (database_ns, "
        "db_transactions, db_rows)",
    .condition_test = io_accumulation,
    .panel = {.source = PanelSource::step_column,
              .column = "database_ns",
              .scale = 1e-6,
              .y_label = "database time per step (ms)"},
    .engine_advice = "the store's per-operation cost grows: batch writes, prune it",
    .program_advice = "the store's per-operation cost grows: batch writes, prune it",
    .engine_experiment = "a study over persistence (on/off) and the store's size (pruning)",
    .program_experiment = "repeat the run against a fresh or pruned store",
};

}  // namespace nrmlab::analysis
