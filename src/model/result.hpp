// The outcome of one run (model.md section 7, extended). These structs are the schema of
// result.json: to_json writes every field, in this order.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "model/experiment.hpp"
#include "model/run_config.hpp"
#include "model/step_counters.hpp"
#include "model/synergy.hpp"

namespace nrmlab::model {

inline constexpr const char* k_result_schema = "nrmlab.result/1";

struct ConditionResult {
  std::string name;  // OFF-OFF ...
  MechanismSet flags;
  std::int64_t steps_completed = 0;
  double mean_population = 0.0;  // over the steps completed
  std::int64_t final_population = 0;
  std::int64_t max_population = 0;
  std::vector<std::int64_t> population_history;
  std::vector<std::int64_t> pattern_count_history;
  double runtime_seconds = 0.0;
  StepCounters totals;       // counters summed over the steps (agents_alive, pattern_count:
                             // the last step's)
  std::string state_digest;  // hex; equal digests mean bit-identical final states
};

struct ExperimentResult {
  RunConfig config;
  ExperimentDesign design;
  std::string started_at;  // ISO 8601, UTC
  bool complete = false;
  std::optional<std::string> stopped_because;  // "interrupted", or the error that ended it
  std::vector<ConditionResult> conditions;
  std::optional<Synergy> synergy;  // when all four conditions completed
};

nlohmann::ordered_json to_json(const ExperimentResult& result);
nlohmann::ordered_json to_json(const ConditionResult& condition);
// The inverse of to_json(ConditionResult), for a condition run in another process. Throws
// nlohmann::json::exception on a malformed document.
ConditionResult condition_from_json(const nlohmann::json& json, std::string name);

// Fills the summary fields (steps_completed, mean, final and max population) from the
// population history.
void summarize_history(ConditionResult& condition);
// Appends the result of a later stretch of the same condition, run in another process:
// histories concatenate, counts and runtime add up, the digest is the later one's.
void append_segment(ConditionResult& condition, const ConditionResult& later);

// Settles `complete` and, when all four conditions completed, the synergy analysis.
void finish_experiment(ExperimentResult& result);

// Writes DIR/result.json through a temporary file and a rename, so a reader (or a crash)
// never sees half a document. Throws nrmlab::Error naming the file.
void write_result(const std::filesystem::path& dir, const ExperimentResult& result);

}  // namespace nrmlab::model
