// Expands a study file into its runs: the full factorial over the factors' levels, times the
// replicates, each with its seed, its `nrmlab run` arguments and a hash of them; plus the
// randomised execution order. The plan is deterministic: the same file gives the same runs,
// seeds and order on any machine.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "study/study_file.hpp"

namespace nrmlab::study {

struct PlannedRun {
  std::size_t index = 0;  // design order: replicate-major, then the factors' levels
  std::string id;         // "r007": the directory STUDY/runs/<id>/
  std::int64_t replicate = 0;
  std::uint64_t seed = 0;  // shared by every cell of one replicate (paired comparisons)
  std::vector<std::pair<std::string, std::string>> levels;  // factor -> level
  std::string allocator = "system";
  std::string command = "run";         // the nrmlab subcommand the child runs
  std::vector<std::string> arguments;  // for `nrmlab COMMAND`, without --out
  // `nrmlab watch`'s program and its arguments (they follow `--`, after --out); else empty.
  std::vector<std::string> program;
  std::string hash;  // of the allocator and the arguments
  double estimated_seconds = 0.0;
  // The run's settings as the study file gives them, the seed apart (kept for the
  // predictor, study::predict_plan; not in the manifest, so empty in a plan read back).
  std::vector<std::pair<std::string, std::string>> settings;
};

struct StudyPlan {
  std::string name;
  std::string description;
  std::string study_hash;
  std::uint64_t seed = 1;
  std::uint64_t order_seed = 1;
  std::int64_t replicates = 1;
  std::int64_t parallel = 1;
  double expected_hours = 0.0;  // 0: none (paper mode's V/A is then skipped)
  std::vector<double> milestone_hours;
  std::vector<std::string> factors;
  std::vector<PlannedRun> runs;
  std::vector<std::size_t> order;  // execution order, as indices into runs
  SlurmOptions slurm;
};

// Throws nrmlab::Error (naming the file and the run) when a combination of levels is
// impossible, e.g. parameters the model rejects.
StudyPlan expand(const StudySpec& spec);

// The seed of replicate r (distinct for distinct r).
std::uint64_t replicate_seed(std::uint64_t study_seed, std::int64_t replicate);
// A permutation of 0..count-1 from the seed (Fisher-Yates over splitmix64, so it is the same
// with every standard library).
std::vector<std::size_t> shuffled_order(std::size_t count, std::uint64_t seed);

// A rough duration of one run from its settings (as the settings table builds them into a
// RunConfig): deliberate sleeps, database operations and pair checks at the population cap in
// the conditions whose mechanisms pool, with per-operation costs measured on a 2-core VM.
double estimate_seconds(const std::vector<std::pair<std::string, std::string>>& settings);

}  // namespace nrmlab::study
