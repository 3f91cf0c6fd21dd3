#include "analysis/segment_export.hpp"

#include <cctype>
#include <optional>

#include "analysis/analysis_result.hpp"

namespace nrmlab::analysis {
namespace {

// A condition's name as part of a file name: "OFF-OFF" stays, a slash or space does not.
std::string file_safe(const std::string& name) {
  std::string out = name;
  for (char& c : out)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') c = '_';
  return out;
}

std::filesystem::path segment_file(const std::filesystem::path& out_dir, const std::string& infix,
                                   const char* side, telemetry::profile::ProfileFormat format) {
  const char* extension =
      format == telemetry::profile::ProfileFormat::folded ? "folded" : "speedscope.json";
  return out_dir / ("profile." + infix + side + "." + extension);
}

}  // namespace

std::vector<SegmentProfiles> export_segment_profiles(const std::filesystem::path& run_dir,
                                                     const std::filesystem::path& out_dir,
                                                     telemetry::profile::ProfileFormat format) {
  const std::filesystem::path file = run_dir / "analysis.json";
  if (!std::filesystem::exists(file)) return {};
  const AnalysisReport report = read_analysis(file);
  // A run directory's analysis holds that one run (a study's analysis is not a RUN's).
  if (report.runs.size() != 1) return {};
  const CodeProfile& code = report.runs.front().code;
  const std::filesystem::path db = run_dir / "telemetry.db";
  std::optional<telemetry::profile::ProfileData> data;  // read once, when a side is written
  std::vector<SegmentProfiles> segments;
  for (const CodeComparison& c : code.comparisons) {
    SegmentProfiles s;
    s.condition = c.condition;
    s.status = c.status;
    if (c.status != "compared" || c.early_first_window < 0 || c.late_first_window < 0) {
      segments.push_back(std::move(s));
      continue;
    }
    s.early = {c.early_first_window, c.early_last_window};
    s.late = {c.late_first_window, c.late_last_window};
    const std::string infix = code.comparisons.size() > 1 ? file_safe(c.condition) + "." : "";
    s.early_file = segment_file(out_dir, infix, "early", format);
    s.late_file = segment_file(out_dir, infix, "late", format);
    if (!data) data = telemetry::profile::read_profile(db);
    telemetry::profile::export_profile(*data, db, s.early_file, format, s.early);
    telemetry::profile::export_profile(*data, db, s.late_file, format, s.late);
    segments.push_back(std::move(s));
  }
  return segments;
}

}  // namespace nrmlab::analysis
