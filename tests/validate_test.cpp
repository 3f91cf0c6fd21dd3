// nrmlab validate: the verdict labels, the tally, each planted workload's steps, a
// workload run's telemetry, and a small validation end to end. Whether every verdict is
// right is the release suite's `validate_short` test (ctest -L validate): under the
// sanitizers the allocators and the timings are not the ones being validated.
#include <fmt/format.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include <gtest/gtest.h>

#include "analysis/analyze.hpp"
#include "analysis/telemetry_reader.hpp"
#include "test_support.hpp"
#include "util/error.hpp"
#include "util/sqlite.hpp"
#include "validate/validator.hpp"
#include "validate/verdict.hpp"
#include "validate/workload.hpp"
#include "validate/workload_run.hpp"

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
  drift.relative_change = 0.4;
  run.sound.drift.push_back(drift);
  return run;
}

const std::vector<std::string> k_nothing = {"not supported", "not supported", "not testable",
                                            "not testable", "not supported"};

TEST(ValidateVerdict, NoSupportedHypothesisIsNoneAndTheObserverDoesNotCount) {
  const auto v = read_verdict(analysed(k_nothing), false);
  EXPECT_EQ(v.label, "none");
  EXPECT_TRUE(v.supported.empty());
  EXPECT_DOUBLE_EQ(v.relative_change, 0.4);
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
  const auto lines = validate::confusion_table(report);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_NE(lines[0].find("right"), std::string::npos);
  EXPECT_NE(lines[1].find("1/2"), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find("1/2"), std::string::npos) << lines[2];
  EXPECT_EQ(lines[1].rfind("none", 0), 0u);
}

TEST(ValidateTally, OnlyAnUntestableH4MayStandForNotSupported) {
  EXPECT_TRUE(validate::is_right("H3", "H3"));
  EXPECT_FALSE(validate::is_right("H3+H5", "H3"));
  EXPECT_TRUE(validate::is_right("H4 not testable", "H4 not supported"));
  EXPECT_FALSE(validate::is_right("H4 not supported", "H4 not testable"))
      << "without sensors, H4 is never refuted";
  EXPECT_FALSE(validate::is_right("H4 supported", "H4 not supported"));
}

validate::ValidationRun fragmentation_run(std::string allocator, double relative_change) {
  validate::ValidationRun run =
      outcome("fragmentation", allocator == "system" ? "H2" : "none", "H2", allocator != "system");
  run.id = fmt::format("fragmentation-0-{}", allocator);
  run.allocator = std::move(allocator);
  run.relative_change = relative_change;
  return run;
}

TEST(ValidateFragmentation, H2StandsOnlyWhenEverySizeClassAllocatorHalvesTheSlowdown) {
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
  const auto one_fails =
      decide({fragmentation_run("jemalloc", -0.1), fragmentation_run("mimalloc", 0.26)});
  EXPECT_EQ(one_fails.verdict, "H2, not confirmed");
  EXPECT_NE(one_fails.reason.find("mimalloc"), std::string::npos);
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

TEST(ValidateWorkloads, StableDoesTheSameWorkEveryStepAndGrowthTenfoldLinearly) {
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
  EXPECT_EQ(growth_units.back(), stable_units.front());
  EXPECT_EQ(growth_units.front(), stable_units.front() / 10);
  for (std::size_t i = 1; i < growth_units.size(); ++i)
    EXPECT_NEAR(growth_units[i] - growth_units[i - 1], growth_units[1] - growth_units[0], 1.0);
}

TEST(ValidateWorkloads, TheStoreWritesEveryEventInItsOwnTransactionAndTimesIt) {
  ScratchDir scratch;
  {
    auto store = workload(validate::WorkloadKind::store, 3, scratch.path());
    for (std::int64_t step = 0; step < 3; ++step) {
      validate::StepReport report;
      store->step(step, report);
      EXPECT_EQ(report.counters.db_transactions, report.counters.db_rows);
      EXPECT_GT(report.counters.db_rows, 0u);
      EXPECT_GT(report.sections.database_ns, 0);
    }
  }
  sqlite::Connection db(scratch / "store.db");
  EXPECT_EQ(sqlite::query_int(db, "SELECT count(*) FROM events"), 3 * 16);
  EXPECT_EQ(sqlite::query_int(db, "SELECT count(*) FROM pragma_index_list('events')"), 0)
      << "the planted cause is the lookup without an index";
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

TEST(ValidateRun, EachReplicateIsItsOwnAnalysedRunAndTheReportIsWritten) {
  ScratchDir scratch;
  validate::ValidateOptions options;
  options.out = scratch.path();
  options.nrmlab_binary = NRMLAB_BINARY;
  options.cases = {"growth", "thermal"};
  options.replicates = 2;
  options.steps = 80;
  // The sanitized suite runs tests side by side: a busy machine is the normal case here.
  options.max_external_cores = std::numeric_limits<double>::infinity();
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
  // Tenfold growth is found whatever else a sanitizer's slowdown and the tests running
  // beside this one add (the release suite's validate_short checks the exact verdicts).
  EXPECT_NE(std::find(report.runs[0].supported.begin(), report.runs[0].supported.end(), "H5"),
            report.runs[0].supported.end())
      << report.runs[0].verdict << ": " << report.runs[0].reason;
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
