// How long an NRM run will take, before it runs (issue 22): the run's exact work times what
// each unit of work costs on this machine.
//
// The work is counted by the engine itself, running the requested configuration with its
// overheads stubbed: sample windows of 0 ms and databases that count their rows and
// transactions without writing them (model::CountOnly). The model's trajectory does not
// depend on the overheads (model/overheads.hpp), so the counts are those of the real run --
// exactly, for a synthetic or replayed source; a live source's readings are assumed.
//
// The unit costs come from short runs of the same engine on this machine (calibrate()),
// each repeated: an evolve call, a pair decided or scored, a sample and its window's
// overshoot, a row of each database in each persistence mode, a commit. They are cached per
// machine, build, threads, instruction set, source kind, sampling policy and the databases'
// file system, because each of those changes them.
#pragma once

#include <array>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "model/run_config.hpp"
#include "model/step_counters.hpp"
#include "study/plan.hpp"

namespace nrmlab::study {

// The kinds of work the predictor charges, each with a unit cost in seconds.
enum class Unit : std::size_t {
  step,                   // a step's fixed cost (its bookkeeping, spawns, removals)
  evolve_call,            // one evolve call
  pair_decided,           // one pair's resonance decision, on one thread (no store)
  pair_decided_parallel,  // one pair's decision when the rows are scored on every thread
  pair_scored,            // one pair scored exactly for a store (the row's cost apart)
  sample,                 // one sample event's own cost, its window apart
  window_overshoot,       // how much longer than asked a blocking window lasts
  // A row under connection-per-write (open, insert, commit, close) and commit-per-write, in
  // each database: metrics.db keeps a rollback journal, bridge.db a write-ahead log, and
  // their commits cost differently (a metrics row per sample event, the rest in bridge.db).
  metrics_row_connection,
  bridge_row_connection,
  metrics_row_commit,
  bridge_row_commit,
  row_in_transaction,  // a row under transaction-per-step
  transaction,         // a transaction-per-step commit
};
inline constexpr std::size_t k_unit_count = 13;

struct UnitInfo {
  Unit unit;
  std::string_view name;  // the JSON and cache key
  std::string_view doc;
};
inline constexpr std::array<UnitInfo, k_unit_count> k_units = {{
    {Unit::step, "step", "a step's fixed cost"},
    {Unit::evolve_call, "evolve_call", "an evolve call"},
    {Unit::pair_decided, "pair_decided", "a pair decided, one thread"},
    {Unit::pair_decided_parallel, "pair_decided_parallel", "a pair decided, every thread"},
    {Unit::pair_scored, "pair_scored", "a pair scored for the store"},
    {Unit::sample, "sample", "a sample event, its window apart"},
    {Unit::window_overshoot, "window_overshoot", "a window's overshoot"},
    {Unit::metrics_row_connection, "metrics_row_connection", "a connection-per-write metrics row"},
    {Unit::bridge_row_connection, "bridge_row_connection", "a connection-per-write bridge row"},
    {Unit::metrics_row_commit, "metrics_row_commit", "a commit-per-write metrics row"},
    {Unit::bridge_row_commit, "bridge_row_commit", "a commit-per-write bridge row"},
    {Unit::row_in_transaction, "row_in_transaction", "a transaction-per-step row"},
    {Unit::transaction, "transaction", "a transaction-per-step commit"},
}};

// One unit's cost: the mean of the calibration's repetitions and their range. A unit the
// run does not need (another persistence mode's) is not measured.
struct UnitCost {
  double seconds = 0.0;
  double low = 0.0;
  double high = 0.0;
  bool measured = false;
};

struct UnitCosts {
  std::array<UnitCost, k_unit_count> costs{};
  std::string key;          // what the costs hold for (cache_key())
  std::string measured_at;  // UTC, ISO 8601
  double calibration_seconds = 0.0;
  bool from_cache = false;
  std::filesystem::path cache_file;  // empty: not cached

  const UnitCost& operator[](Unit unit) const { return costs[static_cast<std::size_t>(unit)]; }
  UnitCost& operator[](Unit unit) { return costs[static_cast<std::size_t>(unit)]; }
};

// What the unit costs of `config` depend on: this machine (host, CPU), this build (version,
// commit), the threads and instruction set scoring the pairs, whether the source is live,
// the persistence mode (only its units are measured), the sampling policy and whether
// windows block (they set how the databases' writes alternate) and the file system the
// databases go to.
std::string cache_key(const model::RunConfig& config);

// Measures the unit costs `config` needs with short runs of the engine (1-5 s), writing scratch
// databases in a directory created beside config.db_dir and removed afterwards. `progress`
// (may be empty) hears what is being measured.
UnitCosts calibrate(const model::RunConfig& config,
                    const std::function<void(std::string_view)>& progress = {});

// The costs for `config` from the cache in `cache_dir` (the file unit-costs.json, one entry
// per cache key), measured and stored there when absent or when `recalibrate`. An unreadable
// cache is measured anew (and replaced), an unwritable one left uncached (cache_file
// empty): never an error.
UnitCosts unit_costs_for(const model::RunConfig& config, const std::filesystem::path& cache_dir,
                         bool recalibrate,
                         const std::function<void(std::string_view)>& progress = {});

// $NRMLAB_CACHE_DIR, else $XDG_CACHE_HOME/nrmlab, else $HOME/.cache/nrmlab.
std::filesystem::path default_cache_dir();

// The work of one condition, step by step.
struct ConditionWork {
  int condition = 0;
  std::string name;  // "ON-OFF"
  std::vector<model::StepCounters> steps;
};

struct RunWork {
  std::vector<ConditionWork> conditions;
  // Empty when the work is exact (synthetic and replayed sources); else what was assumed.
  std::string assumption;
  double counting_seconds = 0.0;
};

// Runs `config` with its overheads stubbed (see the top of this file). A live source is
// replaced by a constant one at this machine's current readings (`assumption` says so).
// Throws nrmlab::Error as run_experiment does for an invalid configuration.
RunWork count_work(const model::RunConfig& config);

// Where a step's time goes.
struct SectionSeconds {
  double window = 0.0;    // deliberately blocked in sample windows
  double sampling = 0.0;  // taking samples, the windows apart
  double database = 0.0;  // the faithful databases
  double compute = 0.0;   // the model itself
  double total() const { return window + sampling + database + compute; }
  SectionSeconds& operator+=(const SectionSeconds& other);
};

// The cost of one step's work under `config`; `pick` chooses the mean or an end of each
// unit cost's range. Throws nrmlab::Error when a unit it needs was not measured.
enum class CostPick { mean, low, high };
SectionSeconds step_cost(const model::RunConfig& config, const model::StepCounters& work,
                         const UnitCosts& costs, CostPick pick = CostPick::mean);

struct ConditionPrediction {
  std::string name;
  std::int64_t steps = 0;
  model::StepCounters totals;  // the condition's work (model::add_counters)
  SectionSeconds sections;
  double low_s = 0.0;
  double high_s = 0.0;
  std::vector<double> step_s;  // the predicted time of every step
};

struct Prediction {
  SectionSeconds sections;  // the whole run's
  double total_s = 0.0;
  double low_s = 0.0;  // every unit at the low end of its range
  double high_s = 0.0;
  std::vector<ConditionPrediction> conditions;
  std::string assumption;  // RunWork::assumption
};

Prediction predict(const model::RunConfig& config, const RunWork& work, const UnitCosts& costs);

// {"total_s", "interval_s": [lo, hi], "sections": {...}, "conditions": [...], "unit_costs":
// {...}, "assumption"}; each condition's step-time series at most `max_points` long (block
// means, with its `step_stride`). docs/formats.md describes it.
nlohmann::ordered_json to_json(const Prediction& prediction, const UnitCosts& costs,
                               std::size_t max_points = 1000);

// Replaces the rough estimate of every planned `nrmlab run` (settings known) by its
// prediction: its work counted, the unit costs from `cache_dir` (measured once per cache
// key when absent). Returns how many runs were predicted; `progress` hears each.
std::size_t predict_plan(StudyPlan& plan, const std::filesystem::path& cache_dir,
                         const std::function<void(std::string_view)>& progress = {});

}  // namespace nrmlab::study
