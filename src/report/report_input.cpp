#include "report/report_input.hpp"

#include <fmt/format.h>

#include <cmath>
#include <fstream>

#include "analysis/telemetry_reader.hpp"
#include "report/json_field.hpp"
#include "util/error.hpp"

namespace nrmlab::report {
namespace {

namespace fs = std::filesystem;

// An optional document (manifest.json, result.json): nullptr when the file does not exist;
// throws when it exists but is not JSON.
nlohmann::json read_optional_json(const fs::path& path) {
  std::ifstream in(path);
  if (!in) return nullptr;
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& error) {
    throw Error(fmt::format("{}: not valid JSON: {}", path.string(), error.what()));
  }
}

std::size_t choose_featured(const std::vector<ReportRun>& runs, const std::string& wanted) {
  if (!wanted.empty()) {
    for (std::size_t i = 0; i < runs.size(); ++i)
      if (runs[i].id == wanted) return i;
    throw Error(fmt::format("--run {}: no such run in the analysis", wanted));
  }
  std::size_t best = 0;
  double slowest = -1.0;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const analysis::RunAnalysis& run = runs[i].analysis;
    const double wall = std::isnan(run.wall_seconds) ? 0.0 : run.wall_seconds;
    if (run.complete && wall > slowest) {
      slowest = wall;
      best = i;
    }
  }
  return best;
}

telemetry::profile::ProfileData read_featured_profile(const fs::path& db) {
  telemetry::profile::ProfileData profile;
  if (!fs::exists(db)) return profile;
  try {
    return telemetry::profile::read_profile(db);
  } catch (const Error& error) {
    profile.status = fmt::format("not readable: {}", error.what());
    return profile;
  }
}

}  // namespace

std::string ReportInput::interval_label() const {
  return fmt::format("{:g}%", 100.0 * analysis.thresholds.confidence);
}

ReportInput load_report_input(const fs::path& dir, const std::string& featured_id) {
  ReportInput input;
  input.dir = dir;
  const fs::path analysis_file = dir / "analysis.json";
  if (!fs::exists(analysis_file))
    throw Error(fmt::format("{}: not found; run `nrmlab analyze {}` first", analysis_file.string(),
                            dir.string()));
  input.analysis = analysis::read_analysis(analysis_file);
  if (input.analysis.runs.empty())
    throw Error(fmt::format("{}: holds no analysed run", analysis_file.string()));
  input.manifest = read_optional_json(dir / "manifest.json");
  input.is_study = input.manifest.is_object();
  const fs::path absolute = fs::absolute(dir).lexically_normal();
  input.name = absolute.has_filename() ? absolute.filename().string()
                                       : absolute.parent_path().filename().string();
  nlohmann::json by_id = nlohmann::json::object();
  if (input.is_study) {
    const nlohmann::json& study = field(input.manifest, "study");
    input.name = value_or(study, "name", input.name);
    input.description = value_or(study, "description", "");
    for (const nlohmann::json& run : field(input.manifest, "runs"))
      if (run.is_object() && field(run, "id").is_string())
        by_id[field(run, "id").get<std::string>()] = run;
  }
  for (analysis::RunAnalysis& entry : input.analysis.runs) {
    ReportRun run;
    run.id = entry.id;
    // Not the analysis' "dir": that is relative to where the analysis ran.
    run.dir = input.is_study ? dir / "runs" / run.id : dir;
    run.analysis = std::move(entry);
    if (by_id.contains(run.id)) {
      run.levels = field(by_id[run.id], "levels");
      run.status = field(by_id[run.id], "status");
    }
    run.result = read_optional_json(run.dir / "result.json");
    input.runs.push_back(std::move(run));
  }
  input.analysis.runs.clear();  // moved into `runs`
  input.featured = choose_featured(input.runs, featured_id);
  input.featured_data = analysis::read_run(input.runs[input.featured].dir);
  input.featured_profile = read_featured_profile(input.runs[input.featured].dir / "telemetry.db");
  return input;
}

}  // namespace nrmlab::report
