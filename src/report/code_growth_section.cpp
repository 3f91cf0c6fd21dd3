#include "report/code_growth_section.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>
#include <unordered_map>

#include "analysis/code_profile.hpp"
#include "report/figures.hpp"
#include "report/html.hpp"

namespace nrmlab::report {
namespace {

using telemetry::profile::ProfileData;

std::string growth_number(double value, const char* format = "{:.3g}") {
  return std::isfinite(value) ? fmt::format(fmt::runtime(format), value) : "n/a";
}

std::string growth_percent(double share) {
  return std::isfinite(share) ? fmt::format("{:.0f}%", 100.0 * share) : "n/a";
}

// Seconds per step as milliseconds: a step is usually milliseconds long.
std::string growth_ms(double seconds) {
  return growth_number(1e3 * seconds, "{:.3g} ms");
}

std::vector<analysis::CodeGrowth> growth_of(const analysis::CodeProfile& code,
                                            const std::string& condition) {
  std::vector<analysis::CodeGrowth> out;
  for (const analysis::CodeGrowth& g : code.growth)
    if (g.condition == condition) out.push_back(g);
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.share_of_change > b.share_of_change;
  });
  return out;
}

// The windows the profile's counts span; first > last when it has none.
WindowRange counted_windows(const ProfileData& profile) {
  if (profile.counts.empty()) return {};
  const auto [low, high] = std::minmax_element(
      profile.counts.begin(), profile.counts.end(),
      [](const ProfileData::Count& a, const ProfileData::Count& b) { return a.window < b.window; });
  return {low->window, high->window};
}

double window_seconds(const ProfileData& profile) {
  // The profiler's default window when an old database does not say.
  return profile.window_ns > 0 ? static_cast<double>(profile.window_ns) * 1e-9 : 1.0;
}

Figure share_figure(const ProfileData& profile, const CodeGrowthView& view) {
  Panel panel;
  panel.title = "The top functions' share of each window's sampled time";
  panel.x_label = "time since the start (s)";
  panel.y_label = "% of the window's sampled time";
  panel.series = function_share_series(profile, view.growth);
  const double seconds = window_seconds(profile);
  const analysis::CodeComparison& c = view.comparison;
  const auto span = [&](std::int64_t first, std::int64_t last, const std::string& label) {
    if (first >= 0 && last >= first)
      panel.spans.push_back(
          {static_cast<double>(first) * seconds, static_cast<double>(last + 1) * seconds, label});
  };
  span(c.early_first_window, c.early_last_window, c.early_label);
  span(c.late_first_window, c.late_last_window, c.late_label);
  if (panel.series.empty()) panel.empty_reason = "the analysis names no function that changed";
  Figure figure;
  figure.id = "code-share";
  figure.title = "Share per window";
  figure.panels.push_back(std::move(panel));
  return figure;
}

std::string growth_status_line(const analysis::CodeComparison& c) {
  return fmt::format(
      "<p class=\"note\">Which code got slower: {} {} against {} not compared ({}).</p>",
      escape_html(c.condition), escape_html(c.late_label), escape_html(c.early_label),
      escape_html(c.status));
}

std::string growth_sides_line(const analysis::CodeComparison& c) {
  std::string work =
      "The run reports no work counter, so dearer work cannot be told from more "
      "work.";
  if (!c.work_counter.empty())
    work = fmt::format("Work per step ({}): {} early, {} late.", escape_html(c.work_counter),
                       growth_number(c.work_per_step_early), growth_number(c.work_per_step_late));
  return fmt::format(
      "<p>Condition {}, {}: {} (windows {}-{}, {} steps, {} per step) against {} (windows "
      "{}-{}, {} steps, {} per step). {}{}</p>",
      escape_html(c.condition), escape_html(c.segments), escape_html(c.late_label),
      c.late_first_window, c.late_last_window, growth_number(c.late_steps, "{:.0f}"),
      growth_number(c.step_ms_late, "{:.3g} ms"), escape_html(c.early_label), c.early_first_window,
      c.early_last_window, growth_number(c.early_steps, "{:.0f}"),
      growth_number(c.step_ms_early, "{:.3g} ms"), work,
      c.experiment.empty() ? "" : " " + escape_html(c.experiment));
}

std::string differential_graph_html(const FlameGraph& graph) {
  std::string out =
      "<h3>Differential flame graph: late against early, per step</h3><div "
      "class=\"flame-controls\"><input type=\"search\" id=\"flame-diff-search\" "
      "placeholder=\"search functions\" aria-label=\"search the differential flame graph's "
      "functions\"><button type=\"button\" id=\"flame-diff-reset\">reset zoom</button><span "
      "class=\"flame-legend\"><span class=\"swatch\" style=\"background:rgb(220,0,0)\"></span>"
      "more time per step <span class=\"swatch\" style=\"background:rgb(0,0,220)\"></span>less "
      "<span class=\"swatch\" style=\"background:rgb(255,190,90)\"></span>only late <span "
      "class=\"swatch\" style=\"background:rgb(220,220,220)\"></span>unchanged</span></div>"
      "<div id=\"flame-diff-graph\" class=\"flame\"></div><div id=\"flame-diff-details\" "
      "class=\"flame-details\">&nbsp;</div>";
  out += fmt::format(
      "<p class=\"note\">The late side's stacks, each box as wide as its time per late step "
      "and as red (or blue) as its time per step grew (or shrank) against the early side's, "
      "relative to its late time; off-CPU stacks end in a box naming the wait. A function that "
      "ran only early has no width: its time is in its callers' change. Click a box to zoom; "
      "hover for its time per step on both sides. {}</p>",
      graph.folded_nodes == 0
          ? std::string("Every sampled frame of the late side is drawn.")
          : fmt::format("{} frame{} under {} of the late side's time folded into their callers.",
                        graph.folded_nodes, graph.folded_nodes == 1 ? " is" : "s are",
                        growth_number(100.0 * graph.min_share, "{:.1f}%")));
  return out;
}

std::string growth_table_html(const CodeGrowthView& view) {
  const std::string unit =
      view.comparison.work_counter.empty() ? "per step" : "per " + view.comparison.work_counter;
  std::string out = fmt::format(
      "<h3>The functions whose time changed</h3><table class=\"code-growth\"><tr><th>function"
      "</th><th>module</th><th>wait class</th><th>self time per step, early &rarr; late</th>"
      "<th>share of the change [interval]</th><th>ratio {} [interval]</th><th>change</th></tr>",
      escape_html(unit));
  for (const analysis::CodeGrowth& g : view.growth) {
    const std::string interval =
        g.interval.size() == 2
            ? fmt::format(" [{}, {}]", growth_percent(g.interval[0]), growth_percent(g.interval[1]))
            : "";
    out += fmt::format(
        "<tr><td class=\"mono\">{}</td><td>{}</td><td>{}</td><td class=\"num\">{} &rarr; {}</td>"
        "<td class=\"num\">{}{}</td><td class=\"num\">{} [{}, {}]</td><td>{}</td></tr>",
        escape_html(g.function), escape_html(g.module), escape_html(g.wait_class),
        growth_ms(g.self_per_step_early), growth_ms(g.self_per_step_late),
        growth_percent(g.share_of_change), interval, growth_number(g.per_unit_ratio),
        growth_number(g.per_unit_ratio_ci_low), growth_number(g.per_unit_ratio_ci_high),
        escape_html(to_string(g.change)));
  }
  return out + "</table>";
}

}  // namespace

std::vector<Series> function_share_series(const ProfileData& profile,
                                          const std::vector<analysis::CodeGrowth>& growth,
                                          std::size_t functions) {
  const WindowRange windows = counted_windows(profile);
  const std::size_t keys = std::min(functions, growth.size());
  if (keys == 0 || windows.last < windows.first) return {};
  const auto n = static_cast<std::size_t>(windows.last - windows.first + 1);
  using Key = std::tuple<std::string, std::string, std::string>;  // function, module, wait
  std::map<Key, std::size_t> wanted;
  for (std::size_t k = 0; k < keys; ++k)
    wanted.emplace(Key{growth[k].function, growth[k].module, growth[k].wait_class}, k);
  std::vector<double> total(n, 0.0);
  std::vector<std::vector<double>> self(keys, std::vector<double>(n, 0.0));
  // A stack's place is looked up once, however many windows and waits it has counts in.
  std::unordered_map<std::int64_t, std::pair<std::string, std::string>> places;
  for (const ProfileData::Count& count : profile.counts) {
    const auto at = static_cast<std::size_t>(count.window - windows.first);
    total[at] += static_cast<double>(count.weight_ns);
    auto place = places.find(count.stack);
    if (place == places.end()) {
      const analysis::CodePlace where =
          analysis::place_of(profile, profile.frame_path(count.stack));
      place = places
                  .emplace(count.stack,
                           std::pair{analysis::frame_name(where.function),
                                     where.function ? where.function->module : std::string()})
                  .first;
    }
    const auto key = wanted.find(
        {place->second.first, place->second.second, std::string(to_string(count.wait))});
    if (key != wanted.end()) self[key->second][at] += static_cast<double>(count.weight_ns);
  }
  const double seconds = window_seconds(profile);
  std::vector<Series> out;
  for (std::size_t k = 0; k < keys; ++k) {
    Series series;
    series.name = analysis::short_function(growth[k].function) + " (" + growth[k].wait_class + ")";
    for (std::size_t w = 0; w < n; ++w) {
      series.x.push_back(static_cast<double>(windows.first + static_cast<std::int64_t>(w)) *
                         seconds);
      series.y.push_back(total[w] > 0.0 ? 100.0 * self[k][w] / total[w] : std::nan(""));
    }
    out.push_back(thin(std::move(series)));
  }
  return out;
}

std::optional<CodeGrowthView> featured_code_growth(const analysis::CodeProfile& code,
                                                   const ProfileData& profile) {
  if (code.comparisons.empty() || !profile.sampled()) return std::nullopt;
  const auto compared = std::find_if(code.comparisons.begin(), code.comparisons.end(),
                                     [](const auto& c) { return c.status == "compared"; });
  CodeGrowthView view;
  view.comparison = compared != code.comparisons.end() ? *compared : code.comparisons.front();
  if (compared == code.comparisons.end()) return view;
  view.growth = growth_of(code, view.comparison.condition);
  const analysis::CodeComparison& c = view.comparison;
  const FlameSides sides{{c.early_first_window, c.early_last_window},
                         {c.late_first_window, c.late_last_window},
                         c.early_steps,
                         c.late_steps};
  FlameGraph graph = build_differential_flame_graph(profile, sides);
  if (graph.root.total_ns > 0 && c.early_steps > 0.0 && c.late_steps > 0.0)
    view.graph = std::move(graph);
  view.share = share_figure(profile, view);
  return view;
}

std::string code_growth_html(const std::optional<CodeGrowthView>& view) {
  if (!view) return "";
  const analysis::CodeComparison& c = view->comparison;
  if (c.status != "compared") return growth_status_line(c);
  std::string out = "<h3 id=\"code-growth\">Which code got slower</h3>" + growth_sides_line(c);
  if (view->graph)
    out += differential_graph_html(*view->graph);
  else
    out += "<p>The late side has no sampled time to draw a differential flame graph from.</p>";
  const Panel& panel = view->share.panels.front();
  out += "<h3>The top functions over the run</h3><div class=\"panel\">";
  if (panel.empty_reason.empty())
    out +=
        "<div class=\"chart\" id=\"code-share-0\" data-island=\"code_growth\" "
        "data-panel=\"0\"></div><button class=\"csv\" type=\"button\">CSV of the points "
        "shown</button>";
  else
    out += fmt::format("<div class=\"empty\">{}</div>", escape_html(panel.empty_reason));
  out +=
      "</div><p class=\"note\">Each line is a function's self time in one wait class over all "
      "the time sampled in each profile window; the shaded spans are the two sides "
      "compared.</p>";
  if (!view->growth.empty()) out += growth_table_html(*view);
  return out;
}

nlohmann::json code_growth_island(const std::optional<CodeGrowthView>& view) {
  if (!view || view->comparison.status != "compared") return nullptr;
  return {{"graph", view->graph ? to_json(*view->graph) : nlohmann::json(nullptr)},
          {"share", to_json(view->share)}};
}

}  // namespace nrmlab::report
