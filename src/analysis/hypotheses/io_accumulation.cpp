// H3, I/O accumulation: the same database work costs more as the store grows (a watched
// program: the same I/O costs more).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "analysis/attribution.hpp"
#include "analysis/hypotheses/evidence.hpp"

namespace nrmlab::analysis {
namespace {

using namespace evidence;

// Dearer between the segments, in a condition whose step time does not grow: a burst of the
// device's latency in one segment, not accumulation (step_time_grows).
constexpr const char* k_not_slower =
    "the late segment's I/O cost more than the early one's, but the step time does not grow "
    "over the condition (the drift test), so it is no accumulation";

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

// A watched program has no database section: its I/O is what /proc/PID/io counts (read and
// write system calls and bytes per step, io.syscalls and io.bytes) and its time is the
// attribution's "off_cpu" section (waits off the CPU, not for it). The same I/O costing
// more is that section getting dearer at the same counts; more I/O per step is more work
// (H5). Off-CPU time also holds sleeps and locks: the stack samples (code.waits) say which.
Outcome program_io(const ConditionContext& ctx) {
  const Thresholds& t = ctx.thresholds;
  const Columns& s = ctx.condition.steps;
  const std::string calls_column(k_io_work_column);
  if (!s.has(calls_column))
    return untestable(
        "needs the program's I/O per step (read/write system calls and bytes, from "
        "/proc/PID/io; telemetry recorded before nrmlab recorded them lacks them)");
  const auto calls = s[calls_column];
  if (static_cast<std::size_t>(
          std::count_if(calls.begin(), calls.end(), [](double v) { return v > 0; })) < k_min_points)
    return untestable("the program made almost no read or write system call in its steps");
  const SectionChange* waits = find_section(ctx.attribution, "off_cpu");
  if (!waits || !std::isfinite(waits->dearer.ms))
    return untestable("too few steps to compare the I/O waits of the start and the end");
  const Attribution& a = ctx.attribution;
  Outcome o;
  o.testable = true;
  set_relative_dearer(*waits, o);
  const double base = waits->early_ms;
  const double calls_early = mean_over_steps(s, calls, a.early_first_step, a.early_last_step);
  const double calls_late = mean_over_steps(s, calls, a.late_first_step, a.late_last_step);
  o.evidence.push_back(
      {"relative change of the time off the CPU (I/O waits, sleeps, locks) at the same I/O",
       o.effect, waits->dearer.p,
       fmt::format("{:.3g} ms per step at first; more I/O and work add {:.3g} ms", base,
                   waits->more_work.ms)});
  o.evidence.push_back(
      {"read/write system calls per step", calls_late, k_nan,
       fmt::format("{:.3g} at first, {:.3g} at the end", calls_early, calls_late)});
  const SectionChange* whole = find_section(a, "step");
  const double share = whole && whole->late_ms > 0 ? waits->late_ms / whole->late_ms : k_nan;
  o.evidence.push_back({"off-CPU share of step time at the end", share, k_nan, ""});
  // Each call's wait, early against late: more calls at the same price are more work (H5),
  // not I/O costing more, although the waits per step grow.
  const double per_call_change = calls_early > 0 && calls_late > 0 && base > 0
                                     ? (waits->late_ms / calls_late) / (base / calls_early) - 1
                                     : k_nan;
  o.evidence.push_back(
      {"relative change of the time off the CPU per read/write call", per_call_change, k_nan, ""});
  const bool dearer = o.ci_low > 0 && o.effect >= t.min_unit_cost_change && o.p < t.alpha &&
                      per_call_change >= t.min_unit_cost_change;
  const bool grows = step_time_grows(ctx.drift);
  o.supported = dearer && grows && share >= t.min_io_share;
  if (dearer && grows && !a.unidentified.empty()) {
    o.supported = false;
    o.identifiable = false;
    o.reason = fmt::format(
        "the waits off the CPU grow, but the work ({}) varies too little from one step to the "
        "next to be priced, so more work cannot be told from dearer I/O",
        fmt::join(a.unidentified, ", "));
    return o;
  }
  const bool more_io = calls_late - calls_early >= t.min_unit_cost_change * calls_early;
  o.reason = o.supported ? fmt::format(
                               "the same I/O costs more: each read/write call waits {:.0f}% "
                               "longer off the CPU ({:+.3g} ms per step)",
                               100 * per_call_change, waits->dearer.ms)
             : dearer && !grows ? k_not_slower
             : dearer           ? "the waits off the CPU get dearer, but they are a negligible "
                                  "share of step time"
             : more_io ? "more I/O per step (work growth), each call costing about the same"
                       : "the program's I/O does not get dearer";
  return o;
}

Outcome io_accumulation(const ConditionContext& ctx) {
  const Thresholds& t = ctx.thresholds;
  const Columns& s = ctx.condition.steps;
  const auto transactions = s["db_transactions"], rows = s["db_rows"];
  std::size_t active = 0;
  for (std::size_t i = 0; i < s.rows(); ++i)
    active += transactions[i] > 0 || rows[i] > 0;
  if (active < k_min_points)
    return is_foreign(parse_step_source(ctx.run.meta_value("step_source", "engine")))
               ? program_io(ctx)
               : untestable("the run did almost no database work (persistence off?)");
  const SectionChange* database = find_section(ctx.attribution, "database");
  if (!database || !std::isfinite(database->dearer.ms))
    return untestable("too few steps to compare the database cost of the start and the end");
  Outcome o;
  o.testable = true;
  set_relative_dearer(*database, o);
  const double base = database->early_ms;
  o.evidence.push_back(
      {"relative change of the database cost of the same work (early work at late unit "
       "costs, against the early database time)",
       o.effect, database->dearer.p,
       fmt::format("{:.3g} ms per step at first; more database work adds {:.3g} ms", base,
                   database->more_work.ms)});
  double database_share = k_nan;
  add_context(ctx, o, database_share);
  const bool dearer = o.ci_low > 0 && o.effect >= t.min_unit_cost_change && o.p < t.alpha;
  const bool grows = step_time_grows(ctx.drift);
  o.supported = dearer && grows && database_share >= t.min_io_share;
  if (dearer && grows && !ctx.attribution.unidentified.empty()) {
    o.supported = false;
    o.identifiable = false;
    o.reason = fmt::format(
        "database time grows, but the work ({}) varies too little from one step to "
        "the next to be priced, so its price cannot be told from its amount",
        fmt::join(ctx.attribution.unidentified, ", "));
    return o;
  }
  o.reason = o.supported        ? "the same database work costs more as the store grows"
             : dearer && !grows ? k_not_slower
             : dearer ? "database work gets dearer, but it is a negligible share of step time"
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
        "db_transactions, db_rows); for a watched program, its read/write system calls and "
        "bytes per step (/proc/PID/io) and its time off the CPU",
    .condition_test = io_accumulation,
    .panel = {.source = PanelSource::step_column,
              .column = "database_ns",
              .scale = 1e-6,
              .y_label = "database time per step (ms)"},
    .engine_advice = "the store's per-operation cost grows: batch writes, prune it",
    .program_advice =
        "the same I/O costs more as the run goes on (a growing file or index, a filling "
        "cache): batch writes, sync less often, prune or index what is read",
    .engine_experiment = "a study over persistence (on/off) and the store's size (pruning)",
    .program_experiment =
        "repeat the run against a fresh or pruned store, and with the I/O held fixed per step",
};

}  // namespace nrmlab::analysis
