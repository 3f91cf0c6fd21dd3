// Reads the telemetry of a run directory (telemetry.db, schema nrmlab.telemetry/1, plus
// result.json when present) or of a study directory (runs/<id>/ under it). Anything the
// analysis cannot use -- no database, a file that is not a database, a missing table or
// column, zero steps -- is an nrmlab::Error naming the file and what is missing.
#pragma once

#include <filesystem>
#include <vector>

#include "analysis/run_data.hpp"

namespace nrmlab::analysis {

RunData read_run(const std::filesystem::path& run_dir);

// The run directories under `dir`: `dir` itself when it holds telemetry.db, else every
// `dir/runs/<id>/` (a study) or `dir/<id>/` that does, sorted by name. Throws when none.
std::vector<std::filesystem::path> find_runs(const std::filesystem::path& dir);

}  // namespace nrmlab::analysis
