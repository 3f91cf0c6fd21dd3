#include "report/code_section.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "report/html.hpp"

namespace nrmlab::report {
namespace {

using telemetry::profile::WaitClass;

std::string code_percent(double share) {
  return std::isfinite(share) ? fmt::format("{:.1f}%", 100.0 * share) : "n/a";
}

std::string code_seconds(double seconds) {
  return std::isfinite(seconds) ? fmt::format("{:.3g}", seconds) : "n/a";
}

// "stack sampling unavailable: <why> -- enable with: <setting>", the line a user acts on.
std::string code_status_line(const std::string& status, const std::string& hint) {
  std::string line = "stack sampling " + status;
  if (!hint.empty()) line += " -- enable with: " + hint;
  return fmt::format("<p class=\"code-status\">{}</p>", escape_html(line));
}

std::string code_waits_table(const analysis::CodeProfile& code) {
  std::string out =
      "<h3>On the CPU and waiting</h3><table class=\"waits\"><tr><th>where the threads "
      "were</th><th>seconds</th><th>share of the sampled time</th></tr>";
  for (const analysis::CodeWait& wait : code.waits) {
    const double width =
        std::isfinite(wait.share) ? std::clamp(100.0 * wait.share, 0.0, 100.0) : 0.0;
    out += fmt::format(
        "<tr><td>{}</td><td class=\"num\">{}</td><td><span class=\"bar\" "
        "style=\"width:{:.1f}%;background:{}\"></span> {}</td></tr>",
        escape_html(wait.wait_class), code_seconds(wait.seconds), width,
        wait_colour(wait.wait_class), code_percent(wait.share));
  }
  return out + "</table>";
}

std::string code_time_table(const analysis::CodeProfile& code) {
  if (code.time.empty())
    return "<p>The analysis names no function: analyse the run again (<code>nrmlab analyze "
           "DIR</code>) with this version to list them.</p>";
  std::string out = fmt::format(
      "<h3>The functions that hold the time</h3><p>The {} largest: the innermost named frame "
      "(the call a thread was blocked in, or the function on the CPU) and the call site in "
      "the program's own code.</p><table class=\"code-time\"><tr><th>#</th><th>function</th>"
      "<th>module</th><th>wait class</th><th>call site</th><th>seconds</th><th>share</th>"
      "<th>s/step</th></tr>",
      code.time.size());
  std::size_t rank = 0;
  for (const analysis::CodeTime& t : code.time) {
    std::string site = escape_html(t.caller);
    if (!t.caller_module.empty())
      site += " <span class=\"muted\">(" + escape_html(t.caller_module) + ")</span>";
    if (!t.site.empty()) site += " <span class=\"muted\">at</span> " + escape_html(t.site);
    out += fmt::format(
        "<tr><td class=\"num\">{}</td><td class=\"mono\">{}</td><td>{}</td><td><span "
        "class=\"swatch\" style=\"background:{}\"></span>{}</td><td class=\"mono\">{}</td><td "
        "class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
        ++rank, escape_html(t.function), escape_html(t.module), wait_colour(t.wait_class),
        escape_html(t.wait_class), site, code_seconds(t.seconds), code_percent(t.share),
        std::isfinite(t.per_step) ? fmt::format("{:.3g}", t.per_step) : "n/a");
  }
  return out + "</table>";
}

std::string flame_graph_html(const FlameGraph& graph) {
  std::string out =
      "<h3>Flame graph of the whole run</h3><div class=\"flame-controls\"><input "
      "type=\"search\" id=\"flame-search\" placeholder=\"search functions\" "
      "aria-label=\"search the flame graph's functions\"><button type=\"button\" "
      "id=\"flame-reset\">reset zoom</button><span class=\"flame-legend\">";
  for (const WaitClass wait : telemetry::profile::k_wait_classes)
    if (graph.root.wait_ns[static_cast<std::size_t>(wait)] > 0)
      out += fmt::format("<span class=\"swatch\" style=\"background:{}\"></span>{} ",
                         wait_colour(wait), escape_html(to_string(wait)));
  out +=
      "</span></div><div id=\"flame-graph\" class=\"flame\"></div><div id=\"flame-details\" "
      "class=\"flame-details\">&nbsp;</div>";
  out += fmt::format(
      "<p class=\"note\">Each box is a function, as wide as the time of the samples whose "
      "stack passes through it (callers below, callees above), coloured by the wait class "
      "that holds most of its time; off-CPU stacks end in a box naming the wait. Click a box "
      "to zoom into it; hover for its module, time and share. {}</p>",
      graph.folded_nodes == 0
          ? std::string("Every sampled frame is drawn.")
          : fmt::format(
                "{} frame{} under {} of the time ({} s, {}) folded into their callers.",
                graph.folded_nodes, graph.folded_nodes == 1 ? " is" : "s are",
                code_percent(graph.min_share),
                code_seconds(static_cast<double>(graph.folded_ns) * 1e-9),
                code_percent(graph.root.total_ns > 0 ? static_cast<double>(graph.folded_ns) /
                                                           static_cast<double>(graph.root.total_ns)
                                                     : 0.0)));
  return out;
}

}  // namespace

std::string_view wait_colour(WaitClass wait) {
  switch (wait) {
    case WaitClass::on_cpu:
      return "#E69F00";
    case WaitClass::run_queue:
      return "#F0E442";
    case WaitClass::sleep:
      return "#56B4E9";
    case WaitClass::disk:
      return "#CC79A7";
    case WaitClass::lock:
      return "#D55E00";
    case WaitClass::network:
      return "#009E73";
    case WaitClass::page_fault:
      return "#0072B2";
    case WaitClass::other:
      break;
  }
  return "#999999";
}

std::string_view wait_colour(std::string_view wait_class) {
  return wait_colour(telemetry::profile::wait_class_named(wait_class).value_or(WaitClass::other));
}

std::optional<FlameGraph> featured_flame_graph(const telemetry::profile::ProfileData& profile) {
  if (!profile.sampled() || profile.total_weight_ns() <= 0) return std::nullopt;
  return build_flame_graph(profile);
}

std::string code_section_html(const analysis::CodeProfile& code,
                              const telemetry::profile::ProfileData& profile,
                              const std::optional<FlameGraph>& graph) {
  // An analysis from before stack sampling says "not recorded" of a run that has samples.
  const bool analysed = code.status != "not recorded" || profile.status == "not recorded";
  const std::string& status = analysed ? code.status : profile.status;
  const std::string& hint = analysed ? code.enable_hint : profile.enable_hint;
  std::string out = "<h2 id=\"code\">Where the time goes in the code</h2>";
  if (status != "sampled") return out + code_status_line(status, hint);
  const double sampled_seconds =
      analysed ? code.sampled_seconds : static_cast<double>(profile.total_weight_ns()) * 1e-9;
  const std::string& off_cpu = analysed ? code.off_cpu : profile.off_cpu;
  const std::string& note = analysed ? code.note : profile.note;
  out += fmt::format(
      "<p class=\"code-status\">stack sampling: {} s of thread time sampled (every thread, on "
      "and off the CPU{}){}.</p>",
      code_seconds(sampled_seconds),
      off_cpu.empty() ? "" : "; off the CPU seen through " + escape_html(off_cpu),
      analysed ? "; the sampler itself used " + code_percent(code.profiler_cpu_share) +
                     " of a CPU over the run"
               : "");
  if (!note.empty()) out += fmt::format("<p class=\"note\">{}</p>", escape_html(note));
  if (analysed)
    out += code_waits_table(code) + code_time_table(code);
  else
    out +=
        "<p>The analysis predates stack sampling: run <code>nrmlab analyze DIR</code> again "
        "for the waits and the functions that hold the time.</p>";
  if (graph)
    out += flame_graph_html(*graph);
  else
    out += "<p>No sampled time to draw a flame graph from.</p>";
  return out;
}

nlohmann::json code_section_island(const std::optional<FlameGraph>& graph) {
  if (!graph) return nullptr;
  nlohmann::json out = to_json(*graph);
  nlohmann::json colours = nlohmann::json::object();
  for (const WaitClass wait : telemetry::profile::k_wait_classes)
    colours[std::string(to_string(wait))] = std::string(wait_colour(wait));
  out["colours"] = std::move(colours);
  return out;
}

}  // namespace nrmlab::report
