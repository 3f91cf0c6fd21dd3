// nrmlab validate: the verdict labels, the tally, each planted workload's steps, a
// workload run's telemetry, and a small validation end to end. Whether every verdict is
// right is the release suite's `validate_short` test (ctest -L validate): under the
// sanitizers the allocators and the timings are not the ones being validated.
#include <fmt/format.h>
#include <linux/magic.h>
#include <sched.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "analysis/analyze.hpp"
#include "analysis/sound_mode.hpp"
#include "analysis/summary.hpp"
#include "analysis/telemetry_reader.hpp"
#include "test_support.hpp"
#include "util/error.hpp"
#include "util/sqlite.hpp"
#include "validate/validator.hpp"
#include "validate/verdict.hpp"
#include "validate/workload.hpp"
#include "validate/workload_run.hpp"
#include "validate/workloads_internal.hpp"

namespace nrmlab::testing {
namespace {

using validate::read_verdict;

analysis::Hypothesis hypothesis(std::string id, std::string verdict) {
  analysis::Hypothesis h;
  h.id = std::move(id);
  h.verdict = analysis::parse_verdict(verdict);
  h.reason = fmt::format("because {}", h.id);
  return h;
}

// A run whose sound analysis has these verdicts for H1..H5 and this off-CPU share.
analysis::RunAnalysis analysed(const std::vector<std::string>& verdicts, double off_cpu = 0.0) {
  analysis::RunAnalysis run;
  run.has_sound = true;
  for (std::size_t i = 0; i < verdicts.size(); ++i)
    run.sound.hypotheses.push_back(hypothesis(fmt::format("H{}", i + 1), verdicts[i]));
  run.sound.hypotheses.push_back(hypothesis("observer", "supported"));
  run.sound.run.off_cpu_share = off_cpu;
  run.sound.run.dominant = "window";
  analysis::Drift drift;
  drift.relative_change = 0.7;  // the trend line's figure: not what the validation reports
  drift.ratio = 1.4;
  run.sound.drift.push_back(drift);
  // The attribution puts the change in "the same work costs more" (interval above 0).
  analysis::Attribution attribution;
  analysis::SectionChange step;
  step.section = "step";
  step.dearer = {0.4, 0.3, 0.5, 1e-6};
  attribution.sections.push_back(step);
  run.sound.attribution.push_back(attribution);
  return run;
}

const std::vector<std::string> k_nothing = {"not supported", "not supported", "not testable",
                                            "not testable", "not supported"};

TEST(ValidateVerdict, NoSupportedHypothesisIsNoneAndTheObserverDoesNotCount) {
  const auto v = read_verdict(analysed(k_nothing), false);
  EXPECT_EQ(v.label, "none");
  EXPECT_TRUE(v.supported.empty());
  EXPECT_NEAR(v.relative_change, 0.4, 1e-12);  // the level ratio, not the trend line
}

TEST(ValidateVerdict, OneSupportedHypothesisNamesIt) {
  auto verdicts = k_nothing;
  verdicts[2] = "supported";
  const auto v = read_verdict(analysed(verdicts), false);
  EXPECT_EQ(v.label, "H3");
  EXPECT_EQ(v.reason, "H3: because H3");
}

TEST(ValidateVerdict, SeveralAreJoinedSoTheyCountAsWrong) {
  auto verdicts = k_nothing;
  verdicts[0] = verdicts[4] = "supported";
  EXPECT_EQ(read_verdict(analysed(verdicts), false).label, "H1+H5");
}

TEST(ValidateVerdict, OffCpuDominatesFromHalfTheWallTime) {
  EXPECT_EQ(read_verdict(analysed(k_nothing, 0.49), false).label, "none");
  const auto v = read_verdict(analysed(k_nothing, 0.5), false);
  EXPECT_EQ(v.label, "off-CPU");
  EXPECT_NE(v.reason.find("window dominates"), std::string::npos) << v.reason;
  auto verdicts = k_nothing;
  verdicts[4] = "supported";
  EXPECT_EQ(read_verdict(analysed(verdicts, 0.9), false).label, "off-CPU+H5");
  verdicts[0] = "supported";  // preempted, not waiting: contention's verdict alone
  EXPECT_EQ(read_verdict(analysed(verdicts, 0.9), false).label, "H1+H5");
}

TEST(ValidateVerdict, TheThermalCaseNamesH4sVerdict) {
  EXPECT_EQ(read_verdict(analysed(k_nothing), true).label, "H4 not testable");
  auto verdicts = k_nothing;
  verdicts[3] = "not supported";
  EXPECT_EQ(read_verdict(analysed(verdicts), true).label, "H4 not supported");
  verdicts[3] = "supported";
  verdicts[0] = "supported";
  EXPECT_EQ(read_verdict(analysed(verdicts), true).label, "H4 supported+H1");
}

TEST(ValidateVerdict, ASlowdownThatGrowingWorkDoesNotExplainIsDearer) {
  const auto drifting = [](std::vector<std::string> verdicts, analysis::DriftDirection direction,
                           double off_cpu = 0.0) {
    analysis::RunAnalysis run = analysed(verdicts, off_cpu);
    run.sound.drift.front().drifts = direction != analysis::DriftDirection::stable;
    run.sound.drift.front().direction = direction;
    return run;
  };
  const auto slower = analysis::DriftDirection::slower;
  const auto v = read_verdict(drifting(k_nothing, slower), false);
  EXPECT_EQ(v.label, "dearer");
  EXPECT_NE(v.reason.find("growing work (H5) does not explain"), std::string::npos) << v.reason;
  EXPECT_NE(v.reason.find("x1.4"), std::string::npos) << v.reason;
  // A slowdown the attribution cannot place in a dearer unit cost is not "dearer".
  auto uncertain = drifting(k_nothing, slower);
  uncertain.sound.attribution.front().sections.front().dearer = {0.4, -0.1, 0.9, 0.2};
  EXPECT_EQ(read_verdict(uncertain, false).label, "none");
  // No drift, or a faster one, is no slowdown to explain.
  EXPECT_EQ(read_verdict(drifting(k_nothing, analysis::DriftDirection::stable), false).label,
            "none");
  EXPECT_EQ(read_verdict(drifting(k_nothing, analysis::DriftDirection::faster), false).label,
            "none");
  // A supported hypothesis, or dominant off-CPU time, names the slowdown instead.
  auto verdicts = k_nothing;
  verdicts[4] = "supported";
  EXPECT_EQ(read_verdict(drifting(verdicts, slower), false).label, "H5");
  verdicts[4] = "not supported";
  verdicts[2] = "supported";
  EXPECT_EQ(read_verdict(drifting(verdicts, slower), false).label, "H3");
  EXPECT_EQ(read_verdict(drifting(k_nothing, slower, 0.9), false).label, "off-CPU");
  // H4 is the thermal case's question: its label is H4's verdict alone.
  EXPECT_EQ(read_verdict(drifting(k_nothing, slower), true).label, "H4 not testable");
  // Without H5 in the analysis there is nothing to say about work.
  analysis::RunAnalysis no_h5 = drifting(k_nothing, slower);
  std::erase_if(no_h5.sound.hypotheses, [](const analysis::Hypothesis& h) { return h.id == "H5"; });
  EXPECT_EQ(read_verdict(no_h5, false).label, "none");
}

TEST(ValidateVerdict, ADriftThatCouldNotBeJudgedIsSaidNotNone) {
  const auto undecided = [](std::vector<std::string> verdicts, analysis::DriftDirection direction) {
    analysis::RunAnalysis run = analysed(verdicts);
    run.sound.drift.front().direction = direction;
    return run;
  };
  const auto v = read_verdict(undecided(k_nothing, analysis::DriftDirection::no_steps), false);
  EXPECT_EQ(v.label, "no steps");
  EXPECT_NE(v.reason.find("marked no steps"), std::string::npos) << v.reason;
  EXPECT_EQ(read_verdict(undecided(k_nothing, analysis::DriftDirection::too_short), false).label,
            "too few steps");
  // What was supported (from the whole run) is still named.
  auto verdicts = k_nothing;
  verdicts[0] = "supported";
  EXPECT_EQ(read_verdict(undecided(verdicts, analysis::DriftDirection::no_steps), false).label,
            "H1");
  EXPECT_EQ(read_verdict(undecided(k_nothing, analysis::DriftDirection::stable), false).label,
            "none");
}

TEST(ValidateVerdict, AForbiddenClaimIsFoundInTheSummaryLineThatMakesIt) {
  const std::vector<std::string> summary = {"run x (external, 60 steps)",
                                            "verdict  nothing to fix: the run does not slow down"};
  EXPECT_EQ(validate::forbidden_claim({"does not slow down"}, summary), summary[1]);
  EXPECT_EQ(validate::forbidden_claim({"H5 supported", "does not slow down"}, summary), summary[1]);
  EXPECT_EQ(validate::forbidden_claim({"does not slow down"}, {summary[0]}), "");
  EXPECT_EQ(validate::forbidden_claim({}, summary), "");
}

// Issue 19's rule for a planted dearer function, shared by the cases and the calibration:
// first in its own condition's entries, dearer, with at least 80% of the change.
TEST(ValidateVerdict, APlantedFunctionIsNamedFirstOnlyWhenDearerWithMostOfTheChange) {
  analysis::CodeProfile code;
  const auto entry = [](std::string condition, std::string function, analysis::CodeChange change,
                        double share) {
    analysis::CodeGrowth g;
    g.condition = std::move(condition);
    g.function = std::move(function);
    g.change = change;
    g.share_of_change = share;
    return g;
  };
  code.growth = {entry("a", "ns::scan_history(int)", analysis::CodeChange::dearer, 0.9),
                 entry("a", "update", analysis::CodeChange::dearer, 0.1),
                 entry("b", "update", analysis::CodeChange::more_work, 0.95),
                 entry("c", "scan_history", analysis::CodeChange::dearer, 0.79)};
  EXPECT_TRUE(validate::names_dearer_first(validate::first_growth(code, "a"), "scan_history"));
  EXPECT_FALSE(validate::names_dearer_first(validate::first_growth(code, "a"), "update"))
      << "dearer, but not first";
  EXPECT_FALSE(validate::names_dearer_first(validate::first_growth(code, "b"), "update"))
      << "first, but more work";
  EXPECT_FALSE(validate::names_dearer_first(validate::first_growth(code, "c"), "scan_history"))
      << "under 80% of the change";
  EXPECT_EQ(validate::first_growth(code, "d"), nullptr);
  EXPECT_FALSE(validate::names_dearer_first(nullptr, "scan_history"));
  EXPECT_FALSE(validate::names_dearer_first(validate::first_growth(code, "a"), ""));
}

TEST(ValidateVerdict, ThermalExpectationFollowsTheMachinesSensors) {
  analysis::RunAnalysis run;
  run.provenance["sensors"] = "cpufreq: none; temperature: none";
  EXPECT_EQ(validate::expected_thermal_label(run), "H4 not testable");
  run.provenance["sensors"] = "cpufreq: 2 cores; temperature: none";
  EXPECT_EQ(validate::expected_thermal_label(run), "H4 not supported");
}

validate::ValidationRun outcome(std::string case_id, std::string verdict, std::string expected,
                                bool intervention = false) {
  validate::ValidationRun run;
  run.case_id = std::move(case_id);
  run.verdict = std::move(verdict);
  run.expected = std::move(expected);
  run.correct = run.verdict == run.expected;
  run.intervention = intervention;
  return run;
}

TEST(ValidateTally, CountsEachReplicateOnceAndEveryWrongVerdict) {
  validate::ValidationReport report;
  report.cases = {{"none", "nothing", "none"}, {"fragmentation", "H2", "H2"}};
  report.runs = {outcome("none", "none", "none"), outcome("none", "H1", "none"),
                 outcome("fragmentation", "none", "", true), outcome("fragmentation", "H2", "H2"),
                 outcome("fragmentation", "H2, not confirmed", "H2")};
  validate::tally(report);
  EXPECT_EQ(report.wrong, 2);
  EXPECT_EQ(report.confusion["none"]["none"], 1);
  EXPECT_EQ(report.confusion["none"]["H1"], 1);
  EXPECT_EQ(report.confusion["fragmentation"]["H2"], 1);
  EXPECT_EQ(report.confusion["fragmentation"]["H2, not confirmed"], 1);
  EXPECT_EQ(report.confusion["fragmentation"].count("none"), 0u) << "interventions have no row";
  ASSERT_GE(report.verdicts.size(), 2u);
  EXPECT_EQ(report.verdicts[0], "none");  // expected verdicts first, in case order
  EXPECT_EQ(report.verdicts[1], "H2");
  auto lines = validate::confusion_table(report);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_NE(lines[0].find("right"), std::string::npos);
  EXPECT_NE(lines[1].find("1/2"), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find("1/2"), std::string::npos) << lines[2];
  EXPECT_EQ(lines[1].rfind("none", 0), 0u);
  // A label that is as right counts in the row's right column.
  report.cases[0].also_right = {"H1"};
  lines = validate::confusion_table(report);
  EXPECT_NE(lines[1].find("2/2"), std::string::npos) << lines[1];
}

TEST(ValidateTally, OnlyAnUntestableH4MayStandForNotSupported) {
  EXPECT_TRUE(validate::is_right("H3", "H3"));
  EXPECT_FALSE(validate::is_right("H3+H5", "H3"));
  EXPECT_TRUE(validate::is_right("H4 not testable", "H4 not supported"));
  EXPECT_FALSE(validate::is_right("H4 not supported", "H4 not testable"))
      << "without sensors, H4 is never refuted";
  EXPECT_FALSE(validate::is_right("H4 supported", "H4 not supported"));
  // The fsync case: off-CPU on a slow device, none on a fast one, never a hypothesis.
  const std::vector<std::string> fsync = {"none"};
  EXPECT_TRUE(validate::is_right("off-CPU", "off-CPU", fsync));
  EXPECT_TRUE(validate::is_right("none", "off-CPU", fsync));
  EXPECT_FALSE(validate::is_right("H1", "off-CPU", fsync));
  EXPECT_FALSE(validate::is_right("off-CPU+H3", "off-CPU", fsync));
  EXPECT_FALSE(validate::is_right("none", "off-CPU")) << "the blocking sampler always waits";
}

validate::ValidationRun fragmentation_run(std::string allocator, double relative_change) {
  validate::ValidationRun run =
      outcome("fragmentation", allocator == "system" ? "H2" : "none", "H2", allocator != "system");
  run.id = fmt::format("fragmentation-0-{}", allocator);
  run.allocator = std::move(allocator);
  run.relative_change = relative_change;
  return run;
}

TEST(ValidateFragmentation, H2StandsWhenASizeClassAllocatorHalvesTheSlowdownAndNoneMatchesIt) {
  const auto decide = [](std::vector<validate::ValidationRun> interventions,
                         std::size_t allocators = 2) {
    validate::ValidationRun system = fragmentation_run("system", 0.5);
    validate::confirm_fragmentation(system, interventions, allocators);
    return system;
  };
  const auto confirmed =
      decide({fragmentation_run("jemalloc", -0.1), fragmentation_run("mimalloc", 0.25)});
  EXPECT_EQ(confirmed.verdict, "H2");
  EXPECT_NE(confirmed.reason.find("25% under mimalloc"), std::string::npos) << confirmed.reason;
  // One halving it is enough, as long as the other is still faster than glibc.
  EXPECT_EQ(
      decide({fragmentation_run("jemalloc", -0.1), fragmentation_run("mimalloc", 0.45)}).verdict,
      "H2");
  const auto none_halves =
      decide({fragmentation_run("jemalloc", 0.3), fragmentation_run("mimalloc", 0.26)});
  EXPECT_EQ(none_halves.verdict, "H2, not confirmed");
  EXPECT_NE(none_halves.reason.find("26% under mimalloc"), std::string::npos) << none_halves.reason;
  const auto one_matches =
      decide({fragmentation_run("jemalloc", -0.1), fragmentation_run("mimalloc", 0.5)});
  EXPECT_EQ(one_matches.verdict, "H2, not confirmed");
  EXPECT_NE(one_matches.reason.find("50% under mimalloc"), std::string::npos) << one_matches.reason;
  auto broken = fragmentation_run("jemalloc", 0.0);
  broken.error = "exit code 1";
  EXPECT_EQ(decide({broken, fragmentation_run("mimalloc", 0.0)}).verdict,
            "H2, intervention failed");
  auto disturbed = fragmentation_run("jemalloc", 0.0);
  disturbed.verdict = "disturbed";
  EXPECT_EQ(decide({disturbed, fragmentation_run("mimalloc", 0.0)}).verdict,
            "H2, intervention failed");
  EXPECT_EQ(decide({fragmentation_run("jemalloc", 0.0)}).verdict, "H2, intervention missing");
  EXPECT_EQ(decide({}, 0).verdict, "H2, no size-class allocator");
  // Only an H2 verdict is decided by the intervention.
  validate::ValidationRun none = fragmentation_run("system", 0.5);
  none.verdict = "none";
  validate::confirm_fragmentation(none, {}, 2);
  EXPECT_EQ(none.verdict, "none");
}

TEST(ValidateDisturbance, ExternalCoresAreOtherProcessesCpuOverTheSideStreamsSpan) {
  ScratchDir scratch;
  {
    sqlite::Connection db(scratch / "telemetry.db");
    db.execute(
        "CREATE TABLE system(t_ns INTEGER, other_cpu_ns INTEGER);"
        // The first reading has no interval before it; then 1.5 cores over 2 s.
        "INSERT INTO system VALUES (1000000000, NULL), (2000000000, 1000000000),"
        "(3000000000, 2000000000)");
  }
  EXPECT_DOUBLE_EQ(validate::external_cores(scratch / "telemetry.db"), 1.5);
  {
    sqlite::Connection db(scratch / "telemetry.db");
    db.execute("DELETE FROM system WHERE t_ns > 1000000000");
  }
  EXPECT_TRUE(std::isnan(validate::external_cores(scratch / "telemetry.db")))
      << "one reading cannot tell";
}

// Steps with run-queue wait, as the telemetry stage records them: runq_ns at the rows with
// usage_steps > 0, the wait over the usage_steps steps ending there, NULL elsewhere.
struct PlantedSteps {
  std::vector<std::int64_t> condition, wall_ns, usage_steps, runq_ns;  // -1: NULL
};

// The run's share as the validator reads it: the analysis' worst condition
// (TimeDecomposition::cpu_wait_share), from the conditions' step columns.
double analysed_share(const PlantedSteps& p, bool with_runq) {
  std::vector<std::string> names = {"step",        "wall_ns",     "cpu_ns",
                                    "window_ns",   "sampling_ns", "database_ns",
                                    "recorder_ns", "compute_ns",  "usage_steps"};
  if (with_runq) names.emplace_back("runq_ns");
  std::vector<analysis::Columns> conditions;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (std::size_t i = 0; i < p.wall_ns.size(); ++i) {
    if (i == 0 || p.condition[i] != p.condition[i - 1]) conditions.emplace_back(names);
    const auto wall = static_cast<double>(p.wall_ns[i]);
    std::vector<double> row = {
        static_cast<double>(conditions.back().rows()), wall, wall, 0, 0, 0, 0, wall,
        p.usage_steps[i] >= 0 ? p.usage_steps[i] : nan};
    if (with_runq) row.push_back(p.runq_ns[i] >= 0 ? static_cast<double>(p.runq_ns[i]) : nan);
    conditions.back().append_row(row);
  }
  std::vector<const analysis::Columns*> all;
  for (const analysis::Columns& c : conditions)
    all.push_back(&c);
  return analysis::decompose("run", all).cpu_wait_share;
}

// Random step times, a reading every `cadence` steps whose wait is `share` of the wall time
// of the steps it spans (the rows between readings NULL): returns the planted steps.
PlantedSteps plant_waits(std::mt19937_64& rng, const std::vector<double>& shares,
                         std::int64_t steps) {
  PlantedSteps p;
  std::uniform_int_distribution<std::int64_t> wall(200'000, 5'000'000), cadence(1, 16);
  for (std::size_t c = 0; c < shares.size(); ++c) {
    const std::int64_t every = cadence(rng);
    std::int64_t since = 0, span_wall = 0;
    for (std::int64_t i = 0; i < steps; ++i) {
      p.condition.push_back(static_cast<std::int64_t>(c));
      p.wall_ns.push_back(wall(rng));
      span_wall += p.wall_ns.back();
      const bool reading = ++since == every || i == steps - 1;
      p.usage_steps.push_back(reading ? since : -1);
      p.runq_ns.push_back(reading ? std::llround(shares[c] * static_cast<double>(span_wall)) : -1);
      if (reading) since = span_wall = 0;
    }
  }
  return p;
}

TEST(ValidateDisturbance, RunQueueShareIsTheWaitOverTheWallTimeOfTheStepsItSpans) {
  std::mt19937_64 rng(17);
  std::uniform_real_distribution<double> share(0.0, 0.2);
  validate::ValidateOptions options;  // max_run_queue_share 0.10
  int decided_right = 0;
  constexpr int k_planted = 60;
  for (int trial = 0; trial < k_planted; ++trial) {
    // One to three conditions; the run's share is its worst condition's.
    std::vector<double> shares(1 + static_cast<std::size_t>(trial % 3));
    for (double& s : shares)
      s = share(rng);
    const double worst = *std::max_element(shares.begin(), shares.end());
    const double measured = analysed_share(plant_waits(rng, shares, 40 + trial), true);
    EXPECT_NEAR(measured, worst, 1e-6) << "trial " << trial;
    // Other processes' cores never matter when the run's own wait is known.
    decided_right += validate::disturbed(measured, 2.0, options) == (worst > 0.10) &&
                     validate::disturbed(measured, 0.0, options) == (worst > 0.10);
  }
  EXPECT_EQ(decided_right, k_planted);
}

TEST(ValidateDisturbance, WithoutRunQueueWaitTheMachineDecidesAsBefore) {
  std::mt19937_64 rng(5);
  const PlantedSteps planted = plant_waits(rng, {0.5}, 30);
  EXPECT_TRUE(std::isnan(analysed_share(planted, false))) << "telemetry from before runq_ns";
  PlantedSteps unread = planted;  // the column exists, no step recorded it
  std::fill(unread.runq_ns.begin(), unread.runq_ns.end(), -1);
  EXPECT_TRUE(std::isnan(analysed_share(unread, true)));
  validate::ValidateOptions options;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_TRUE(validate::disturbed(nan, 0.31, options));
  EXPECT_FALSE(validate::disturbed(nan, 0.3, options));
  EXPECT_FALSE(validate::disturbed(nan, nan, options)) << "too short to tell";
  // A busy machine that left the run its CPU is no disturbance; waiting is, on a quiet one.
  EXPECT_FALSE(validate::disturbed(0.01, 1.0, options));
  EXPECT_FALSE(validate::disturbed(0.08, 0.0, options)) << "a run that wakes often waits so";
  EXPECT_TRUE(validate::disturbed(0.12, 0.0, options));
}

TEST(ValidateDisturbance, AReadingSpanningStepsBeforeItsConditionIsLeftOut) {
  // Condition 1's first row claims three steps: only its own step is known, so the reading
  // cannot be placed and counts for nothing; its second reading (two steps, 10%) decides.
  PlantedSteps p;
  p.condition = {0, 0, 1, 1, 1};
  p.wall_ns = {1'000, 1'000, 1'000, 1'000, 1'000};
  p.usage_steps = {-1, 2, 3, -1, 2};
  p.runq_ns = {-1, 20, 900, -1, 200};
  EXPECT_DOUBLE_EQ(analysed_share(p, true), 0.1);
}

TEST(ValidateOptions, NeverReplacesTheRunsOfADirectoryThatIsNotAValidations) {
  ScratchDir scratch;
  std::filesystem::create_directories(scratch / "runs" / "precious");
  validate::ValidateOptions options;
  options.out = scratch.path();
  options.cases = {"none"};
  EXPECT_THROW(validate::run_validation(options), Error);
  EXPECT_TRUE(std::filesystem::exists(scratch / "runs" / "precious"));
}

TEST(ValidateOptions, AnUnknownCaseIsRefusedNamingTheCases) {
  ScratchDir scratch;
  validate::ValidateOptions options;
  options.out = scratch.path();
  options.cases = {"nonsense"};
  try {
    validate::run_validation(options);
    FAIL() << "an unknown case was accepted";
  } catch (const std::exception& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("nonsense"), std::string::npos) << message;
    EXPECT_NE(message.find("fragmentation"), std::string::npos) << message;
  }
}

// ---- the workloads, step by step ----------------------------------------------------

std::unique_ptr<validate::Workload> workload(validate::WorkloadKind kind, std::int64_t steps,
                                             const std::filesystem::path& dir = {}) {
  validate::WorkloadOptions options;
  options.kind = kind;
  options.steps = steps;
  options.seed = 3;
  options.dir = dir;
  auto w = validate::make_workload(options);
  w->prepare();
  return w;
}

double counter(const validate::StepReport& report, const std::string& name) {
  for (const auto& [key, value] : report.work)
    if (key == name) return value;
  return -1.0;
}

TEST(ValidateWorkloads, NamesRoundTrip) {
  for (const std::string& name : validate::workload_names()) {
    const auto kind = validate::parse_workload(name);
    ASSERT_TRUE(kind) << name;
    EXPECT_EQ(validate::workload_name(*kind), name);
  }
  EXPECT_FALSE(validate::parse_workload("nonsense"));
}

TEST(ValidateWorkloads, StableDoesTheSameWorkEveryStepAndGrowthTenfoldAroundALine) {
  auto stable = workload(validate::WorkloadKind::stable, 5);
  auto growth = workload(validate::WorkloadKind::growth, 10);
  std::vector<double> stable_units, growth_units;
  for (std::int64_t step = 0; step < 10; ++step) {
    validate::StepReport a, b;
    if (step < 5) {
      stable->step(step, a);
      stable_units.push_back(counter(a, "units"));
    }
    growth->step(step, b);
    growth_units.push_back(counter(b, "units"));
  }
  for (const double units : stable_units)
    EXPECT_EQ(units, stable_units.front());
  EXPECT_GT(stable_units.front(), 0);
  // Within 30% of the line from a tenth of the stable work to all of it, and not on it
  // exactly: the step-to-step variation is what lets the analysis price the work.
  const double first = stable_units.front() / 10, last = stable_units.front();
  bool off_the_line = false;
  for (std::size_t i = 0; i < growth_units.size(); ++i) {
    const double line = first + (last - first) * static_cast<double>(i) / 9.0;
    EXPECT_NEAR(growth_units[i], line, 0.3 * line + 1) << i;
    off_the_line = off_the_line || std::abs(growth_units[i] - line) > 0.01 * line;
  }
  EXPECT_TRUE(off_the_line);
}

TEST(ValidateWorkloads, TheWorkScaleMultipliesTheUnitsOfStableAndGrowth) {
  validate::WorkloadOptions options;
  options.steps = 4;
  options.seed = 3;
  for (const auto kind : {validate::WorkloadKind::stable, validate::WorkloadKind::growth}) {
    options.kind = kind;
    options.work_scale = 1;
    auto plain = validate::make_workload(options);
    options.work_scale = 3;
    auto scaled = validate::make_workload(options);
    for (std::int64_t step = 0; step < 4; ++step) {
      validate::StepReport a, b;
      plain->step(step, a);
      scaled->step(step, b);
      EXPECT_EQ(counter(b, "units"), 3 * counter(a, "units")) << step;  // same seed, same jitter
    }
  }
}

// The watch cases' program: a marker after each step, with the step's work counters, as a
// program a user marks would print them; nothing but its checksum without markers.
TEST(ValidateWorkloads, AsAProgramItPrintsAMarkerPerStepOrNothing) {
  validate::WorkloadOptions options;
  options.kind = validate::WorkloadKind::growth;
  options.steps = 5;
  const std::atomic<bool> go{false};
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(validate::run_workload_as_program(options, true, go), 5);
  const std::string marked = ::testing::internal::GetCapturedStdout();
  std::istringstream lines(marked);
  std::string line;
  for (int step = 0; step < 5; ++step) {
    ASSERT_TRUE(std::getline(lines, line));
    EXPECT_EQ(line.rfind(fmt::format("NRMLAB step={} units=", step), 0), 0u) << line;
  }
  ASSERT_TRUE(std::getline(lines, line));
  EXPECT_EQ(line.rfind("checksum ", 0), 0u) << line;
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(validate::run_workload_as_program(options, false, go), 5);
  const std::string bare = ::testing::internal::GetCapturedStdout();
  EXPECT_EQ(bare.find("NRMLAB"), std::string::npos) << bare;
  const std::atomic<bool> stop{true};
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(validate::run_workload_as_program(options, true, stop), 0);
  ::testing::internal::GetCapturedStdout();
}

TEST(ValidateWorkloads, TheStoreWritesEveryEventInItsOwnTransactionAndTimesIt) {
  ScratchDir scratch;
  std::int64_t prefilled = 0, written = 0;
  {
    auto store = workload(validate::WorkloadKind::store, 3, scratch.path());
    {
      sqlite::Connection db(scratch / "store.db");
      prefilled = sqlite::query_int(db, "SELECT count(*) FROM events");
    }
    for (std::int64_t step = 0; step < 3; ++step) {
      validate::StepReport report;
      store->step(step, report);
      EXPECT_EQ(report.counters.db_transactions, report.counters.db_rows);
      EXPECT_GT(report.counters.db_rows, 0u);
      EXPECT_GT(report.sections.database_ns, 0);
      written += static_cast<std::int64_t>(report.counters.db_rows);
    }
  }
  // The first step's lookups already scan a table: the growth starts from a positive cost.
  EXPECT_GE(prefilled, 1000);
  sqlite::Connection db(scratch / "store.db");
  EXPECT_EQ(sqlite::query_int(db, "SELECT count(*) FROM events"), prefilled + written);
  EXPECT_EQ(sqlite::query_int(db, "SELECT count(*) FROM pragma_index_list('events')"), 0)
      << "the planted cause is the lookup without an index";
}

TEST(ValidateWorkloads, DearerHandlesTheSameItemsEveryStepWhileItsHiddenHistoryTriples) {
  auto dearer = workload(validate::WorkloadKind::dearer, 5);
  for (std::int64_t step = 0; step < 5; ++step) {
    validate::StepReport report;
    dearer->step(step, report);
    ASSERT_EQ(report.work.size(), 1u) << "the history is no work counter";
    EXPECT_EQ(counter(report, "items"), 64);
    EXPECT_EQ(report.counters.db_rows, 0u);
  }
  EXPECT_TRUE(std::isfinite(dearer->checksum()));
  for (const std::int64_t steps : {2, 60, 300, 601}) {
    const std::size_t first = validate::dearer_history(0, steps);
    const std::size_t last = validate::dearer_history(steps - 1, steps);
    EXPECT_EQ(last, 3 * first) << steps << " steps";
    EXPECT_EQ(validate::dearer_history(steps + 5, steps), last) << "never beyond the last";
    for (std::int64_t i = 1; i < steps; ++i)
      EXPECT_NEAR(static_cast<double>(validate::dearer_history(i, steps) -
                                      validate::dearer_history(i - 1, steps)),
                  static_cast<double>(last - first) / static_cast<double>(steps - 1), 1.0)
          << "linear growth, step " << i << " of " << steps;
  }
}

// The differential profile's workloads: the same 64 items a step while the pass over the
// history gets longer (only the time says so); items growing fourfold around a line.
TEST(ValidateWorkloads, HotspotKeepsItsItemsWhileTheGrowthVariantsItemsGrowFourfold) {
  auto hotspot = workload(validate::WorkloadKind::hotspot, 300);
  for (const std::int64_t step : {0, 150, 299}) {
    validate::StepReport report;
    hotspot->step(step, report);
    ASSERT_EQ(report.work.size(), 1u) << "the history is no work counter";
    EXPECT_EQ(counter(report, "items"), 64);
  }
  auto growth = workload(validate::WorkloadKind::hotspot_growth, 300);
  std::vector<double> first, last;
  for (std::int64_t step = 0; step < 300; step += (step < 20 || step >= 280) ? 1 : 280 - step) {
    validate::StepReport report;
    growth->step(step, report);
    (step < 20 ? first : last).push_back(counter(report, "items"));
  }
  const auto mean = [](const std::vector<double>& v) {
    return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  };
  EXPECT_NEAR(mean(first), 33, 3);
  EXPECT_NEAR(mean(last), 126, 8);
  EXPECT_GT(
      *std::max_element(last.begin(), last.end()) - *std::min_element(last.begin(), last.end()), 30)
      << "the items vary step to step, so their price can be estimated";
  EXPECT_TRUE(std::isfinite(hotspot->checksum()) && std::isfinite(growth->checksum()));
}

TEST(ValidateWorkloads, TheFsyncWriterSyncsOneRecordAStepInAFileThatNeverGrows) {
  ScratchDir scratch;
  auto writer = workload(validate::WorkloadKind::fsync, 3, scratch.path());
  const auto journal = scratch / "journal.bin";
  const auto size = std::filesystem::file_size(journal);
  EXPECT_GT(size, 0u) << "written in full before the first step";
  for (std::int64_t step = 0; step < 3; ++step) {
    validate::StepReport report;
    writer->step(step, report);
    EXPECT_EQ(report.counters.db_transactions, 1u);
    EXPECT_EQ(report.counters.db_rows, 1u);
    EXPECT_GT(report.sections.database_ns, 0);
    EXPECT_EQ(counter(report, "records"), 1);
    EXPECT_EQ(std::filesystem::file_size(journal), size) << "a sync that changes no size";
  }
  EXPECT_EQ(writer->checksum(), 3);
  const std::string text = read_text(journal);
  EXPECT_NE(text[0], '\0') << "the first record was written";
  EXPECT_EQ(text.find_first_not_of('\0', 3 * 512), std::string::npos) << "only three records";
}

TEST(ValidateWorkloads, TheWaitsWorkloadSleepsAndCommitsOneSyncedRowAStep) {
  ScratchDir scratch;
  auto waits = workload(validate::WorkloadKind::waits, 3, scratch.path());
  for (std::int64_t step = 0; step < 3; ++step) {
    validate::StepReport report;
    const auto begin = std::chrono::steady_clock::now();
    waits->step(step, report);
    EXPECT_GE(std::chrono::steady_clock::now() - begin, std::chrono::milliseconds(3))
        << "the timed sleep is part of every step";
    EXPECT_EQ(report.counters.db_transactions, 1u);
    EXPECT_EQ(counter(report, "rows"), 1);
  }
  sqlite::Connection db(scratch / "metrics.db");
  EXPECT_EQ(sqlite::query_int(db, "SELECT count(*) FROM metrics"), 3) << "one row a step";
}

// The profiled run the `waits` case makes: its analysis finds both waits at their call sites
// (where this machine permits stack sampling).
// (where this machine permits stack sampling). Not in a ScratchDir, which prefers /dev/shm:
// a sync on tmpfs returns at once, so there would be no disk wait to find.
TEST(ValidateWorkloads, AProfiledWaitsRunFindsTheSleepAndTheSyncWhereTheyAreMade) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::current_path() / fmt::format("waits-scratch-{}", ::getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      std::error_code ignored;
      fs::remove_all(dir, ignored);
    }
  } cleanup{dir};
  struct statfs where {};
  ASSERT_EQ(::statfs(dir.c_str(), &where), 0);
  const bool syncs_wait = where.f_type != TMPFS_MAGIC;
  validate::WorkloadOptions options;
  options.kind = validate::WorkloadKind::waits;
  options.steps = 60;
  options.dir = dir;
  options.profile_hz = 99;
  const std::atomic<bool> stop{false};
  ASSERT_TRUE(validate::run_workload(options, stop).complete);
  analysis::AnalyzeOptions analyze;
  analyze.mode = analysis::Mode::sound;
  const analysis::AnalysisReport report = analysis::analyze(dir, analyze);
  ASSERT_EQ(report.runs.size(), 1u);
  const analysis::CodeProfile& code = report.runs[0].code;
  if (code.status != "sampled") GTEST_SKIP() << code.status << " -- " << code.enable_hint;
  const auto found = [&](std::string_view wait, std::string_view function) {
    return std::any_of(code.time.begin(), code.time.end(), [&](const analysis::CodeTime& t) {
      return t.wait_class == wait && (t.caller.find(function) != std::string::npos ||
                                      t.site.find(function) != std::string::npos);
    });
  };
  EXPECT_TRUE(found("sleep", "sample_cpu_share"));
  if (syncs_wait) {
    EXPECT_TRUE(found("disk", "sqlite3PagerCommit")) << dir;
  }
  EXPECT_FALSE(found("sleep", "persist_row")) << "the sleep is not put on the commit";
}

TEST(ValidateWorkloads, FragmentationKeepsEveryNodeLinkedOnceWhileReplacingThem) {
  auto fragmentation = workload(validate::WorkloadKind::fragmentation, 6);
  double visited = 0.0, allocations = 0.0;
  for (std::int64_t step = 0; step < 6; ++step) {
    validate::StepReport report;
    fragmentation->step(step, report);
    if (step == 0) {
      visited = counter(report, "nodes_visited");
      allocations = counter(report, "allocations");
    }
    EXPECT_EQ(counter(report, "nodes_visited"), visited);
    EXPECT_EQ(counter(report, "allocations"), allocations) << "the same work every step";
  }
  ASSERT_GT(visited, 0);
  // Every node holds 1.0: the walks sum to exactly the nodes visited when the list is
  // whole -- no node lost, none linked twice, after 600 replacements.
  EXPECT_EQ(fragmentation->checksum(), 6 * visited);
}

std::size_t children_of_this_thread() {
  std::ifstream in("/proc/self/task/" + std::to_string(::gettid()) + "/children");
  std::size_t count = 0;
  for (std::string pid; in >> pid;)
    ++count;
  return count;
}

TEST(ValidateWorkloads, ContentionStartsTwoCompetitorsPerCoreForTheMiddleHalfOnly) {
  const std::size_t before = children_of_this_thread();
  cpu_set_t set;
  CPU_ZERO(&set);
  ASSERT_EQ(::sched_getaffinity(0, sizeof set, &set), 0);
  const auto cores = static_cast<std::size_t>(CPU_COUNT(&set));
  {
    auto contention = workload(validate::WorkloadKind::contention, 8);
    validate::StepReport report;
    for (std::int64_t step = 0; step < 2; ++step)
      contention->step(step, report);
    EXPECT_EQ(children_of_this_thread(), before);
    contention->step(2, report);
    EXPECT_EQ(children_of_this_thread(), before + 2 * cores);
    for (std::int64_t step = 3; step <= 6; ++step)
      contention->step(step, report);
    EXPECT_EQ(children_of_this_thread(), before) << "stopped and reaped at step 6";
  }
  EXPECT_EQ(children_of_this_thread(), before);
}

TEST(ValidateWorkloads, ARunRecordsTelemetryTheAnalysisReads) {
  ScratchDir scratch;
  validate::WorkloadOptions options;
  options.kind = validate::WorkloadKind::growth;
  options.steps = 30;
  options.dir = scratch.path();
  const std::atomic<bool> stop{false};
  const auto result = validate::run_workload(options, stop);
  EXPECT_TRUE(result.complete);
  EXPECT_EQ(result.steps, 30);
  EXPECT_EQ(result.telemetry.steps, 30);
  const analysis::RunData run = analysis::read_run(scratch.path());
  EXPECT_EQ(run.meta_value("experiment"), "validate:growth");
  EXPECT_EQ(run.meta_value("outcome"), "complete");
  ASSERT_EQ(run.conditions.size(), 1u);
  EXPECT_EQ(run.conditions[0].name, "growth");
  ASSERT_EQ(run.conditions[0].steps.rows(), 30u);
  ASSERT_TRUE(run.conditions[0].steps.has("work.units"));
  const auto units = run.conditions[0].steps["work.units"];
  EXPECT_LT(units.front(), units.back());
}

TEST(ValidateWorkloads, AStoppedRunSaysSo) {
  ScratchDir scratch;
  validate::WorkloadOptions options;
  options.kind = validate::WorkloadKind::stable;
  options.steps = 30;
  options.dir = scratch.path();
  const std::atomic<bool> stop{true};
  const auto result = validate::run_workload(options, stop);
  EXPECT_FALSE(result.complete);
  EXPECT_EQ(result.steps, 0);
  sqlite::Connection db(scratch / "telemetry.db");
  sqlite::Statement outcome(db, "SELECT value FROM meta WHERE key = 'outcome'");
  ASSERT_TRUE(outcome.step());
  EXPECT_EQ(outcome.column_text(0), "interrupted");
}

// ---- end to end ---------------------------------------------------------------------

// A validation of `cases` into `scratch` that never counts a run as disturbed: the sanitized
// suite runs tests side by side, so a busy machine is the normal case here.
validate::ValidateOptions options_on_a_busy_machine(const ScratchDir& scratch,
                                                    std::vector<std::string> cases) {
  validate::ValidateOptions options;
  options.out = scratch.path();
  options.nrmlab_binary = NRMLAB_BINARY;
  options.cases = std::move(cases);
  options.max_external_cores = std::numeric_limits<double>::infinity();
  options.max_run_queue_share = std::numeric_limits<double>::infinity();
  return options;
}

TEST(ValidateRun, EachReplicateIsItsOwnAnalysedRunAndTheReportIsWritten) {
  ScratchDir scratch;
  validate::ValidateOptions options = options_on_a_busy_machine(scratch, {"growth", "thermal"});
  options.replicates = 2;
  // Long enough that the quarters the attribution compares (40 steps) price the work
  // under a sanitizer's noise.
  options.steps = 160;
  std::size_t calls = 0;
  options.on_run = [&](const validate::ValidationRun&, std::size_t done, std::size_t total) {
    EXPECT_EQ(done, ++calls);
    EXPECT_EQ(total, 4u);
  };
  const auto report = validate::run_validation(options);
  EXPECT_EQ(calls, 4u);
  ASSERT_EQ(report.runs.size(), 4u);
  std::set<std::uint64_t> seeds;
  for (const auto& run : report.runs) {
    EXPECT_TRUE(run.error.empty()) << run.id << ": " << run.error;
    EXPECT_TRUE(std::filesystem::exists(scratch / "runs" / run.id / "telemetry.db")) << run.id;
    EXPECT_TRUE(std::filesystem::exists(scratch / "runs" / run.id / "analysis.json")) << run.id;
    seeds.insert(run.seed);
  }
  EXPECT_EQ(seeds.size(), 2u) << "replicates differ in seed";
  // Tenfold growth is found whatever else a sanitizer's slowdown adds (the release suite's
  // validate_short checks the exact verdicts).
  const auto growth = analysis::analyze(scratch / "runs" / report.runs[0].id, {});
  std::string h5_reason, drift;
  for (const auto& h : growth.runs.front().sound.hypotheses)
    if (h.id == "H5") h5_reason = h.reason;
  for (const auto& d : growth.runs.front().sound.drift)
    drift = analysis::describe_drift(d) + fmt::format(" (Mann-Kendall p {:.2g})", d.mann_kendall_p);
  // A sanitizer's noise may leave one run unable to price the work ("not identifiable");
  // it must never deny the growth.
  analysis::Verdict h5 = analysis::Verdict::not_testable;
  for (const auto& h : growth.runs.front().sound.hypotheses)
    if (h.id == "H5") h5 = h.verdict;
  EXPECT_TRUE(h5 == analysis::Verdict::supported || h5 == analysis::Verdict::not_identifiable)
      << report.runs[0].verdict << ": " << report.runs[0].reason << "; H5: " << h5_reason
      << "; drift: " << drift;
  // The thermal expectation is the machine's, as its own run recorded it.
  const auto thermal = analysis::analyze(scratch / "runs" / report.runs[1].id, {});
  ASSERT_EQ(thermal.runs.size(), 1u);
  EXPECT_EQ(report.runs[1].expected, validate::expected_thermal_label(thermal.runs.front()));
  const auto json = nlohmann::json::parse(read_text(scratch / "validation.json"));
  EXPECT_EQ(json["schema"], "nrmlab.validation/1");
  EXPECT_EQ(json["runs"].size(), 4u);
  int counted = 0;
  for (const auto& [id, row] : json["confusion"].items())
    for (const auto& [verdict, count] : row.items())
      counted += count.get<int>();
  EXPECT_EQ(counted, 4);
  EXPECT_EQ(json["wrong"].get<int>(), report.wrong);
  EXPECT_FALSE(json["interrupted"].get<bool>());
}

// The watch cases run a program nrmlab did not instrument under `nrmlab watch`: without
// markers the drift is not judged (whatever a sanitizer does to the timings), with 20 the
// first is the start-up and 19 steps carry the work counter.
TEST(ValidateRun, TheWatchCasesWatchAPlainProgramWithAndWithoutMarkers) {
  ScratchDir scratch;
  validate::ValidateOptions options =
      options_on_a_busy_machine(scratch, {"watch-unmarked", "watch-short-growth"});
  options.replicates = 1;
  const auto report = validate::run_validation(options);
  ASSERT_EQ(report.runs.size(), 2u);
  for (const auto& run : report.runs)
    ASSERT_TRUE(run.error.empty()) << run.id << ": " << run.error;
  EXPECT_EQ(report.runs[0].verdict, "no steps") << report.runs[0].reason;
  EXPECT_TRUE(report.runs[0].correct);
  const auto marked = analysis::analyze(scratch / "runs" / report.runs[1].id, {});
  ASSERT_EQ(marked.runs.size(), 1u);
  const auto data = analysis::read_run(scratch / "runs" / report.runs[1].id);
  EXPECT_EQ(data.meta_value("experiment"), "external");
  ASSERT_EQ(data.conditions.size(), 1u);
  EXPECT_EQ(data.conditions.front().steps.rows(), 19u);
  EXPECT_TRUE(data.conditions.front().steps.has("work.units"));
  for (const auto& line : analysis::summarise(marked))
    EXPECT_EQ(line.find("does not slow down"), std::string::npos) << line;
}

// `--telemetry-budget` reaches every run it starts, a planted workload's and the NRM
// engine's (`nrmlab run`): what a budget does to the verdicts is measured this way.
TEST(ValidateRun, ATelemetryBudgetReachesEveryRun) {
  ScratchDir scratch;
  validate::ValidateOptions options = options_on_a_busy_machine(scratch, {"none", "blocking"});
  options.replicates = 1;
  options.steps = 60;
  options.telemetry_budget = 0.25;
  const auto report = validate::run_validation(options);
  ASSERT_EQ(report.runs.size(), 2u);
  for (const auto& run : report.runs) {
    ASSERT_TRUE(run.error.empty()) << run.id << ": " << run.error;
    sqlite::Connection db(scratch / "runs" / run.id / "telemetry.db");
    sqlite::Statement share(db, "SELECT value FROM meta WHERE key = 'cadence.budget_share'");
    ASSERT_TRUE(share.step()) << run.id;
    EXPECT_EQ(share.column_text(0), "0.25") << run.id;
  }
}

TEST(ValidateRun, AValidationKilledEarlyLeavesADirectoryTheNextOneReuses) {
  ScratchDir scratch;
  const std::atomic<bool> stop{true};
  validate::ValidateOptions options;
  options.out = scratch.path();
  options.nrmlab_binary = NRMLAB_BINARY;
  options.cases = {"none"};
  options.stop = &stop;
  const auto report = validate::run_validation(options);
  EXPECT_TRUE(report.interrupted);
  EXPECT_TRUE(report.runs.empty());
  const auto json = nlohmann::json::parse(read_text(scratch / "validation.json"));
  EXPECT_TRUE(json["interrupted"].get<bool>());
  std::filesystem::create_directories(scratch / "runs" / "none-0");  // as if killed mid-run
  EXPECT_NO_THROW(validate::run_validation(options));
}

TEST(ValidateCli, RefusesAnUnknownCaseAndHidesItsChildCommand) {
  ScratchDir scratch;
  const auto refused =
      run_nrmlab({"validate", "--case", "nonsense", "--out", scratch.path()}, scratch);
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("nonsense"), std::string::npos) << refused.err;
  const auto help = run_nrmlab({"--help"}, scratch);
  EXPECT_NE(help.out.find("validate"), std::string::npos);
  EXPECT_EQ(help.out.find("validate-workload"), std::string::npos) << help.out;
  const auto unknown = run_nrmlab({"nonsense"}, scratch);
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("validate"), std::string::npos) << unknown.err;
  EXPECT_EQ(unknown.err.find("validate-workload"), std::string::npos) << unknown.err;
  const auto workload_help = run_nrmlab({"validate", "--help"}, scratch);
  EXPECT_NE(workload_help.out.find("fragmentation"), std::string::npos);
}

}  // namespace
}  // namespace nrmlab::testing
