// How long a condition takes, forecast from its first steps (issue 22), and how good that
// forecast was: the backtest every analysed run carries.
//
// Every progress bar extrapolates the mean rate (the steps done, then their mean time for each
// step to come): wrong by design when each step costs more than the last. The forecast fits
// the trend of step time against step on the steps done so far -- constant, linear or
// quadratic, the one with the lowest BIC on block means, a fit that would go to zero or below
// before the end dropped -- and sums it over the steps to come. The backtest replays that at
// 10%, 25% and 50% of each condition against what the condition really took, beside the
// rate-based figure, so every run shows how good its forecast was against the naive one.
// Step time only, for now: the forecast from work x unit cost per section (the attribution's
// split) is the next step, and a condition's length must be known (a finished run's is).
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "analysis/analysis_result.hpp"
#include "analysis/run_data.hpp"

namespace nrmlab::analysis {

// Fewer steps done than this: no trend is fitted (model "", total NaN); the rate-based
// figure is still given.
inline constexpr std::size_t k_min_forecast_steps = 20;

struct TotalForecast {
  std::string model;  // constant | linear | quadratic; "" when no trend could be fitted
  double total_s = k_not_recorded;
  double linear_eta_total_s = k_not_recorded;  // done + mean so far x steps to come
};

// The total time of `total_steps` steps, of which `done` (seconds each, in step order) are
// known. NaN step times are skipped in the fit and count as the mean in the sums.
TotalForecast forecast_total(std::span<const double> done, std::size_t total_steps);

// The backtest of one condition's steps (seconds each): at 10%, 25% and 50% of them.
std::vector<ForecastBacktest> backtest_forecast(const std::string& condition,
                                                std::span<const double> step_seconds);

// Every condition of a run, from its steps' wall time (none for time windows).
Prediction predict_run(const RunData& run);

// The ETA of a run in progress (the progress line's), from its steps so far: the current
// condition's total forecast from its trend (forecast_total), and each condition still to
// come costed as the finished ones took on average (as the current one is forecast, before
// any has finished). Until the trend can be fitted, the rate-based ETA, labelled so.
class LiveEta {
 public:
  // Memory stays bounded: past `max_entries` stored entries, neighbouring entries are summed
  // (each entry then stands for 2, 4, ... steps), so a 10^8-step condition costs no more than
  // a short one; the trend is fitted on block means of at most 64 blocks anyway.
  LiveEta(std::size_t steps_per_condition, std::size_t conditions,
          std::size_t max_entries = std::size_t{1} << 16)
      : m_steps_per_condition(steps_per_condition),
        m_conditions(conditions),
        m_max_entries(std::max<std::size_t>(max_entries, 2 * k_min_forecast_steps)) {}

  // A condition starts; the one before it, if any, is finished.
  void begin_condition();
  void add_step(double seconds);

  struct Estimate {
    double remaining_s = 0.0;       // what the forecast says is left
    double rate_remaining_s = 0.0;  // what the mean rate over the whole run so far says
    std::string basis;              // "constant trend" ... or "mean rate"
  };
  Estimate estimate() const;

 private:
  void compact();

  std::size_t m_steps_per_condition;
  std::size_t m_conditions;
  std::size_t m_max_entries;
  std::size_t m_begun = 0;
  // The current condition: its steps in order, `m_stride` steps to an entry, the steps not
  // yet making a whole entry pending; its steps and seconds so far.
  std::vector<double> m_entries;
  std::size_t m_stride = 1;
  std::size_t m_pending = 0;
  double m_pending_s = 0.0;
  std::size_t m_done = 0;
  double m_in_condition_s = 0.0;
  std::vector<double> m_finished_s;  // the finished conditions' totals
  double m_finished_steps_s = 0.0;   // their sum
};

}  // namespace nrmlab::analysis
