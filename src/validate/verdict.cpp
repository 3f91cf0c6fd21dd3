#include "validate/verdict.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "analysis/attribution.hpp"
#include "analysis/hypothesis_registry.hpp"
#include "analysis/summary.hpp"

namespace nrmlab::validate {

namespace {

// A slowdown whose attribution puts it in "the same work costs more" (its interval above
// 0), that growing work (H5) does not explain and no other hypothesis names: the same work
// costs more through something no tested mechanism covers. Read from the first condition
// (validation runs have one).
bool dearer(const analysis::SoundAnalysis& sound) {
  if (sound.drift.empty() || sound.attribution.empty()) return false;
  const analysis::Drift& drift = sound.drift.front();
  const bool slower =
      drift.direction == analysis::DriftDirection::slower ||
      (drift.direction == analysis::DriftDirection::level_shift && drift.shift_ratio > 1);
  const analysis::SectionChange* step = analysis::find_section(sound.attribution.front(), "step");
  if (!slower || !step || !(step->dearer.ci_low > 0)) return false;
  const auto h5 = std::find_if(sound.hypotheses.begin(), sound.hypotheses.end(),
                               [](const analysis::Hypothesis& h) { return h.id == "H5"; });
  return h5 != sound.hypotheses.end() && !analysis::is_supported(h5->verdict);
}

// The first condition's drift could not be judged: fixed windows instead of steps, or too
// few steps.
bool unjudged(const analysis::SoundAnalysis& sound) {
  return !sound.drift.empty() &&
         (sound.drift.front().direction == analysis::DriftDirection::no_steps ||
          sound.drift.front().direction == analysis::DriftDirection::too_short);
}

}  // namespace

Verdict read_verdict(const analysis::RunAnalysis& run, bool thermal) {
  Verdict v;
  const analysis::SoundAnalysis& sound = run.sound;
  v.off_cpu_share = sound.run.off_cpu_share;
  v.dominant = sound.run.dominant;
  v.cpu_wait_share = sound.run.cpu_wait_share;
  // The level of the last quarter against the first, less one: an outlier step moves it less
  // than the trend line's slope, which the H2 intervention's comparison would inherit.
  if (!sound.drift.empty()) v.relative_change = analysis::level_ratio(sound.drift.front()) - 1;
  std::vector<std::string> parts;
  // Off-CPU time that contention explains is preemption, H1's verdict, not waiting.
  const auto explains_off_cpu = [](const analysis::Hypothesis& h) {
    const analysis::HypothesisSpec* spec = analysis::find_hypothesis(h.id);
    return spec && spec->explains_off_cpu && analysis::is_supported(h.verdict);
  };
  const bool preempted =
      std::any_of(sound.hypotheses.begin(), sound.hypotheses.end(), explains_off_cpu);
  if (v.off_cpu_share >= k_off_cpu_dominates && !preempted) {
    parts.emplace_back("off-CPU");
    v.reason = fmt::format("{:.0f}% of wall time off-CPU; {} dominates", 100 * v.off_cpu_share,
                           v.dominant);
  }
  // The thermal case is planted for H4: its label carries H4's verdict by name.
  analysis::Verdict h4 = analysis::Verdict::not_testable;
  for (const analysis::Hypothesis& h : sound.hypotheses) {
    if (h.id == "H4") h4 = h.verdict;
    const analysis::HypothesisSpec* spec = analysis::find_hypothesis(h.id);
    if (!spec || !spec->names_cause || !analysis::is_supported(h.verdict)) continue;
    if (thermal && h.id == "H4") continue;  // the thermal label names H4 below
    v.supported.push_back(h.id);
    parts.push_back(h.id);
    if (v.reason.empty()) v.reason = fmt::format("{}: {}", h.id, h.reason);
  }
  if (thermal) {
    for (const analysis::Hypothesis& h : sound.hypotheses)
      if (h.id == "H4" && v.reason.empty()) v.reason = h.reason;
    if (analysis::is_supported(h4)) v.supported.emplace_back("H4");
    parts.insert(parts.begin(), fmt::format("H4 {}", analysis::to_string(h4)));
  }
  if (parts.empty() && !thermal && dearer(sound)) {
    v.label = "dearer";
    v.reason = fmt::format(
        "step time grows ({}) with no tested mechanism, and growing work (H5) does not "
        "explain it: the same work costs more",
        analysis::format_ratio(analysis::level_ratio(sound.drift.front())));
  } else if (parts.empty() && unjudged(sound)) {
    // Nothing supported because nothing could be judged: not the same as "none".
    const bool no_steps = sound.drift.front().direction == analysis::DriftDirection::no_steps;
    v.label = no_steps ? "no steps" : "too few steps";
    v.reason = no_steps ? "the program marked no steps: slowdown per step not judged"
                        : "too few steps to fit a trend";
  } else if (parts.empty()) {
    v.label = "none";
    v.reason = "no hypothesis supported";
  } else {
    v.label = fmt::format("{}", fmt::join(parts, "+"));
  }
  return v;
}

std::string expected_thermal_label(const analysis::RunAnalysis& run) {
  const auto it = run.provenance.find("sensors");
  const std::string sensors =
      it != run.provenance.end() && it->is_string() ? it->get<std::string>() : "";
  const bool none = sensors.empty() || (sensors.find("cpufreq: none") != std::string::npos &&
                                        sensors.find("temperature: none") != std::string::npos);
  return none ? "H4 not testable" : "H4 not supported";
}

const analysis::CodeGrowth* first_growth(const analysis::CodeProfile& code,
                                         const std::string& condition) {
  const auto it =
      std::find_if(code.growth.begin(), code.growth.end(),
                   [&](const analysis::CodeGrowth& g) { return g.condition == condition; });
  return it == code.growth.end() ? nullptr : &*it;
}

bool names_dearer_first(const analysis::CodeGrowth* first, std::string_view function) {
  return first != nullptr && !function.empty() &&
         first->function.find(function) != std::string::npos &&
         first->change == analysis::CodeChange::dearer &&
         first->share_of_change >= k_min_first_share;
}

std::string forbidden_claim(const std::vector<std::string>& claims,
                            const std::vector<std::string>& summary) {
  for (const std::string& claim : claims)
    for (const std::string& line : summary)
      if (line.find(claim) != std::string::npos) return line;
  return "";
}

}  // namespace nrmlab::validate
