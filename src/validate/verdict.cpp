#include "validate/verdict.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace nrmlab::validate {

Verdict read_verdict(const analysis::RunAnalysis& run, bool thermal) {
  Verdict v;
  const analysis::SoundAnalysis& sound = run.sound;
  v.off_cpu_share = sound.run.off_cpu_share;
  v.dominant = sound.run.dominant;
  if (!sound.drift.empty()) v.relative_change = sound.drift.front().relative_change;
  std::vector<std::string> parts;
  // Off-CPU time that contention explains is preemption, H1's verdict, not waiting.
  const bool contention = std::any_of(
      sound.hypotheses.begin(), sound.hypotheses.end(),
      [](const analysis::Hypothesis& h) { return h.id == "H1" && h.verdict == "supported"; });
  if (v.off_cpu_share >= k_off_cpu_dominates && !contention) {
    parts.emplace_back("off-CPU");
    v.reason = fmt::format("{:.0f}% of wall time off-CPU; {} dominates", 100 * v.off_cpu_share,
                           v.dominant);
  }
  std::string h4 = "not testable";
  for (const analysis::Hypothesis& h : sound.hypotheses) {
    if (h.id == "H4") h4 = h.verdict;
    if (h.id.size() != 2 || h.id[0] != 'H' || h.verdict != "supported") continue;
    if (thermal && h.id == "H4") continue;  // the thermal label names H4 below
    v.supported.push_back(h.id);
    parts.push_back(h.id);
    if (v.reason.empty()) v.reason = fmt::format("{}: {}", h.id, h.reason);
  }
  if (thermal) {
    for (const analysis::Hypothesis& h : sound.hypotheses)
      if (h.id == "H4" && v.reason.empty()) v.reason = h.reason;
    if (h4 == "supported") v.supported.emplace_back("H4");
    parts.insert(parts.begin(), fmt::format("H4 {}", h4));
  }
  if (parts.empty()) {
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

}  // namespace nrmlab::validate
