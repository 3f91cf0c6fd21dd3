// Which code got slower (issue 19), tested by its error rates on planted runs: a simulated
// single-threaded program of two functions per step, sampled every millisecond into 100 ms
// windows as the profiler does, where (a) one function gets dearer at constant work, (b) the
// work per step grows and neither function's cost per unit changes, (c) nothing changes.
// Each case is replayed over many seeds; a rule passes when its misses or false calls are
// below the count that would be improbable (p < 0.001) at the nominal rate.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "analysis/code_growth.hpp"
#include "stats_calibration.hpp"

namespace nrmlab::analysis {
namespace {

using stats::testing::improbable_count;
using telemetry::profile::ProfileData;
using telemetry::profile::WaitClass;

constexpr std::int64_t k_window_ns = 100'000'000;  // 100 ms
constexpr double k_period_ns = 1e6;                // one sample a millisecond

struct Plant {
  std::size_t steps = 400;
  double scan_ms_first = 2.0, scan_ms_last = 2.0;  // per step at the first work level
  double update_ms = 5.0;
  double work_first = 100, work_last = 100;  // items per step
  bool cost_follows_work = false;            // both functions' time scales with the work
  bool record_work = true;
  double noise = 0.2;  // log-normal sd of each function's time in a step
};

struct PlantedRun {
  ConditionData condition;
  ProfileData profile;
};

// Steps back to back; a sample every period (at a random phase) charged to the function
// running then, in the window of its time.
PlantedRun simulate(const Plant& p, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<std::string> names{"step", "t_ns", "wall_ns"};
  if (p.record_work) names.emplace_back("work.items");
  PlantedRun run;
  run.condition.name = "program";
  run.condition.steps = Columns(names);
  std::vector<double> begin, scan_end, end;
  double t = 0;
  for (std::size_t i = 0; i < p.steps; ++i) {
    const double f = static_cast<double>(i) / static_cast<double>(p.steps - 1);
    const double work = std::round(p.work_first + (p.work_last - p.work_first) * f);
    const double scale = p.cost_follows_work ? work / p.work_first : 1.0;
    const double scan = 1e6 * (p.scan_ms_first + (p.scan_ms_last - p.scan_ms_first) * f) * scale *
                        std::exp(p.noise * normal(rng));
    const double update = 1e6 * p.update_ms * scale * std::exp(p.noise * normal(rng));
    std::vector<double> row{static_cast<double>(i), t, scan + update};
    if (p.record_work) row.push_back(work);
    run.condition.steps.append_row(row);
    begin.push_back(t);
    scan_end.push_back(t + scan);
    t += scan + update;
    end.push_back(t);
  }
  ProfileData& data = run.profile;
  data.status = "sampled";
  data.window_ns = k_window_ns;
  data.period_ns = static_cast<std::int64_t>(k_period_ns);
  data.frames = {
      {1, "main", "sim", 0}, {2, "scan_history", "sim", 0}, {3, "update_agents", "sim", 0}};
  data.stacks = {{1, 0, 1}, {2, 1, 2}, {3, 1, 3}};
  std::map<std::pair<std::int64_t, std::int64_t>, std::int64_t> samples;  // (window, stack)
  std::size_t step = 0;
  for (double s = std::uniform_real_distribution<double>(0, k_period_ns)(rng); s < t;
       s += k_period_ns) {
    while (end[step] <= s)
      ++step;
    const std::int64_t stack = s < scan_end[step] ? 2 : 3;
    ++samples[{static_cast<std::int64_t>(s) / k_window_ns, stack}];
  }
  for (const auto& [key, n] : samples)
    data.counts.push_back(
        {key.first, key.second, WaitClass::on_cpu, n, n * static_cast<std::int64_t>(k_period_ns)});
  return run;
}

struct Outcome {
  CodeComparison comparison;
  std::vector<CodeGrowth> growth;
  const CodeGrowth* named(const std::string& function) const {
    for (const CodeGrowth& g : growth)
      if (g.function == function) return &g;
    return nullptr;
  }
  std::string line() const {
    CodeProfile code;
    code.comparisons = {comparison};
    code.growth = growth;
    return growth_line(code, {comparison.condition});
  }
};

// The first and last quarter compared, as the attribution's segments are by default.
Outcome compare_quarters(const PlantedRun& run) {
  const std::size_t n = run.condition.steps.rows();
  const std::string work = run.condition.steps.has("work.items") ? "work.items" : "";
  const GrowthSide early = growth_side(run.condition, 0, n / 4 - 1, k_window_ns, work, "early");
  const GrowthSide late = growth_side(run.condition, n - n / 4, n - 1, k_window_ns, work, "late");
  Outcome out;
  out.comparison.condition = run.condition.name;
  out.comparison.work_counter = work;
  out.growth = compare_code(run.profile, early, run.profile, late, GrowthOptions{}, out.comparison);
  return out;
}

constexpr std::size_t k_runs = 200;

TEST(CodeGrowth, NamesTheFunctionThatGotDearerAtConstantWorkFirst) {
  Plant plant;
  plant.scan_ms_first = 2.0;
  plant.scan_ms_last = 20.0;  // a scan over a history that only grows
  std::size_t misses = 0, false_dearer = 0;
  for (std::size_t r = 0; r < k_runs; ++r) {
    const Outcome o = compare_quarters(simulate(plant, 1000 + r));
    ASSERT_EQ(o.comparison.status, "compared");
    ASSERT_FALSE(o.growth.empty());
    const CodeGrowth& top = o.growth.front();
    if (top.function != "scan_history" || top.share_of_change < 0.8 ||
        top.change != CodeChange::dearer)
      ++misses;
    const CodeGrowth* update = o.named("update_agents");
    if (update != nullptr && update->change == CodeChange::dearer) ++false_dearer;
    if (r == 0) {
      EXPECT_GT(top.self_per_step_late / top.self_per_step_early, 3.0);
      EXPECT_NEAR(top.more_work_share, 0.0, 0.02) << "work constant: none of it is more work";
      EXPECT_NEAR(top.more_work_share + top.dearer_share, top.share_of_change, 1e-9);
      EXPECT_LT(top.interval[0], top.share_of_change);
      EXPECT_GT(top.interval[1], top.share_of_change);
      EXPECT_GT(top.per_unit_ratio_ci_low, 1.1);
      const std::string line = o.line();
      EXPECT_NE(line.find("of the slowdown is in scan_history (self time per step x"),
                std::string::npos)
          << line;
      EXPECT_NE(line.find("work constant): dearer"), std::string::npos) << line;
    }
  }
  fmt::print(
      "dearer at constant work: {} of {} runs missed it, {} called the constant one "
      "dearer\n",
      misses, k_runs, false_dearer);
  EXPECT_LT(misses, improbable_count(k_runs, 0.05)) << misses << " of " << k_runs;
  EXPECT_LT(false_dearer, improbable_count(k_runs, 0.05)) << false_dearer << " of " << k_runs;
}

TEST(CodeGrowth, CallsGrowthThatFollowsTheWorkMoreWorkNotDearer) {
  Plant plant;
  plant.work_first = 100;
  plant.work_last = 400;
  plant.cost_follows_work = true;
  std::size_t any_dearer = 0, not_more_work = 0;
  std::vector<double> dearer_part;  // of the top function's change
  for (std::size_t r = 0; r < k_runs; ++r) {
    const Outcome o = compare_quarters(simulate(plant, 2000 + r));
    ASSERT_EQ(o.comparison.status, "compared");
    EXPECT_GT(o.comparison.work_per_step_late / o.comparison.work_per_step_early, 2.0);
    bool dearer = false;
    for (const CodeGrowth& g : o.growth)
      dearer = dearer || g.change == CodeChange::dearer;
    any_dearer += dearer ? 1 : 0;
    if (o.growth.front().change != CodeChange::more_work) ++not_more_work;
    dearer_part.push_back(o.growth.front().dearer_share / o.growth.front().share_of_change);
  }
  // The change is all more work: the midpoint split gives the dearer part next to nothing.
  std::sort(dearer_part.begin(), dearer_part.end());
  EXPECT_LT(std::abs(dearer_part[dearer_part.size() / 2]), 0.02);
  EXPECT_LT(std::max(-dearer_part.front(), dearer_part.back()), 0.25);
  fmt::print(
      "more work: {} of {} runs named a function dearer, {} did not call the top one "
      "more work; the dearer part of its change {:.3f} to {:.3f}\n",
      any_dearer, k_runs, not_more_work, dearer_part.front(), dearer_part.back());
  // Holm over the functions compared holds the family's false "dearer" to 5%.
  EXPECT_LT(any_dearer, improbable_count(k_runs, 0.05)) << any_dearer << " of " << k_runs;
  EXPECT_LT(not_more_work, improbable_count(k_runs, 0.05)) << not_more_work << " of " << k_runs;
}

TEST(CodeGrowth, NamesNothingChangedWhenNothingChanged) {
  std::size_t any_changed = 0;
  for (std::size_t r = 0; r < k_runs; ++r) {
    const Outcome o = compare_quarters(simulate(Plant{}, 3000 + r));
    bool changed = false;
    for (const CodeGrowth& g : o.growth)
      changed = changed || g.change != CodeChange::unchanged;
    any_changed += changed ? 1 : 0;
  }
  fmt::print("nothing changed: {} of {} runs called a function changed\n", any_changed, k_runs);
  EXPECT_LT(any_changed, improbable_count(k_runs, 0.05)) << any_changed << " of " << k_runs;
}

TEST(CodeGrowth, WithoutAWorkCounterADearerFunctionIsNotIdentifiable) {
  Plant plant;
  plant.scan_ms_last = 20.0;
  plant.record_work = false;
  const PlantedRun run = simulate(plant, 4000);
  EXPECT_EQ(dominant_work_counter(run.condition, nullptr), "");
  const Outcome o = compare_quarters(run);
  ASSERT_FALSE(o.growth.empty());
  EXPECT_EQ(o.growth.front().function, "scan_history");
  EXPECT_EQ(o.growth.front().change, CodeChange::not_identifiable)
      << "more time per step, but per unit of what?";
  EXPECT_TRUE(std::isnan(o.growth.front().self_per_unit_early));
  EXPECT_NE(o.line().find("work not measured): not identifiable"), std::string::npos);
}

// A unit of work can cost well under a nanosecond (a counter of array elements scanned):
// the ratio and its interval must not collapse to 1 at some absolute floor.
TEST(CodeGrowth, AUnitCheaperThanANanosecondStillShowsItsChange) {
  Plant plant;
  plant.scan_ms_last = 20.0;
  plant.work_first = plant.work_last = 1e8;  // 20 ms over 1e8 units: 0.2 ns a unit
  const Outcome o = compare_quarters(simulate(plant, 4002));
  ASSERT_FALSE(o.growth.empty());
  const CodeGrowth& top = o.growth.front();
  EXPECT_EQ(top.function, "scan_history");
  EXPECT_LT(top.self_per_unit_late, 1e-9);
  EXPECT_GT(top.per_unit_ratio_ci_low, 2.0);
  EXPECT_EQ(top.change, CodeChange::dearer);
}

TEST(CodeGrowth, AConstantWorkCounterIsTheWorkEvenThoughItNeverVaries) {
  Plant plant;
  plant.scan_ms_last = 20.0;
  const PlantedRun run = simulate(plant, 4001);
  EXPECT_EQ(dominant_work_counter(run.condition, nullptr), "work.items");
}

TEST(CodeGrowth, SaysSoWhenTheSidesHaveTooFewWindows) {
  Plant plant;
  plant.steps = 40;  // 40 steps of 7 ms: under three 100 ms windows a quarter
  const Outcome o = compare_quarters(simulate(plant, 5000));
  EXPECT_TRUE(o.growth.empty());
  EXPECT_TRUE(o.comparison.status.starts_with("too few windows")) << o.comparison.status;
  EXPECT_EQ(o.line(), "which code got slower: not compared: " + o.comparison.status);
}

TEST(CodeGrowth, TheSummarySaysNothingOfAConditionThatDidNotGetSlower) {
  Plant plant;
  plant.scan_ms_last = 20.0;
  const Outcome o = compare_quarters(simulate(plant, 5001));
  CodeProfile code;
  code.comparisons = {o.comparison};
  code.growth = o.growth;
  EXPECT_EQ(growth_line(code, {}), "");
  EXPECT_EQ(growth_line(code, {"another condition"}), "");
  EXPECT_NE(growth_line(code, {"program"}), "");
}

TEST(CodeGrowth, ASideIsTheWindowsMostlyInsideItsStepsWithEveryStepBegunInThem) {
  const PlantedRun run = simulate(Plant{}, 6000);
  const std::size_t n = run.condition.steps.rows();
  const GrowthSide side = growth_side(run.condition, 100, 199, k_window_ns, "work.items", "x");
  const auto t = run.condition.steps["t_ns"];
  const auto wall = run.condition.steps["wall_ns"];
  ASSERT_FALSE(side.windows.empty());
  EXPECT_GE(static_cast<double>(side.windows.front() + 1) * k_window_ns - t[100],
            k_window_ns / 2.0);
  EXPECT_GE(t[199] + wall[199] - static_cast<double>(side.windows.back()) * k_window_ns,
            k_window_ns / 2.0);
  for (std::size_t i = 0; i < side.windows.size(); ++i) {
    double steps = 0, work = 0;
    for (std::size_t row = 0; row < n; ++row)
      if (static_cast<std::int64_t>(t[row]) / k_window_ns == side.windows[i]) {
        steps += 1;
        work += 100;
      }
    EXPECT_EQ(side.steps[i], steps) << "window " << side.windows[i];
    EXPECT_EQ(side.work[i], work);
  }
}

}  // namespace
}  // namespace nrmlab::analysis
