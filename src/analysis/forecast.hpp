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

}  // namespace nrmlab::analysis
