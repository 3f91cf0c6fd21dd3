#include "analysis/summary.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <boost/math/distributions/binomial.hpp>
#include <cmath>
#include <map>

#include "analysis/attribution.hpp"
#include "analysis/code_growth.hpp"
#include "analysis/code_profile.hpp"
#include "analysis/hypothesis_registry.hpp"
#include "analysis/sound_mode.hpp"
#include "analysis/step_coverage.hpp"

namespace nrmlab::analysis {
namespace {

// P(X >= count) for X ~ Binomial(runs, rate).
double chance_count_p(std::size_t count, std::size_t runs, double rate) {
  if (count == 0 || runs == 0) return 1.0;
  return boost::math::cdf(boost::math::complement(
      boost::math::binomial(static_cast<double>(runs), rate), static_cast<double>(count) - 1));
}

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
  for (const auto& d : drift)
    parts += (parts.empty() ? "" : "; ") + d.condition + " " + describe_drift(d);
  return "drift    " + parts;
}

// Where a changed condition's change went: more work against the same work costing more,
// and the section whose cost grew most.
std::vector<std::string> attribution_lines(const SoundAnalysis& s, bool foreign) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < s.attribution.size() && i < s.drift.size(); ++i) {
    const Attribution& a = s.attribution[i];
    const SectionChange* step = find_section(a, "step");
    if (!is_change(s.drift[i].direction) || !step || !std::isfinite(step->change.ms)) continue;
    const SectionChange* dearest = nullptr;
    for (const SectionChange& section : a.sections)
      if (section.section != "step" && (!dearest || section.dearer.ms > dearest->dearer.ms))
        dearest = &section;
    std::string where;
    if (dearest && dearest->dearer.ms > 0)
      where = fmt::format("; dearest: {} {:+.3g} ms", section_label(dearest->section, foreign),
                          dearest->dearer.ms);
    out.push_back(fmt::format(
        "why      {} {} -> {} ms per step ({}): more work {:+.3g} ms, the same work costing "
        "more {:+.3g} ms [{:.3g}, {:.3g}]{}{}",
        a.condition, fmt::format("{:.3g}", step->early_ms), fmt::format("{:.3g}", step->late_ms),
        format_ratio(a.ratio), step->more_work.ms, step->dearer.ms, step->dearer.ci_low,
        step->dearer.ci_high, where,
        a.unidentified.empty()
            ? ""
            : fmt::format("; not separable: {}", fmt::join(a.unidentified, ", "))));
  }
  return out;
}

// What to change: the engine's own overheads when one dominates, then each supported
// hypothesis' advice (for the kind of run), else what would decide.
std::vector<std::string> advice(const SoundAnalysis& s, bool foreign, std::string_view program) {
  std::vector<std::string> out;
  if (std::any_of(s.drift.begin(), s.drift.end(),
                  [](const Drift& d) { return d.direction == DriftDirection::no_steps; }))
    out.push_back(fmt::format(
        "mark the end of each step to judge its slowdown, e.g. {} (or --step-regex for a line "
        "the program already prints once a step)",
        marker_example(program)));
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
  for (const auto& h : s.hypotheses)
    if (h.verdict == Verdict::not_identifiable && !h.experiment.empty())
      out.push_back(fmt::format("to tell whether {} holds: {}", h.id, h.experiment));
  bool drifts = false;
  for (const auto& d : s.drift)
    drifts = drifts || is_change(d.direction);
  const bool judged = std::all_of(s.drift.begin(), s.drift.end(), [](const Drift& d) {
    return d.direction != DriftDirection::too_short;
  });
  if (!drifts && !judged)
    out.push_back(fmt::format(
        "too few steps to tell whether the run slows down: a trend needs at least {} steps "
        "in a condition",
        k_min_drift_steps));
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

std::string seconds(double s) {
  return fmt::format("{:.3g} s", s);
}

// What the program's steps let the analysis see: nothing per step without markers (then the
// per-window proxies), or only part of its time (the start-up before the first marker's
// step ends, the tail after the last).
std::vector<std::string> step_lines(const RunAnalysis& a) {
  std::vector<std::string> out;
  if (a.step_source == StepSource::time_windows) {
    out.emplace_back(
        "steps    no step marker came: fixed windows of wall time stand in for steps, and a "
        "window cannot get slower, so slowdown per step cannot be judged");
    std::string seen;
    for (const WindowProxy& p : a.proxies)
      seen += fmt::format("{}{} {:.3g} -> {:.3g} ({}, trend p = {:.2g})", seen.empty() ? "" : "; ",
                          p.what, p.first_quarter, p.last_quarter, format_ratio(p.ratio), p.p);
    if (!seen.empty()) out.push_back("seen     per window, first quarter -> last: " + seen);
    return out;
  }
  const StepCoverage& c = a.coverage;
  if (!std::isfinite(c.startup_seconds) && !(c.share < 0.9)) return out;
  std::string left_out;
  if (std::isfinite(c.startup_seconds))
    left_out = fmt::format(
        "the first marker's step ({}: it began at the start, so it holds the "
        "start-up)",
        seconds(c.startup_seconds));
  if (c.tail_seconds > 0)
    left_out += fmt::format("{}after the last marker {}", left_out.empty() ? "" : ", ",
                            seconds(c.tail_seconds));
  const bool small = c.share < 0.5;
  const std::string of_program =
      std::isfinite(c.share)
          ? fmt::format(" of the program's {} ({})", seconds(c.program_seconds), percent(c.share))
          : std::string();
  out.push_back(fmt::format("steps    {}the analysed steps cover {}{}{}{}",
                            small ? "warning: " : "", seconds(c.steps_seconds), of_program,
                            left_out.empty() ? "" : "; left out: " + left_out,
                            small ? ": the analysis sees only that part" : ""));
  return out;
}

void run_summary(const RunAnalysis& a, std::vector<std::string>& lines) {
  lines.push_back(fmt::format("run {} ({}, {} steps, {:.2f} s, {})", a.id, a.experiment, a.steps,
                              a.wall_seconds, a.outcome));
  const bool foreign = is_foreign(a.step_source);
  for (auto& line : step_lines(a))
    lines.push_back(std::move(line));
  if (a.steps_without_time > 0)
    lines.push_back(
        fmt::format("note     {} step rows have no wall time (NULL wall_ns) and are "
                    "left out of the analysis",
                    a.steps_without_time));
  if (a.has_sound) {
    const SoundAnalysis& s = a.sound;
    lines.push_back(time_line(s.run, foreign));
    if (const std::string code = code_line(a.code); !code.empty())
      lines.push_back("code     " + code);
    else if (a.code.status.rfind("unavailable", 0) == 0)
      lines.push_back(
          fmt::format("code     no stack samples: {}{}", a.code.status,
                      a.code.enable_hint.empty() ? "" : " -- enable: " + a.code.enable_hint));
    lines.push_back(drift_line(s.drift));
    for (auto& line : attribution_lines(s, foreign))
      lines.push_back(std::move(line));
    std::vector<std::string> slower;
    for (const Drift& d : s.drift)
      if (d.direction == DriftDirection::slower) slower.push_back(d.condition);
    if (const std::string growth = growth_line(a.code, slower); !growth.empty())
      lines.push_back("growth   " + growth);
    for (const auto& h : s.hypotheses) {
      std::string effect;
      if (is_supported(h.verdict) && std::isfinite(h.effect_size))
        effect = fmt::format(" [{} {:.2f}]", h.effect_label, h.effect_size);
      lines.push_back(fmt::format("{:<8} {}: {}{} -- {}", h.id, h.name, to_string(h.verdict),
                                  effect, h.reason));
    }
    for (const auto& line : advice(s, foreign, a.program))
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
      drifts = drifts || is_change(d.direction);
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
    // A study-level finding needs more supporting runs than chance gives: each run's
    // family-wise false-support rate is at most alpha, so a count whose binomial upper tail
    // at alpha is not below alpha reads "as by chance", not as a finding.
    std::string counts;
    for (const auto& [id, n] : supported) {
      // Only a tested cause has a per-run false-support rate; the observer is a measurement.
      const HypothesisSpec* spec = find_hypothesis(id);
      const bool by_chance = spec && spec->names_cause &&
                             !(chance_count_p(n, s.runs, r.thresholds.alpha) < r.thresholds.alpha);
      counts += fmt::format("{}{} in {}/{} runs{}", counts.empty() ? "" : ", ", id, n, s.runs,
                            by_chance ? " (as many as chance gives: not a finding)" : "");
    }
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
  if (s.has_phase_1b)
    for (const auto& caveat : s.phase_1b.caveats)
      lines.push_back("caveat   " + caveat);
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
      {"compute", "model compute"},
      {"off_cpu", "waiting off the CPU (I/O, sleeps, locks)"},
      {"cpu_wait", "waiting for a CPU"}};
  if (foreign && section == "compute") return "the program's own work on and off the CPU";
  if (foreign && section == "recorder") return "nrmlab's own watching";
  const auto it = k_labels.find(section);
  return it == k_labels.end() ? section : it->second;
}

double level_ratio(const Drift& d) {
  if (std::isfinite(d.ratio)) return d.ratio;
  return std::isfinite(d.relative_change) ? std::max(0.0, 1 + d.relative_change) : std::nan("");
}

std::string format_ratio(double ratio) {
  return std::isfinite(ratio) ? fmt::format("x{:.3g}", ratio) : "n/a";
}

std::string describe_drift(const Drift& d) {
  switch (d.direction) {
    case DriftDirection::too_short:
      return "too short to tell";
    case DriftDirection::no_steps:
      return "not judged (no step markers)";
    case DriftDirection::level_shift:
      return fmt::format("level shift at step {}: {}", d.shift_step, format_ratio(d.shift_ratio));
    case DriftDirection::slower:
    case DriftDirection::faster:
      return fmt::format("{} {} over the condition", to_string(d.direction),
                         format_ratio(level_ratio(d)));
    case DriftDirection::stable:
      break;
  }
  return "stable";
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
