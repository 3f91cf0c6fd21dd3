#include "analysis/summary.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "analysis/hypothesis_registry.hpp"

namespace nrmlab::analysis {
namespace {

std::string percent(double share) {
  return std::isfinite(share) ? fmt::format("{:.0f}%", 100 * share) : "n/a";
}

std::string time_line(const TimeDecomposition& t, bool foreign) {
  std::string parts;
  for (const auto& s : t.sections)
    if (s.share >= 0.01)
      parts += fmt::format("{}{} {}", parts.empty() ? "" : ", ", s.section, percent(s.share));
  return fmt::format("time     {} is {} ({}); {} on-CPU, {} off-CPU",
                     t.scope == "run" ? "step time" : t.scope, section_label(t.dominant, foreign),
                     parts, percent(t.cpu_share), percent(t.off_cpu_share));
}

std::string drift_line(const std::vector<Drift>& drift) {
  std::string parts;
  for (const auto& d : drift) {
    std::string part = d.condition + " ";
    if (d.direction == DriftDirection::too_short)
      part += "too short to tell";
    else if (!d.drifts)
      part += "stable";
    else
      part += fmt::format("{} {:+.0f}% over the condition{}", to_string(d.direction),
                          100 * d.relative_change,
                          d.change_points.empty()
                              ? ""
                              : fmt::format(" (level shift at step {})", d.change_points.front()));
    parts += (parts.empty() ? "" : "; ") + part;
  }
  return "drift    " + parts;
}

// What to change: the engine's own overheads when one dominates, then each supported
// hypothesis' advice (for the kind of run), else what would decide.
std::vector<std::string> advice(const SoundAnalysis& s, bool foreign) {
  std::vector<std::string> out;
  if (!foreign && s.run.dominant == "window")
    out.push_back(
        "the blocking sampler dominates: sample once per step or every K steps "
        "(--sampling per-step|every:K) or shorten --window-ms");
  if (!foreign && s.run.dominant == "database")
    out.push_back(
        "persistence dominates: write one transaction per step (--persistence "
        "transaction-per-step) or turn it off");
  for (const auto& h : s.hypotheses) {
    const HypothesisSpec* spec = find_hypothesis(h.id);
    if (!is_supported(h.verdict) || !spec) continue;
    const std::string_view line = foreign ? spec->program_advice : spec->engine_advice;
    if (!line.empty()) out.emplace_back(line);
  }
  bool drifts = false;
  for (const auto& d : s.drift)
    drifts = drifts || d.drifts;
  if (!out.empty()) return out;
  if (!drifts)
    out.emplace_back("nothing to fix: the run does not slow down");
  else if (foreign)
    out.emplace_back(
        "no tested mechanism explains the drift: add key=value work counters to the step "
        "markers, so that growing work can be told from dearer work");
  else
    out.emplace_back(
        "no tested mechanism explains the drift: run a factorial study over the overhead "
        "factors");
  return out;
}

void run_summary(const RunAnalysis& a, std::vector<std::string>& lines) {
  lines.push_back(fmt::format("run {} ({}, {} steps, {:.2f} s, {})", a.id, a.experiment, a.steps,
                              a.wall_seconds, a.outcome));
  const bool foreign = is_foreign(a.step_source);
  if (a.step_source == StepSource::time_windows)
    lines.push_back(
        "steps    the program printed no step marker: fixed windows of wall time stand in for "
        "steps, so drift is per window and no work counter can explain it");
  if (a.has_sound) {
    const SoundAnalysis& s = a.sound;
    lines.push_back(time_line(s.run, foreign));
    lines.push_back(drift_line(s.drift));
    for (const auto& h : s.hypotheses) {
      std::string effect;
      if (is_supported(h.verdict) && std::isfinite(h.effect_size))
        effect = fmt::format(" [{} {:.2f}]", h.effect_label, h.effect_size);
      lines.push_back(fmt::format("{:<8} {}: {}{} -- {}", h.id, h.name, to_string(h.verdict),
                                  effect, h.reason));
    }
    for (const auto& line : advice(s, foreign))
      lines.push_back("change   " + line);
  }
  if (a.has_paper)
    lines.push_back(
        fmt::format("paper    Phase 1A tiers: {} (correlations on trending series; "
                    "see sound mode)",
                    a.paper.tier_ranking));
}

void study_summary(const AnalysisReport& r, std::vector<std::string>& lines) {
  const StudyAnalysis& s = r.study;
  std::size_t drifting = 0;
  std::map<std::string, int> supported;
  for (const auto& a : r.runs) {
    bool drifts = false;
    for (const auto& d : a.sound.drift)
      drifts = drifts || d.drifts;
    drifting += drifts;
    for (const auto& h : a.sound.hypotheses)
      if (is_supported(h.verdict)) ++supported[h.id];
  }
  // Paper mode keeps no per-run sound analysis: there is no drift to count.
  lines.push_back(r.mode == "paper" ? fmt::format("study    {} runs", s.runs)
                                    : fmt::format("study    {} runs; {} drift in at least one "
                                                  "condition",
                                                  s.runs, drifting));
  if (r.mode != "paper") {
    std::string counts;
    for (const auto& [id, n] : supported)
      counts += fmt::format("{}{} in {}/{} runs", counts.empty() ? "" : ", ", id, n, s.runs);
    lines.push_back("evidence " +
                    (counts.empty() ? std::string("no hypothesis supported in any run") : counts));
  }
  // The interventions with the largest effect on mean step time first.
  std::vector<std::pair<double, std::string>> effects;
  for (const auto& f : s.interventions)
    for (const auto& l : f.levels)
      if (l.level != f.baseline && std::isfinite(l.ratio))
        effects.push_back(
            {std::abs(std::log(l.ratio)),
             fmt::format(
                 "{} = {} vs {}: step time x{:.2f}{}", f.factor, l.level, f.baseline, l.ratio,
                 std::isfinite(l.mean_step_ci_low)
                     ? fmt::format(" (difference {:.3g} ms, CI [{:.3g}, {:.3g}])",
                                   l.mean_step_delta_ms, l.mean_step_ci_low, l.mean_step_ci_high)
                     : "")});
  std::sort(effects.rbegin(), effects.rend());
  for (std::size_t i = 0; i < std::min<std::size_t>(5, effects.size()); ++i)
    lines.push_back("effect   " + effects[i].second);
  for (const auto& h : s.hypotheses)
    lines.push_back(
        fmt::format("{:<8} {}: {} -- {}", h.id, h.name, to_string(h.verdict), h.reason));
  if (s.has_phase_1b)
    lines.push_back(fmt::format(
        "paper    Phase 1B: speedup {:.1f}x ({}), variance {}, functional "
        "equivalence {}: {}",
        s.phase_1b.speedup, s.phase_1b.speedup_band,
        s.phase_1b.variance_reduced ? "reduced" : "not reduced",
        s.phase_1b.functionally_equivalent ? "holds" : "not shown", s.phase_1b.verdict));
  std::size_t equivalent = 0;
  for (const auto& e : s.equivalence)
    equivalent += e.equivalent;
  if (!s.equivalence.empty())
    lines.push_back(
        fmt::format("science  {}/{} overhead variants reproduce their reference's results",
                    equivalent, s.equivalence.size()));
}

}  // namespace

// `foreign`: a watched program, whose uninstrumented time is all of its own work (on or
// off the CPU), not the model's computation.
std::string section_label(const std::string& section, bool foreign) {
  static const std::map<std::string, std::string> k_labels = {
      {"window", "the metric sampler's blocking window"},
      {"sampling", "taking metric samples"},
      {"database", "database work"},
      {"recorder", "nrmlab's own telemetry"},
      {"compute", "model compute"}};
  if (foreign && section == "compute") return "the program's own work on and off the CPU";
  if (foreign && section == "recorder") return "nrmlab's own watching";
  const auto it = k_labels.find(section);
  return it == k_labels.end() ? section : it->second;
}

std::vector<std::string> summarise(const AnalysisReport& report) {
  std::vector<std::string> lines;
  if (report.runs.size() == 1 || !report.has_study) {
    for (const auto& a : report.runs)
      run_summary(a, lines);
  } else {
    study_summary(report, lines);
  }
  return lines;
}

}  // namespace nrmlab::analysis
