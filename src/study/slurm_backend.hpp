// The Slurm backend: one job-array task per incomplete run (each runs
// `nrmlab study-task STUDY --index K`, K being the run's position in the execution order),
// split into several arrays when the cluster's MaxArraySize is smaller than the study, plus
// a gather job that depends on all of them and runs `nrmlab study-gather STUDY` (manifest,
// analysis, report). The scripts are written to STUDY/slurm/ so a user can read or resubmit
// them; task logs go to STUDY/slurm/logs/.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "study/manifest.hpp"

namespace nrmlab::study {

struct ArrayChunk {
  std::size_t offset = 0;            // added to SLURM_ARRAY_TASK_ID to give the order position
  std::vector<std::size_t> indices;  // array task ids (order position - offset)
  std::string spec;                  // "0-99,101%4": the --array argument
};

// Groups the pending order positions into arrays whose task ids stay below max_array_size.
std::vector<ArrayChunk> plan_arrays(const std::vector<std::size_t>& positions,
                                    std::int64_t max_array_size, std::int64_t throttle);

struct SlurmSubmission {
  std::vector<std::string> array_jobs;
  std::string gather_job;
  std::size_t tasks = 0;
};

// MaxArraySize as the cluster reports it (scontrol show config). Throws nrmlab::Error when
// scontrol is missing or says nothing usable.
std::int64_t cluster_max_array_size();

// What every task asks of Slurm for --time, and why: the study file's `[slurm] time` when it
// gives one; else the longest run's estimate (predicted by study::predict_plan on the
// submitting machine, or the rough one) x 1.5 plus 10 minutes, in whole minutes.
struct TimeRequest {
  std::string time;  // Slurm's form: HH:MM:SS, or D-HH:MM:SS from a day on
  std::string reason;
};
TimeRequest slurm_time_request(const StudyPlan& plan);

// Writes the scripts and submits them with sbatch. Throws nrmlab::Error with sbatch's own
// message when a submission fails.
SlurmSubmission submit_slurm(const std::filesystem::path& study_dir, const StudyState& state,
                             const std::filesystem::path& nrmlab_binary);

// Polls squeue until none of the jobs is queued or running.
void wait_for_jobs(const std::vector<std::string>& jobs, double poll_seconds);

}  // namespace nrmlab::study
