// A study file (TOML): what to run, what to vary, how often, and how to judge it.
//
//   [study]      name, description, replicates, seed, order_seed, parallel,
//                expected_hours, milestone_hours
//   [run]        fixed `nrmlab run` knobs and the allocator (study/knobs.hpp)
//   [telemetry]  fixed telemetry cadences
//   [factors]    knob = [level, level, ...], or name = [{label = "...", knob = value, ...},
//                ...]: the full factorial over these
//   [thresholds] pre-registered verdict thresholds (read by the analysis stage)
//   [slurm]      resources for `--backend slurm`
//
// Every mistake is an nrmlab::Error "FILE:LINE: what, expected what".
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nrmlab::study {

struct Setting {
  std::string key;
  std::string value;  // canonical text (study/knobs.hpp)
  std::size_t line = 0;
};

// A factor varies one knob (`window_ms = [0, 2]`), or several together when its levels are
// tables (`implementation = [{label = "unoptimized", preset = "as-run"}, ...]`), for
// designs that are not full factorials over the knobs themselves.
struct Factor {
  std::string key;
  std::vector<std::string> levels;  // canonical text (or labels), distinct, in the file's order
  // Per level, the knob settings it makes: {{key, level}} for a one-knob factor.
  std::vector<std::vector<std::pair<std::string, std::string>>> settings;
  std::size_t line = 0;
};

struct SlurmOptions {
  std::string partition;  // empty: the cluster's default
  std::string time;       // empty: from the runs' estimates (slurm_time_request)
  std::int64_t cpus_per_task = 1;
  std::string mem;  // e.g. "2G"; empty: the cluster's default
  std::string account;
  std::string qos;
  std::int64_t throttle = 0;  // at most this many array tasks at once (0: parallel)
  std::vector<std::string> extra_args;
  std::optional<std::int64_t> max_array_size;  // empty: asked of the cluster
};

struct StudySpec {
  std::filesystem::path file;
  std::string text;  // the file's bytes, copied to STUDY/study.toml
  std::string hash;  // of `text`, hex
  std::string name;
  std::string description;
  std::int64_t replicates = 1;
  std::uint64_t seed = 1;        // derives one seed per replicate
  std::uint64_t order_seed = 1;  // shuffles the execution order (default: seed)
  std::int64_t parallel = 1;     // runs at once on the local backend
  std::optional<double> expected_hours;
  std::vector<double> milestone_hours;
  std::vector<Setting> fixed;  // [run] and [telemetry]
  std::vector<Factor> factors;
  SlurmOptions slurm;

  const Setting* find_fixed(std::string_view key) const;
};

// Reads and checks a study file.
StudySpec load_study(const std::filesystem::path& file);
// The same from text; `file` names it in messages and anchors relative replay paths.
StudySpec parse_study(std::string text, const std::filesystem::path& file);

}  // namespace nrmlab::study
