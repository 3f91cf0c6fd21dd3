#include "analysis/analyze.hpp"

#include <fmt/format.h>

#include <fstream>

#include "analysis/code_growth.hpp"
#include "analysis/code_profile.hpp"
#include "analysis/program_waits.hpp"
#include "analysis/sound_mode.hpp"
#include "analysis/step_coverage.hpp"
#include "analysis/study_analysis.hpp"
#include "analysis/summary.hpp"
#include "analysis/telemetry_reader.hpp"
#include "build_info.hpp"
#include "util/atomic_file.hpp"
#include "util/error.hpp"

namespace nrmlab::analysis {
namespace {

const char* mode_name(Mode mode) {
  return mode == Mode::sound ? "sound" : mode == Mode::paper ? "paper" : "all";
}

nlohmann::ordered_json provenance(const RunData& run) {
  nlohmann::ordered_json p;
  for (const char* key :
       {"nrmlab_version", "nrmlab_commit", "compiler", "allocator", "allocator_version",
        "malloc_arena_max", "ld_preload", "kernel", "cpu_model", "cores", "governor", "thp_mode",
        "sensors", "configuration_hash", "seed", "source", "recorder_share"})
    p[key] = run.meta_value(key);
  return p;
}

// The run's code profile and, when sampled, its differential between the segments the
// attribution compares. Never throws: an unreadable profile is a status (the rest of the
// analysis does not depend on it).
CodeProfile analyse_code_of(const RunData& data, const SoundAnalysis& sound, const RunAnalysis& a,
                            const Thresholds& thresholds) {
  try {
    const auto profile = telemetry::profile::read_profile(data.dir / "telemetry.db");
    CodeProfile code = analyse_code(profile, a.steps, a.wall_seconds);
    add_code_growth(data, sound, profile, thresholds, code);
    return code;
  } catch (const Error& error) {
    CodeProfile code;
    code.status = std::string("unreadable: ") + error.what();
    return code;
  }
}

}  // namespace

AnalysisReport analyze(const std::filesystem::path& dir, const AnalyzeOptions& options) {
  AnalysisReport report;
  report.mode = mode_name(options.mode);
  report.dir = dir.string();
  report.nrmlab_version = build_info::k_version;
  report.nrmlab_commit = build_info::k_commit;
  report.thresholds = options.thresholds;

  const auto run_dirs = find_runs(dir);
  std::vector<RunData> runs;  // kept for the study analysis (summaries point into it)
  runs.reserve(run_dirs.size());
  std::vector<RunSummary> summaries;
  const bool sound = options.mode != Mode::paper;
  const bool paper = options.mode != Mode::sound;
  for (std::size_t i = 0; i < run_dirs.size(); ++i) {
    if (options.on_run) options.on_run(i, run_dirs.size(), run_dirs[i]);
    runs.push_back(read_run(run_dirs[i]));
    const RunData& data = runs.back();
    RunAnalysis a;
    a.id = data.id;
    a.dir = data.dir.string();
    a.experiment = data.meta_value("experiment");
    a.allocator = data.meta_value("allocator");
    a.outcome = data.meta_value("outcome", "unknown");
    a.step_source = parse_step_source(data.meta_value("step_source", "engine"));
    a.complete = data.meta_value("complete") == "true";
    a.steps = data.total_steps();
    a.steps_without_time = data.steps_without_time;
    a.program = watched_program(data);
    a.coverage = step_coverage(data);
    a.proxies = window_proxies(data);
    a.provenance = provenance(data);
    const auto fields = configuration_fields(data);
    if (const auto it = fields.find("preset"); it != fields.end()) a.preset = it->second;
    // Study-level comparisons need sound mode's drift even when only paper mode is asked for.
    SoundAnalysis s = analyse_sound(data, options.thresholds);
    a.wall_seconds = s.run.wall_seconds;
    a.code = analyse_code_of(data, s, a, options.thresholds);
    if (!a.program.empty()) check_program_waits(s, a.code);
    summaries.push_back(summarise_run(data, s));
    if (sound) {
      a.has_sound = true;
      a.sound = std::move(s);
    }
    if (paper) {
      a.has_paper = true;
      a.paper = analyse_paper(data, options.thresholds, options.variance);
    }
    report.runs.push_back(std::move(a));
    // The study analysis needs only the summary, meta and result.json: drop the per-step
    // columns so a study of many long runs does not hold all of them in memory at once.
    runs.back().conditions = {};
  }
  if (runs.size() > 1) {
    report.has_study = true;
    report.study = analyse_study(summaries, options.thresholds);
  }
  report.summary = summarise(report);
  return report;
}

void write_analysis(const AnalysisReport& report, const std::filesystem::path& path) {
  write_file_atomically(path, to_json(report).dump(1) + "\n");
}

}  // namespace nrmlab::analysis
