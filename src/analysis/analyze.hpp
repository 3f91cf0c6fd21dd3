// The analysis stage's entry point: read a run or a study, analyse it in the requested
// modes, and return the document that becomes analysis.json and the terminal summary.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include "analysis/analysis_result.hpp"
#include "analysis/paper_mode.hpp"

namespace nrmlab::analysis {

enum class Mode { sound, paper, all };

struct AnalyzeOptions {
  Mode mode = Mode::sound;
  Thresholds thresholds;
  VarianceOptions variance;  // paper mode's V/A characterisation (needs an expected time)
  // Called before each run is read, for progress on large studies: (index, count, run dir).
  std::function<void(std::size_t, std::size_t, const std::filesystem::path&)> on_run;
};

AnalysisReport analyze(const std::filesystem::path& dir, const AnalyzeOptions& options);

// Writes analysis.json through a temporary file and a rename (a crash never leaves half).
void write_analysis(const AnalysisReport& report, const std::filesystem::path& path);

}  // namespace nrmlab::analysis
