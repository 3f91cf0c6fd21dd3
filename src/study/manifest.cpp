#include "study/manifest.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "build_info.hpp"
#include "util/atomic_file.hpp"
#include "util/error.hpp"

namespace nrmlab::study {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

constexpr std::string_view k_manifest_schema = "nrmlab.manifest/1";

Json slurm_json(const SlurmOptions& slurm) {
  Json json;
  json["partition"] = slurm.partition;
  json["time"] = slurm.time;
  json["cpus_per_task"] = slurm.cpus_per_task;
  json["mem"] = slurm.mem;
  json["account"] = slurm.account;
  json["qos"] = slurm.qos;
  json["throttle"] = slurm.throttle;
  json["extra_args"] = slurm.extra_args;
  json["max_array_size"] = slurm.max_array_size ? Json(*slurm.max_array_size) : Json(nullptr);
  return json;
}

SlurmOptions slurm_from(const Json& json) {
  SlurmOptions slurm;
  slurm.partition = json.at("partition").get<std::string>();
  slurm.time = json.at("time").get<std::string>();
  slurm.cpus_per_task = json.at("cpus_per_task").get<std::int64_t>();
  slurm.mem = json.at("mem").get<std::string>();
  slurm.account = json.at("account").get<std::string>();
  slurm.qos = json.at("qos").get<std::string>();
  slurm.throttle = json.at("throttle").get<std::int64_t>();
  slurm.extra_args = json.at("extra_args").get<std::vector<std::string>>();
  if (!json.at("max_array_size").is_null())
    slurm.max_array_size = json.at("max_array_size").get<std::int64_t>();
  return slurm;
}

Json status_json(const RunStatus& status) {
  Json json = to_json(status);
  if (status.state != RunState::planned) json["overlapping_runs"] = status.overlapping_runs;
  return json;
}

// Timing comparisons between runs that shared a machine include their contention. For each
// run: the runs on its host that started before it finished, minus those that finished
// before it started, minus itself. Sorting makes this O(n log n) for large studies.
void count_overlaps(std::vector<RunStatus>& statuses) {
  std::map<std::string, std::pair<std::vector<double>, std::vector<double>>> by_host;
  for (const RunStatus& status : statuses)
    if (status.state != RunState::planned) {
      by_host[status.host].first.push_back(status.started);
      by_host[status.host].second.push_back(status.finished);
    }
  for (auto& [host, times] : by_host) {
    std::sort(times.first.begin(), times.first.end());
    std::sort(times.second.begin(), times.second.end());
  }
  for (RunStatus& status : statuses) {
    if (status.state == RunState::planned) continue;
    const auto& [starts, finishes] = by_host[status.host];
    const auto started_before_end =
        std::lower_bound(starts.begin(), starts.end(), status.finished) - starts.begin();
    const auto ended_before_start =
        std::upper_bound(finishes.begin(), finishes.end(), status.started) - finishes.begin();
    status.overlapping_runs = static_cast<int>(started_before_end - ended_before_start - 1);
  }
}

}  // namespace

std::size_t StudyState::count(RunState state) const {
  return static_cast<std::size_t>(std::count_if(
      statuses.begin(), statuses.end(), [state](const RunStatus& s) { return s.state == state; }));
}

fs::path run_dir(const fs::path& study_dir, const PlannedRun& run) {
  return study_dir / "runs" / run.id;
}

StudyState collect_state(const fs::path& study_dir, StudyPlan plan) {
  StudyState state;
  state.statuses.resize(plan.runs.size());
  for (const PlannedRun& run : plan.runs) {
    auto status = read_status(run_dir(study_dir, run));
    if (status && status->hash == run.hash) state.statuses[run.index] = std::move(*status);
  }
  count_overlaps(state.statuses);
  state.plan = std::move(plan);
  return state;
}

void write_manifest(const fs::path& study_dir, const StudyState& state) {
  const StudyPlan& plan = state.plan;
  Json json;
  json["schema"] = k_manifest_schema;
  Json& study = json["study"];
  study["name"] = plan.name;
  study["description"] = plan.description;
  study["file"] = "study.toml";
  study["hash"] = plan.study_hash;
  study["seed"] = plan.seed;
  study["order_seed"] = plan.order_seed;
  study["replicates"] = plan.replicates;
  study["parallel"] = plan.parallel;
  study["expected_hours"] = plan.expected_hours;
  study["milestone_hours"] = plan.milestone_hours;
  study["factors"] = plan.factors;
  study["nrmlab_version"] = build_info::k_version;
  study["nrmlab_commit"] = build_info::k_commit;
  json["slurm"] = slurm_json(plan.slurm);
  Json& summary = json["summary"];
  summary["runs"] = plan.runs.size();
  for (const RunState s :
       {RunState::complete, RunState::failed, RunState::interrupted, RunState::planned})
    summary[std::string(run_state_name(s))] = state.count(s);
  summary["overlapping_runs"] =
      std::count_if(state.statuses.begin(), state.statuses.end(),
                    [](const RunStatus& status) { return status.overlapping_runs > 0; });
  summary["estimated_seconds"] = [&] {
    double total = 0.0;
    for (const PlannedRun& run : plan.runs)
      total += run.estimated_seconds;
    return total;
  }();
  json["order"] = Json::array();
  for (const std::size_t index : plan.order)
    json["order"].push_back(plan.runs[index].id);
  Json& runs = json["runs"];
  runs = Json::array();
  for (const PlannedRun& run : plan.runs) {
    Json entry;
    entry["id"] = run.id;
    entry["index"] = run.index;
    entry["replicate"] = run.replicate;
    entry["seed"] = run.seed;
    entry["levels"] = Json::object();
    for (const auto& [factor, level] : run.levels)
      entry["levels"][factor] = level;
    entry["allocator"] = run.allocator;
    entry["arguments"] = run.arguments;
    entry["hash"] = run.hash;
    entry["estimated_seconds"] = run.estimated_seconds;
    entry["status"] = status_json(state.statuses[run.index]);
    runs.push_back(std::move(entry));
  }
  write_file_atomically(study_dir / "manifest.json", json.dump(1) + "\n");
}

StudyState read_manifest(const fs::path& study_dir) {
  return collect_state(study_dir, read_plan(study_dir));
}

StudyPlan read_plan(const fs::path& study_dir) {
  const fs::path file = study_dir / "manifest.json";
  std::ifstream in(file);
  if (!in)
    throw Error(fmt::format("{}: no manifest (is {} a study directory?)", file.string(),
                            study_dir.string()));
  try {
    const Json json = Json::parse(in);
    if (json.value("schema", "") != k_manifest_schema)
      throw Error(fmt::format("{}: not an nrmlab manifest (schema '{}', expected '{}')",
                              file.string(), json.value("schema", ""), k_manifest_schema));
    StudyPlan plan;
    const Json& study = json.at("study");
    plan.name = study.at("name").get<std::string>();
    plan.description = study.at("description").get<std::string>();
    plan.study_hash = study.at("hash").get<std::string>();
    plan.seed = study.at("seed").get<std::uint64_t>();
    plan.order_seed = study.at("order_seed").get<std::uint64_t>();
    plan.replicates = study.at("replicates").get<std::int64_t>();
    plan.parallel = study.at("parallel").get<std::int64_t>();
    plan.expected_hours = study.at("expected_hours").get<double>();
    plan.milestone_hours = study.at("milestone_hours").get<std::vector<double>>();
    plan.factors = study.at("factors").get<std::vector<std::string>>();
    plan.slurm = slurm_from(json.at("slurm"));
    for (const Json& entry : json.at("runs")) {
      PlannedRun run;
      run.id = entry.at("id").get<std::string>();
      run.index = entry.at("index").get<std::size_t>();
      if (run.index != plan.runs.size())
        throw Error(fmt::format("{}: run {} is out of order", file.string(), run.id));
      run.replicate = entry.at("replicate").get<std::int64_t>();
      run.seed = entry.at("seed").get<std::uint64_t>();
      for (const auto& [factor, level] : entry.at("levels").items())
        run.levels.emplace_back(factor, level.get<std::string>());
      run.allocator = entry.at("allocator").get<std::string>();
      run.arguments = entry.at("arguments").get<std::vector<std::string>>();
      run.hash = entry.at("hash").get<std::string>();
      run.estimated_seconds = entry.at("estimated_seconds").get<double>();
      plan.runs.push_back(std::move(run));
    }
    for (const Json& id : json.at("order")) {
      const auto found =
          std::find_if(plan.runs.begin(), plan.runs.end(),
                       [&](const PlannedRun& run) { return run.id == id.get<std::string>(); });
      if (found == plan.runs.end())
        throw Error(fmt::format("{}: order names an unknown run {}", file.string(), id.dump()));
      plan.order.push_back(found->index);
    }
    if (plan.order.size() != plan.runs.size())
      throw Error(fmt::format("{}: the order lists {} of {} runs", file.string(), plan.order.size(),
                              plan.runs.size()));
    return plan;
  } catch (const nlohmann::json::exception& error) {
    throw Error(fmt::format("{}: malformed manifest: {}", file.string(), error.what()));
  }
}

}  // namespace nrmlab::study
