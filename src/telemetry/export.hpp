// `nrmlab export`: every table of a run's telemetry.db as plain files for pandas or R, or
// its stack samples for flame-graph tools (telemetry/profile/profile_export.hpp).
#pragma once

#include <filesystem>
#include <string_view>
#include <vector>

namespace nrmlab::telemetry {

enum class ExportFormat { csv, jsonl, folded, speedscope };

// Writes <out_dir>/<table>.csv (header row; empty field = absent) or .jsonl (one object per
// row; absent = null) for every table: tables and columns in the column registry's order
// (telemetry/columns.hpp), then any the registry does not know. `folded` and `speedscope` write
// the stack samples instead: <out_dir>/profile.folded or profile.speedscope.json (nothing
// when the run has none: an nrmlab::Error says why). Returns the files written. Throws
// nrmlab::Error when the database is missing or not a telemetry database.
std::vector<std::filesystem::path> export_telemetry(const std::filesystem::path& db_path,
                                                    const std::filesystem::path& out_dir,
                                                    ExportFormat format);

}  // namespace nrmlab::telemetry
