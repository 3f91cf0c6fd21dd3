// `nrmlab export RUN --format folded|speedscope` beside the whole profile (issue 19): the
// stack samples of each side the differential profile compared -- analysis.json's
// code.comparisons with status "compared", the early and late segments of a condition -- so
// that FlameGraph's difffolded.pl or speedscope shows what changed between them. It lives in
// the analysis stage because the segments are the analysis' (the telemetry knows windows only).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "telemetry/profile/profile_export.hpp"

namespace nrmlab::analysis {

struct SegmentProfiles {
  std::string condition;
  std::string status;  // the comparison's: files only when "compared"
  telemetry::profile::WindowRange early;
  telemetry::profile::WindowRange late;
  std::filesystem::path early_file;
  std::filesystem::path late_file;
};

// Writes `out_dir`/profile.early.folded and profile.late.folded (.speedscope.json for
// speedscope; profile.<condition>.early... when the run has several conditions) for every
// compared condition of `run_dir`/analysis.json; returns every comparison of it (those not
// compared with their status and no files). Nothing when the run has no analysis.json
// (`nrmlab analyze` writes it). Throws nrmlab::Error naming the file
// when analysis.json cannot be read, or when the telemetry holds no samples in a segment's
// windows (an analysis.json of other telemetry).
std::vector<SegmentProfiles> export_segment_profiles(const std::filesystem::path& run_dir,
                                                     const std::filesystem::path& out_dir,
                                                     telemetry::profile::ProfileFormat format);

}  // namespace nrmlab::analysis
