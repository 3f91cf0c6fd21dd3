// Study-level analysis: interventions over replicates, interactions, Phase 1B and
// functional equivalence.
#include <fmt/format.h>

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

TEST(AnalysisStudy, LiveInputsAreComparedWithTost) {
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
  EXPECT_EQ(report.study.equivalence[0].method, "TOST");
  EXPECT_TRUE(report.study.equivalence[0].equivalent) << report.study.equivalence[0].detail;
  for (auto& v : b)
    v += 10;  // 20% higher: outside the 5% margin
  write_result(scratch / "runs/y", b);
  report = analysis::analyze(scratch.path(), {});
  EXPECT_FALSE(report.study.equivalence[0].equivalent);
}

}  // namespace
}  // namespace nrmlab::testing
