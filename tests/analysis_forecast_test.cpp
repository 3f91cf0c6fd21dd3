// The forecast of a condition's total time from its first steps (issue 22), and its
// backtest in analysis.json. Its error rates are measured on planted step times (100 runs a
// shape): where each step costs more than the last, the trend fitted at 25% of the run is
// within 10% of the total while the rate-based ETA (mean rate x steps to come) errs by more
// than 30%; where nothing changes, the trend is no worse than the rate.
#include <cmath>
#include <functional>
#include <random>

#include <gtest/gtest.h>

#include "analysis/analyze.hpp"
#include "analysis/forecast.hpp"
#include "rate_rules.hpp"
#include "synthetic_telemetry.hpp"
#include "test_support.hpp"

namespace nrmlab::testing {
namespace {

constexpr std::size_t k_forecast_runs = 100;
constexpr std::size_t k_forecast_steps = 2000;

// Step times (s) of one planted run: `mean(x)` at x = step / steps, times AR(1) noise
// (phi 0.5, marginal sd `sd`), kept positive.
std::vector<double> planted_step_times(const std::function<double(double)>& mean, double sd,
                                       std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, sd * std::sqrt(1 - 0.25));
  std::vector<double> out(k_forecast_steps);
  double noise = 0;
  for (std::size_t i = 0; i < k_forecast_steps; ++i) {
    noise = 0.5 * noise + normal(rng);
    out[i] = mean(static_cast<double>(i) / k_forecast_steps) * std::max(0.05, 1 + noise);
  }
  return out;
}

struct ForecastRates {
  std::size_t forecast_within_10 = 0;  // |error| <= 10%
  std::size_t linear_off_by_30 = 0;    // |error| > 30%
  std::size_t forecast_worse = 0;      // |forecast error| > |linear error| + 2 points
};

ForecastRates measure_forecasts(const std::function<double(double)>& mean, double sd,
                                double fraction = 0.25) {
  ForecastRates r;
  for (std::size_t run = 0; run < k_forecast_runs; ++run) {
    const auto steps = planted_step_times(mean, sd, 1000 + run);
    const auto backtest = analysis::backtest_forecast("planted", steps);
    const auto at = std::find_if(backtest.begin(), backtest.end(),
                                 [&](const auto& b) { return b.at_fraction == fraction; });
    EXPECT_NE(at, backtest.end());
    if (at == backtest.end()) continue;
    r.forecast_within_10 += std::abs(at->predicted_error) <= 0.10;
    r.linear_off_by_30 += std::abs(at->linear_eta_error) > 0.30;
    if (std::getenv("NRMLAB_FORECAST_TRACE"))
      std::printf("%s %.3f %.3f\n", at->model.c_str(), at->predicted_error, at->linear_eta_error);
    r.forecast_worse += !(std::abs(at->predicted_error) <= std::abs(at->linear_eta_error) + 0.02);
  }
  return r;
}

TEST(Forecast, ExactOnANoiselessLineAndParabola) {
  std::vector<double> line(1000), parabola(1000);
  double line_total = 0, parabola_total = 0;
  for (std::size_t i = 0; i < 1000; ++i) {
    const auto s = static_cast<double>(i);
    line[i] = 0.001 + 2e-6 * s;
    parabola[i] = 0.001 + 1e-8 * s * s;
    line_total += line[i];
    parabola_total += parabola[i];
  }
  const auto l = analysis::forecast_total(std::span(line).first(250), 1000);
  EXPECT_EQ(l.model, "linear");
  EXPECT_NEAR(l.total_s, line_total, 1e-9 * line_total);
  const auto p = analysis::forecast_total(std::span(parabola).first(250), 1000);
  EXPECT_EQ(p.model, "quadratic");
  // Block means of a parabola sit a block's variance above it: a few parts per million here.
  EXPECT_NEAR(p.total_s, parabola_total, 1e-5 * parabola_total);
  // The rate-based figure: the steps done, then their mean for every step to come.
  double done = 0;
  for (std::size_t i = 0; i < 250; ++i)
    done += line[i];
  EXPECT_NEAR(l.linear_eta_total_s, done * 4, 1e-12);
}

// Steps getting faster by 10 us each, from 10 ms: the line fits exactly but reaches zero at
// step 1,000, so it cannot be carried to step 2,000; the forecast falls back to a model that
// stays positive (here the level so far) instead of forecasting steps that take no time.
TEST(Forecast, ATrendThatWouldReachZeroBeforeTheEndIsNotExtrapolated) {
  std::vector<double> falling(500);
  double done = 0;
  for (std::size_t i = 0; i < falling.size(); ++i) {
    falling[i] = 0.010 - 1e-5 * static_cast<double>(i);
    done += falling[i];
  }
  const auto f = analysis::forecast_total(falling, 2000);
  EXPECT_EQ(f.model, "constant");
  EXPECT_NEAR(f.total_s, f.linear_eta_total_s, 1e-9);
  EXPECT_GT(f.total_s, done);
}

TEST(Forecast, TooFewStepsGiveTheRateAloneAndSaySo) {
  const std::vector<double> steps(analysis::k_min_forecast_steps - 1, 0.002);
  const auto f = analysis::forecast_total(steps, 100);
  EXPECT_EQ(f.model, "");
  EXPECT_TRUE(std::isnan(f.total_s));
  EXPECT_NEAR(f.linear_eta_total_s, 0.2, 1e-12);
}

// Step time growing fivefold over the run, linearly (the work per step grows at a constant
// unit cost), with 10% AR noise.
TEST(Forecast, LinearGrowthIsForecastWithinTenPercentAtAQuarter) {
  const ForecastRates r = measure_forecasts([](double x) { return 0.001 * (1 + 4 * x); }, 0.10);
  EXPECT_FALSE(too_few_at(r.forecast_within_10, k_forecast_runs, 0.95))
      << r.forecast_within_10 << " of " << k_forecast_runs;
  EXPECT_EQ(r.linear_off_by_30, k_forecast_runs);
}

// Pair checks growing with the square of a population that grows linearly: 1 ms to 10 ms.
// From step time alone the curvature is hard to see at a quarter of the run (the steps have
// grown by half, under 10% noise): the forecast beats the rate there, and is within 10% at
// half-way. (Forecasting the work counters, which have no such noise, is the next step.)
TEST(Forecast, QuadraticGrowthBeatsTheRateAtAQuarterAndIsWithinTenPercentAtHalf) {
  const auto mean = [](double x) { return 0.001 * (1 + 9 * x * x); };
  const ForecastRates quarter = measure_forecasts(mean, 0.10);
  EXPECT_EQ(quarter.linear_off_by_30, k_forecast_runs);
  EXPECT_FALSE(improbable_at(quarter.forecast_worse, k_forecast_runs, 0.05))
      << quarter.forecast_worse << " of " << k_forecast_runs;
  const ForecastRates half = measure_forecasts(mean, 0.10, 0.50);
  EXPECT_FALSE(too_few_at(half.forecast_within_10, k_forecast_runs, 0.90))
      << half.forecast_within_10 << " of " << k_forecast_runs;
}

// Nothing changes: a trend fitted to noise must not forecast worse than the rate.
TEST(Forecast, ASteadyRunIsForecastNoWorseThanTheRate) {
  const ForecastRates r = measure_forecasts([](double) { return 0.001; }, 0.20);
  EXPECT_FALSE(too_few_at(r.forecast_within_10, k_forecast_runs, 0.95))
      << r.forecast_within_10 << " of " << k_forecast_runs;
  EXPECT_FALSE(improbable_at(r.forecast_worse, k_forecast_runs, 0.05))
      << r.forecast_worse << " of " << k_forecast_runs;
}

// The progress line's ETA over a whole run: four conditions whose steps grow linearly
// (1 ms to 5 ms each), at a quarter of the first condition and a quarter of the second.
struct LiveEtaRates {
  std::size_t within_10 = 0;
  std::size_t rate_off_by_30 = 0;
};

LiveEtaRates measure_live_eta(std::size_t finished_conditions,
                              std::size_t max_entries = std::size_t{1} << 16) {
  constexpr std::size_t k_conditions = 4;
  const std::size_t quarter = k_forecast_steps / 4;
  LiveEtaRates r;
  for (std::size_t run = 0; run < k_forecast_runs; ++run) {
    analysis::LiveEta eta(k_forecast_steps, k_conditions, max_entries);
    double remaining = 0.0;  // the truth: every step not yet fed
    for (std::size_t c = 0; c < k_conditions; ++c) {
      const auto steps = planted_step_times([](double x) { return 0.001 * (1 + 4 * x); }, 0.10,
                                            5000 + 10 * run + c);
      if (c <= finished_conditions) eta.begin_condition();
      for (std::size_t i = 0; i < steps.size(); ++i) {
        const bool fed = c < finished_conditions || (c == finished_conditions && i < quarter);
        if (fed)
          eta.add_step(steps[i]);
        else
          remaining += steps[i];
      }
    }
    const analysis::LiveEta::Estimate estimate = eta.estimate();
    EXPECT_NE(estimate.basis, "mean rate");
    r.within_10 += std::abs(estimate.remaining_s / remaining - 1) <= 0.10;
    r.rate_off_by_30 += std::abs(estimate.rate_remaining_s / remaining - 1) > 0.30;
  }
  if (std::getenv("NRMLAB_FORECAST_TRACE"))
    std::printf("live ETA after %zu conditions: within 10%% %zu, rate off by 30%% %zu\n",
                finished_conditions, r.within_10, r.rate_off_by_30);
  return r;
}

TEST(Forecast, TheLiveEtaOfAGrowingRunIsWithinTenPercentWhereTheRateIsNot) {
  const LiveEtaRates first = measure_live_eta(0);
  EXPECT_FALSE(too_few_at(first.within_10, k_forecast_runs, 0.95))
      << first.within_10 << " of " << k_forecast_runs;
  EXPECT_EQ(first.rate_off_by_30, k_forecast_runs);
  // A condition finished: the ones to come are costed as it took.
  const LiveEtaRates second = measure_live_eta(1);
  EXPECT_FALSE(too_few_at(second.within_10, k_forecast_runs, 0.95))
      << second.within_10 << " of " << k_forecast_runs;
}

// With at most 64 entries (steps summed in twos, fours, ...), the same rates hold.
TEST(Forecast, TheLiveEtaKeepsItsMemoryBoundedAndStillForecasts) {
  const LiveEtaRates first = measure_live_eta(0, 64);
  EXPECT_FALSE(too_few_at(first.within_10, k_forecast_runs, 0.95))
      << first.within_10 << " of " << k_forecast_runs;
  EXPECT_EQ(first.rate_off_by_30, k_forecast_runs);
}

TEST(Forecast, TheLiveEtaIsTheRateAndSaysSoUntilATrendCanBeFitted) {
  analysis::LiveEta eta(100, 2);
  eta.begin_condition();
  for (std::size_t i = 0; i < analysis::k_min_forecast_steps - 1; ++i)
    eta.add_step(0.01 * static_cast<double>(i + 1));
  const analysis::LiveEta::Estimate early = eta.estimate();
  EXPECT_EQ(early.basis, "mean rate");
  EXPECT_DOUBLE_EQ(early.remaining_s, early.rate_remaining_s);
  // 19 steps of mean 0.1 s done; 181 to come.
  EXPECT_NEAR(early.rate_remaining_s, 0.1 * 181, 1e-9);
  eta.add_step(0.2);
  EXPECT_NE(eta.estimate().basis, "mean rate");
}

TEST(Forecast, EveryAnalysedRunCarriesItsBacktest) {
  ScratchDir scratch;
  SyntheticRun run;
  SyntheticCondition c;
  c.steps = 400;
  c.step = [](std::int64_t step, telemetry::StepRow& row, std::mt19937_64& rng) {
    row.wall_ns = 1'000'000 + 5'000 * step + noise(rng, 20'000);
    row.cpu_ns = row.wall_ns;
  };
  run.conditions = {c};
  write_synthetic_run(scratch.path(), run);
  const auto report = analysis::analyze(scratch.path(), {});
  const auto& backtest = report.runs.at(0).sound.prediction.backtest;
  ASSERT_EQ(backtest.size(), 3u);
  EXPECT_EQ(backtest[1].condition, "OFF-OFF");
  EXPECT_EQ(backtest[1].at_fraction, 0.25);
  EXPECT_EQ(backtest[1].steps_done, 100u);
  EXPECT_EQ(backtest[1].model, "linear");
  EXPECT_LT(std::abs(backtest[1].predicted_error), 0.05);
  EXPECT_GT(std::abs(backtest[1].linear_eta_error), 0.3);
  // analysis.json: written under sound.prediction.backtest and read back.
  const auto file = scratch.path() / "analysis.json";
  analysis::write_analysis(report, file);
  const auto json = nlohmann::json::parse(read_text(file));
  const auto& written = json["runs"][0]["sound"]["prediction"]["backtest"];
  ASSERT_EQ(written.size(), 3u);
  EXPECT_EQ(written[2]["at_fraction"].get<double>(), 0.5);
  const auto back = analysis::read_analysis(file).runs.at(0).sound.prediction.backtest;
  ASSERT_EQ(back.size(), 3u);
  EXPECT_EQ(back[2].actual_total_s, backtest[2].actual_total_s);
  EXPECT_EQ(back[0].model, backtest[0].model);
}

// A watched program that marked no steps is read in fixed windows of wall time: each lasts
// the window, so there is nothing to forecast and no backtest.
TEST(Forecast, TimeWindowsHaveNoBacktest) {
  ScratchDir scratch;
  SyntheticRun run;
  SyntheticCondition c;
  c.steps = 100;
  c.step = [](std::int64_t step, telemetry::StepRow& row, std::mt19937_64&) {
    row.wall_ns = 1'000'000 + 5'000 * step;
  };
  run.conditions = {c};
  run.extra_meta = {{"step_source", "time windows"}};
  write_synthetic_run(scratch.path(), run);
  const auto report = analysis::analyze(scratch.path(), {});
  EXPECT_TRUE(report.runs.at(0).sound.prediction.backtest.empty());
}

}  // namespace
}  // namespace nrmlab::testing
