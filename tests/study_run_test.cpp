// `nrmlab study` end to end: real child processes, resume after kill -9, failed runs,
// order independence, the allocator factor, --plan and study-task.
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_support.hpp"
#include "util/sqlite.hpp"

namespace nrmlab::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using Json = nlohmann::json;

// 2 x 2 cells x 2 replicates of a small C256 with a synthetic source (exact replay of
// inputs, so results depend only on the seed).
constexpr const char* k_small_study = R"([study]
name = "small"
replicates = 2
seed = 5

[run]
source = "synthetic"
steps = 30
max_agents = 12
persistence = "off"
conditions = ["OFF-OFF", "ON-ON"]

[telemetry]
side_period_ms = 0
pss_period_ms = 0

[factors]
sampling = ["per-call", "per-step"]
recursive_evolve = ["on", "off"]
)";

fs::path write_study(const ScratchDir& scratch, const std::string& name, const std::string& text) {
  const fs::path file = scratch / name;
  std::ofstream(file) << text;
  return file;
}

Json manifest_of(const fs::path& dir) {
  return Json::parse(read_text(dir / "manifest.json"));
}

std::size_t count_status_files(const fs::path& dir) {
  std::size_t count = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir / "runs", ec))
    count += fs::exists(entry.path() / "status.json") ? 1 : 0;
  return count;
}

// Each run sleeps about 0.2 s (2 ms per step, per-step sampling), so the runner can be
// stopped mid-study.
constexpr const char* k_slow_study = R"([study]
name = "slow"
replicates = 4
seed = 3

[run]
source = "synthetic"
steps = 50
max_agents = 8
persistence = "off"
sampling = "per-step"
window_ms = 2
conditions = ["OFF-OFF", "ON-OFF"]

[telemetry]
side_period_ms = 0
pss_period_ms = 0

[factors]
recursive_evolve = ["on", "off"]
)";

void wait_for_statuses(const fs::path& dir, std::size_t count) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (count_status_files(dir) < count && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

TEST(StudyCommand, RunsEveryRunAsAChildProcessThenAnalyses) {
  ScratchDir scratch;
  const fs::path file = write_study(scratch, "small.toml", k_small_study);
  const fs::path dir = scratch / "out";
  const auto result = run_nrmlab({"study", file.string(), "--out", dir.string()}, scratch);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("8 of 8 runs complete"));
  EXPECT_THAT(result.out, HasSubstr("analysis:"));

  const Json manifest = manifest_of(dir);
  EXPECT_EQ(manifest["schema"], "nrmlab.manifest/1");
  EXPECT_EQ(manifest["summary"]["complete"], 8);
  EXPECT_EQ(manifest["order"].size(), 8u);
  for (const Json& run : manifest["runs"]) {
    EXPECT_EQ(run["status"]["state"], "complete") << run.dump();
    EXPECT_EQ(run["status"]["overlapping_runs"], 0);
    const fs::path run_dir = dir / "runs" / run["id"].get<std::string>();
    const Json result_json = Json::parse(read_text(run_dir / "result.json"));
    EXPECT_TRUE(result_json["complete"].get<bool>());
    EXPECT_EQ(result_json["metadata"]["configuration"]["seed"], run["seed"]);
    // One `nrmlab run` process per run: its own output is kept beside its results.
    EXPECT_THAT(read_text(run_dir / "stdout.log"),
                HasSubstr("result: " + (run_dir / "result.json").string()));
  }
  EXPECT_EQ(read_text(dir / "study.toml"), k_small_study);
  const Json analysis = Json::parse(read_text(dir / "analysis.json"));
  EXPECT_EQ(analysis["runs"].size(), 8u);
  EXPECT_TRUE(analysis["study"].is_object());
}

TEST(StudyCommand, PlanPrintsRunsAndTheirPredictionsAndRunsNothing) {
  ScratchDir scratch;
  const fs::path file = write_study(scratch, "small.toml", k_small_study);
  // The unit costs are measured into the scratch directory, not the user's cache.
  ::setenv("NRMLAB_CACHE_DIR", (scratch / "cache").c_str(), 1);
  const auto result =
      run_nrmlab({"study", file.string(), "--plan", "--out", (scratch / "out").string()}, scratch);
  ::unsetenv("NRMLAB_CACHE_DIR");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("8 runs = 4 cells x 2 replicates"));
  EXPECT_THAT(result.out, HasSubstr("sampling=per-call recursive_evolve=on"));
  EXPECT_THAT(result.out, HasSubstr("estimated duration"));
  EXPECT_THAT(result.out, HasSubstr("8 of 8 runs predicted as `nrmlab predict` does"));
  EXPECT_THAT(result.out, HasSubstr("with --backend slurm, each task asks --time=00:"));
  EXPECT_TRUE(fs::exists(scratch / "cache" / "unit-costs.json"));
  EXPECT_FALSE(fs::exists(scratch / "out"));
}

TEST(StudyCommand, MalformedStudyFileNamesFileAndLine) {
  ScratchDir scratch;
  const fs::path file =
      write_study(scratch, "bad.toml", "[study]\nname = \"x\"\n[factors]\nwindow_ms = [0, -5]\n");
  const auto result = run_nrmlab({"study", file.string()}, scratch);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err,
              HasSubstr("bad.toml:4: window_ms = '-5': expected an integer in [0, 60000]"));
  // Thresholds are checked before any run, by the analysis stage's own rules.
  const fs::path thresholds =
      write_study(scratch, "t.toml", "[study]\nname = \"x\"\n[thresholds]\nalpah = 0.1\n");
  const auto typo = run_nrmlab({"study", thresholds.string()}, scratch);
  EXPECT_EQ(typo.exit_code, 1);
  EXPECT_THAT(typo.err, HasSubstr("t.toml:4: unknown threshold 'alpah'"));
}

TEST(StudyCommand, ResumeAfterKillNineRepeatsNoCompletedRun) {
  ScratchDir scratch;
  const fs::path file = write_study(scratch, "slow.toml", k_slow_study);
  const fs::path dir = scratch / "out";
  const pid_t runner = start_process({NRMLAB_BINARY, "study", file.string(), "--out", dir.string()},
                                     scratch / "first.out", scratch / "first.err");
  wait_for_statuses(dir, 2);
  ::kill(runner, SIGKILL);
  wait_process(runner);
  const std::size_t done_before = count_status_files(dir);
  ASSERT_GE(done_before, 2u);
  ASSERT_LT(done_before, 8u) << "the study finished before it could be killed";

  std::map<std::string, std::string> statuses_before;
  for (const auto& entry : fs::directory_iterator(dir / "runs"))
    if (fs::exists(entry.path() / "status.json"))
      statuses_before[entry.path().filename()] = read_text(entry.path() / "status.json");

  const auto resumed = run_nrmlab({"study", file.string(), "--out", dir.string()}, scratch);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_THAT(resumed.out, HasSubstr(fmt::format("resuming; {} of 8 runs are complete",
                                                 statuses_before.size())));
  // No completed run was repeated: its status (with its start time) is untouched.
  for (const auto& [id, text] : statuses_before)
    EXPECT_EQ(read_text(dir / "runs" / id / "status.json"), text) << id;
  const Json manifest = manifest_of(dir);
  EXPECT_EQ(manifest["summary"]["complete"], 8);
  for (const Json& run : manifest["runs"]) {
    EXPECT_EQ(run["status"]["state"], "complete");
    EXPECT_TRUE(Json::parse(read_text(dir / "runs" / run["id"].get<std::string>() /
                                      "result.json"))["complete"]
                    .get<bool>());
  }
  // A third invocation has nothing left to do.
  const auto again = run_nrmlab({"study", dir.string(), "--no-analysis"}, scratch);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.out, HasSubstr("resuming; 8 of 8 runs are complete"));
}

TEST(StudyCommand, AnInterruptStopsTheRunningRunAndTheStudyResumes) {
  ScratchDir scratch;
  const fs::path file = write_study(scratch, "slow.toml", k_slow_study);
  const fs::path dir = scratch / "out";
  const pid_t runner = start_process({NRMLAB_BINARY, "study", file.string(), "--out", dir.string()},
                                     scratch / "first.out", scratch / "first.err");
  wait_for_statuses(dir, 1);
  ::kill(runner, SIGINT);
  EXPECT_EQ(wait_process(runner), 130);
  EXPECT_THAT(read_text(scratch / "first.err"),
              HasSubstr("study interrupted; run the same command again to resume"));
  const Json manifest = manifest_of(dir);
  EXPECT_LT(manifest["summary"]["complete"].get<int>(), 8);
  EXPECT_EQ(manifest["summary"]["failed"], 0);
  for (const Json& run : manifest["runs"])
    // Exit 130 even when the stop came while the run was still starting: the launcher keeps
    // the signal pending until the run's handlers are installed.
    if (run["status"]["state"] == "interrupted") {
      EXPECT_EQ(run["status"]["exit_code"], 130) << run["status"].dump();
    }

  const auto resumed = run_nrmlab({"study", dir.string(), "--no-analysis"}, scratch);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_EQ(manifest_of(dir)["summary"]["complete"], 8);
}

TEST(StudyCommand, AFailedRunIsRecordedAndTheStudyGoesOn) {
  ScratchDir scratch;
  { std::ofstream(scratch / "broken.trace") << "this is not a trace\n"; }
  const fs::path file = write_study(scratch, "mixed.toml", R"([study]
name = "mixed"
replicates = 2

[run]
steps = 20
max_agents = 8
persistence = "off"
conditions = ["OFF-OFF"]

[telemetry]
side_period_ms = 0
pss_period_ms = 0

[factors]
source = ["synthetic", "replay:broken.trace"]
)");
  const fs::path dir = scratch / "out";
  const auto result = run_nrmlab({"study", file.string(), "--out", dir.string()}, scratch);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, HasSubstr("failed: exit status 1"));
  EXPECT_THAT(result.out, HasSubstr("2 of 4 runs complete, 2 failed"));
  const Json manifest = manifest_of(dir);
  EXPECT_EQ(manifest["summary"]["failed"], 2);
  for (const Json& run : manifest["runs"]) {
    const bool broken = run["levels"]["source"].get<std::string>().starts_with("replay:");
    EXPECT_EQ(run["status"]["state"], broken ? "failed" : "complete");
    if (broken) {
      EXPECT_EQ(run["status"]["exit_code"], 1);
      EXPECT_THAT(run["status"]["stderr_tail"].get<std::string>(), HasSubstr("broken.trace"));
    }
  }
  // The runs that completed were analysed.
  EXPECT_EQ(Json::parse(read_text(dir / "analysis.json"))["runs"].size(), 2u);
}

TEST(StudyCommand, SameSeedsGiveTheSameResultsInAnyOrder) {
  ScratchDir scratch;
  const fs::path file = write_study(scratch, "small.toml", k_small_study);
  const fs::path a = scratch / "a";
  const fs::path b = scratch / "b";
  for (const auto& [dir, seed] : {std::pair{a, "1"}, std::pair{b, "2"}}) {
    const auto result = run_nrmlab(
        {"study", file.string(), "--out", dir.string(), "--order-seed", seed, "--no-analysis"},
        scratch);
    ASSERT_EQ(result.exit_code, 0) << result.err;
  }
  EXPECT_NE(manifest_of(a)["order"], manifest_of(b)["order"]);
  const Json manifest = manifest_of(a);  // a range-for over a temporary's member would dangle
  for (const Json& run : manifest["runs"]) {
    const std::string id = run["id"];
    EXPECT_EQ(result_science(a / "runs" / id), result_science(b / "runs" / id)) << id;
  }
  // And replicates really differ.
  EXPECT_NE(result_science(a / "runs/r000"), result_science(a / "runs/r004"));
}

TEST(StudyCommand, ParallelRunsAreRunAndTheirOverlapIsReported) {
  ScratchDir scratch;
  const fs::path file = write_study(scratch, "small.toml", k_small_study);
  const fs::path dir = scratch / "out";
  const auto result = run_nrmlab(
      {"study", file.string(), "--out", dir.string(), "--parallel", "2", "--no-analysis"}, scratch);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("8 of 8 runs complete"));
  EXPECT_THAT(result.out, HasSubstr("ran at the same time as other runs of this study"));
  const Json manifest = manifest_of(dir);
  EXPECT_EQ(manifest["study"]["parallel"], 2);
  EXPECT_GT(manifest["summary"]["overlapping_runs"].get<int>(), 0);
  // Never more than two at a time: at each run's start at most one other was running.
  std::vector<std::pair<double, double>> intervals;
  for (const Json& run : manifest["runs"]) {
    const Json status =
        Json::parse(read_text(dir / "runs" / run["id"].get<std::string>() / "status.json"));
    intervals.emplace_back(status["started"].get<double>(), status["finished"].get<double>());
  }
  for (const auto& [start, end] : intervals) {
    int active = 0;
    for (const auto& [other_start, other_end] : intervals)
      active += other_start <= start && start < other_end ? 1 : 0;
    EXPECT_LE(active, 2);
  }
}

TEST(StudyCommand, ADirectoryOfAnotherStudyIsNotOverwritten) {
  ScratchDir scratch;
  const fs::path file = write_study(scratch, "small.toml", k_small_study);
  const fs::path dir = scratch / "out";
  ASSERT_EQ(run_nrmlab({"study", file.string(), "--out", dir.string(), "--no-analysis"}, scratch)
                .exit_code,
            0);
  std::string changed = k_small_study;
  changed.replace(changed.find("steps = 30"), 10, "steps = 31");
  const fs::path other = write_study(scratch, "other.toml", changed);
  const auto result = run_nrmlab({"study", other.string(), "--out", dir.string()}, scratch);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, HasSubstr("planned from a different file"));
}

TEST(StudyTask, RunsOneRunByOrderPositionAndLeavesCompleteRunsAlone) {
  ScratchDir scratch;
  const fs::path file = write_study(scratch, "small.toml", k_small_study);
  const fs::path dir = scratch / "out";
  // Plan-only directories are not created, so plan and run nothing by failing every run:
  // simplest is to run the study once and then ask for tasks again.
  ASSERT_EQ(run_nrmlab({"study", file.string(), "--out", dir.string(), "--no-analysis"}, scratch)
                .exit_code,
            0);
  const Json manifest = manifest_of(dir);
  const std::string third = manifest["order"][2];
  const std::string status_before = read_text(dir / "runs" / third / "status.json");
  const auto skipped = run_nrmlab({"study-task", dir.string(), "--index", "2"}, scratch);
  ASSERT_EQ(skipped.exit_code, 0) << skipped.err;
  EXPECT_THAT(skipped.out, HasSubstr("run " + third + " is already complete"));
  EXPECT_EQ(read_text(dir / "runs" / third / "status.json"), status_before);

  // An incomplete run (no status) is run again by its task.
  fs::remove(dir / "runs" / third / "status.json");
  const auto rerun = run_nrmlab({"study-task", dir.string(), "--index", "2"}, scratch);
  ASSERT_EQ(rerun.exit_code, 0) << rerun.err;
  EXPECT_THAT(rerun.out, HasSubstr("run " + third + " complete"));
  EXPECT_EQ(Json::parse(read_text(dir / "runs" / third / "status.json"))["backend"], "task");

  const auto out_of_range = run_nrmlab({"study-task", dir.string(), "--index", "8"}, scratch);
  EXPECT_EQ(out_of_range.exit_code, 1);
  EXPECT_THAT(out_of_range.err, HasSubstr("--index 8: study small has runs 0..7"));
}

TEST(Recycling, EachConditionRunsInAFreshProcessWithIdenticalResults) {
  ScratchDir scratch;
  const std::vector<std::string> common = {
      "run", "--source",      "synthetic",           "--steps", "60", "--max-agents",
      "15",  "--persistence", "transaction-per-step"};
  std::vector<std::string> once = common;
  once.insert(once.end(), {"--out", (scratch / "once").string()});
  std::vector<std::string> recycled = common;
  recycled.insert(recycled.end(),
                  {"--recycle", "condition", "--out", (scratch / "recycled").string()});
  const auto a = run_nrmlab(once, scratch);
  const auto b = run_nrmlab(recycled, scratch);
  ASSERT_EQ(a.exit_code, 0) << a.err;
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_EQ(result_science(scratch / "once"), result_science(scratch / "recycled"));
  const Json result = Json::parse(read_text(scratch / "recycled/result.json"));
  EXPECT_TRUE(result["complete"].get<bool>());
  EXPECT_EQ(result["synergy"], Json::parse(read_text(scratch / "once/result.json"))["synergy"]);
  EXPECT_EQ(result["metadata"]["configuration"]["recycle"], "condition");

  // One telemetry database, four processes, time running on across them.
  sqlite::Connection db(scratch / "recycled/telemetry.db");
  std::set<std::string> pids;
  sqlite::Statement processes(db, "SELECT value FROM meta WHERE key LIKE 'process.%'");
  while (processes.step())
    pids.insert(processes.column_text(0));
  EXPECT_EQ(pids.size(), 4u);
  sqlite::Statement steps(
      db, "SELECT COUNT(*), COUNT(DISTINCT condition), MIN(t_ns) FROM steps WHERE condition = 3");
  ASSERT_TRUE(steps.step());
  EXPECT_EQ(steps.column_int(0), 60);
  sqlite::Statement order(db,
                          "SELECT (SELECT MAX(t_ns) FROM steps WHERE condition = 0) < "
                          "(SELECT MIN(t_ns) FROM steps WHERE condition = 1)");
  ASSERT_TRUE(order.step());
  EXPECT_EQ(order.column_int(0), 1);
  sqlite::Statement total(db, "SELECT COUNT(*) FROM steps");
  ASSERT_TRUE(total.step());
  EXPECT_EQ(total.column_int(0), 240);
  // The unrecycled run names one process for every condition.
  sqlite::Connection once_db(scratch / "once/telemetry.db");
  sqlite::Statement once_pids(once_db,
                              "SELECT COUNT(DISTINCT value) FROM meta WHERE key LIKE 'process.%'");
  ASSERT_TRUE(once_pids.step());
  EXPECT_EQ(once_pids.column_int(0), 1);
}

// Recycling inside a condition: a fresh process every 7 of 30 steps, each continuing from
// the state the previous one sent back.
TEST(Recycling, EveryNStepsContinuesEachConditionInFreshProcessesWithIdenticalResults) {
  ScratchDir scratch;
  for (const std::string sampling : {"per-call", "every:4"}) {
    const std::vector<std::string> common = {"run",
                                             "--source",
                                             "synthetic",
                                             "--steps",
                                             "30",
                                             "--max-agents",
                                             "12",
                                             "--persistence",
                                             "transaction-per-step",
                                             "--sampling",
                                             sampling};
    const fs::path once = scratch / (sampling.substr(0, 5) + "-once");
    const fs::path recycled = scratch / (sampling.substr(0, 5) + "-recycled");
    std::vector<std::string> a_args = common;
    a_args.insert(a_args.end(), {"--out", once.string()});
    std::vector<std::string> b_args = common;
    b_args.insert(b_args.end(), {"--recycle", "every:7", "--out", recycled.string()});
    const auto a = run_nrmlab(a_args, scratch);
    const auto b = run_nrmlab(b_args, scratch);
    ASSERT_EQ(a.exit_code, 0) << a.err;
    ASSERT_EQ(b.exit_code, 0) << b.err;
    EXPECT_THAT(b.out, HasSubstr("one process per 7 steps of a condition"));
    EXPECT_EQ(result_science(once), result_science(recycled)) << sampling;
    const Json result = Json::parse(read_text(recycled / "result.json"));
    EXPECT_TRUE(result["complete"].get<bool>());
    EXPECT_EQ(result["synergy"], Json::parse(read_text(once / "result.json"))["synergy"]);

    // Five processes per condition (steps 0, 7, 14, 21, 28), all distinct, one database
    // with every step once, and the faithful databases grown by the same rows.
    sqlite::Connection db(recycled / "telemetry.db");
    std::set<std::string> pids;
    sqlite::Statement processes(db, "SELECT key, value FROM meta WHERE key LIKE 'process.%'");
    std::set<std::string> keys;
    while (processes.step()) {
      keys.insert(processes.column_text(0));
      pids.insert(processes.column_text(1));
    }
    EXPECT_EQ(pids.size(), 20u);
    EXPECT_TRUE(keys.count("process.ON-ON@28")) << "each stretch names its first step";
    // The closing meta covers every process, not just the last one.
    sqlite::Statement recorded(db, "SELECT value FROM meta WHERE key = 'steps_recorded'");
    ASSERT_TRUE(recorded.step());
    EXPECT_EQ(recorded.column_text(0), "120");
    sqlite::Statement steps(db,
                            "SELECT COUNT(*), COUNT(DISTINCT condition || '/' || step) FROM steps");
    ASSERT_TRUE(steps.step());
    EXPECT_EQ(steps.column_int(0), 120);
    EXPECT_EQ(steps.column_int(1), 120);
    const auto rows = [](const fs::path& file) {
      sqlite::Connection metrics(file);
      sqlite::Statement count(metrics, "SELECT COUNT(*) FROM system_metrics");
      EXPECT_TRUE(count.step());
      return count.column_int(0);
    };
    EXPECT_EQ(rows(once / "metrics.db"), rows(recycled / "metrics.db"));
  }
}

TEST(Recycling, AStretchThatFailsKeepsTheStepsBeforeIt) {
  ScratchDir scratch;
  // A trace with samples for steps 0..9 of OFF-OFF, replayed call by call into 20 steps:
  // the third 5-step process finds no sample for step 10.
  const fs::path trace = scratch / "t.trace";
  const auto record = run_nrmlab(
      {"run", "--source", "synthetic", "--steps", "20", "--condition", "OFF-OFF", "--persistence",
       "off", "--record-trace", trace.string(), "--out", (scratch / "recorded").string()},
      scratch);
  ASSERT_EQ(record.exit_code, 0) << record.err;
  {
    std::istringstream lines(read_text(trace));
    std::ofstream cut(scratch / "cut.trace");
    std::string line;
    while (std::getline(lines, line)) {
      if (line.rfind("OFF-OFF,", 0) == 0 && std::stoi(line.substr(8)) >= 10) continue;
      cut << line << "\n";
    }
  }
  const auto result = run_nrmlab(
      {"run", "--source", "replay:" + (scratch / "cut.trace").string(), "--replay-granularity",
       "call", "--steps", "20", "--condition", "OFF-OFF", "--recycle", "every:5", "--persistence",
       "off", "--out", (scratch / "run").string()},
      scratch);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, HasSubstr("condition OFF-OFF failed in its process (exit status 1)"));
  const Json json = Json::parse(read_text(scratch / "run/result.json"));
  EXPECT_FALSE(json["complete"].get<bool>());
  const Json& condition = json["conditions"]["OFF-OFF"];
  EXPECT_EQ(condition["steps_completed"], 10);
  EXPECT_EQ(condition["population_history"].size(), 10u);
  EXPECT_EQ(condition["state_digest"], "");
}

TEST(Recycling, CannotRecordATrace) {
  ScratchDir scratch;
  const auto result =
      run_nrmlab({"run", "--recycle", "condition", "--record-trace", (scratch / "t.trace").string(),
                  "--out", (scratch / "run").string()},
                 scratch);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, HasSubstr("--recycle condition cannot record a trace"));
}

TEST(Recycling, AConditionThatFailsInItsProcessFailsTheRunAndKeepsTheOthers) {
  ScratchDir scratch;
  { std::ofstream(scratch / "short.trace") << "# nrmlab metric trace v1\n# steps=1\n"; }
  const auto result = run_nrmlab(
      {"run", "--source", "replay:" + (scratch / "short.trace").string(), "--steps", "20",
       "--recycle", "condition", "--persistence", "off", "--out", (scratch / "run").string()},
      scratch);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, HasSubstr("condition OFF-OFF failed in its process (exit status 1)"));
  const Json json = Json::parse(read_text(scratch / "run/result.json"));
  EXPECT_FALSE(json["complete"].get<bool>());
  EXPECT_THAT(json["stopped_because"].get<std::string>(), HasSubstr("OFF-OFF failed"));
}

TEST(StudyPlan, RecyclingIsAKnobOfStudies) {
  ScratchDir scratch;
  const fs::path file = write_study(scratch, "r.toml", R"([study]
name = "r"
[run]
source = "synthetic"
steps = 20
max_agents = 8
persistence = "off"
[factors]
recycle = ["never", "condition", "every:6"]
)");
  const auto result =
      run_nrmlab({"study", file.string(), "--out", (scratch / "out").string()}, scratch);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result_science(scratch / "out/runs/r000"), result_science(scratch / "out/runs/r001"));
  EXPECT_EQ(result_science(scratch / "out/runs/r000"), result_science(scratch / "out/runs/r002"));
  const Json analysis = Json::parse(read_text(scratch / "out/analysis.json"));
  ASSERT_EQ(analysis["study"]["interventions"].size(), 1u);
  EXPECT_EQ(analysis["study"]["interventions"][0]["factor"], "recycle");
}

}  // namespace
}  // namespace nrmlab::testing
