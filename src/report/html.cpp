#include "report/html.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <ctime>
#include <optional>

#include "analysis/attribution.hpp"
#include "analysis/step_coverage.hpp"
#include "analysis/summary.hpp"
#include "report/assets.hpp"
#include "report/code_growth_section.hpp"
#include "report/code_section.hpp"
#include "report/json_field.hpp"
#include "report/page_assets.hpp"

namespace nrmlab::report {
namespace {

using nlohmann::json;

std::string num(double x, const char* format = "{:.3g}") {
  return std::isnan(x) ? "n/a" : fmt::format(fmt::runtime(format), x);
}

std::string html_text(std::string_view raw) {
  return escape_html(raw);
}

std::string percent(double x) {
  return std::isnan(x) ? "n/a" : fmt::format("{:.1f}%", 100.0 * x);
}

std::string verdict_span(std::string_view verdict) {
  std::string css(verdict);
  for (char& c : css)
    if (c == ' ') c = '-';
  return fmt::format("<span class=\"badge {}\">{}</span>", escape_html(css), escape_html(verdict));
}

// Rounds to 6 significant digits: the page shows at most that, and it halves the island.
double rounded(double value) {
  if (!std::isfinite(value) || value == 0.0) return value;
  const double magnitude = std::pow(10.0, 5 - std::floor(std::log10(std::abs(value))));
  const double result = std::round(value * magnitude) / magnitude;
  return std::isfinite(result) ? result : value;
}

json numbers(const std::vector<double>& values) {
  json out = json::array();
  for (const double v : values)
    out.push_back(std::isnan(v) ? json(nullptr) : json(rounded(v)));
  return out;
}

// ---- sections --------------------------------------------------------------------------

std::string figure_html(const Figure& figure, std::size_t index) {
  std::string out = fmt::format("<figure id=\"{}\"><h3>{}</h3><div class=\"panels\">",
                                escape_html(figure.id), escape_html(figure.title));
  for (std::size_t p = 0; p < figure.panels.size(); ++p) {
    const Panel& panel = figure.panels[p];
    out += fmt::format("<div class=\"panel\"><h4>{}</h4>", escape_html(panel.title));
    if (!panel.badge.empty())
      out += fmt::format("<p class=\"note\">{}</p>", escape_html(panel.badge));
    if (!panel.empty_reason.empty() || panel.series.empty()) {
      out += fmt::format(
          "<div class=\"empty\">{}</div>",
          escape_html(panel.empty_reason.empty() ? "nothing to draw" : panel.empty_reason));
    } else {
      out += fmt::format(
          "<div class=\"chart\" id=\"{}-{}\" data-figure=\"{}\" data-panel=\"{}\"></div>"
          "<button class=\"csv\" type=\"button\">CSV of the points shown</button>",
          escape_html(figure.id), p, index, p);
    }
    out += "</div>";
  }
  const std::string stem = escape_html(figure.id);
  out += fmt::format(
      "</div><figcaption>{} Static figure: <a href=\"figures/{}.png\">PNG</a> · "
      "<a href=\"figures/{}.svg\">SVG</a> · <a href=\"figures/{}.gp\">gnuplot script</a> · "
      "<a href=\"figures/{}.dat\">data</a>. Drag across a chart to zoom, double-click to reset, "
      "click a legend entry to hide its series.<div class=\"provenance\">",
      escape_html(figure.caption), stem, stem, stem, stem);
  for (const std::string& line : figure.provenance)
    out += escape_html(line) + "<br>";
  out += "</div></figcaption></figure>\n";
  return out;
}

std::string decomposition_table(const analysis::TimeDecomposition& decomposition) {
  std::string out = "<table><tr><th>section</th><th>seconds</th><th>share of wall time</th></tr>";
  for (const analysis::SectionShare& section : decomposition.sections)
    out += fmt::format("<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                       html_text(section.section), num(section.seconds, "{:.4g}"),
                       percent(section.share));
  out += "</table>";
  return out;
}

std::string drift_table(const std::vector<analysis::Drift>& drifts, const std::string& level) {
  std::string out = fmt::format(
      "<table><tr><th>condition</th><th>steps</th><th>median step</th><th>HAC slope "
      "(ns/step)</th><th>{} CI</th><th>p</th><th>Theil-Sen (ns/step)</th><th>Mann-Kendall "
      "p</th><th>late / early</th><th>change points (step)</th><th>verdict</th></tr>",
      level);
  for (const analysis::Drift& d : drifts) {
    std::string points;
    for (const std::int64_t step : d.change_points)
      points += (points.empty() ? "" : ", ") + num(static_cast<double>(step), "{:.0f}");
    out += fmt::format(
        "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{} ms</td><td "
        "class=\"num\">{}</td><td class=\"num\">[{}, {}]</td><td class=\"num\">{}</td><td "
        "class=\"num\">{}</td><td class=\"num\">{}</td><td "
        "class=\"num\">{}</td><td>{}</td><td>{}</td></tr>",
        html_text(d.condition), num(static_cast<double>(d.steps), "{:.0f}"),
        num(d.median_step_ms, "{:.4g}"), num(d.hac_slope_ns_per_step), num(d.hac_ci_low),
        num(d.hac_ci_high), num(d.hac_p, "{:.2g}"), num(d.theil_sen_slope_ns_per_step),
        num(d.mann_kendall_p, "{:.2g}"),
        html_text(analysis::format_ratio(analysis::level_ratio(d))),
        points.empty() ? "none" : points, html_text(to_string(d.direction)));
  }
  out += "</table>";
  return out;
}

// One row of the attribution table: a condition's comparison (or one of its change points').
std::string attribution_row(const analysis::Attribution& a, const std::string& what) {
  const analysis::SectionChange* step = analysis::find_section(a, "step");
  if (!step) return "";
  const auto part = [](const analysis::ChangePart& c) {
    return fmt::format("{} [{}, {}]", num(c.ms), num(c.ci_low), num(c.ci_high));
  };
  return fmt::format(
      "<tr><td>{}</td><td>{}</td><td class=\"num\">{}-{} / {}-{}</td><td class=\"num\">{} "
      "[{}, {}]</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td "
      "class=\"num\">{} [{}, {}]</td><td>{}</td></tr>",
      html_text(a.condition), html_text(what), a.early_first_step, a.early_last_step,
      a.late_first_step, a.late_last_step, html_text(analysis::format_ratio(a.ratio)),
      num(a.ratio_ci_low), num(a.ratio_ci_high), part(step->more_work), part(step->dearer),
      percent(a.work_share), percent(a.work_share_ci_low), percent(a.work_share_ci_high),
      a.unidentified.empty() ? "" : html_text(fmt::format("{}", fmt::join(a.unidentified, ", "))));
}

// Where each condition's change went (attribution.hpp): more work against the same work
// costing more, for the condition's segments and across each change point.
std::string attribution_table(const std::vector<analysis::Attribution>& attributions,
                              const std::string& level) {
  std::string rows;
  for (const analysis::Attribution& a : attributions) {
    rows += attribution_row(a, a.segments);
    for (const analysis::Attribution& point : a.change_points)
      rows += attribution_row(point, fmt::format("change point at step {}", point.late_first_step));
  }
  if (rows.empty()) return "<p>No condition is long enough to compare its start with its end.</p>";
  return fmt::format(
      "<p>Each condition's step time, early against late: the change in work priced at unit "
      "costs estimated from step-to-step moves (more work), and the rest (the same work "
      "costing more), in ms per step with {} intervals from a block bootstrap. Work that "
      "grows but varies too little from step to step to be priced is listed as not "
      "separable.</p><table><tr><th>condition</th><th>compared</th><th>steps (early / "
      "late)</th><th>late / early</th><th>more work (ms)</th><th>same work costing more "
      "(ms)</th><th>share that is more work</th><th>not separable</th></tr>{}</table>",
      level, rows);
}

std::string hypotheses_html(const std::vector<analysis::Hypothesis>& hypotheses,
                            const std::string& level) {
  std::string out;
  for (const analysis::Hypothesis& h : hypotheses) {
    out += fmt::format("<h3>{} {} {}</h3><p>{}</p>", html_text(h.id), html_text(h.name),
                       verdict_span(to_string(h.verdict)), html_text(h.reason));
    out += fmt::format("<p class=\"note\">{}: {} ({} interval [{}, {}])</p>",
                       html_text(h.effect_label), num(h.effect_size), level, num(h.ci_low),
                       num(h.ci_high));
    if (h.evidence.empty()) continue;
    out += "<table><tr><th>evidence</th><th>value</th><th>p</th><th>note</th></tr>";
    for (const analysis::Evidence& e : h.evidence)
      out += fmt::format(
          "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
          html_text(e.what), num(e.value), num(e.p, "{:.2g}"), html_text(e.note));
    out += "</table>";
  }
  return out;
}

std::string interactions_html(const std::vector<analysis::Interaction>& interactions,
                              const std::string& level) {
  if (interactions.empty()) return "";
  std::string out = fmt::format(
      "<h3>Interactions</h3><table><tr><th>factors</th><th>interaction on mean step "
      "time</th><th>{} CI</th></tr>",
      level);
  for (const analysis::Interaction& i : interactions)
    out += fmt::format(
        "<tr><td>{} × {}</td><td class=\"num\">{} ms</td><td class=\"num\">[{}, "
        "{}]</td></tr>",
        html_text(i.factor_a), html_text(i.factor_b), num(i.mean_step_interaction_ms),
        num(i.ci_low), num(i.ci_high));
  return out + "</table>";
}

std::string interventions_html(const ReportInput& input) {
  const analysis::StudyAnalysis& study = input.analysis.study;
  const std::string level = input.interval_label();
  if (!input.is_study || !input.analysis.has_study || study.interventions.empty())
    return "<p>A single run has no interventions: run a study (<code>nrmlab study</code>) to vary "
           "a factor and measure its effect.</p>";
  std::string out = fmt::format(
      "<table><tr><th>factor</th><th>level</th><th>runs</th><th>mean step</th><th>ratio to "
      "baseline</th><th>difference ({} CI)</th><th>drift</th><th>drift difference ({} "
      "CI)</th></tr>",
      level, level);
  for (const analysis::FactorEffect& factor : study.interventions) {
    std::string aliases;
    for (const std::string& alias : factor.aliases)
      aliases += (aliases.empty() ? " (with " : ", ") + escape_html(alias);
    if (!aliases.empty()) aliases += ")";
    for (const analysis::LevelEffect& l : factor.levels) {
      const bool baseline = l.level == factor.baseline;
      out += fmt::format(
          "<tr><td>{}{}</td><td>{}{}</td><td class=\"num\">{}</td><td class=\"num\">{} ms</td><td "
          "class=\"num\">×{}</td><td class=\"num\">{} ms [{}, {}]</td><td class=\"num\">{}</td><td "
          "class=\"num\">{} [{}, {}]</td></tr>",
          html_text(factor.factor), aliases, html_text(l.level), baseline ? " (baseline)" : "",
          num(static_cast<double>(l.runs), "{:.0f}"), num(l.mean_step_ms, "{:.4g}"), num(l.ratio),
          num(l.mean_step_delta_ms), num(l.mean_step_ci_low), num(l.mean_step_ci_high),
          percent(l.drift), percent(l.drift_delta), percent(l.drift_ci_low),
          percent(l.drift_ci_high));
    }
  }
  out += "</table>";
  out += interactions_html(study.interactions, level);
  std::size_t equivalent = 0;
  for (const analysis::EquivalenceCheck& check : study.equivalence)
    if (check.equivalent) ++equivalent;
  out += fmt::format(
      "<p>Functional equivalence: {} of {} overhead variants reproduce their "
      "reference run's science.</p>",
      equivalent, study.equivalence.size());
  if (!study.hypotheses.empty())
    out += "<h3>Study-level verdicts</h3>" + hypotheses_html(study.hypotheses, level);
  return out;
}

std::string paper_table(const ReportRun& run, const analysis::PaperAnalysis& paper) {
  std::string out;
  out +=
      "<table><tr><th>hypothesis</th><th>paper test</th><th>paper rule</th><th>score</th>"
      "<th>tier</th><th>paper verdict</th><th>sound verdict</th></tr>";
  for (const analysis::PaperHypothesis& h : paper.phase_1a) {
    std::string sound = "n/a";
    for (const analysis::Hypothesis& s : run.analysis.sound.hypotheses)
      if (s.id == h.id) sound = verdict_span(to_string(s.verdict));
    out += fmt::format(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td>"
        "<td>{}</td><td>{}</td></tr>",
        html_text(h.id), html_text(h.test), html_text(h.rule), num(h.score), html_text(h.tier),
        html_text(h.verdict), sound);
  }
  out += "</table>";
  if (paper.has_variance)
    out += fmt::format("<p>V = {}%, A = {}%/h against E = {} h. {}</p>",
                       num(paper.variance.variance_percent),
                       num(paper.variance.acceleration_percent_per_hour),
                       num(paper.variance.expected_hours), html_text(paper.variance.note));
  return out;
}

std::string known_flaws() {
  std::string out;
  out += R"(<h3>The study's known flaws</h3><ul class="flaws">
<li>The headline "+73% runtime variance, acceleration +2.5%/h to +3.6%/h" is a unit error: macOS
<code>ps</code> prints CPU time as minutes:seconds and it was read as hours:minutes. Read
correctly, CPU time grew linearly with wall time: no acceleration, and the process spent about
96% of its wall time off-CPU.</li>
<li>The "expected 20.1 h" baseline was the elapsed time of a different, unfinished run; V = (T - E)/E
and A = V/E grow linearly in T by construction.</li>
<li>The telemetry the analysis needs was never recorded, the analysis never ran, and the figures
were mock-ups with hard-coded p-values. C256 never finished.</li>
<li>The real costs were in the code: a 100 ms blocking sample on every metric call and a SQLite
connection opened, committed and closed for every row and every pair of agents; dead children
kept being evolved; the cluster table was never cleared.</li>
<li>Paper-mode tests correlate runtime with counters across condition boundaries and with no
control for time: they find trends, not causes. The sound verdicts detrend, control for the
work done, and decide with interventions.</li></ul>)";
  return out;
}

std::string paper_html(const ReportInput& input) {
  const ReportRun& run = input.featured_run();
  // Paper mode is the seed study's analysis of the NRM engine: a watched program has none.
  if (analysis::is_foreign(run.analysis.step_source) && !run.analysis.has_paper)
    return fmt::format(
        "<p>Paper mode is the seed study's own analysis of the NRM engine's C256 runs; it does "
        "not apply to run {}, a watched program.</p>",
        escape_html(run.id));
  std::string out;
  if (!run.analysis.has_paper) {
    out +=
        "<p>Paper mode did not run for this analysis: run <code>nrmlab analyze DIR --mode "
        "all</code>, then <code>nrmlab report DIR</code>, to see the seed's Phase 1A beside "
        "the sound verdicts.</p>";
  } else {
    out += fmt::format(
        "<p>Run {}: the seed's Phase 1A exactly as specified, beside the sound "
        "verdicts.</p>",
        escape_html(run.id));
    out += paper_table(run, run.analysis.paper);
  }
  out += known_flaws();
  return out;
}

std::string provenance_html(const ReportInput& input) {
  const ReportRun& run = input.featured_run();
  std::string out = "<table>";
  const auto row = [&](const std::string& key, const std::string& value) {
    out += fmt::format("<tr><th>{}</th><td class=\"mono\">{}</td></tr>", escape_html(key),
                       escape_html(value));
  };
  row("directory", input.dir.string());
  row("report made by", fmt::format("nrmlab {} (commit {})", input.analysis.nrmlab_version,
                                    input.analysis.nrmlab_commit));
  row("analysis mode", input.analysis.mode);
  if (input.is_study) {
    const json& study = field(input.manifest, "study");
    row("study file", value_or(study, "file", "") + " (hash " + value_or(study, "hash", "") + ")");
    row("seed / order seed", fmt::format("{} / {}", value_or(study, "seed", std::uint64_t{0}),
                                         value_or(study, "order_seed", std::uint64_t{0})));
    row("runs", fmt::format("{}", input.runs.size()));
  }
  row("featured run", run.id);
  for (const json& entry : field(input.manifest, "runs"))
    if (value_or(entry, "id", "") == run.id && field(entry, "arguments").is_array()) {
      std::string command = "nrmlab run";
      for (const json& argument : field(entry, "arguments"))
        command.append(" ").append(argument.is_string() ? argument.get<std::string>()
                                                        : argument.dump());
      row("its command", command);
    }
  // Sorted by key (json, not ordered_json): the table is looked up, not read in order.
  const json provenance(run.analysis.provenance);
  if (provenance.is_object())
    for (const auto& [key, value] : provenance.items())
      row(key, value.is_string() ? value.get<std::string>() : value.dump());
  out += "</table>";
  return out;
}

// What the page carries as data: every figure (as drawn), the analysis of the study and of
// the featured run in full, and a compact line per run.
json island(const ReportInput& input, const std::vector<Figure>& figures,
            const std::optional<FlameGraph>& flame_graph,
            const std::optional<CodeGrowthView>& code_growth) {
  json out;
  out["schema"] = "nrmlab.report/1";
  out["palette"] = json::array();
  for (const char* colour : k_palette)
    out["palette"].push_back(colour);
  out["name"] = input.name;
  out["description"] = input.description;
  out["summary"] = input.analysis.summary;
  out["thresholds"] = json(analysis::to_json(input.analysis.thresholds));
  out["study"] =
      input.analysis.has_study ? json(analysis::to_json(input.analysis.study)) : json(nullptr);
  out["featured_run"] = json(analysis::to_json(input.featured_run().analysis));
  out["runs"] = json::array();
  for (const ReportRun& run : input.runs) {
    json verdicts = json::object();
    for (const analysis::Hypothesis& h : run.analysis.sound.hypotheses)
      verdicts[h.id] = to_string(h.verdict);
    json drift = json::array();
    for (const analysis::Drift& d : run.analysis.sound.drift)
      drift.push_back({{"condition", d.condition},
                       {"median_step_ms", d.median_step_ms},
                       {"relative_change", d.relative_change},
                       {"ratio", analysis::level_ratio(d)},
                       {"direction", to_string(d.direction)}});
    out["runs"].push_back({{"id", run.id},
                           {"levels", run.levels},
                           {"status", run.status},
                           {"complete", run.analysis.complete},
                           {"wall_seconds", run.analysis.wall_seconds},
                           {"verdicts", verdicts},
                           {"drift", drift}});
  }
  out["figures"] = json::array();
  for (const Figure& figure : figures)
    out["figures"].push_back(to_json(figure));
  out["flame_graph"] = code_section_island(flame_graph);
  out["code_growth"] = code_growth_island(code_growth);
  return out;
}

}  // namespace

std::string escape_html(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (const char c : raw) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string json_for_script(const json& value) {
  const std::string dumped = value.dump(-1, ' ', false, json::error_handler_t::replace);
  std::string out;
  out.reserve(dumped.size());
  // '<', '>' and '&' only occur inside JSON strings, where \u escapes mean the same.
  for (const char c : dumped) {
    switch (c) {
      case '<':
        out += "\\u003c";
        break;
      case '>':
        out += "\\u003e";
        break;
      case '&':
        out += "\\u0026";
        break;
      default:
        out += c;
    }
  }
  return out;
}

json to_json(const Figure& figure) {
  json panels = json::array();
  for (const Panel& panel : figure.panels) {
    json series = json::array();
    for (const Series& s : panel.series) {
      json entry = {{"name", s.name},
                    {"style", style_name(s.style)},
                    {"colour", s.colour},
                    {"x", numbers(s.x)},
                    {"y", numbers(s.y)}};
      if (!s.y_low.empty()) entry["y_low"] = numbers(s.y_low);
      if (!s.y_high.empty()) entry["y_high"] = numbers(s.y_high);
      series.push_back(std::move(entry));
    }
    json spans = json::array();
    for (const Span& span : panel.spans)
      spans.push_back({{"x_begin", rounded(span.x_begin)},
                       {"x_end", rounded(span.x_end)},
                       {"label", span.label}});
    panels.push_back({{"title", panel.title},
                      {"x_label", panel.x_label},
                      {"y_label", panel.y_label},
                      {"log_y", panel.log_y},
                      {"x_categories", panel.x_categories},
                      {"badge", panel.badge},
                      {"empty_reason", panel.empty_reason},
                      {"spans", spans},
                      {"series", series}});
  }
  return {{"id", figure.id},
          {"title", figure.title},
          {"caption", figure.caption},
          {"provenance", figure.provenance},
          {"panels", panels}};
}

namespace {

// The study's largest effect whose interval excludes zero, and its study-level verdicts.
void study_verdict(const ReportInput& input, std::vector<std::string>& lines) {
  const std::string level = input.interval_label();
  std::string best;
  double largest = 0.0;
  for (const analysis::FactorEffect& factor : input.analysis.study.interventions)
    for (const analysis::LevelEffect& l : factor.levels) {
      const double ratio = l.ratio;
      if (std::isnan(ratio) || !(l.mean_step_ci_low > 0 || l.mean_step_ci_high < 0)) continue;
      const double size = std::abs(std::log(ratio));
      if (size > largest) {
        largest = size;
        best = fmt::format(
            "{} = {} changes mean step time ×{:.3g} against {} (difference {} ms, "
            "{} CI [{}, {}])",
            factor.factor, l.level, ratio, factor.baseline, num(l.mean_step_delta_ms), level,
            num(l.mean_step_ci_low), num(l.mean_step_ci_high));
      }
    }
  lines.push_back(best.empty() ? fmt::format("No factor of this study changes step time beyond "
                                             "its {} interval.",
                                             level)
                               : "The largest cause of step time in this study: " + best + ".");
  for (const analysis::Hypothesis& h : input.analysis.study.hypotheses)
    lines.push_back(fmt::format("{} ({}) is {} at study level: {}.", h.id, h.name,
                                to_string(h.verdict), h.reason));
}

void drift_verdict(const ReportRun& run, std::vector<std::string>& lines) {
  std::string drifting;
  std::size_t judged = 0;
  for (const analysis::Drift& d : run.analysis.sound.drift) {
    if (!std::isnan(d.hac_p)) ++judged;
    if (is_change(d.direction))
      drifting += fmt::format("{}{} ({})", drifting.empty() ? "" : ", ", d.condition,
                              analysis::describe_drift(d));
  }
  if (!drifting.empty())
    lines.push_back(fmt::format("Step time of run {} drifts in {}.", run.id, drifting));
  else if (judged == 0)
    lines.push_back(fmt::format("No condition of run {} is long enough to judge drift.", run.id));
  else
    lines.push_back(fmt::format("Step time of run {} does not drift in any condition.", run.id));
}

std::string page_head(const std::string& name) {
  std::string page;
  page.reserve(1 << 20);
  page += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">";
  page += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">";
  // No network: the page may load nothing but itself (the CSV export makes blob: URLs).
  page +=
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
      "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:\">";
  page += fmt::format("<title>nrmlab report: {}</title>", escape_html(name));
  page += "<style>";
  page += k_uplot_css;
  page += k_report_css;
  page += "</style></head><body>\n";
  return page;
}

}  // namespace

std::vector<std::string> plain_verdict(const ReportInput& input) {
  std::vector<std::string> lines;
  const ReportRun& run = input.featured_run();
  if (input.is_study) study_verdict(input, lines);
  if (run.analysis.step_source == analysis::StepSource::time_windows)
    lines.push_back(
        fmt::format("Run {} printed no step marker: fixed windows of wall time stand "
                    "in for its steps, and a window cannot get slower, so slowdown per "
                    "step is not judged (mark each step: {}).",
                    run.id, analysis::marker_example(run.analysis.program)));
  if (const analysis::StepCoverage& c = run.analysis.coverage; c.share < 0.5)
    lines.push_back(
        fmt::format("Warning: the steps of run {} cover only {:.1f}% of the program's {:.3g} s "
                    "(after the last marker: {:.3g} s); the analysis sees only that part.",
                    run.id, 100 * c.share, c.program_seconds, c.tail_seconds));
  if (!run.analysis.has_sound) {
    lines.push_back(
        fmt::format("Run {} has no sound analysis (it was analysed in paper mode "
                    "only): run `nrmlab analyze DIR --mode all` for the verdicts.",
                    run.id));
    return lines;
  }
  const analysis::TimeDecomposition& decomposition = run.analysis.sound.run;
  lines.push_back(
      fmt::format("In run {}, {} takes the largest share of wall time ({}); the "
                  "process is on the CPU {} of the time.",
                  run.id,
                  analysis::is_foreign(run.analysis.step_source)
                      ? analysis::section_label(decomposition.dominant, true)
                      : decomposition.dominant,
                  decomposition.sections.empty() ? std::string("n/a")
                                                 : percent(decomposition.sections.front().share),
                  percent(decomposition.cpu_share)));
  drift_verdict(run, lines);
  std::string supported;
  for (const analysis::Hypothesis& h : run.analysis.sound.hypotheses)
    if (is_supported(h.verdict))
      supported += fmt::format("{}{} ({})", supported.empty() ? "" : "; ", h.id, h.reason);
  lines.push_back(supported.empty() ? "No hypothesis is supported by this run's evidence."
                                    : "Supported by this run's evidence: " + supported + ".");
  return lines;
}

std::string render_html(const ReportInput& input, const std::vector<Figure>& figures) {
  const ReportRun& run = input.featured_run();
  const analysis::SoundAnalysis& sound = run.analysis.sound;
  const std::string level = input.interval_label();
  const std::optional<FlameGraph> flame_graph = featured_flame_graph(input.featured_profile);
  const std::optional<CodeGrowthView> code_growth =
      featured_code_growth(run.analysis.code, input.featured_profile);
  std::string page = page_head(input.name);

  page += fmt::format("<h1>nrmlab report: {}</h1>", escape_html(input.name));
  page += fmt::format("<p class=\"lede\">{}{} {} · {} run{} · featured run {}</p>",
                      escape_html(input.description), input.description.empty() ? "" : " ·",
                      input.is_study ? "study" : "single run", input.runs.size(),
                      input.runs.size() == 1 ? "" : "s", escape_html(run.id));
  page +=
      "<nav><a href=\"#verdict\">Verdict</a><a href=\"#time\">Where the time goes</a>"
      "<a href=\"#code\">In the code</a>"
      "<a href=\"#drift\">Drift</a><a href=\"#attribution\">Attribution</a>"
      "<a href=\"#hypotheses\">Hypotheses</a>"
      "<a href=\"#interventions\">Interventions</a><a href=\"#work\">Work and cost</a>"
      "<a href=\"#paper\">Paper mode</a><a href=\"#study\">Study</a>"
      "<a href=\"#provenance\">Provenance</a></nav>\n";

  page += "<h2 id=\"verdict\">The verdict</h2><div class=\"verdict\"><ul>";
  for (const std::string& line : plain_verdict(input))
    page += "<li>" + escape_html(line) + "</li>";
  page += "</ul></div>";
  page += "<details><summary>The ten-second summary</summary><pre>";
  for (const std::string& line : input.analysis.summary)
    page += escape_html(line) + "\n";
  page += "</pre></details>";

  page += fmt::format("<h2 id=\"time\">What dominates step time</h2><p>Run {}, all conditions:</p>",
                      escape_html(run.id));
  page += decomposition_table(sound.run);
  page += code_section_html(run.analysis.code, input.featured_profile, flame_graph);
  page += code_growth_html(code_growth);
  page += "<h2 id=\"drift\">Drift per condition</h2>" + drift_table(sound.drift, level);
  page += figure_html(figures.at(0), 0);
  page += "<h2 id=\"attribution\">Where the change went</h2>" +
          attribution_table(sound.attribution, level);
  page += "<h2 id=\"hypotheses\">Hypotheses</h2>" + hypotheses_html(sound.hypotheses, level);
  page += figure_html(figures.at(1), 1);
  page += "<h2 id=\"interventions\">Interventions</h2>" + interventions_html(input);
  page += figure_html(figures.at(2), 2);
  page += "<h2 id=\"work\">Work and cost</h2>";
  page += figure_html(figures.at(3), 3);
  page += "<h2 id=\"paper\">Paper mode beside sound mode</h2>" + paper_html(input);
  page += "<h2 id=\"study\">The study</h2>";
  page += figure_html(figures.at(4), 4);
  page += figure_html(figures.at(5), 5);
  page += "<h2 id=\"provenance\">Provenance</h2>" + provenance_html(input);
  page +=
      "<p class=\"provenance\">Full data of the featured run (every telemetry table as "
      "CSV): <a href=\"figures/data/steps.csv\">steps</a> · <a "
      "href=\"figures/data/memory.csv\">memory</a> · <a "
      "href=\"figures/data/system.csv\">system</a>. This page's own data (figures, "
      "analyses) is the JSON in the element <code>#nrmlab-data</code>.</p>";

  page += "\n<script type=\"application/json\" id=\"nrmlab-data\">";
  page += json_for_script(island(input, figures, flame_graph, code_growth));
  page += "</script>\n<script>";
  page += k_uplot_js;
  // d3 and d3-flame-graph (about 140 KB) only when there is a graph to draw.
  if (flame_graph || (code_growth && code_growth->graph)) {
    page += "</script>\n<script>";
    page += k_flame_graph_js;
  }
  page += "</script>\n<script>";
  page += k_report_js;
  page += "</script>\n</body></html>\n";
  return page;
}

}  // namespace nrmlab::report
