#include "report/figures.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <set>

#include "analysis/hypothesis_registry.hpp"
#include "analysis/summary.hpp"
#include "report/downsample.hpp"
#include "report/json_field.hpp"
#include "util/numeric.hpp"

namespace nrmlab::report {
namespace {

using nlohmann::json;

// ---- small helpers ---------------------------------------------------------------------

std::string compact(double value) {
  if (std::isnan(value)) return "n/a";
  return fmt::format("{:.3g}", value);
}

std::string p_text(double p) {
  if (std::isnan(p)) return "";
  return p < 1e-4 ? "p < 0.0001" : fmt::format("p = {:.2g}", p);
}

std::vector<std::string> provenance_of(const ReportInput& input,
                                       const std::vector<std::string>& run_ids) {
  std::vector<std::string> lines;
  lines.push_back(fmt::format("{}: {}", input.is_study ? "study" : "run", input.name));
  std::string runs;
  for (std::size_t i = 0; i < run_ids.size() && i < 12; ++i)
    runs += (i > 0 ? ", " : "") + run_ids[i];
  if (run_ids.size() > 12) runs += fmt::format(" and {} more", run_ids.size() - 12);
  lines.push_back("runs: " + runs);
  lines.push_back(fmt::format("nrmlab {} (commit {})", input.analysis.nrmlab_version,
                              input.analysis.nrmlab_commit));
  lines.push_back("directory: " + input.dir.string());
  return lines;
}

std::vector<std::string> all_run_ids(const ReportInput& input) {
  std::vector<std::string> ids;
  for (const ReportRun& run : input.runs)
    ids.push_back(run.id);
  return ids;
}

// The featured run's conditions laid end to end on one step axis.
struct StepAxis {
  std::vector<double> index;  // global step index of every row, conditions back to back
  std::vector<Span> spans;
};

StepAxis step_axis(const analysis::RunData& data) {
  StepAxis axis;
  double offset = 0.0;
  for (const analysis::ConditionData& condition : data.conditions) {
    const std::size_t rows = condition.steps.rows();
    for (std::size_t i = 0; i < rows; ++i)
      axis.index.push_back(offset + static_cast<double>(i));
    if (rows > 0)
      axis.spans.push_back({offset, offset + static_cast<double>(rows), condition.name});
    offset += static_cast<double>(rows);
  }
  return axis;
}

// A steps column of every condition, concatenated and scaled; NaN where absent.
std::vector<double> steps_column(const analysis::RunData& data, const std::string& name,
                                 double scale = 1.0) {
  std::vector<double> values;
  for (const analysis::ConditionData& condition : data.conditions) {
    if (!condition.steps.has(name)) {
      values.insert(values.end(), condition.steps.rows(), k_nan);
      continue;
    }
    for (const double value : condition.steps[name])
      values.push_back(value * scale);
  }
  return values;
}

// One series over the step axis, with a gap at each condition boundary. A step without a
// value (a reading on a cadence, e.g. getrusage every 8 steps) is left out, not a gap: the
// line joins the readings.
Series over_steps(const analysis::RunData& data, const StepAxis& axis, std::vector<double> y,
                  std::string name, int colour = -1) {
  Series series;
  series.name = std::move(name);
  series.colour = colour;
  std::size_t row = 0;
  for (const analysis::ConditionData& condition : data.conditions) {
    if (!series.x.empty() && !std::isnan(series.x.back())) {
      series.x.push_back(k_nan);
      series.y.push_back(k_nan);
    }
    for (std::size_t i = 0; i < condition.steps.rows(); ++i, ++row) {
      if (std::isnan(y[row])) continue;
      series.x.push_back(axis.index[row]);
      series.y.push_back(y[row]);
    }
  }
  return thin(std::move(series));
}

const analysis::Drift* drift_of(const ReportRun& run, const std::string& condition) {
  for (const analysis::Drift& drift : run.analysis.sound.drift)
    if (drift.condition == condition) return &drift;
  return nullptr;
}

// ---- figure 1 --------------------------------------------------------------------------

Panel step_time_panel(const ReportInput& input) {
  const analysis::RunData& data = input.featured_data;
  Panel panel;
  panel.title = fmt::format("Step time of run {}", input.featured_run().id);
  panel.x_label = "elapsed time (s)";
  panel.y_label = "step time (ms)";
  std::vector<std::string> badges;
  for (const analysis::ConditionData& condition : data.conditions) {
    const std::size_t rows = condition.steps.rows();
    if (rows == 0 || !condition.steps.has("t_ns") || !condition.steps.has("wall_ns")) continue;
    const auto t = condition.steps["t_ns"];
    const auto wall = condition.steps["wall_ns"];
    Series series;
    series.name = condition.name;
    series.colour = condition.index;
    series.style = SeriesStyle::points;
    for (std::size_t i = 0; i < rows; ++i) {
      series.x.push_back(t[i] / 1e9);
      series.y.push_back(wall[i] / 1e6);
    }
    panel.spans.push_back({series.x.front(), (t[rows - 1] + wall[rows - 1]) / 1e9, condition.name});
    panel.series.push_back(thin(series));

    if (const analysis::Drift* drift = drift_of(input.featured_run(), condition.name)) {
      // The HAC fit through the condition's mean, with its slope interval as a band.
      const double slope = drift->hac_slope_ns_per_step / 1e6;
      const double low = drift->hac_ci_low / 1e6;
      const double high = drift->hac_ci_high / 1e6;
      double mean = 0.0;
      for (const double y : series.y)
        mean += y;
      mean /= static_cast<double>(rows);
      const double centre = static_cast<double>(rows - 1) / 2.0;
      if (!std::isnan(slope)) {
        Series fit;
        fit.name = fmt::format("{} drift (HAC, {} CI)", condition.name, input.interval_label());
        fit.style = SeriesStyle::band;
        fit.colour = condition.index;
        for (const std::size_t i : {std::size_t{0}, rows - 1}) {
          const double offset = static_cast<double>(i) - centre;
          fit.x.push_back(series.x[i]);
          fit.y.push_back(mean + slope * offset);
          fit.y_low.push_back(mean + std::min(low * offset, high * offset));
          fit.y_high.push_back(mean + std::max(low * offset, high * offset));
        }
        panel.series.push_back(std::move(fit));
      }
      badges.push_back(fmt::format("{} {}", condition.name, to_string(drift->direction)));
    }
  }
  for (std::size_t i = 0; i < badges.size(); ++i)
    panel.badge += (i > 0 ? "; " : "") + badges[i];
  if (panel.series.empty()) panel.empty_reason = "the run recorded no steps";
  return panel;
}

Panel cumulative_panel(const ReportInput& input) {
  const analysis::RunData& data = input.featured_data;
  const StepAxis axis = step_axis(data);
  std::vector<double> wall = steps_column(data, "wall_ns", 1e-9);
  double total = 0.0;
  for (double& value : wall) {
    total += std::isnan(value) ? 0.0 : value;
    value = total;
  }
  const bool hours = total > 7200.0;
  if (hours)
    for (double& value : wall)
      value /= 3600.0;
  Panel panel;
  panel.title = "Cumulative time";
  panel.x_label = "step (conditions back to back)";
  panel.y_label = hours ? "cumulative time (h)" : "cumulative time (s)";
  panel.spans = axis.spans;
  panel.series.push_back(over_steps(data, axis, wall, "observed", 0));
  const analysis::RunAnalysis& run = input.featured_run().analysis;
  const bool has_variance = run.has_paper && run.paper.has_variance;
  const double expected_hours = has_variance ? run.paper.variance.expected_hours : 0.0;
  if (expected_hours > 0 && !axis.index.empty()) {
    Series expected;
    expected.name = fmt::format("expected ({} h)", compact(expected_hours));
    expected.colour = 7;
    expected.x = {0.0, axis.index.back() + 1};
    expected.y = {0.0, hours ? expected_hours : expected_hours * 3600.0};
    panel.series.push_back(std::move(expected));
    panel.badge = fmt::format("V = {:+.1f}%", run.paper.variance.variance_percent);
  }
  if (axis.index.empty()) panel.empty_reason = "the run recorded no steps";
  return panel;
}

// ---- figure 2 --------------------------------------------------------------------------

std::string hypothesis_badge(const analysis::Hypothesis& hypothesis) {
  double best_p = k_nan;
  for (const analysis::Evidence& evidence : hypothesis.evidence) {
    const double p = evidence.p;
    if (!std::isnan(p) && (std::isnan(best_p) || p < best_p)) best_p = p;
  }
  // Short enough to sit in a panel's corner; the report's text has the interval and the
  // effect's meaning.
  std::string badge(to_string(hypothesis.verdict));
  const double effect = hypothesis.effect_size;
  std::vector<std::string> details;
  if (!std::isnan(effect)) details.push_back("effect " + compact(effect));
  if (!std::isnan(best_p)) details.push_back(p_text(best_p));
  for (std::size_t i = 0; i < details.size(); ++i)
    badge += (i == 0 ? " (" : ", ") + details[i] + (i + 1 == details.size() ? ")" : "");
  return badge;
}

// The memory table's column over the step axis (its rows carry their condition's step).
Series memory_series(const analysis::RunData& data, const std::string& column, double scale,
                     std::string name) {
  Series series;
  series.name = std::move(name);
  double offset = 0.0;
  for (const analysis::ConditionData& condition : data.conditions) {
    if (condition.memory.has(column) && condition.memory.has("step")) {
      const auto step = condition.memory["step"];
      const auto value = condition.memory[column];
      if (!series.x.empty()) {
        series.x.push_back(k_nan);
        series.y.push_back(k_nan);
      }
      for (std::size_t i = 0; i < step.size(); ++i) {
        series.x.push_back(offset + step[i]);
        series.y.push_back(value[i] * scale);
      }
    }
    offset += static_cast<double>(condition.steps.rows());
  }
  return thin(std::move(series));
}

// The run's own work counters: the engine's `engine_column`, or the counters a watched
// program named on its step markers (work.<name>).
std::vector<std::string> work_columns(const ReportInput& input, std::string_view engine_column) {
  if (!analysis::is_foreign(input.featured_run().analysis.step_source))
    return {std::string(engine_column)};
  std::vector<std::string> columns;
  for (const analysis::ConditionData& condition : input.featured_data.conditions)
    for (const std::string& name : condition.steps.names())
      if (name.rfind("work.", 0) == 0 &&
          std::find(columns.begin(), columns.end(), name) == columns.end())
        columns.push_back(name);
  return columns;
}

void sensor_series(const analysis::RunData& data, const StepAxis& axis, Panel& panel) {
  for (const analysis::ConditionData& condition : data.conditions)
    if (condition.sensors.rows() > 0 && condition.sensors.has("value")) {
      Series sensor;
      sensor.name = condition.name + " sensors";
      sensor.style = SeriesStyle::points;
      sensor.colour = condition.index;
      const auto step = condition.sensors["step"];
      const auto value = condition.sensors["value"];
      const double offset = axis.spans.empty() ? 0.0 : [&] {
        for (const Span& span : axis.spans)
          if (span.label == condition.name) return span.x_begin;
        return 0.0;
      }();
      for (std::size_t i = 0; i < step.size(); ++i) {
        sensor.x.push_back(offset + step[i]);
        sensor.y.push_back(value[i]);
      }
      panel.series.push_back(thin(std::move(sensor)));
    }
}

// One series per counter a watched program's markers carry (named without "work.").
void add_program_counters(const ReportInput& input, const StepAxis& axis, Panel& panel) {
  const analysis::RunData& data = input.featured_data;
  const std::vector<std::string> columns = work_columns(input, "");
  if (columns.empty())
    panel.empty_reason = "the program's step markers carry no key=value work counter";
  for (std::size_t i = 0; i < columns.size(); ++i)
    panel.series.push_back(over_steps(data, axis, steps_column(data, columns[i]),
                                      columns[i].substr(5), static_cast<int>(i)));
}

void work_counter_series(const ReportInput& input, const StepAxis& axis,
                         const analysis::PanelSpec& spec, Panel& panel) {
  const analysis::RunData& data = input.featured_data;
  if (!analysis::is_foreign(input.featured_run().analysis.step_source)) {
    panel.series.push_back(over_steps(
        data, axis, steps_column(data, std::string(spec.column), spec.scale), panel.y_label, 0));
    return;
  }
  panel.y_label = "the program's work counters per step";
  add_program_counters(input, axis, panel);
}

// Draws the series a hypothesis' verdict rests on, as its registry entry describes them.
void evidence_series(const ReportInput& input, const StepAxis& axis,
                     const analysis::PanelSpec& spec, Panel& panel) {
  const analysis::RunData& data = input.featured_data;
  panel.y_label = spec.y_label;
  switch (spec.source) {
    case analysis::PanelSource::step_column: {
      std::vector<double> values = steps_column(data, std::string(spec.column), spec.scale);
      // A getrusage reading covers usage_steps steps: per step is the delta over them.
      if (!spec.per_column.empty()) {
        const std::vector<double> per = steps_column(data, std::string(spec.per_column));
        for (std::size_t i = 0; i < values.size(); ++i)
          values[i] = per[i] > 0 ? values[i] / per[i] : k_nan;
      }
      panel.series.push_back(over_steps(data, axis, values, panel.y_label, 0));
      break;
    }
    case analysis::PanelSource::memory_column: {
      Series series = memory_series(data, std::string(spec.column), spec.scale, panel.y_label);
      if (series.x.empty())
        panel.empty_reason = spec.empty_reason;
      else
        panel.series.push_back(std::move(series));
      break;
    }
    case analysis::PanelSource::sensors:
      if (data.sensor_readings == 0) panel.empty_reason = spec.empty_reason;
      sensor_series(data, axis, panel);
      break;
    case analysis::PanelSource::work_counters:
      work_counter_series(input, axis, spec, panel);
      break;
    case analysis::PanelSource::recorder_share: {
      std::vector<double> recorder = steps_column(data, "recorder_ns");
      const std::vector<double> wall = steps_column(data, "wall_ns");
      for (std::size_t i = 0; i < recorder.size(); ++i)
        recorder[i] = wall[i] > 0 ? 100.0 * recorder[i] / wall[i] : k_nan;
      panel.series.push_back(over_steps(data, axis, recorder, panel.y_label, 0));
      break;
    }
  }
}

Panel hypothesis_panel(const ReportInput& input, const analysis::Hypothesis& hypothesis) {
  const StepAxis axis = step_axis(input.featured_data);
  Panel panel;
  // "emergent complexity (workload growth)" -> "emergent complexity": titles must fit.
  panel.title =
      fmt::format("{}: {}", hypothesis.id, hypothesis.name.substr(0, hypothesis.name.find(" (")));
  panel.x_label = "step (conditions back to back)";
  panel.spans = axis.spans;
  panel.badge = hypothesis_badge(hypothesis);
  if (const analysis::HypothesisSpec* spec = analysis::find_hypothesis(hypothesis.id))
    evidence_series(input, axis, spec->panel, panel);
  else
    panel.empty_reason =
        fmt::format("this version of nrmlab draws no figure for {}", hypothesis.id);
  if (axis.index.empty() && panel.empty_reason.empty())
    panel.empty_reason = "the run recorded no steps";
  return panel;
}

// ---- figure 3 --------------------------------------------------------------------------

struct CategoryBars {
  std::vector<std::string> names;
  std::vector<double> value, low, high;
};

Panel bars_panel(std::string title, std::string y_label, const CategoryBars& bars,
                 std::string series_name, bool log_y) {
  Panel panel;
  panel.title = std::move(title);
  panel.y_label = std::move(y_label);
  panel.x_label = "configuration";
  panel.log_y = log_y;
  panel.x_categories = bars.names;
  Series series;
  series.name = std::move(series_name);
  series.style = bars.low.empty() ? SeriesStyle::bars : SeriesStyle::error_bars;
  for (std::size_t i = 0; i < bars.names.size(); ++i)
    series.x.push_back(static_cast<double>(i));
  series.y = bars.value;
  series.y_low = bars.low;
  series.y_high = bars.high;
  const bool any =
      std::any_of(bars.value.begin(), bars.value.end(), [](double v) { return !std::isnan(v); });
  if (any)
    panel.series.push_back(std::move(series));
  else
    panel.empty_reason = bars.names.empty() ? "nothing to compare" : "no value could be computed";
  return panel;
}

// Metric samples and database rows per step of a result.json, over its conditions.
std::pair<double, double> work_per_step(const json& result) {
  double samples = 0.0, rows = 0.0, steps = 0.0;
  if (result.is_object())
    for (const auto& [name, condition] : field(result, "conditions").items()) {
      samples += number(field(field(condition, "totals"), "metric_samples"), 0.0);
      rows += number(field(field(condition, "totals"), "db_rows"), 0.0);
      steps += number(field(condition, "steps_completed"), 0.0);
    }
  if (steps <= 0) return {k_nan, k_nan};
  return {samples / steps, rows / steps};
}

Panel work_panel(std::string title, const std::vector<std::string>& names,
                 const std::vector<std::pair<double, double>>& work) {
  Panel panel;
  panel.title = std::move(title);
  panel.x_label = "configuration";
  panel.y_label = "per step (count)";
  panel.log_y = true;
  panel.x_categories = names;
  Series samples{"metric samples per step", SeriesStyle::bars, {}, {}, {}, {}, 0};
  Series rows{"database rows per step", SeriesStyle::bars, {}, {}, {}, {}, 1};
  for (std::size_t i = 0; i < names.size(); ++i) {
    samples.x.push_back(static_cast<double>(i) - 0.2);
    rows.x.push_back(static_cast<double>(i) + 0.2);
    // Zero cannot sit on a log axis; it is a gap (the persistence-off runs write no row).
    samples.y.push_back(work[i].first > 0 ? work[i].first : k_nan);
    rows.y.push_back(work[i].second > 0 ? work[i].second : k_nan);
  }
  panel.series = {std::move(samples), std::move(rows)};
  if (names.empty()) panel.empty_reason = "nothing to compare";
  return panel;
}

// "overheads.persistence" -> "persistence": the section is noise on an axis.
std::string short_factor(const std::string& name) {
  const std::size_t dot = name.rfind('.');
  return dot == std::string::npos ? name : name.substr(dot + 1);
}

// One intervention's panel: mean step time by level, with the interval of the difference
// from the baseline placed on the baseline's mean. Each non-baseline level's drift change
// joins `drift`.
Panel intervention_panel(const ReportInput& input, const analysis::FactorEffect& factor,
                         CategoryBars& drift) {
  const std::string name = short_factor(factor.factor);
  const std::string& baseline = factor.baseline;
  double base_mean = k_nan;
  for (const analysis::LevelEffect& level : factor.levels)
    if (level.level == baseline) base_mean = level.mean_step_ms;
  CategoryBars time;
  std::string badge;
  double largest = -1.0;
  for (const analysis::LevelEffect& level : factor.levels) {
    const std::string& label = level.level;
    const auto positive = [](double v) { return v > 0 ? v : k_nan; };
    time.names.push_back(label);
    time.value.push_back(level.mean_step_ms);
    time.low.push_back(positive(base_mean + level.mean_step_ci_low));
    time.high.push_back(positive(base_mean + level.mean_step_ci_high));
    if (label == baseline) continue;
    const double ratio = level.ratio;
    if (!std::isnan(ratio) && std::abs(std::log(ratio)) > largest) {
      largest = std::abs(std::log(ratio));
      badge = fmt::format("{}: x{} vs {}", label, compact(ratio), baseline);
    }
    drift.names.push_back(fmt::format("{}: {}", name, label));
    drift.value.push_back(100.0 * level.drift_delta);
    drift.low.push_back(100.0 * level.drift_ci_low);
    drift.high.push_back(100.0 * level.drift_ci_high);
  }
  Panel panel = bars_panel(name, "mean step time (ms)", time, "mean over runs", true);
  panel.x_label = name;
  panel.badge = badge;
  if (!panel.series.empty()) {
    Series interval = panel.series.front();
    interval.name = input.interval_label() + " CI";
    interval.colour = 7;
    panel.series.front().style = SeriesStyle::bars;
    panel.series.front().y_low.clear();
    panel.series.front().y_high.clear();
    panel.series.push_back(std::move(interval));
  }
  return panel;
}

// Metric samples and database rows per step by the levels of the study factor `key`, or
// nothing when the factor does not change the work done.
std::optional<Panel> factor_work_panel(const ReportInput& input, const std::string& key) {
  std::map<std::string, std::pair<double, double>> sums;
  std::map<std::string, int> counts;
  std::vector<std::string> order;
  for (const ReportRun& run : input.runs) {
    const json& level_json = field(run.levels, key);
    if (!level_json.is_string()) continue;
    const std::string level = level_json.get<std::string>();
    const auto [samples, rows] = work_per_step(run.result);
    if (std::isnan(samples)) continue;
    if (!counts.count(level)) order.push_back(level);
    sums[level].first += samples;
    sums[level].second += rows;
    ++counts[level];
  }
  std::vector<std::pair<double, double>> work;
  for (const std::string& level : order)
    work.emplace_back(sums[level].first / counts[level], sums[level].second / counts[level]);
  bool varies = false;
  for (std::size_t i = 1; i < work.size(); ++i)
    varies = varies || std::abs(work[i].first - work[0].first) > 0.01 * work[0].first ||
             std::abs(work[i].second - work[0].second) > 0.01 * std::max(work[0].second, 1.0);
  if (!varies) return std::nullopt;
  Panel panel = work_panel(fmt::format("Work per step by {}", key), order, work);
  panel.x_label = key;
  return panel;
}

// One panel per intervention, one panel of drift changes, and one panel of work per step
// for each factor that changes the work.
Figure study_impact(const ReportInput& input) {
  Figure figure;
  CategoryBars drift;
  for (const analysis::FactorEffect& factor : input.analysis.study.interventions)
    figure.panels.push_back(intervention_panel(input, factor, drift));
  figure.panels.push_back(
      bars_panel("Change of drift against the baseline level", "drift change (% points)", drift,
                 fmt::format("difference of means ({} CI)", input.interval_label()), false));
  for (const json& factor : field(field(input.manifest, "study"), "factors")) {
    const std::string key = factor.is_string() ? factor.get<std::string>() : factor.dump();
    if (auto panel = factor_work_panel(input, key)) figure.panels.push_back(std::move(*panel));
  }
  return figure;
}

Figure run_impact(const ReportInput& input) {
  Figure figure;
  const ReportRun& run = input.featured_run();
  CategoryBars time, drift;
  std::vector<std::pair<double, double>> work;
  if (run.result.is_object())
    for (const auto& [name, condition] : field(run.result, "conditions").items()) {
      time.names.push_back(name);
      time.value.push_back(number(field(condition, "runtime_seconds")));
      json single = {{"conditions", {{name, condition}}}};
      work.push_back(work_per_step(single));
      if (const analysis::Drift* d = drift_of(run, name)) {
        drift.names.push_back(name);
        drift.value.push_back(analysis::level_ratio(*d));
      }
    }
  Panel runtime = bars_panel("Runtime per condition", "runtime (s)", time, "runtime", true);
  runtime.x_label = "condition";
  figure.panels.push_back(std::move(runtime));
  Panel work_by_condition = work_panel("Metric calls and database operations", time.names, work);
  work_by_condition.x_label = "condition";
  figure.panels.push_back(std::move(work_by_condition));
  Panel drifts = bars_panel("Drift per condition", "late / early step time (x)", drift,
                            "implied by the HAC slope", false);
  drifts.x_label = "condition";
  figure.panels.push_back(std::move(drifts));
  return figure;
}

// ---- figure 4 --------------------------------------------------------------------------

bool is_foreign(const ReportInput& input) {
  return analysis::is_foreign(input.featured_run().analysis.step_source);
}

// A watched program's work is what its markers count; the engine's is figure 4's pattern
// memory and population.
Panel program_work_panel(const ReportInput& input) {
  const analysis::RunData& data = input.featured_data;
  const StepAxis axis = step_axis(data);
  Panel panel;
  panel.title = "The program's work counters";
  panel.x_label = "step (conditions back to back)";
  panel.y_label = "count per step";
  panel.spans = axis.spans;
  add_program_counters(input, axis, panel);
  if (axis.index.empty()) panel.empty_reason = "the run recorded no steps";
  return panel;
}

Panel memory_and_agents_panel(const ReportInput& input) {
  if (is_foreign(input)) return program_work_panel(input);
  const analysis::RunData& data = input.featured_data;
  const StepAxis axis = step_axis(data);
  Panel panel;
  panel.title = "Pattern memory and agents";
  panel.x_label = "step (conditions back to back)";
  panel.y_label = "count";
  panel.spans = axis.spans;
  panel.series.push_back(
      over_steps(data, axis, steps_column(data, "pattern_count"), "pattern memory (entries)", 0));
  panel.series.push_back(over_steps(data, axis, steps_column(data, "agents"), "agents alive", 1));
  if (axis.index.empty()) panel.empty_reason = "the run recorded no steps";
  return panel;
}

Panel time_against_work_panel(const ReportInput& input) {
  Panel panel;
  panel.title = "Step time against work";
  // The engine's pair checks, or a program's first counter.
  const std::vector<std::string> columns = work_columns(input, "resonance_pairs");
  const std::string column = columns.empty() ? "" : columns.front();
  panel.x_label = is_foreign(input) ? column.empty() ? "work (no counter on the markers)"
                                                     : column.substr(5) + " in the step"
                                    : "resonance pairs checked in the step";
  panel.y_label = "step time (ms)";
  for (const analysis::ConditionData& condition : input.featured_data.conditions) {
    if (column.empty() || !condition.steps.has(column) || !condition.steps.has("wall_ns")) continue;
    Series series;
    series.name = condition.name;
    series.style = SeriesStyle::points;
    series.colour = condition.index;
    const auto pairs = condition.steps[column];
    const auto wall = condition.steps["wall_ns"];
    // A scatter has no order to keep: an even stride is a fair sample of it.
    const std::size_t stride = std::max<std::size_t>(1, pairs.size() / k_display_points);
    for (std::size_t i = 0; i < pairs.size(); i += stride) {
      series.x.push_back(pairs[i]);
      series.y.push_back(wall[i] / 1e6);
    }
    panel.series.push_back(std::move(series));
  }
  if (panel.series.empty())
    panel.empty_reason = column.empty()
                             ? "the program's step markers carry no key=value work counter"
                             : "the run recorded no steps";
  return panel;
}

Panel unit_cost_panel(const ReportInput& input) {
  Panel panel;
  panel.title = "Unit costs over time (NNLS per window)";
  panel.x_label = "window of the condition";
  panel.y_label = "unit cost (ns per unit of work)";
  struct Term {
    double share;
    Series series;
  };
  std::vector<Term> terms;
  for (const analysis::CostModel& model : input.featured_run().analysis.sound.cost_models) {
    for (const analysis::UnitCost& term : model.terms) {
      const double share = term.share;
      if (!(share > 0.0)) continue;
      Series series;
      series.name = fmt::format("{}: {}", model.condition, term.counter);
      series.style = SeriesStyle::line;
      std::size_t w = 0;
      for (const double cost : term.window_costs_ns) {
        series.x.push_back(static_cast<double>(w++));
        series.y.push_back(cost);
      }
      // Windows where the fit had no cost are gaps; a term left with isolated windows is
      // drawn as points (a line needs two neighbours), one with none is left out.
      bool joined = false, any = false;
      for (std::size_t i = 0; i < series.y.size(); ++i) {
        any = any || !std::isnan(series.y[i]);
        joined = joined || (i + 1 < series.y.size() && !std::isnan(series.y[i]) &&
                            !std::isnan(series.y[i + 1]));
      }
      if (!any) continue;
      if (!joined) series.style = SeriesStyle::points;
      terms.push_back({share, std::move(series)});
    }
  }
  std::stable_sort(terms.begin(), terms.end(),
                   [](const Term& a, const Term& b) { return a.share > b.share; });
  for (std::size_t i = 0; i < terms.size() && i < 6; ++i) {
    terms[i].series.colour = static_cast<int>(i);
    panel.series.push_back(std::move(terms[i].series));
  }
  if (panel.series.empty()) panel.empty_reason = "no cost model (no work counter varied)";
  return panel;
}

// ---- S1, S2 ----------------------------------------------------------------------------

// The literature's prior scores from the seed, four criteria each (study.md section 5).
struct Prior {
  const char* id;
  double scores[4];
};
constexpr Prior k_priors[] = {{"H1", {1, 2, 3, 2}},
                              {"H2", {5, 4, 5, 5}},
                              {"H3", {2, 4, 4, 4}},
                              {"H4", {1, 1, 2, 2}},
                              {"H5", {3, 4, 5, 5}}};

}  // namespace

Series thin(Series series) {
  if (series.x.size() <= k_display_points) return series;
  std::vector<std::size_t> kept;
  const double share = static_cast<double>(k_display_points) / static_cast<double>(series.x.size());
  std::size_t begin = 0;
  while (begin < series.x.size()) {
    std::size_t end = begin;
    while (end < series.x.size() && !std::isnan(series.x[end]))
      ++end;
    const std::size_t length = end - begin;
    const auto budget =
        std::max<std::size_t>(3, static_cast<std::size_t>(share * static_cast<double>(length)));
    const auto stretch = lttb_indices(std::span(series.x).subspan(begin, length),
                                      std::span(series.y).subspan(begin, length), budget);
    for (const std::size_t i : stretch)
      kept.push_back(begin + i);
    if (end < series.x.size()) kept.push_back(end);  // the break itself
    begin = end + 1;
  }
  series.x = pick(series.x, kept);
  series.y = pick(series.y, kept);
  if (!series.y_low.empty()) series.y_low = pick(series.y_low, kept);
  if (!series.y_high.empty()) series.y_high = pick(series.y_high, kept);
  return series;
}

Figure runtime_timeline(const ReportInput& input) {
  Figure figure;
  figure.id = "figure-1";
  figure.title = "Figure 1. Runtime timeline";
  figure.panels = {step_time_panel(input), cumulative_panel(input)};
  figure.caption = fmt::format(
      "Per-step time of run {} against elapsed time, one colour per condition (shaded), with "
      "each condition's HAC drift fit and its {} interval; cumulative time against steps{}.",
      input.featured_run().id, input.interval_label(),
      figure.panels[1].series.size() > 1 ? ", beside the expectation given to the analysis" : "");
  figure.provenance = provenance_of(input, {input.featured_run().id});
  return figure;
}

Figure hypothesis_results(const ReportInput& input) {
  Figure figure;
  figure.id = "figure-2";
  figure.title = "Figure 2. Hypothesis results";
  for (const analysis::Hypothesis& hypothesis : input.featured_run().analysis.sound.hypotheses)
    figure.panels.push_back(hypothesis_panel(input, hypothesis));
  figure.caption = fmt::format(
      "One panel per hypothesis for run {}: the series its verdict rests on, with the verdict, "
      "the effect and its {} interval, and the smallest p-value of its evidence, all computed "
      "by the sound analysis.",
      input.featured_run().id, input.interval_label());
  figure.provenance = provenance_of(input, {input.featured_run().id});
  return figure;
}

Figure optimization_impact(const ReportInput& input) {
  Figure figure =
      input.is_study && input.analysis.has_study ? study_impact(input) : run_impact(input);
  figure.id = "figure-3";
  figure.title = "Figure 3. Optimization impact";
  figure.caption =
      input.is_study
          ? fmt::format(
                "Mean step time per factor level (log scale; bars are the {} interval of the "
                "difference from the baseline level over replicates, placed on the baseline), "
                "metric samples and database rows per step, and the drift of step time over a "
                "condition, per factor level.",
                input.interval_label())
          : "Runtime, metric samples and database rows per step, and drift, per condition.";
  figure.provenance = provenance_of(input, all_run_ids(input));
  return figure;
}

Figure work_and_cost(const ReportInput& input) {
  Figure figure;
  figure.id = "figure-4";
  figure.title = "Figure 4. Work and cost";
  figure.panels = {memory_and_agents_panel(input), time_against_work_panel(input),
                   unit_cost_panel(input)};
  figure.caption = fmt::format(
      "Run {}: {}; and the unit costs of the largest work terms per window (non-negative "
      "least squares). Growing work at flat unit costs is H5; rising unit costs are an "
      "efficiency loss.",
      input.featured_run().id,
      is_foreign(input) ? "the work counters the program's step markers carry, over time; step "
                          "time against the first of them"
                        : "the cluster table (pattern memory) and the population over time; "
                          "step time against the pair checks the step did");
  figure.provenance = provenance_of(input, {input.featured_run().id});
  return figure;
}

Figure study_timeline(const ReportInput& input) {
  Figure figure;
  figure.id = "figure-s1";
  figure.title = "Figure S1. Study timeline";
  Panel panel;
  panel.title = input.is_study ? "When each run executed" : "When each condition executed";
  panel.x_label = "time since the first run started (s)";
  panel.y_label = "lane (overlapping runs stack)";
  if (input.is_study) {
    double origin = std::numeric_limits<double>::infinity();
    for (const ReportRun& run : input.runs)
      origin = std::min(origin, number(field(run.status, "started"), origin));
    // Greedy lanes per host: a run that starts before the lane's last run ended takes the
    // next lane, so overlaps (contention) show as stacked bars.
    std::map<std::string, std::vector<double>> lane_ends;
    // One series per host and lane: a series holds one y per x, and overlapping runs need two.
    std::map<std::pair<std::string, std::size_t>, Series> by_lane;
    std::map<std::string, int> host_colour;
    std::vector<const ReportRun*> ordered;
    for (const ReportRun& run : input.runs)
      if (run.status.is_object() && field(run.status, "started").is_number() &&
          field(run.status, "finished").is_number())
        ordered.push_back(&run);
    std::sort(ordered.begin(), ordered.end(), [](const ReportRun* a, const ReportRun* b) {
      return field(a->status, "started").get<double>() < field(b->status, "started").get<double>();
    });
    for (const ReportRun* run : ordered) {
      const std::string host = value_or(run->status, "host", "?");
      const double start = field(run->status, "started").get<double>() - origin;
      const double end = field(run->status, "finished").get<double>() - origin;
      auto& ends = lane_ends[host];
      std::size_t lane = 0;
      while (lane < ends.size() && ends[lane] > start)
        ++lane;
      if (lane == ends.size()) ends.push_back(end);
      ends[lane] = end;
      const auto colour = host_colour.try_emplace(host, static_cast<int>(host_colour.size()));
      auto [it, inserted] = by_lane.try_emplace({host, lane});
      if (inserted) {
        it->second.name =
            lane == 0 ? "host " + host : fmt::format("host {}, overlapping ({})", host, lane + 1);
        it->second.colour = colour.first->second;
      }
      Series& series = it->second;
      series.x.insert(series.x.end(), {start, end, k_nan});
      series.y.insert(series.y.end(),
                      {static_cast<double>(lane + 1), static_cast<double>(lane + 1), k_nan});
    }
    for (auto& [lane, series] : by_lane)
      panel.series.push_back(std::move(series));
    const json& summary = field(input.manifest, "summary");
    panel.badge = fmt::format("{} runs; {} overlapped another run", ordered.size(),
                              number(field(summary, "overlapping_runs"), 0.0));
    if (panel.series.empty()) panel.empty_reason = "no run has finished yet";
  } else {
    Series series;
    series.name = input.featured_run().id;
    for (const analysis::ConditionData& condition : input.featured_data.conditions) {
      if (condition.steps.rows() == 0 || !condition.steps.has("t_ns")) continue;
      const auto t = condition.steps["t_ns"];
      const auto wall = condition.steps["wall_ns"];
      const double start = t.front() / 1e9;
      const double end = (t.back() + wall.back()) / 1e9;
      series.x.insert(series.x.end(), {start, end, k_nan});
      series.y.insert(series.y.end(), {1.0, 1.0, k_nan});
      panel.spans.push_back({start, end, condition.name});
    }
    panel.series.push_back(std::move(series));
  }
  figure.panels.push_back(std::move(panel));
  figure.caption =
      "Each run as a bar from its start to its end, per host. Runs that overlapped on one host "
      "stack into further lanes: their timings include that contention.";
  figure.provenance = provenance_of(input, all_run_ids(input));
  return figure;
}

Figure priors_against_evidence(const ReportInput& input) {
  Figure figure;
  figure.id = "figure-s2";
  figure.title = "Figure S2. Priors against evidence";
  Panel panel;
  panel.title = "Literature priors beside what the data showed";
  panel.x_label = "hypothesis";
  panel.y_label = "score (0-5)";
  Series prior{"prior (mean of the seed's four scores)", SeriesStyle::bars, {}, {}, {}, {}, 0};
  Series sound{"sound: share of runs supporting x 5", SeriesStyle::bars, {}, {}, {}, {}, 2};
  Series paper{"paper: share of runs significant x 5", SeriesStyle::bars, {}, {}, {}, {}, 5};
  std::size_t runs = 0;
  std::map<std::string, int> supported, significant;
  for (const ReportRun& run : input.runs) {
    ++runs;
    for (const analysis::Hypothesis& h : run.analysis.sound.hypotheses)
      if (is_supported(h.verdict)) ++supported[h.id];
    for (const analysis::PaperHypothesis& h : run.analysis.paper.phase_1a)
      if (h.significant) ++significant[h.id];
  }
  std::size_t i = 0;
  for (const Prior& p : k_priors) {
    const double x = static_cast<double>(i++);
    panel.x_categories.push_back(p.id);
    prior.x.push_back(x - 0.27);
    prior.y.push_back((p.scores[0] + p.scores[1] + p.scores[2] + p.scores[3]) / 4.0);
    sound.x.push_back(x);
    sound.y.push_back(runs > 0 ? 5.0 * supported[p.id] / static_cast<double>(runs) : k_nan);
    paper.x.push_back(x + 0.27);
    paper.y.push_back(runs > 0 ? 5.0 * significant[p.id] / static_cast<double>(runs) : k_nan);
  }
  panel.series = {std::move(prior), std::move(sound), std::move(paper)};
  panel.badge = fmt::format("{} run{} analysed", runs, runs == 1 ? "" : "s");
  figure.panels.push_back(std::move(panel));
  figure.caption =
      "The prior scores the seed assigned from the literature (H2 5/4/5/5, H5 3/4/5/5, H3 "
      "2/4/4/4, H1 1/2/3/2, H4 1/1/2/2; mean shown) beside the share of runs in which the sound "
      "analysis supports each hypothesis and in which the paper's own rule calls it significant "
      "(both scaled to 0-5).";
  figure.provenance = provenance_of(input, all_run_ids(input));
  return figure;
}

std::vector<Figure> build_figures(const ReportInput& input) {
  return {runtime_timeline(input), hypothesis_results(input), optimization_impact(input),
          work_and_cost(input),    study_timeline(input),     priors_against_evidence(input)};
}

}  // namespace nrmlab::report
