// What a report is drawn from: a run or study directory's analysis.json, its manifest
// (studies), each run's result.json, and the full telemetry of one featured run.
#pragma once

#include <cstddef>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analysis/analysis_result.hpp"
#include "analysis/run_data.hpp"
#include "telemetry/profile/profile_data.hpp"

namespace nrmlab::report {

struct ReportRun {
  std::string id;
  std::filesystem::path dir;
  analysis::RunAnalysis analysis;  // its entry in analysis.json's runs
  nlohmann::json levels;           // factor -> level (studies; null for a single run)
  nlohmann::json status;           // the manifest's status: started, finished, host (null: none)
  nlohmann::json result;           // result.json (null when absent)
};

struct ReportInput {
  std::filesystem::path dir;
  std::string name;  // the study's name, or the run directory's
  std::string description;
  bool is_study = false;
  analysis::AnalysisReport analysis;  // analysis.json, typed (its runs are in `runs`)
  nlohmann::json manifest;            // manifest.json (null for a single run)
  std::vector<ReportRun> runs;
  // Figures 1, 2 and 4 show one run's steps: the one asked for, or else the slowest
  // complete run (the one a user would look at first).
  std::size_t featured = 0;
  analysis::RunData featured_data;
  // The featured run's stack samples (its telemetry.db), for the flame graph. A database
  // without them reads as "not recorded"; one whose profile tables cannot be read gets a
  // status saying why (the rest of the report does not need them).
  telemetry::profile::ProfileData featured_profile;

  const ReportRun& featured_run() const { return runs[featured]; }
  // "95%": the confidence level every interval of the analysis was computed at.
  std::string interval_label() const;
};

// Throws nrmlab::Error naming the file when analysis.json is missing or unreadable, or when
// `featured_id` names no run of it.
ReportInput load_report_input(const std::filesystem::path& dir,
                              const std::string& featured_id = "");

}  // namespace nrmlab::report
