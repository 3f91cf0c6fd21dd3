// The outcome of one run of a study, written atomically to STUDY/runs/<id>/status.json by
// whoever ran it (the local runner or a Slurm array task) once the run's process has exited.
// A run directory without a readable status is incomplete: resuming reruns it. This is what
// makes kill -9 of the runner safe: a status is either all there or not there at all.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace nrmlab::study {

enum class RunState { planned, complete, failed, interrupted };

std::string_view run_state_name(RunState state);

struct RunStatus {
  RunState state = RunState::planned;
  std::string hash;     // the planned run's hash, so a stale directory is never mistaken
  int exit_code = -1;   // -1 when a signal ended the process
  int signal = 0;       // the signal that ended it, or 0
  double started = 0;   // Unix time, seconds
  double finished = 0;  // Unix time, seconds
  std::string host;
  std::string backend;       // "local" or "slurm"
  std::string stderr_tail;   // the last lines the run wrote to stderr (failures only)
  int overlapping_runs = 0;  // other runs of the study that ran at the same time (manifest)

  double duration() const { return finished - started; }
};

// Every field but overlapping_runs (which only the manifest knows); `planned` is the state alone.
nlohmann::ordered_json to_json(const RunStatus& status);

std::optional<RunStatus> read_status(const std::filesystem::path& run_dir);
void write_status(const std::filesystem::path& run_dir, const RunStatus& status);

// "2026-11-23T10:04:05Z"
std::string utc_text(double unix_seconds);
double unix_now();

}  // namespace nrmlab::study
