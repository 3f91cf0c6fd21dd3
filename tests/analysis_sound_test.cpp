// Sound mode on synthetic telemetry whose structure is known: each test plants one pattern
// and asserts the verdict the analysis must reach.
#include <cmath>

#include <gtest/gtest.h>

#include "analysis/analyze.hpp"
#include "synthetic_telemetry.hpp"
#include "test_support.hpp"

namespace nrmlab::testing {
namespace {

using analysis::AnalysisReport;
using analysis::Hypothesis;

AnalysisReport analyse(const SyntheticRun& run, const ScratchDir& scratch,
                       analysis::Mode mode = analysis::Mode::sound) {
  write_synthetic_run(scratch.path(), run);
  analysis::AnalyzeOptions options;
  options.mode = mode;
  return analysis::analyze(scratch.path(), options);
}

const Hypothesis& hypothesis(const AnalysisReport& report, const std::string& id) {
  for (const auto& h : report.runs.at(0).sound.hypotheses)
    if (h.id == id) return h;
  throw std::runtime_error("no hypothesis " + id);
}

SyntheticCondition condition(std::int64_t steps = 2000) {
  SyntheticCondition c;
  c.steps = steps;
  return c;
}

TEST(AnalysisSound, PureLinearDriftIsFoundAndNotBlamedOnWork) {
  ScratchDir scratch;
  SyntheticRun run;
  auto c = condition();
  c.step = [](std::int64_t step, telemetry::StepRow& row, std::mt19937_64& rng) {
    row.wall_ns = row.cpu_ns = 1'000'000 + 250 * step + noise(rng, 20'000);
  };
  c.switches = [](std::int64_t, std::mt19937_64& rng) {  // unrelated to step time
    return std::uniform_int_distribution<std::int64_t>(0, 3)(rng);
  };
  run.conditions = {c};
  const auto report = analyse(run, scratch);
  const auto& drift = report.runs[0].sound.drift.at(0);
  EXPECT_TRUE(drift.drifts);
  EXPECT_EQ(drift.direction, analysis::DriftDirection::slower);
  EXPECT_NEAR(drift.hac_slope_ns_per_step, 250, 25);
  EXPECT_LT(drift.hac_ci_low, 250);
  EXPECT_GT(drift.hac_ci_high, 250);
  EXPECT_NEAR(drift.theil_sen_slope_ns_per_step, 250, 25);
  EXPECT_LT(drift.mann_kendall_p, 1e-10);
  EXPECT_NEAR(drift.relative_change, 250.0 * 1999 / 1.25e6, 0.05);
  EXPECT_EQ(drift.windows.size(), 20u);
  EXPECT_LT(drift.windows.front().p50_ms, drift.windows.back().p50_ms);
  // No work counter varies, and no run-queue delay was recorded.
  EXPECT_EQ(hypothesis(report, "H5").verdict, analysis::Verdict::not_testable);
  EXPECT_EQ(hypothesis(report, "H1").verdict, analysis::Verdict::not_testable);
  EXPECT_NE(hypothesis(report, "H1").reason.find("no run-queue delay"), std::string::npos);
  EXPECT_EQ(hypothesis(report, "H3").verdict, analysis::Verdict::not_testable);  // no database work
  EXPECT_EQ(hypothesis(report, "H4").verdict, analysis::Verdict::not_testable);  // no sensors
}

TEST(AnalysisSound, StableRunDoesNotDriftAndSupportsNothing) {
  ScratchDir scratch;
  SyntheticRun run;
  auto c = condition();
  c.step = [](std::int64_t, telemetry::StepRow& row, std::mt19937_64& rng) {
    row.wall_ns = row.cpu_ns = 1'000'000 + noise(rng, 50'000);
  };
  run.conditions = {c};
  const auto report = analyse(run, scratch);
  EXPECT_FALSE(report.runs[0].sound.drift[0].drifts);
  EXPECT_EQ(report.runs[0].sound.drift[0].direction, analysis::DriftDirection::stable);
  for (const auto& h : report.runs[0].sound.hypotheses)
    EXPECT_NE(h.verdict, analysis::Verdict::supported) << h.id;
}

TEST(AnalysisSound, StepChangeIsLocatedByChangePointDetection) {
  ScratchDir scratch;
  SyntheticRun run;
  auto c = condition();
  c.step = [](std::int64_t step, telemetry::StepRow& row, std::mt19937_64& rng) {
    row.wall_ns = row.cpu_ns = (step <= 1200 ? 1'000'000 : 1'500'000) + noise(rng, 30'000);
  };
  run.conditions = {c};
  const auto report = analyse(run, scratch);
  const auto& drift = report.runs[0].sound.drift[0];
  // A step, not a trend: reported as a level shift with its step and ratio.
  EXPECT_EQ(drift.direction, analysis::DriftDirection::level_shift);
  EXPECT_NEAR(static_cast<double>(drift.shift_step), 1200, 10);
  EXPECT_NEAR(drift.shift_ratio, 1.5, 0.01);
  ASSERT_EQ(drift.change_points.size(), 1u);
  EXPECT_NEAR(static_cast<double>(drift.change_points[0]), 1200, 10);
  ASSERT_EQ(drift.segment_means_ms.size(), 2u);
  EXPECT_NEAR(drift.segment_means_ms[0], 1.0, 0.01);
  EXPECT_NEAR(drift.segment_means_ms[1], 1.5, 0.01);
}

TEST(AnalysisSound, WorkloadGrowthAtFlatUnitCostSupportsH5) {
  ScratchDir scratch;
  SyntheticRun run;
  auto c = condition();
  c.step = [](std::int64_t step, telemetry::StepRow& row, std::mt19937_64& rng) {
    const std::uint64_t agents = 10 + static_cast<std::uint64_t>(step / 20) +
                                 std::uniform_int_distribution<std::uint64_t>(0, 3)(rng);
    row.counters.agents_alive = agents;
    row.counters.evolve_calls = agents;
    row.counters.resonance_pairs = agents * (agents - 1) / 2;
    row.wall_ns = row.cpu_ns = 200'000 +
                               100 * static_cast<std::int64_t>(row.counters.resonance_pairs) +
                               2'000 * static_cast<std::int64_t>(agents) + noise(rng, 10'000);
  };
  run.conditions = {c};
  const auto report = analyse(run, scratch);
  const auto& h5 = hypothesis(report, "H5");
  EXPECT_EQ(h5.verdict, analysis::Verdict::supported) << h5.reason;
  EXPECT_GT(h5.effect_size, 0.8);
  const auto& model = report.runs[0].sound.cost_models[0];
  EXPECT_GT(model.r_squared, 0.95);
  for (const auto& term : model.terms) {
    EXPECT_FALSE(term.drifts) << term.counter;
    if (term.counter == "resonance_pairs") {
      EXPECT_NEAR(term.unit_cost_ns, 100, 10);
    }
  }
}

TEST(AnalysisSound, DriftInOneUnitCostIsAttributedToThatCounterAndToIo) {
  ScratchDir scratch;
  SyntheticRun run;
  auto c = condition();
  // Rows written per step vary; each row costs 2 µs at first and 6 µs at the end (the store
  // gets slower as it grows). Evolve calls vary too, at a flat 5 µs.
  c.step = [](std::int64_t step, telemetry::StepRow& row, std::mt19937_64& rng) {
    const auto rows = std::uniform_int_distribution<std::int64_t>(1, 20)(rng);
    const auto evolves = std::uniform_int_distribution<std::int64_t>(10, 40)(rng);
    const std::int64_t per_row = 2'000 + 2 * step;
    row.counters.db_transactions = 1;
    row.counters.db_rows = static_cast<std::uint64_t>(rows);
    row.counters.evolve_calls = static_cast<std::uint64_t>(evolves);
    row.sections.database_ns = rows * per_row;
    row.wall_ns = 100'000 + 5'000 * evolves + row.sections.database_ns + noise(rng, 5'000);
    row.cpu_ns = row.wall_ns;
  };
  c.database_bytes = [](std::int64_t step) { return 4096 * step; };
  run.conditions = {c};
  const auto report = analyse(run, scratch);
  const auto& model = report.runs[0].sound.cost_models[0];
  bool found_rows = false;
  for (const auto& term : model.terms) {
    if (term.counter == "db_rows") {
      found_rows = true;
      EXPECT_TRUE(term.drifts);
      EXPECT_GT(term.relative_change, 1.0);
    } else {
      EXPECT_FALSE(term.drifts) << term.counter;
    }
  }
  EXPECT_TRUE(found_rows);
  EXPECT_EQ(hypothesis(report, "H3").verdict, analysis::Verdict::supported)
      << hypothesis(report, "H3").reason;
  EXPECT_EQ(hypothesis(report, "H5").verdict, analysis::Verdict::not_supported);
}

TEST(AnalysisSound, FewerRowsPerCommitIsNotIoAccumulation) {
  ScratchDir scratch;
  SyntheticRun run;
  auto c = condition();
  // One transaction per step with a fixed commit cost (1 ms) and a fixed cost per row
  // (10 µs); the rows per step fall as a population dies out. Per-row latency rises, yet the
  // same I/O costs the same throughout: not I/O accumulation.
  c.step = [](std::int64_t step, telemetry::StepRow& row, std::mt19937_64& rng) {
    const auto rows = std::max<std::int64_t>(
        1, 200 - step / 10 + std::uniform_int_distribution<std::int64_t>(-5, 5)(rng));
    row.counters.db_transactions = 1;
    row.counters.db_rows = static_cast<std::uint64_t>(rows);
    row.sections.database_ns = 1'000'000 + 10'000 * rows + noise(rng, 10'000);
    row.wall_ns = row.cpu_ns = 500'000 + row.sections.database_ns;
  };
  run.conditions = {c};
  const auto report = analyse(run, scratch);
  const auto& h3 = hypothesis(report, "H3");
  EXPECT_EQ(h3.verdict, analysis::Verdict::not_supported) << h3.reason;
  EXPECT_LT(std::abs(h3.effect_size), 0.05);
}

TEST(AnalysisSound, TrendingButUnrelatedIndicatorsAreNotSupported) {
  ScratchDir scratch;
  SyntheticRun run;
  auto c = condition(3000);
  // Step time and the contention indicators all rise with the step index, independently.
  c.step = [](std::int64_t step, telemetry::StepRow& row, std::mt19937_64& rng) {
    row.wall_ns = row.cpu_ns = 1'000'000 + 200 * step + noise(rng, 30'000);
  };
  c.switches = [](std::int64_t step, std::mt19937_64& rng) {
    return step / 100 + std::uniform_int_distribution<std::int64_t>(0, 3)(rng);
  };
  c.system = [](std::int64_t step, telemetry::SystemRow& row, std::mt19937_64& rng) {
    row.sample.load1 = 0.5 + step * 1e-3 + std::normal_distribution<double>(0, 0.05)(rng);
    row.sample.other_cpu_ns = 1'000'000 + 1'000 * step + noise(rng, 50'000);
  };
  // The run itself barely waits for a CPU (1% of its time).
  c.runq = [](std::int64_t, const telemetry::StepRow& row) { return row.wall_ns / 100; };
  run.conditions = {c};
  const auto report = analyse(run, scratch);
  EXPECT_TRUE(report.runs[0].sound.drift[0].drifts);
  const auto& h1 = hypothesis(report, "H1");
  EXPECT_EQ(h1.verdict, analysis::Verdict::not_supported) << h1.reason;
  EXPECT_NEAR(h1.effect_size, 0.01, 0.002);
  EXPECT_GE(h1.evidence.size(), 2u);
}

TEST(AnalysisSound, ContentionThatSlowsStepsSupportsH1) {
  ScratchDir scratch;
  SyntheticRun run;
  auto c = condition(3000);
  // A competing process runs in bursts: those steps are preempted (more involuntary
  // switches) and take longer in wall time at the same CPU time.
  const auto busy = [](std::int64_t step) { return (step / 200) % 2 == 1; };
  c.step = [busy](std::int64_t step, telemetry::StepRow& row, std::mt19937_64& rng) {
    row.cpu_ns = 1'000'000 + noise(rng, 20'000);
    row.wall_ns = row.cpu_ns + (busy(step) ? 600'000 : 0) + std::abs(noise(rng, 20'000));
  };
  c.switches = [busy](std::int64_t step, std::mt19937_64& rng) {
    return (busy(step) ? 5 : 0) + std::uniform_int_distribution<std::int64_t>(0, 1)(rng);
  };
  // The time off the CPU is time waiting for it (runnable, not running).
  c.runq = [](std::int64_t, const telemetry::StepRow& row) { return row.wall_ns - row.cpu_ns; };
  run.conditions = {c};
  const auto report = analyse(run, scratch);
  const auto& h1 = hypothesis(report, "H1");
  EXPECT_EQ(h1.verdict, analysis::Verdict::supported) << h1.reason;
  // Half of the steps wait 0.6 ms of 1.6: about 0.23 of all step time.
  EXPECT_NEAR(h1.effect_size, 0.23, 0.03);
  EXPECT_GT(report.runs[0].sound.run.off_cpu_unexplained_share, 0.1);
}

// Blocking I/O and sleeps keep a run off the CPU without it waiting for one: whatever the
// preemption counts do, that is not contention.
TEST(AnalysisSound, OffCpuTimeThatIsNotWaitingForACpuIsNotContention) {
  std::size_t supported = 0;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    ScratchDir scratch;
    SyntheticRun run;
    run.rng_seed = seed;
    auto c = condition(600);
    // fsync-like waits that grow; preemptions proportional to step length.
    c.step = [](std::int64_t step, telemetry::StepRow& row, std::mt19937_64& rng) {
      row.cpu_ns = 200'000 + noise(rng, 10'000);
      row.sections.database_ns = 800'000 + 1'000 * step + std::abs(noise(rng, 50'000));
      row.wall_ns = row.cpu_ns + row.sections.database_ns;
    };
    c.switches = [](std::int64_t step, std::mt19937_64& rng) {
      return step / 50 + std::uniform_int_distribution<std::int64_t>(0, 2)(rng);
    };
    c.runq = [](std::int64_t, const telemetry::StepRow& row) { return row.wall_ns / 200; };
    run.conditions = {c};
    const auto report = analyse(run, scratch);
    supported += is_supported(hypothesis(report, "H1").verdict);
  }
  EXPECT_EQ(supported, 0u);
}

TEST(AnalysisSound, ThermalThrottlingIsTestableOnlyWithSensors) {
  ScratchDir scratch;
  SyntheticRun run;
  auto c = condition(3000);
  c.system_every = 10;
  // The CPU clock drops to 60% in bursts; steps take longer by the same factor.
  const auto throttled = [](std::int64_t step) { return (step / 300) % 2 == 1; };
  c.step = [throttled](std::int64_t step, telemetry::StepRow& row, std::mt19937_64& rng) {
    row.wall_ns = row.cpu_ns = (throttled(step) ? 1'666'000 : 1'000'000) + noise(rng, 30'000);
  };
  run.conditions = {c};
  run.cpu_frequency_khz = [throttled](std::int64_t step) {
    return throttled(step) ? 1.8e6 : 3.0e6;
  };
  auto report = analyse(run, scratch);
  const auto& h4 = hypothesis(report, "H4");
  EXPECT_EQ(h4.verdict, analysis::Verdict::supported) << h4.reason;
  EXPECT_LT(h4.effect_size, -0.5);  // lower frequency, slower steps

  run.cpu_frequency_khz = nullptr;  // the same run on a machine without sensors
  report = analyse(run, scratch);
  EXPECT_EQ(hypothesis(report, "H4").verdict, analysis::Verdict::not_testable);
  EXPECT_NE(hypothesis(report, "H4").reason.find("no CPU frequency"), std::string::npos);
}

TEST(AnalysisSound, FragmentationNeedsGrowingRatiosAndGrowingUnitCosts) {
  ScratchDir scratch;
  SyntheticRun run;
  auto c = condition();
  c.step = [](std::int64_t step, telemetry::StepRow& row, std::mt19937_64& rng) {
    const auto evolves = std::uniform_int_distribution<std::int64_t>(10, 40)(rng);
    row.counters.evolve_calls = static_cast<std::uint64_t>(evolves);
    row.wall_ns = row.cpu_ns = 100'000 + (5'000 + 3 * step) * evolves + noise(rng, 5'000);
  };
  c.memory = [](std::int64_t step, telemetry::MemoryRow& row) {
    row.rss_bytes = 100'000'000 + 20'000 * step;
    row.allocator.allocated = 80'000'000;
    row.allocator.active = 90'000'000;
  };
  run.conditions = {c};
  const auto report = analyse(run, scratch);
  const auto& h2 = hypothesis(report, "H2");
  EXPECT_EQ(h2.verdict, analysis::Verdict::supported) << h2.reason;
  EXPECT_GT(h2.effect_size, 0.2);
}

TEST(AnalysisSound, ConstantSeriesGiveNullsNotNumbers) {
  ScratchDir scratch;
  SyntheticRun run;
  run.conditions = {condition(200)};  // every step exactly 1 ms, counters constant
  const auto report = analyse(run, scratch, analysis::Mode::all);
  const auto& drift = report.runs[0].sound.drift[0];
  EXPECT_FALSE(drift.drifts);
  EXPECT_TRUE(drift.change_points.empty());
  for (const auto& h : report.runs[0].sound.hypotheses)
    EXPECT_NE(h.verdict, analysis::Verdict::supported) << h.id;
  // Paper mode: every score is NaN, so every hypothesis is untestable, and JSON says null.
  for (const auto& h : report.runs[0].paper.phase_1a) {
    EXPECT_FALSE(h.testable) << h.id;
    EXPECT_EQ(h.verdict, "UNTESTABLE");
  }
  const auto json = nlohmann::json::parse(analysis::to_json(report).dump());
  EXPECT_TRUE(json["runs"][0]["paper"]["phase_1a"][0]["score"].is_null());
  EXPECT_TRUE(json["runs"][0]["paper"]["phase_1a"][0]["significant"].is_boolean());
}

TEST(AnalysisSound, VeryShortRunIsNotTestableRatherThanWrong) {
  ScratchDir scratch;
  SyntheticRun run;
  auto c = condition(5);
  c.step = [](std::int64_t step, telemetry::StepRow& row, std::mt19937_64&) {
    row.wall_ns = row.cpu_ns = 1'000'000 * step;
  };
  run.conditions = {c};
  const auto report = analyse(run, scratch, analysis::Mode::all);
  const auto& drift = report.runs[0].sound.drift[0];
  EXPECT_EQ(drift.direction, analysis::DriftDirection::too_short);
  EXPECT_FALSE(drift.drifts);
  EXPECT_TRUE(std::isnan(drift.hac_slope_ns_per_step));
  for (const auto& h : report.runs[0].sound.hypotheses)
    if (h.id != "observer") {
      EXPECT_EQ(h.verdict, analysis::Verdict::not_testable) << h.id;
    }
  EXPECT_EQ(report.runs[0].paper.steps, 5u);
}

TEST(AnalysisSound, DecompositionSplitsSectionsAndCpu) {
  ScratchDir scratch;
  SyntheticRun run;
  auto c = condition(100);
  c.step = [](std::int64_t, telemetry::StepRow& row, std::mt19937_64&) {
    row.wall_ns = 10'000'000;
    row.sections.window_ns = 8'000'000;  // a blocking sampler
    row.sections.sampling_ns = 500'000;
    row.recorder_ns = 100'000;
    row.cpu_ns = 1'500'000;
  };
  run.conditions = {c};
  const auto report = analyse(run, scratch);
  const auto& time = report.runs[0].sound.run;
  EXPECT_EQ(time.dominant, "window");
  EXPECT_NEAR(time.off_cpu_share, 0.85, 1e-9);
  EXPECT_NEAR(time.off_cpu_unexplained_share, 0.05, 1e-9);
  EXPECT_NEAR(time.recorder_share, 0.01, 1e-9);
  EXPECT_EQ(time.sections.front().section, "window");
  EXPECT_NEAR(time.sections.front().share, 0.8, 1e-9);
  const auto& window = report.runs[0].sound.drift[0].windows.at(0);
  EXPECT_EQ(window.dominant, "window");
  EXPECT_NEAR(window.dominant_share, 0.8, 1e-9);
  EXPECT_NEAR(window.cpu_share, 0.15, 1e-9);
  EXPECT_NEAR(window.recorder_share, 0.01, 1e-9);
  EXPECT_NE(report.summary.at(1).find("blocking window"), std::string::npos) << report.summary[1];
}

TEST(AnalysisSound, ConditionsAreAnalysedSeparately) {
  ScratchDir scratch;
  SyntheticRun run;
  // Each condition is flat, but the second is slower: concatenated, they would "drift".
  auto a = condition(1000);
  a.step = [](std::int64_t, telemetry::StepRow& row, std::mt19937_64& rng) {
    row.wall_ns = row.cpu_ns = 1'000'000 + noise(rng, 20'000);
  };
  auto b = a;
  b.name = "ON-OFF";
  b.index = 1;
  b.step = [](std::int64_t, telemetry::StepRow& row, std::mt19937_64& rng) {
    row.wall_ns = row.cpu_ns = 3'000'000 + noise(rng, 20'000);
  };
  run.conditions = {a, b};
  const auto report = analyse(run, scratch);
  ASSERT_EQ(report.runs[0].sound.drift.size(), 2u);
  EXPECT_FALSE(report.runs[0].sound.drift[0].drifts);
  EXPECT_FALSE(report.runs[0].sound.drift[1].drifts);
  EXPECT_EQ(report.runs[0].sound.drift[1].condition, "ON-OFF");
}

}  // namespace
}  // namespace nrmlab::testing
