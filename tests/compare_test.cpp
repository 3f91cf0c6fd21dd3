// Which code got slower between two runs (issue 19): `nrmlab compare A B` and its logic
// (analysis/run_comparison.hpp), and the early and late segments `nrmlab export --format
// folded` writes (analysis/segment_export.hpp). The runs are a watched program of two
// functions per step, written through the real TelemetryStore: steps with a work counter, and
// stack samples every millisecond into 100 ms windows, as the profiler leaves them.
#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "analysis/analyze.hpp"
#include "analysis/run_comparison.hpp"
#include "analysis/segment_export.hpp"
#include "synthetic_telemetry.hpp"
#include "telemetry/profile/profile_export.hpp"
#include "telemetry/telemetry_store.hpp"
#include "test_support.hpp"
#include "util/error.hpp"

namespace nrmlab::testing {
namespace {

namespace fs = std::filesystem;
using analysis::CodeChange;
using analysis::CodeGrowth;
using analysis::GateOutcome;
using telemetry::profile::WindowRange;
using ::testing::HasSubstr;

constexpr std::int64_t k_window_ns = 100'000'000;  // 100 ms
constexpr std::int64_t k_period_ns = 1'000'000;    // a sample a millisecond

struct Program {
  std::int64_t steps = 600;
  double scan_ms_first = 2.0;  // scan_history's time in the first step
  double scan_ms_last = 2.0;   // ... and in the last (linear in between)
  double update_ms = 5.0;      // update_agents'
  bool record_work = true;     // items=100 with every step marker
  bool sampled = true;
  std::uint64_t seed = 1;
};

// The program's step times, each function's part of them (log-normal noise), and its
// begin times as the synthetic writer accumulates them.
struct Timeline {
  std::vector<std::int64_t> scan, wall, begin;
  std::int64_t end = 0;
};

Timeline timeline_of(const Program& p) {
  std::mt19937_64 rng(p.seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  Timeline t;
  for (std::int64_t i = 0; i < p.steps; ++i) {
    const double f = static_cast<double>(i) / static_cast<double>(p.steps - 1);
    const double scan_ms = p.scan_ms_first + (p.scan_ms_last - p.scan_ms_first) * f;
    const auto scan = std::llround(1e6 * scan_ms * std::exp(0.2 * normal(rng)));
    const auto update = std::llround(1e6 * p.update_ms * std::exp(0.2 * normal(rng)));
    t.scan.push_back(scan);
    t.wall.push_back(scan + update);
    t.begin.push_back(t.end);
    t.end += scan + update;
  }
  return t;
}

// A sample each period, charged to the function running then, in the window of its time.
void add_samples(const Timeline& t, std::uint64_t seed, telemetry::Batch& batch) {
  batch.profile_frames = {{1, "main", "prog", 0},
                          {2, "scan_history(long)", "prog", 0},
                          {3, "update_agents(long)", "prog", 0}};
  batch.profile_stacks = {{1, 0, 1}, {2, 1, 2}, {3, 1, 3}};
  std::mt19937_64 rng(seed);
  std::map<std::pair<std::int64_t, std::int64_t>, std::int64_t> samples;  // (window, stack)
  std::size_t step = 0;
  for (std::int64_t s = std::uniform_int_distribution<std::int64_t>(0, k_period_ns - 1)(rng);
       s < t.end; s += k_period_ns) {
    while (t.begin[step] + t.wall[step] <= s)
      ++step;
    ++samples[{s / k_window_ns, s < t.begin[step] + t.scan[step] ? 2 : 3}];
  }
  for (const auto& [key, n] : samples)
    batch.profile_counts.push_back({key.first, key.second, "on_cpu", n, n * k_period_ns});
}

fs::path write_program_run(const fs::path& dir, const Program& p) {
  const Timeline t = timeline_of(p);
  SyntheticRun run;
  SyntheticCondition condition;
  condition.name = "program";
  condition.steps = p.steps;
  condition.step = [&t](std::int64_t step, telemetry::StepRow& row, std::mt19937_64&) {
    row.counters = {};  // a watched program has none of the engine's counters
    row.wall_ns = row.cpu_ns = t.wall[static_cast<std::size_t>(step - 1)];
  };
  run.conditions = {condition};
  run.extra_meta = {{"profile.status", p.sampled ? "sampled" : "off"}};
  if (p.sampled)
    run.extra_meta.insert(run.extra_meta.end(),
                          {{"profile.hz", "1000"},
                           {"profile.period_ns", std::to_string(k_period_ns)},
                           {"profile.window_ns", std::to_string(k_window_ns)}});
  write_synthetic_run(dir, run);
  telemetry::Batch batch;
  if (p.record_work)
    for (std::int64_t step = 1; step <= p.steps; ++step)
      batch.work.push_back({0, step, "items", 100.0});
  if (p.sampled) add_samples(t, p.seed + 1, batch);
  telemetry::TelemetryStore(dir / "telemetry.db").write(batch);
  return dir;
}

const CodeGrowth* growth_of(const analysis::RunComparison& c, const std::string& function) {
  for (const CodeGrowth& g : c.growth)
    if (g.function == function) return &g;
  return nullptr;
}

// B: the same program after a change that made scan_history three times dearer.
struct Pair {
  ScratchDir scratch;
  fs::path a, b;
  explicit Pair(Program after = {.scan_ms_first = 6.0, .scan_ms_last = 6.0, .seed = 2}) {
    a = write_program_run(scratch / "before", Program{});
    b = write_program_run(scratch / "after", after);
  }
};

TEST(RunComparison, NamesTheFunctionThatGotDearerAtTheSameWorkAndLeavesTheOtherAlone) {
  const Pair runs;
  const auto c = analysis::compare_runs(runs.a, runs.b, {});
  ASSERT_EQ(c.comparisons.size(), 1U);
  const analysis::CodeComparison& comparison = c.comparisons.front();
  EXPECT_EQ(comparison.status, "compared");
  EXPECT_EQ(comparison.segments, "runs");
  EXPECT_EQ(comparison.condition, "program");
  EXPECT_EQ(comparison.work_counter, "work.items");
  EXPECT_EQ(comparison.early_label, runs.a.string());
  EXPECT_NEAR(comparison.step_ms_early, 7.0, 0.3);
  EXPECT_NEAR(comparison.step_ms_late, 11.0, 0.4);
  // Each side is its own run's windows, from the first to the last.
  EXPECT_EQ(comparison.early_first_window, 0);
  EXPECT_NEAR(comparison.early_last_window, 600 * 7 / 100, 2);
  EXPECT_NEAR(comparison.late_last_window, 600 * 11 / 100, 2);

  ASSERT_FALSE(c.growth.empty());
  const CodeGrowth& top = c.growth.front();
  EXPECT_EQ(top.function, "scan_history(long)");
  EXPECT_EQ(top.change, CodeChange::dearer);
  EXPECT_NEAR(top.per_unit_ratio, 3.0, 0.25);
  EXPECT_NEAR(top.share_of_change, 1.0, 0.1);
  const CodeGrowth* update = growth_of(c, "update_agents(long)");
  ASSERT_NE(update, nullptr);
  EXPECT_EQ(update->change, CodeChange::unchanged);
  EXPECT_NEAR(update->per_unit_ratio, 1.0, 0.1);

  EXPECT_EQ(analysis::judge_gate(c, {{"scan_history"}, false}).outcome, GateOutcome::failed);
  EXPECT_EQ(analysis::judge_gate(c, {{"update_agents"}, false}).outcome, GateOutcome::passed);
  EXPECT_EQ(analysis::judge_gate(c, {{}, true}).outcome, GateOutcome::failed);
  EXPECT_EQ(analysis::judge_gate(c, {{}, false}).outcome, GateOutcome::not_asked);
  const auto typo = analysis::judge_gate(c, {{"scan_histroy"}, false});
  EXPECT_EQ(typo.outcome, GateOutcome::undecided) << "a typo must not pass a CI gate";
  ASSERT_EQ(typo.lines.size(), 1U);
  EXPECT_THAT(typo.lines[0], HasSubstr("--function scan_histroy"));
  // A threshold above the change: scan_history is no longer dearer.
  const auto lenient = analysis::compare_runs(runs.a, runs.b, {.material = 4.0});
  EXPECT_EQ(analysis::judge_gate(lenient, {{"scan_history"}, false}).outcome, GateOutcome::passed);
}

TEST(RunComparison, TheSameProgramTwiceNamesNothing) {
  ScratchDir scratch;
  const auto c = analysis::compare_runs(write_program_run(scratch / "one", Program{}),
                                        write_program_run(scratch / "two", Program{.seed = 9}), {});
  for (const CodeGrowth& g : c.growth)
    EXPECT_EQ(g.change, CodeChange::unchanged) << g.function;
  EXPECT_EQ(analysis::judge_gate(c, {{}, true}).outcome, GateOutcome::passed);
}

TEST(RunComparison, WithoutAWorkCounterASlowerFunctionLeavesTheGateUndecided) {
  ScratchDir scratch;
  const auto c = analysis::compare_runs(
      write_program_run(scratch / "before", Program{.record_work = false}),
      write_program_run(
          scratch / "after",
          Program{.scan_ms_first = 6.0, .scan_ms_last = 6.0, .record_work = false, .seed = 2}),
      {});
  EXPECT_EQ(c.comparisons.front().work_counter, "");
  EXPECT_THAT(c.comparisons.front().experiment, HasSubstr("work counter"));
  EXPECT_EQ(c.growth.front().change, CodeChange::not_identifiable);
  const auto gate = analysis::judge_gate(c, {{"scan_history"}, false});
  EXPECT_EQ(gate.outcome, GateOutcome::undecided);
  EXPECT_THAT(gate.lines[0], HasSubstr("no work counter"));
}

TEST(RunComparison, ItsJsonHoldsAnalysisJsonsObjects) {
  const Pair runs;
  const auto c = analysis::compare_runs(runs.a, runs.b, {});
  const auto j = analysis::to_json(c);
  EXPECT_EQ(j["schema"], "nrmlab.compare/1");
  EXPECT_EQ(j["a"], runs.a.string());
  EXPECT_EQ(j["b"], runs.b.string());
  EXPECT_EQ(j["threshold"], 0.10);
  ASSERT_EQ(j["growth"].size(), c.growth.size());
  EXPECT_EQ(j["growth"][0], analysis::to_json(c.growth[0]));
  EXPECT_EQ(j["growth"][0]["change"], "dearer");
  EXPECT_EQ(j["comparisons"][0]["status"], "compared");
}

TEST(RunComparison, ARunWithoutStackSamplesIsNamedWithItsStatusAndTheFix) {
  ScratchDir scratch;
  const fs::path a = write_program_run(scratch / "before", Program{});
  const fs::path b = write_program_run(scratch / "after", Program{.sampled = false});
  try {
    analysis::compare_runs(a, b, {});
    FAIL() << "compared a run without samples";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("run B (" + b.string() + ")"));
    EXPECT_THAT(e.what(), HasSubstr("profile status: off"));
    EXPECT_THAT(e.what(), HasSubstr("--profile 99"));
  }
}

TEST(CompareCommand, ExitsOneWhenAGatedFunctionGotDearerAndZeroOtherwise) {
  const Pair runs;
  const auto dearer = run_nrmlab(
      {"compare", runs.a.string(), runs.b.string(), "--function", "scan_history"}, runs.scratch);
  EXPECT_EQ(dearer.exit_code, 1) << dearer.out << dearer.err;
  EXPECT_THAT(dearer.out, HasSubstr("program  " + runs.a.string() + " -> " + runs.b.string()));
  EXPECT_THAT(dearer.out, HasSubstr("of the slowdown is in scan_history (self time per step x"));
  EXPECT_THAT(dearer.out, HasSubstr("scan_history (program, on_cpu): dearer"));
  EXPECT_THAT(dearer.out, HasSubstr("FAIL"));

  const fs::path json = runs.scratch / "compare.json";
  const auto unchanged = run_nrmlab({"compare", "--function", "update_agents", runs.a.string(),
                                     runs.b.string(), "--json", json.string()},
                                    runs.scratch);
  EXPECT_EQ(unchanged.exit_code, 0) << unchanged.out << unchanged.err;
  EXPECT_THAT(unchanged.out, HasSubstr("update_agents (program, on_cpu): unchanged"));
  const auto written = nlohmann::json::parse(read_text(json));
  EXPECT_EQ(written["growth"][0]["function"], "scan_history(long)");

  // Nothing gated: a report, status 0; --fail-on-dearer gates every function.
  EXPECT_EQ(run_nrmlab({"compare", runs.a.string(), runs.b.string()}, runs.scratch).exit_code, 0);
  EXPECT_EQ(
      run_nrmlab({"compare", runs.a.string(), runs.b.string(), "--fail-on-dearer"}, runs.scratch)
          .exit_code,
      1);
}

TEST(CompareCommand, ExitsTwoForBadInputNamingTheRun) {
  ScratchDir scratch;
  const fs::path a = write_program_run(scratch / "before", Program{});
  const fs::path b = write_program_run(scratch / "after", Program{.sampled = false});
  const auto unsampled = run_nrmlab({"compare", a.string(), b.string()}, scratch);
  EXPECT_EQ(unsampled.exit_code, 2);
  EXPECT_THAT(unsampled.err, HasSubstr("run B (" + b.string() + "): no stack samples"));
  EXPECT_THAT(unsampled.err, HasSubstr("profile status: off"));

  const auto missing = run_nrmlab({"compare", (scratch / "nowhere").string(), a.string()}, scratch);
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.err, HasSubstr("run A: " + (scratch / "nowhere").string()));
  const auto threshold =
      run_nrmlab({"compare", a.string(), a.string(), "--threshold", "-1"}, scratch);
  EXPECT_EQ(threshold.exit_code, 2);
  EXPECT_THAT(threshold.err, HasSubstr("--threshold"));
}

// The total time in a folded file, in microseconds.
std::int64_t folded_total(const std::string& text) {
  std::int64_t total = 0;
  std::size_t begin = 0;
  for (std::size_t end; (end = text.find('\n', begin)) != std::string::npos; begin = end + 1) {
    const std::string line = text.substr(begin, end - begin);
    total += std::stoll(line.substr(line.rfind(' ') + 1));
  }
  return total;
}

std::int64_t counted_us(const fs::path& db, std::int64_t stack, WindowRange windows) {
  std::int64_t ns = 0;
  for (const auto& count : telemetry::profile::read_profile(db).counts)
    if (count.window >= windows.first && count.window <= windows.last &&
        (stack == 0 || count.stack == stack))
      ns += count.weight_ns;
  return ns / 1000;
}

TEST(SegmentExport, WritesEachComparedSegmentsWindowsAsFoldedStacks) {
  // One run that slows down: analysed, then exported.
  ScratchDir scratch;
  const fs::path run =
      write_program_run(scratch / "run", Program{.steps = 800, .scan_ms_last = 10.0});
  ASSERT_EQ(run_nrmlab({"analyze", run.string(), "--quiet"}, scratch).exit_code, 0);
  const auto report = analysis::read_analysis(run / "analysis.json");
  const analysis::CodeComparison& c = report.runs.front().code.comparisons.front();
  ASSERT_EQ(c.status, "compared");

  const auto exported = run_nrmlab({"export", run.string(), "--format", "folded"}, scratch);
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  const fs::path out = run / "export";
  EXPECT_EQ(exported.out, fmt::format("{}\n{}\n{}\n", (out / "profile.folded").string(),
                                      (out / "profile.early.folded").string(),
                                      (out / "profile.late.folded").string()));
  EXPECT_THAT(exported.err, HasSubstr("difffolded.pl profile.early.folded profile.late.folded"));
  const WindowRange early{c.early_first_window, c.early_last_window};
  const WindowRange late{c.late_first_window, c.late_last_window};
  const std::string early_text = read_text(out / "profile.early.folded");
  const std::string late_text = read_text(out / "profile.late.folded");
  const fs::path db = run / "telemetry.db";
  EXPECT_EQ(folded_total(early_text), counted_us(db, 0, early));
  EXPECT_EQ(folded_total(late_text), counted_us(db, 0, late));
  EXPECT_THAT(early_text,
              HasSubstr(fmt::format("main;scan_history(long) {}\n", counted_us(db, 2, early))));
  EXPECT_THAT(late_text,
              HasSubstr(fmt::format("main;scan_history(long) {}\n", counted_us(db, 2, late))));
  EXPECT_GT(counted_us(db, 2, late), 2 * counted_us(db, 2, early)) << "the late scans are longer";
}

TEST(SegmentExport, NamesTheConditionWhenThereAreSeveralAndSkipsWhatWasNotCompared) {
  ScratchDir scratch;
  const fs::path run = write_program_run(scratch / "run", Program{});
  analysis::AnalysisReport report;
  analysis::RunAnalysis analysed;
  analysis::CodeComparison compared;
  compared.condition = "OFF-ON";
  compared.status = "compared";
  compared.early_first_window = 0;
  compared.early_last_window = 4;
  compared.late_first_window = 30;
  compared.late_last_window = 34;
  analysis::CodeComparison short_one;
  short_one.condition = "ON-ON";
  short_one.status = "too short";
  analysed.code.comparisons = {compared, short_one};
  report.runs = {analysed};
  analysis::write_analysis(report, run / "analysis.json");

  const auto written = analysis::export_segment_profiles(run, scratch / "out",
                                                         telemetry::profile::ProfileFormat::folded);
  ASSERT_EQ(written.size(), 2U);
  EXPECT_EQ(written[0].early_file, scratch / "out" / "profile.OFF-ON.early.folded");
  EXPECT_EQ(written[0].late_file, scratch / "out" / "profile.OFF-ON.late.folded");
  EXPECT_TRUE(written[1].early_file.empty());
  EXPECT_EQ(written[1].status, "too short");
  const fs::path db = run / "telemetry.db";
  EXPECT_EQ(folded_total(read_text(written[0].early_file)), counted_us(db, 0, {0, 4}));
  EXPECT_EQ(folded_total(read_text(written[0].late_file)), counted_us(db, 0, {30, 34}));
  EXPECT_FALSE(fs::exists(scratch / "out" / "profile.ON-ON.early.folded"));

  // Without analysis.json: the whole profile only, as before.
  fs::remove(run / "analysis.json");
  EXPECT_TRUE(analysis::export_segment_profiles(run, scratch / "none",
                                                telemetry::profile::ProfileFormat::folded)
                  .empty());
}

}  // namespace
}  // namespace nrmlab::testing
