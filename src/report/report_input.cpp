#include "report/report_input.hpp"

#include <fmt/format.h>

#include <fstream>

#include "analysis/telemetry_reader.hpp"
#include "report/json_field.hpp"
#include "util/error.hpp"

namespace nrmlab::report {
namespace {

namespace fs = std::filesystem;

// nullptr when the file does not exist; throws when it exists but is not JSON.
nlohmann::json read_json(const fs::path& path, bool required) {
  std::ifstream in(path);
  if (!in) {
    if (!required) return nullptr;
    throw Error(fmt::format("{}: not found; run `nrmlab analyze {}` first", path.string(),
                            path.parent_path().string()));
  }
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
    const nlohmann::json& run = runs[i].analysis;
    const double wall = value_or(run, "wall_seconds", 0.0);
    if (value_or(run, "complete", false) && wall > slowest) {
      slowest = wall;
      best = i;
    }
  }
  return best;
}

}  // namespace

ReportInput load_report_input(const fs::path& dir, const std::string& featured_id) {
  ReportInput input;
  input.dir = dir;
  input.analysis = read_json(dir / "analysis.json", true);
  if (!input.analysis.is_object() || !field(input.analysis, "runs").is_array() ||
      field(input.analysis, "runs").empty())
    throw Error(fmt::format("{}: holds no analysed run", (dir / "analysis.json").string()));
  input.manifest = read_json(dir / "manifest.json", false);
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
  for (const nlohmann::json& entry : field(input.analysis, "runs")) {
    ReportRun run;
    run.id = value_or(entry, "id", "");
    // Not the analysis' "dir": that is relative to where the analysis ran.
    run.dir = input.is_study ? dir / "runs" / run.id : dir;
    run.analysis = entry;
    if (by_id.contains(run.id)) {
      run.levels = field(by_id[run.id], "levels");
      run.status = field(by_id[run.id], "status");
    }
    run.result = read_json(run.dir / "result.json", false);
    input.runs.push_back(std::move(run));
  }
  input.featured = choose_featured(input.runs, featured_id);
  input.featured_data = analysis::read_run(input.runs[input.featured].dir);
  return input;
}

}  // namespace nrmlab::report
