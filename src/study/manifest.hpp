// STUDY/manifest.json (schema nrmlab.manifest/1): the expanded plan (every run with its
// seed, factor levels, command and hash, and the execution order) plus each run's status.
// The plan part is written once, before the first run; later writes only refresh statuses.
// Resuming and `nrmlab study-task` read the plan from here, never from the study file again,
// so every backend runs exactly the commands that were planned.
#pragma once

#include <filesystem>
#include <vector>

#include "study/plan.hpp"
#include "study/run_status.hpp"

namespace nrmlab::study {

struct StudyState {
  StudyPlan plan;
  std::vector<RunStatus> statuses;  // by run index; state `planned` when not run yet

  std::size_t count(RunState state) const;
};

// Reads the statuses in STUDY/runs/<id>/status.json (a status whose hash is not the planned
// run's counts as not run) and counts runs that overlapped in time.
StudyState collect_state(const std::filesystem::path& study_dir, StudyPlan plan);

void write_manifest(const std::filesystem::path& study_dir, const StudyState& state);
// Throws nrmlab::Error naming the file when it is missing or not a manifest.
StudyState read_manifest(const std::filesystem::path& study_dir);
// The plan alone, without reading any run's status.
StudyPlan read_plan(const std::filesystem::path& study_dir);

std::filesystem::path run_dir(const std::filesystem::path& study_dir, const PlannedRun& run);

}  // namespace nrmlab::study
