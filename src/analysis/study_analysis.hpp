// Study-level analysis (study.md 4.5, 4.6 and the paper's Phase 1B): what changes between
// runs. Factors are read from the runs themselves -- every configuration field, and the
// allocator, that differs between runs -- so a study needs no manifest to be analysed.
#pragma once

#include <vector>

#include "analysis/analysis_result.hpp"
#include "analysis/run_data.hpp"
#include "analysis/thresholds.hpp"

namespace nrmlab::analysis {

// The per-run numbers the study analysis compares.
struct RunSummary {
  const RunData* run = nullptr;
  std::map<std::string, std::string> factors;  // configuration path -> value, plus allocator
  double mean_step_ms = 0.0;
  double drift = 0.0;  // mean relative change of step time over a condition (NaN if none)
  double wall_seconds = 0.0;
  std::vector<double> runtimes;  // per-step seconds, conditions concatenated
};
RunSummary summarise_run(const RunData& run, const SoundAnalysis& sound);

StudyAnalysis analyse_study(const std::vector<RunSummary>& runs, const Thresholds& thresholds);

// The configuration of a run flattened to "path = value" pairs (meta.configuration).
std::map<std::string, std::string> configuration_fields(const RunData& run);

}  // namespace nrmlab::analysis
