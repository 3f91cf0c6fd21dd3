// H3, I/O accumulation: the same database work costs more as the store grows.
#include <fmt/format.h>

#include <Eigen/Dense>

#include "analysis/hypotheses/evidence.hpp"
#include "analysis/stats/descriptive.hpp"
#include "analysis/stats/mann_kendall.hpp"
#include "analysis/stats/nnls.hpp"
#include "analysis/stats/theil_sen.hpp"
#include "analysis/windows.hpp"

namespace nrmlab::analysis {
namespace {

using namespace evidence;

// Database cost per step is commits plus rows: database_ns = a transactions + b rows. Fitted
// per window (NNLS, no intercept: no operations cost nothing), the cost of the condition's
// average work mix, a T + b R, tracks the price of the same I/O over time. A per-row or
// per-transaction ratio would not: a commit's cost is shared by the rows it holds, so a
// changing number of rows per transaction moves either ratio with no change in price.
std::vector<double> window_prices(const Columns& s, const Thresholds& t) {
  const auto transactions = s["db_transactions"], rows = s["db_rows"];
  const auto database = s["database_ns"];
  const double mean_transactions = stats::mean(transactions), mean_rows = stats::mean(rows);
  std::vector<double> price;
  for (const Window& win : split_windows(s.rows(), static_cast<std::size_t>(t.windows), 20)) {
    const auto size = static_cast<Eigen::Index>(win.end - win.begin);
    Eigen::MatrixXd design(size, 2);
    for (Eigen::Index r = 0; r < size; ++r) {
      design(r, 0) = transactions[win.begin + static_cast<std::size_t>(r)];
      design(r, 1) = rows[win.begin + static_cast<std::size_t>(r)] / std::max(1.0, mean_rows);
    }
    const auto fit = stats::nnls(design, database.subspan(win.begin, win.end - win.begin));
    price.push_back(fit.coefficients[0] * mean_transactions +
                    fit.coefficients[1] * mean_rows / std::max(1.0, mean_rows));
  }
  return price;
}

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
  Outcome o;
  const Columns& s = ctx.condition.steps;
  const auto transactions = s["db_transactions"], rows = s["db_rows"];
  std::size_t active = 0;
  for (std::size_t i = 0; i < s.rows(); ++i)
    active += transactions[i] > 0 || rows[i] > 0;
  if (active < k_min_points) {
    o.reason = "the run did almost no database work (persistence off?)";
    return o;
  }
  const std::vector<double> price = window_prices(s, t);
  if (price.size() < 4) {
    o.reason = fmt::format("too few steps for {} windows of database cost", 4);
    return o;
  }
  std::vector<double> index(price.size());
  for (std::size_t w = 0; w < index.size(); ++w)
    index[w] = static_cast<double>(w);
  o.testable = true;
  const auto line = stats::theil_sen(index, price, t.confidence);
  const double start = line.intercept;
  const double span = index.back();
  if (start > 0) {
    o.effect = line.slope * span / start;
    o.ci_low = line.ci_low * span / start;
    o.ci_high = line.ci_high * span / start;
  }
  const auto trend = stats::mann_kendall(price);
  o.evidence.push_back(
      {"relative change of the database cost of the average step's I/O "
       "(per-window NNLS on transactions and rows; Theil-Sen over windows)",
       o.effect, trend.p, fmt::format("{:.3g} µs per step at first", start * 1e-3)});
  double database_share = k_nan;
  add_context(ctx, o, database_share);
  const bool grows = o.ci_low > 0 && o.effect >= t.min_unit_cost_change && trend.p < t.alpha;
  o.supported = grows && database_share >= t.min_io_share;
  o.reason = o.supported ? "the same database work costs more as the store grows"
             : grows     ? "database work gets dearer, but it is a negligible share of step time"
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
};

}  // namespace nrmlab::analysis
