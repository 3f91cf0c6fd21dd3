// The calibration suite (validate/calibration.hpp): the generator plants what it says, the
// binomial rule is the stated one, the table does not depend on threads, and every family
// passes its error-rate rule on a fixed-seed subset of its runs (the first 10 or 20 runs of
// the committed table, bench/results/calibration-*.md: same seed, same run indices).
#include "validate/calibration.hpp"

#include <cmath>
#include <map>
#include <numeric>
#include <set>

#include <gtest/gtest.h>

#include "analysis/stats/descriptive.hpp"
#include "telemetry/schema.hpp"
#include "test_support.hpp"

namespace nrmlab::validate {
namespace {

using calibration::ArNoise;
using calibration::Rng;

// Runs per family in `make test`: 20, and 10 for families whose runs have more than 2,000
// steps (they cost 5-10 times as much). Measured: the whole file takes ~55 s of CPU under
// ASan + UBSan (82 s with 20 runs everywhere) and ~9 s in the release build.
constexpr std::size_t k_test_runs = 20;
constexpr std::size_t k_test_runs_long = 10;
constexpr std::size_t k_long_run_steps = 2000;

// Checks the analysis is known to fail at 200 runs (bench/results/calibration-after.md).
// A listed check is still run and printed; every check not listed must pass.
// None today: every family passes at 200 runs.
const std::map<std::string, std::set<Quantity>> k_known_failing = {};

const CalibrationFamily& family(const std::string& name) {
  for (const CalibrationFamily& f : calibration_families())
    if (f.name == name) return f;
  throw std::runtime_error("no family " + name);
}

analysis::RunData generate(const std::string& name, std::size_t run = 0) {
  auto rng = run_rng(k_default_calibration_seed, name, run);
  const auto plan = family(name).plan(rng);
  return calibration::build_run(plan, rng, name);
}

std::size_t finite_count(std::span<const double> values) {
  return static_cast<std::size_t>(
      std::count_if(values.begin(), values.end(), [](double v) { return std::isfinite(v); }));
}

TEST(CalibrationGenerator, HasEveryColumnTheReaderHandsTheAnalysis) {
  const analysis::RunData run = generate("null-iid");
  ASSERT_EQ(run.conditions.size(), 4u);
  const analysis::ConditionData& c = run.conditions[0];
  for (const std::string table : {"steps", "memory", "system"}) {
    const analysis::Columns& columns = table == "steps"    ? c.steps
                                       : table == "memory" ? c.memory
                                                           : c.system;
    for (const telemetry::ColumnSpec& spec : telemetry::telemetry_table(table).columns)
      if (spec.use != telemetry::AnalysisUse::unread &&
          !(table == "steps" && spec.name == "condition")) {
        EXPECT_TRUE(columns.has(std::string(spec.name))) << table << "." << spec.name;
      }
  }
  EXPECT_TRUE(c.steps.has("runq_ns"));
  EXPECT_EQ(run.meta_value("probe.runq"), "schedstat");
  EXPECT_GT(run.sensor_readings, 0u);
}

TEST(CalibrationGenerator, FollowsTheRecorderCadencesAndAddsUp) {
  const analysis::RunData run = generate("null-iid");
  const analysis::Columns& s = run.conditions[0].steps;
  const std::size_t n = s.rows();
  ASSERT_EQ(n, 400u);
  // getrusage figures (and run-queue delay) on every 8th step only, NaN elsewhere.
  EXPECT_EQ(finite_count(s["involuntary_switches"]), n / 8);
  EXPECT_EQ(finite_count(s["runq_ns"]), n / 8);
  for (std::size_t i = 0; i < n; ++i) {
    EXPECT_EQ(s["usage_steps"][i] > 0, (i + 1) % 8 == 0);
    EXPECT_DOUBLE_EQ(s["wall_ns"][i], s["sampling_ns"][i] + s["window_ns"][i] +
                                          s["database_ns"][i] + s["recorder_ns"][i] +
                                          s["compute_ns"][i]);
    EXPECT_LE(s["cpu_ns"][i], s["wall_ns"][i]);
    if (i > 0) {
      EXPECT_DOUBLE_EQ(s["t_ns"][i], s["t_ns"][i - 1] + s["wall_ns"][i - 1]);
    }
  }
  EXPECT_EQ(run.conditions[0].memory.rows(), n / 16);
  EXPECT_EQ(run.conditions[0].system.rows(), n / 25);
  EXPECT_EQ(run.conditions[0].files.rows(), n / 25);
  // Run-queue delay is small (~1% of step time), as the baseline says.
  double runq = 0, wall = 0;
  for (std::size_t i = 0; i < n; ++i)
    if (s["usage_steps"][i] > 0) runq += s["runq_ns"][i];
  for (const double w : s["wall_ns"])
    wall += w;
  EXPECT_GT(runq / wall, 0.005);
  EXPECT_LT(runq / wall, 0.02);
  EXPECT_NEAR(analysis::stats::median(s["wall_ns"]), 1e6, 0.1e6);
}

// The synthetic profile charges each part of a step to its function: a sample every 0.1 ms,
// so each function's sampled time is its column's sum to within a sample per step part.
TEST(CalibrationGenerator, SyntheticProfileChargesEachPartOfAStepToItsFunction) {
  const analysis::RunData run = generate("db-price-growth");
  Rng rng(7);
  const telemetry::profile::ProfileData profile = calibration::synthetic_profile(run, rng);
  ASSERT_TRUE(profile.sampled());
  std::map<std::string, double> sampled, planted;
  for (const auto& count : profile.counts)
    sampled[profile.frame(profile.stack(count.stack).frame).function] +=
        static_cast<double>(count.weight_ns);
  std::size_t steps = 0;
  double last_end = 0;
  for (const analysis::ConditionData& c : run.conditions) {
    steps += c.steps.rows();
    for (std::size_t i = 0; i < c.steps.rows(); ++i) {
      planted["evolve_agents"] += c.steps["compute_ns"][i];
      planted["commit_rows"] += c.steps["database_ns"][i];
      planted["sample_metrics"] += c.steps["sampling_ns"][i] + c.steps["window_ns"][i];
      planted["record_step"] += c.steps["recorder_ns"][i];
      last_end = c.steps["t_ns"][i] + c.steps["wall_ns"][i];
    }
  }
  for (const auto& [function, ns] : planted)
    EXPECT_NEAR(sampled[function], ns, calibration::k_profile_period_ns * steps) << function;
  EXPECT_EQ(profile.counts.back().window,
            static_cast<std::int64_t>(last_end) / calibration::k_profile_window_ns);
}

TEST(CalibrationGenerator, OlderTelemetryHasNoRunQueueDelay) {
  const analysis::RunData run = generate("null-no-runq");
  EXPECT_EQ(run.meta.count("probe.runq"), 0u);
  for (const auto& c : run.conditions)
    EXPECT_EQ(finite_count(c.steps["runq_ns"]), 0u);
}

TEST(CalibrationGenerator, ConstantFamilyHasExactlyConstantStepTime) {
  const analysis::RunData run = generate("null-constant");
  for (const auto& c : run.conditions) {
    const auto wall = c.steps["wall_ns"];
    EXPECT_TRUE(std::all_of(wall.begin(), wall.end(), [&](double w) { return w == wall[0]; }));
  }
}

TEST(CalibrationGenerator, ShortFamilyDrawsFifteenToFiftySteps) {
  std::set<std::size_t> lengths;
  for (std::size_t r = 0; r < 20; ++r)
    for (const auto& c : generate("null-short", r).conditions) {
      EXPECT_GE(c.steps.rows(), 15u);
      EXPECT_LE(c.steps.rows(), 50u);
      lengths.insert(c.steps.rows());
    }
  EXPECT_GT(lengths.size(), 10u);
}

// The planted signals are where the families say: the ratio, the frequency, the run queue.
TEST(CalibrationGenerator, SignalFamiliesPlantTheirCause) {
  const auto first_last = [](std::span<const double> v) {
    const std::size_t k = v.size() / 5;
    return std::pair{analysis::stats::mean(v.first(k)), analysis::stats::mean(v.last(k))};
  };
  const auto allocator = generate("allocator-ratio-growth").conditions[0].memory;
  const auto [ratio_early, ratio_late] = first_last(allocator["rss_per_allocated"]);
  EXPECT_GT(ratio_late / ratio_early, 1.3);
  const auto thermal = generate("thermal").conditions[0];
  const auto [khz_early, khz_late] = first_last(thermal.sensors["value"]);
  EXPECT_LT(khz_late / khz_early, 0.8);
  const auto runq = generate("runq-growth").conditions[0].steps;
  std::vector<double> share;
  for (std::size_t i = 7; i < runq.rows(); i += 8) {
    double wall = 0;
    for (std::size_t j = i - 7; j <= i; ++j)
      wall += runq["wall_ns"][j];
    share.push_back(runq["runq_ns"][i] / wall);
  }
  const auto [runq_early, runq_late] = first_last(share);
  EXPECT_LT(runq_early, 0.04);
  EXPECT_GT(runq_late, 0.2);
  const auto dearer = generate("unit-cost-growth").conditions[0].steps;
  const auto [free_early, free_late] = first_last(dearer["work.cache_entries"]);
  EXPECT_GT(free_late / free_early, 4);
  const auto [evolve_early, evolve_late] = first_last(dearer["evolve_calls"]);
  EXPECT_NEAR(evolve_late / evolve_early, 1.0, 0.05);
}

// Stationary AR(1): marginal sd and lag-1 autocorrelation as asked, over many series.
TEST(CalibrationGenerator, ArNoiseHasItsStationaryMomentsFromTheStart) {
  Rng rng(7);
  std::vector<double> first, lag_products, squares;
  for (int series = 0; series < 2000; ++series) {
    ArNoise noise(0.9, 0.1);
    double previous = noise.next(rng);
    first.push_back(previous);
    for (int i = 0; i < 50; ++i) {
      const double value = noise.next(rng);
      lag_products.push_back(value * previous);
      squares.push_back(value * value);
      previous = value;
    }
  }
  EXPECT_NEAR(analysis::stats::standard_deviation(first, 1), 0.1, 0.006);
  EXPECT_NEAR(std::sqrt(analysis::stats::mean(squares)), 0.1, 0.004);
  EXPECT_NEAR(analysis::stats::mean(lag_products) / analysis::stats::mean(squares), 0.9, 0.02);
}

TEST(CalibrationRule, BinomialTailsMatchExactSums) {
  // Exact: P(X >= 6 | 20, 0.05) and P(X <= 15 | 20, 0.9) by direct summation.
  const auto pmf = [](std::size_t k, std::size_t n, double p) {
    double c = 1;
    for (std::size_t i = 0; i < k; ++i)
      c = c * static_cast<double>(n - i) / static_cast<double>(i + 1);
    return c * std::pow(p, static_cast<double>(k)) * std::pow(1 - p, static_cast<double>(n - k));
  };
  double upper = 0, lower = 0;
  for (std::size_t k = 6; k <= 20; ++k)
    upper += pmf(k, 20, 0.05);
  for (std::size_t k = 0; k <= 15; ++k)
    lower += pmf(k, 20, 0.9);
  EXPECT_NEAR(binomial_upper_tail(6, 20, 0.05), upper, 1e-12);
  EXPECT_NEAR(binomial_lower_tail(15, 20, 0.9), lower, 1e-12);
  EXPECT_DOUBLE_EQ(binomial_upper_tail(0, 20, 0.05), 1.0);
  EXPECT_DOUBLE_EQ(binomial_lower_tail(20, 20, 0.9), 1.0);
}

TEST(CalibrationRule, FailsOnlyImprobableCounts) {
  const Check false_rate{Quantity::h1, Rule::at_most_false_rate};
  // 200 runs at 5%: 17 false (8.5%) is within chance (p ~ 0.02), 22 (11%) is not.
  EXPECT_TRUE(judge(false_rate, 17, 200).passed);
  EXPECT_FALSE(judge(false_rate, 22, 200).passed);
  EXPECT_TRUE(judge(false_rate, 5, 20).passed);
  EXPECT_FALSE(judge(false_rate, 6, 20).passed);
  const Check power{Quantity::drift_slower, Rule::at_least_power};
  EXPECT_TRUE(judge(power, 170, 200).passed);
  EXPECT_FALSE(judge(power, 160, 200).passed);
  EXPECT_FALSE(judge(power, 0, 0).passed);
  EXPECT_FALSE(judge({Quantity::h5, Rule::never}, 1, 200).passed);
  EXPECT_TRUE(judge({Quantity::h5, Rule::never}, 0, 200).passed);
  EXPECT_TRUE(judge({Quantity::h3, Rule::reported}, 200, 200).passed);
}

// The planted error rate of the rule itself: with every run false at exactly 5%, a check
// fails in about 0.1% of calibrations or less (binomial tail), never in a third of them.
TEST(CalibrationRule, TrueRateAtTheLimitRarelyFails) {
  Rng rng(11);
  std::bernoulli_distribution false_outcome(k_false_rate);
  int failures = 0;
  for (int calibration = 0; calibration < 5000; ++calibration) {
    std::size_t count = 0;
    for (std::size_t r = 0; r < 200; ++r)
      count += false_outcome(rng);
    failures += !judge({Quantity::h1, Rule::at_most_false_rate}, count, 200).passed;
  }
  EXPECT_LE(failures, 15);  // expected at most 5 (p < 0.001); 15 is improbable
}

TEST(Calibration, TableDoesNotDependOnThreads) {
  CalibrationOptions options;
  options.runs = 12;
  options.families = {"null-short", "null-ar0.9-n100"};
  options.threads = 1;
  const auto one = calibration_json(run_calibration(options));
  options.threads = 3;
  const auto three = calibration_json(run_calibration(options));
  ASSERT_EQ(one["families"].size(), 2u);
  for (std::size_t f = 0; f < 2; ++f) {
    EXPECT_EQ(one["families"][f]["supported"], three["families"][f]["supported"]);
    EXPECT_EQ(one["families"][f]["drift_slower"], three["families"][f]["drift_slower"]);
    EXPECT_EQ(one["families"][f]["checks"], three["families"][f]["checks"]);
  }
  EXPECT_EQ(one["schema"], k_calibration_schema);
}

TEST(Calibration, UnknownFamilyIsAnErrorNamingIt) {
  CalibrationOptions options;
  options.families = {"no-such-family"};
  try {
    run_calibration(options);
    FAIL() << "no error";
  } catch (const std::exception& error) {
    EXPECT_NE(std::string(error.what()).find("no-such-family"), std::string::npos);
    EXPECT_NE(std::string(error.what()).find("null-iid"), std::string::npos);
  }
}

TEST(Calibration, EveryIssueFamilyExists) {
  const auto names = calibration_family_names();
  const std::set<std::string> all(names.begin(), names.end());
  EXPECT_EQ(all.size(), names.size());
  for (const std::string phi : {"0.5", "0.9", "0.95"})
    for (const std::string n : {"100", "400", "3000"})
      EXPECT_TRUE(all.count("null-ar" + phi + "-n" + n)) << phi << " " << n;
  for (const std::string name :
       {"null-iid", "null-heavy-tails", "null-level-shift", "null-constant", "null-short",
        "null-no-runq", "blocking-io", "work-growth", "unit-cost-growth", "work-and-cost-growth",
        "runq-growth", "preemptions-proportional", "db-price-growth", "allocator-ratio-growth",
        "thermal", "collinear-counters", "power-level-rise", "power-unit-cost-doubling"})
    EXPECT_TRUE(all.count(name)) << name;
}

TEST(CalibrationCli, PrintsTheTableAndWritesJsonAndMarkdown) {
  testing::ScratchDir scratch;
  const auto out = scratch / "calibration";
  const auto result = testing::run_nrmlab({"validate", "--calibrate", "--runs", "4", "--family",
                                           "null-short,null-constant", "--out", out.string()},
                                          scratch);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("null-short"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("pass"), std::string::npos) << result.out;
  const auto json = nlohmann::json::parse(testing::read_text(out / "calibration.json"));
  EXPECT_EQ(json["schema"], k_calibration_schema);
  EXPECT_EQ(json["runs"], 4);
  ASSERT_EQ(json["families"].size(), 2u);
  // In table order, whatever the order asked.
  EXPECT_EQ(json["families"][0]["name"], "null-constant");
  EXPECT_EQ(json["families"][1]["name"], "null-short");
  EXPECT_EQ(json["families"][1]["runs"], 4);
  EXPECT_NE(testing::read_text(out / "calibration.md").find("| `null-constant` |"),
            std::string::npos);
  const auto unknown = testing::run_nrmlab(
      {"validate", "--calibrate", "--family", "no-such", "--out", out.string()}, scratch);
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_NE(unknown.err.find("no-such"), std::string::npos) << unknown.err;
}

class CalibrationFamilyRule : public ::testing::TestWithParam<std::string> {};

TEST_P(CalibrationFamilyRule, PassesItsErrorRateRule) {
  CalibrationOptions options;
  options.runs =
      generate(GetParam()).total_steps() > k_long_run_steps ? k_test_runs_long : k_test_runs;
  options.families = {GetParam()};
  options.threads = 1;  // ctest runs the families side by side
  const CalibrationReport report = run_calibration(options);
  ASSERT_EQ(report.families.size(), 1u);
  const FamilyResult& f = report.families[0];
  std::cout << calibration_table(report)[0] << "\n" << calibration_table(report)[1] << "\n";
  EXPECT_EQ(f.errors, 0u) << f.first_error;
  const auto known = k_known_failing.find(f.name);
  for (const CheckResult& c : f.checks) {
    const bool expected_to_fail =
        known != k_known_failing.end() && known->second.count(c.check.quantity) > 0;
    if (expected_to_fail) {
      std::cout << "KNOWN FAILING (k_known_failing): " << f.name << ": " << describe(c.check)
                << ": " << c.count << "/" << c.trials
                << (c.passed ? "  -- passes now: remove it from k_known_failing" : "") << "\n";
      continue;
    }
    EXPECT_TRUE(c.passed) << f.name << ": " << describe(c.check) << ": " << c.count << " of "
                          << c.trials << " (tail p " << c.p << ")";
  }
}

INSTANTIATE_TEST_SUITE_P(Families, CalibrationFamilyRule,
                         ::testing::ValuesIn(calibration_family_names()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           for (char& ch : name)
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return name;
                         });

}  // namespace
}  // namespace nrmlab::validate
