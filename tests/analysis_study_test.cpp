// Study-level analysis: interventions over replicates, interactions, Phase 1B and
// functional equivalence.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include "analysis/analyze.hpp"
#include "synthetic_telemetry.hpp"
#include "test_support.hpp"

namespace nrmlab::testing {
namespace {

// A run whose step time grows by `drift` over 1000 steps from `base_ns`.
SyntheticRun run_with(double base_ns, double drift, std::uint64_t rng_seed) {
  SyntheticRun run;
  run.rng_seed = rng_seed;
  SyntheticCondition c;
  c.steps = 1000;
  c.step = [base_ns, drift](std::int64_t step, telemetry::StepRow& row, std::mt19937_64& rng) {
    row.wall_ns = row.cpu_ns = static_cast<std::int64_t>(base_ns * (1 + drift * step / 1000.0)) +
                               noise(rng, base_ns * 0.02);
  };
  run.conditions = {c};
  return run;
}

void write_result(const std::filesystem::path& dir, const std::vector<int>& population) {
  const nlohmann::json result = {
      {"schema", "nrmlab.result/1"},
      {"conditions",
       {{"OFF-OFF", {{"population_history", population}, {"pattern_count_history", population}}}}},
      {"synergy", nullptr}};
  std::ofstream(dir / "result.json") << result.dump();
}

const analysis::FactorEffect& factor(const analysis::StudyAnalysis& s, const std::string& name) {
  for (const auto& f : s.interventions)
    if (f.factor == name) return f;
  throw std::runtime_error("no factor " + name);
}

TEST(AnalysisStudy, AllocatorInterventionDecidesFragmentation) {
  ScratchDir scratch;
  for (int r = 0; r < 3; ++r) {
    auto glibc = run_with(1e6, 0.4, 10 + r);
    glibc.seed = r;
    write_synthetic_run(scratch / ("runs/glibc-" + std::to_string(r)), glibc);
    auto jemalloc = run_with(0.9e6, 0.02, 20 + r);
    jemalloc.seed = r;
    jemalloc.allocator = "jemalloc";
    write_synthetic_run(scratch / ("runs/jemalloc-" + std::to_string(r)), jemalloc);
  }
  const auto report = analysis::analyze(scratch.path(), {});
  ASSERT_TRUE(report.has_study);
  const auto& s = report.study;
  EXPECT_EQ(s.runs, 6u);
  const auto& allocator = factor(s, "allocator");
  EXPECT_EQ(allocator.baseline, "glibc");
  ASSERT_EQ(allocator.levels.size(), 2u);
  const auto& je = allocator.levels[1];
  EXPECT_EQ(je.level, "jemalloc");
  EXPECT_EQ(je.runs, 3u);
  EXPECT_LT(je.drift_delta, -0.3);
  EXPECT_LT(je.drift_ci_high, 0);
  EXPECT_LT(je.mean_step_ci_high, 0);  // faster on average too
  ASSERT_EQ(s.hypotheses.size(), 1u);
  EXPECT_EQ(s.hypotheses[0].verdict, analysis::Verdict::supported) << s.hypotheses[0].reason;
  // The seed varies between replicates but is not a factor.
  for (const auto& f : s.interventions)
    EXPECT_NE(f.factor, "seed");
}

TEST(AnalysisStudy, AliasedFieldsAreOneFactorAndInteractionsAreEstimated) {
  ScratchDir scratch;
  // 2x2: preset (clean/as-run, which also changes overheads.sampling) x allocator, three
  // replicates per cell; cell means 1, 2, 3, 6 ms: interaction (6 - 3) - (2 - 1) = 2 ms.
  const std::map<std::pair<std::string, std::string>, double> means = {
      {{"as-run", "glibc"}, 3e6},
      {{"as-run", "jemalloc"}, 6e6},
      {{"clean", "glibc"}, 1e6},
      {{"clean", "jemalloc"}, 2e6}};
  int index = 0;
  for (const auto& [cell, mean] : means)
    for (int r = 0; r < 3; ++r) {
      auto run = run_with(mean, 0.0, 100 + index);
      run.preset = cell.first;
      run.allocator = cell.second;
      run.seed = r;
      write_synthetic_run(scratch / fmt::format("runs/{:02}", index++), run);
    }
  const auto report = analysis::analyze(scratch.path(), {});
  const auto& s = report.study;
  ASSERT_EQ(s.interventions.size(), 2u);
  const auto& preset = factor(s, "preset");
  ASSERT_EQ(preset.aliases.size(), 1u);
  EXPECT_EQ(preset.aliases[0], "overheads.sampling");
  ASSERT_EQ(s.interactions.size(), 1u);
  const auto& x = s.interactions[0];
  EXPECT_NEAR(std::abs(x.mean_step_interaction_ms), 2.0, 0.1);
  EXPECT_LT(x.ci_low, x.mean_step_interaction_ms);
  EXPECT_GT(x.ci_high, x.mean_step_interaction_ms);
}

TEST(AnalysisStudy, Phase1BWithRealFunctionalEquivalence) {
  ScratchDir scratch;
  // The unoptimized run: 170x slower and drifting; the optimized runs: flat. Same seed and
  // synthetic inputs, so the science must match exactly.
  auto slow = run_with(170e4 / 1.5, 1.0, 1);  // mean 170x the optimized runs
  slow.preset = "as-run";
  write_synthetic_run(scratch / "runs/as-run", slow);
  write_result(scratch / "runs/as-run", {5, 6, 7});
  for (const char* name : {"optimized-as-run", "optimized-as-intended"}) {
    auto fast = run_with(1e4, 0.0, 2);
    fast.preset = name;
    write_synthetic_run(scratch / "runs" / name, fast);
    write_result(scratch / "runs" / name, {5, 6, 7});
  }
  auto report = analysis::analyze(scratch.path(), {});
  ASSERT_TRUE(report.study.has_phase_1b);
  const auto& p = report.study.phase_1b;
  EXPECT_EQ(p.unoptimized_run, "as-run");
  EXPECT_EQ(p.optimized_runs.size(), 2u);
  EXPECT_GT(p.speedup, 160);
  EXPECT_LT(p.speedup, 190);
  EXPECT_EQ(p.speedup_band, "within prediction");
  EXPECT_TRUE(p.variance_reduced);
  ASSERT_EQ(p.equivalence.size(), 2u);
  EXPECT_EQ(p.equivalence[0].method, "exact");
  EXPECT_TRUE(p.functionally_equivalent);
  EXPECT_EQ(p.verdict, "strong");

  // A different trajectory is caught, and the verdict drops to moderate.
  write_result(scratch / "runs/optimized-as-run", {5, 6, 8});
  report = analysis::analyze(scratch.path(), {});
  EXPECT_FALSE(report.study.phase_1b.functionally_equivalent);
  EXPECT_EQ(report.study.phase_1b.verdict, "moderate");
  bool caught = false;
  for (const auto& check : report.study.equivalence)
    if (check.run == "optimized-as-run") {
      caught = !check.equivalent && check.detail.find("population_history") != std::string::npos;
    }
  EXPECT_TRUE(caught);
}

TEST(AnalysisStudy, LiveInputsAreComparedAsTrajectories) {
  ScratchDir scratch;
  std::vector<int> a, b;
  std::mt19937_64 rng(3);
  for (int i = 0; i < 400; ++i) {
    a.push_back(50 + static_cast<int>(rng() % 5));
    b.push_back(50 + static_cast<int>(rng() % 5));
  }
  for (const char* name : {"x", "y"}) {
    auto run = run_with(1e6, 0.0, 5);
    run.source = "live";
    run.preset = std::string(name) == "x" ? "as-run" : "clean";
    write_synthetic_run(scratch / "runs" / name, run);
  }
  write_result(scratch / "runs/x", a);
  write_result(scratch / "runs/y", b);
  auto report = analysis::analyze(scratch.path(), {});
  ASSERT_EQ(report.study.equivalence.size(), 1u);
  EXPECT_EQ(report.study.equivalence[0].method, "trajectory");
  EXPECT_TRUE(report.study.equivalence[0].equivalent) << report.study.equivalence[0].detail;
  for (auto& v : b)
    v += 10;  // 20% higher: outside the 5% margin
  write_result(scratch / "runs/y", b);
  report = analysis::analyze(scratch.path(), {});
  EXPECT_FALSE(report.study.equivalence[0].equivalent);
}

// Issue 17 item 6: two live runs whose populations are mirror images -- one rising, one
// falling, the same mean and spread. The paper's TOST on means calls them equivalent (and
// paper mode keeps doing so, with a caveat); sound mode compares the trajectories in step
// order and does not.
TEST(AnalysisStudy, MirrorImageTrajectoriesAreNotEquivalent) {
  ScratchDir scratch;
  std::vector<int> rising, falling;
  for (int i = 0; i < 400; ++i) {
    rising.push_back(40 + i / 20);   // 40 .. 59
    falling.push_back(59 - i / 20);  // 59 .. 40
  }
  for (const char* name : {"as-run", "optimized-as-run"}) {
    auto run = run_with(std::string(name) == "as-run" ? 1e6 : 1e4, 0.0, 5);
    run.source = "live";
    run.preset = name;
    write_synthetic_run(scratch / "runs" / name, run);
  }
  write_result(scratch / "runs/as-run", rising);
  write_result(scratch / "runs/optimized-as-run", falling);
  const auto report = analysis::analyze(scratch.path(), {});
  ASSERT_EQ(report.study.equivalence.size(), 1u);
  const auto& sound = report.study.equivalence[0];
  EXPECT_EQ(sound.method, "trajectory");
  EXPECT_FALSE(sound.equivalent) << sound.detail;
  ASSERT_TRUE(report.study.has_phase_1b);
  const auto& p = report.study.phase_1b;
  ASSERT_EQ(p.equivalence.size(), 1u);
  EXPECT_EQ(p.equivalence[0].method, "TOST");
  EXPECT_TRUE(p.equivalence[0].equivalent) << p.equivalence[0].detail;  // as the paper says
  EXPECT_TRUE(p.functionally_equivalent);
  const bool flagged = std::any_of(p.caveats.begin(), p.caveats.end(), [](const std::string& c) {
    return c.find("TOST compares means only") != std::string::npos &&
           c.find("optimized-as-run") != std::string::npos;
  });
  EXPECT_TRUE(flagged) << fmt::format("{}", fmt::join(p.caveats, " | "));
  // The same trajectory, shifted within the margin, is equivalent both ways and not flagged.
  std::vector<int> shifted = rising;
  for (auto& v : shifted)
    v += 1;
  write_result(scratch / "runs/optimized-as-run", shifted);
  const auto again = analysis::analyze(scratch.path(), {});
  EXPECT_TRUE(again.study.equivalence[0].equivalent) << again.study.equivalence[0].detail;
  for (const auto& c : again.study.phase_1b.caveats)
    EXPECT_EQ(c.find("TOST"), std::string::npos) << c;
}

// Issue 17 item 6: an "acceleration reduction" computed from a negative baseline is a sign
// flip (the paper's -0.50 to +3.83 read as 867%); paper mode reports the number and says so.
TEST(AnalysisStudy, AccelerationSignFlipIsFlagged) {
  ScratchDir scratch;
  auto slow = run_with(170e4, -0.5, 1);  // decelerates: the last fifth is faster
  slow.preset = "as-run";
  write_synthetic_run(scratch / "runs/as-run", slow);
  write_result(scratch / "runs/as-run", {5, 6, 7});
  auto fast = run_with(1e4, 3.0, 2);  // accelerates strongly
  fast.preset = "optimized-as-run";
  write_synthetic_run(scratch / "runs/optimized-as-run", fast);
  write_result(scratch / "runs/optimized-as-run", {5, 6, 7});
  auto report = analysis::analyze(scratch.path(), {});
  ASSERT_TRUE(report.study.has_phase_1b);
  const auto& p = report.study.phase_1b;
  EXPECT_LT(p.acceleration_unoptimized, 0.0);
  EXPECT_GT(p.acceleration_optimized, 0.0);
  EXPECT_GT(p.acceleration_reduction, 1.0);  // the paper's rule: a "reduction" above 100%
  const auto sign_flip = [](const analysis::Phase1B& phase) {
    return std::count_if(phase.caveats.begin(), phase.caveats.end(), [](const std::string& c) {
      return c.find("is a sign flip, not a reduction") != std::string::npos;
    });
  };
  EXPECT_EQ(sign_flip(p), 1) << fmt::format("{}", fmt::join(p.caveats, " | "));
  // A genuine reduction (both accelerate, the optimized run less) carries no such note.
  ScratchDir second;
  auto slower = run_with(170e4, 1.0, 1);
  slower.preset = "as-run";
  write_synthetic_run(second / "runs/as-run", slower);
  write_result(second / "runs/as-run", {5, 6, 7});
  auto steady = run_with(1e4, 0.1, 2);
  steady.preset = "optimized-as-run";
  write_synthetic_run(second / "runs/optimized-as-run", steady);
  write_result(second / "runs/optimized-as-run", {5, 6, 7});
  report = analysis::analyze(second.path(), {});
  EXPECT_GT(report.study.phase_1b.acceleration_unoptimized, 0.0);
  EXPECT_EQ(sign_flip(report.study.phase_1b), 0);
  EXPECT_TRUE(report.study.phase_1b.caveats.empty())
      << fmt::format("{}", fmt::join(report.study.phase_1b.caveats, " | "));
}

}  // namespace
}  // namespace nrmlab::testing
