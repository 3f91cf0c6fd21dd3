// The calibration suite (`nrmlab validate --calibrate`, issue 17 item 7): the analysis's
// error rates measured on synthetic telemetry whose truth is planted. Each family is a
// declarative record: a generator of runs (calibration_generator.hpp) and the checks its
// outcomes must pass -- how often a hypothesis may be falsely "supported" or a drift falsely
// declared (at most 5%), how often a planted effect must be found (at least 90%), what must
// never happen. Every run of a family is analysed in sound mode exactly as a recorded run.
//
// The pass rule is a binomial bound, so a finite number of runs can neither pass a bad rate
// by luck nor fail a good one by bad luck more than rarely: a family fails a check only if
// its count is improbable (one-sided binomial tail p < 0.001) at the allowed rate (5% for
// false outcomes, 90% for hits); a "never" check fails on any occurrence. This is the exact
// one-sided binomial test (Conover, Practical Nonparametric Statistics, 3rd ed. 1999,
// section 3.1): at a true rate exactly at the limit a check fails in at most 0.1% of
// calibrations, and the small `make test` subset (20 runs) fails only gross excesses
// (6 of 20 at 5%), the full table (200 runs) anything above ~11%.
//
// Runs are independent draws: run r of family F uses a generator seeded from (seed, F, r)
// alone, so the table is the same for any thread count and `make test`'s subset is the
// committed table's first runs. Hypotheses are counted per run (a run's verdict combines its
// conditions), drifts per condition (each condition is its own trend test).
//
// calibration.json (schema nrmlab.calibration/1): {schema, seed, runs, rule: {false_rate,
// power_rate, tail_p}, interrupted, passed, seconds, families: [{name, kind (null | signal |
// power), planted, runs, conditions, supported: {H1..H5: runs}, drift_slower, drift_faster
// (conditions), code_first, code_dearer (conditions; null for a family not profiled), errors,
// first_error, checks: [{quantity (H1..H5 | drift declared | drift slower | code first | code
// dearer), rule (at most 5% | at least 90% | never | reported), count, trials, p (null for never
// and reported), passed}], passed, analysis_seconds}]}. Only the *seconds fields change between two
// runs with the same seed.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/analysis_result.hpp"
#include "analysis/thresholds.hpp"
#include "validate/calibration_generator.hpp"

namespace nrmlab::validate {

inline constexpr std::string_view k_calibration_schema = "nrmlab.calibration/1";
inline constexpr std::size_t k_default_calibration_runs = 200;
inline constexpr std::uint64_t k_default_calibration_seed = 1;
// The allowed rates and the tail probability below which a count fails its check.
inline constexpr double k_false_rate = 0.05;
inline constexpr double k_power_rate = 0.90;
inline constexpr double k_rule_p = 0.001;

// What one analysed run said: per hypothesis whether it was supported, and per condition
// the drift direction (counted).
struct CalibrationOutcome {
  std::array<bool, 5> supported{};  // H1..H5, through analysis::is_supported
  std::size_t conditions = 0;
  std::size_t slower = 0;
  std::size_t faster = 0;
  // The differential profile (issue 19), per condition, of families that have code checks:
  // conditions whose first function is the family's dearer_function, called dearer with at
  // least 80% of the change; conditions where some function was called dearer.
  std::size_t code_first = 0;
  std::size_t code_dearer = 0;
  std::string error;  // the analysis threw: the run counts as failing every check
};

// What a check counts: per run (a hypothesis supported) or per condition (a drift, the
// differential profile's first function or any function called dearer).
enum class Quantity { h1, h2, h3, h4, h5, drift_declared, drift_slower, code_first, code_dearer };
enum class Rule {
  at_most_false_rate,  // a false outcome: at most k_false_rate
  at_least_power,      // a hit: at least k_power_rate
  never,               // must not occur at all
  reported,            // shown, no rule (what a signal family is expected to produce)
};

struct Check {
  Quantity quantity;
  Rule rule;
};

struct CalibrationFamily {
  std::string name;
  std::string kind;  // "null", "signal" or "power"
  std::string planted;
  // Draws one run (its own parameters too, e.g. where a level shift falls).
  std::function<calibration::RunPlan(calibration::Rng& rng)> plan;
  std::vector<Check> checks;
  // The function the differential profile must name first, dearer (Quantity::code_first).
  std::string dearer_function = {};
  // Whether a run is profiled (synthetic_profile) and its code growth judged.
  bool profiled() const;
};

// Every family, in table order (calibration_families.cpp).
const std::vector<CalibrationFamily>& calibration_families();
std::vector<std::string> calibration_family_names();

struct CheckResult {
  Check check;
  std::size_t count = 0;   // runs (or conditions) with the outcome
  std::size_t trials = 0;  // runs (or conditions)
  double p = 1.0;          // the tail probability the rule tests (NaN for `reported`)
  bool passed = true;
};

struct FamilyResult {
  std::string name, kind, planted;
  std::size_t runs = 0;
  std::size_t conditions = 0;  // over all runs
  std::size_t errors = 0;
  std::array<std::size_t, 5> supported{};
  std::size_t slower = 0;
  std::size_t faster = 0;
  bool profiled = false;
  std::size_t code_first = 0;   // conditions
  std::size_t code_dearer = 0;  // conditions
  std::vector<CheckResult> checks;
  bool passed = true;
  double seconds = 0.0;  // analysis time, summed over runs
  std::string first_error;
};

struct CalibrationOptions {
  std::size_t runs = k_default_calibration_runs;
  std::vector<std::string> families;  // empty: all
  std::uint64_t seed = k_default_calibration_seed;
  unsigned threads = 0;  // 0: the machine's hardware threads
  analysis::Thresholds thresholds;
  const std::atomic<bool>* stop = nullptr;
  // After each run: the family, runs of it done, its run count.
  std::function<void(const std::string& family, std::size_t done, std::size_t runs)> on_run;
};

struct CalibrationReport {
  std::uint64_t seed = 0;
  std::size_t runs = 0;
  std::vector<FamilyResult> families;
  bool passed = true;
  bool interrupted = false;
  double seconds = 0.0;  // wall time
};

// Throws nrmlab::Error naming an unknown family and the known ones.
CalibrationReport run_calibration(const CalibrationOptions& options);

// One run of a family, deterministic in (seed, family, run index) whatever the threads.
calibration::Rng run_rng(std::uint64_t seed, std::string_view family, std::size_t run);
CalibrationOutcome calibration_outcome(const analysis::SoundAnalysis& sound);
// Adds the code counts of `code` (code.comparisons/growth) to `outcome`.
void add_code_outcome(const analysis::CodeProfile& code, const std::string& dearer_function,
                      CalibrationOutcome& outcome);

// P(X >= k) and P(X <= k) for X ~ Binomial(n, p) (Boost.Math).
double binomial_upper_tail(std::size_t k, std::size_t n, double p);
double binomial_lower_tail(std::size_t k, std::size_t n, double p);
CheckResult judge(const Check& check, std::size_t count, std::size_t trials);

std::string_view to_string(Quantity quantity);
std::string_view to_string(Rule rule);
std::string describe(const Check& check);  // "H5 never", "drift declared <= 5%"

// The family x outcome table, one line each (the command prints it).
std::vector<std::string> calibration_table(const CalibrationReport& report);
nlohmann::ordered_json calibration_json(const CalibrationReport& report);
std::string calibration_markdown(const CalibrationReport& report);
// DIR/calibration.json and DIR/calibration.md (dir is created).
void write_calibration(const CalibrationReport& report, const std::filesystem::path& dir);

}  // namespace nrmlab::validate
