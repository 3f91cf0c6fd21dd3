// The recorder attached to real runs: section times, recorded inputs, durability under
// kill -9, the export command.
#include <signal.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "model/experiment_runner.hpp"
#include "telemetry/recorder.hpp"
#include "test_support.hpp"
#include "util/sqlite.hpp"

namespace nrmlab {
namespace {

using ::testing::HasSubstr;
using testing::ScratchDir;

TEST(TelemetryRun, SectionTimesSumToNoMoreThanEachStepsWallTime) {
  ScratchDir scratch;
  model::RunConfig config = testing::quick_config(scratch.path(), 20);
  config.params.max_agents = 8;
  config.apply_preset(model::Preset::as_run);
  config.overheads.window_ms = 1;  // a real blocking window, kept short
  config.overheads.persistence = model::Persistence::commit_per_write;
  telemetry::RecorderOptions options;
  options.db_path = scratch / "telemetry.db";
  telemetry::Recorder recorder(options, {});
  model::RunHooks hooks;
  hooks.observer = &recorder;
  hooks.sample_observer = &recorder;
  hooks.time_sections = true;
  model::run_experiment(config, hooks);
  recorder.finish();

  sqlite::Connection db(options.db_path);
  EXPECT_EQ(sqlite::query_int(db, "SELECT count(*) FROM steps"), 80);
  sqlite::Statement steps(db,
                          "SELECT condition, step, wall_ns, sampling_ns, window_ns, database_ns, "
                          "recorder_ns, compute_ns, metric_samples, cpu_ns "
                          "FROM steps ORDER BY condition, step");
  int rows = 0;
  while (steps.step()) {
    ++rows;
    const auto wall = steps.column_int(2);
    const auto sampling = steps.column_int(3), window = steps.column_int(4);
    const auto database = steps.column_int(5), recorder_ns = steps.column_int(6);
    const auto samples = steps.column_int(8);
    const std::string where = "condition " + std::to_string(steps.column_int(0)) + " step " +
                              std::to_string(steps.column_int(1));
    EXPECT_LE(sampling + window + database + recorder_ns, wall) << where;
    EXPECT_EQ(steps.column_int(7), wall - sampling - window - database - recorder_ns) << where;
    EXPECT_GT(sampling, 0) << where;
    EXPECT_GT(database, 0) << where;                  // every sample is a committed metrics.db row
    EXPECT_GE(window, samples * 1'000'000) << where;  // each sample blocked at least 1 ms
    EXPECT_LT(steps.column_int(9), wall) << where << ": mostly off-CPU, waiting in windows";
  }
  EXPECT_EQ(rows, 80);
  // Every sample event is recorded as an input, keyed like a trace.
  EXPECT_EQ(sqlite::query_int(db, "SELECT count(*) FROM metric_inputs"),
            sqlite::query_int(db, "SELECT sum(metric_samples) FROM steps"));
  EXPECT_EQ(sqlite::query_int(db, "SELECT count(*) FROM conditions"), 4);
}

TEST(TelemetryRun, AKilledRunLeavesAReadableDatabaseUpToTheLastBatch) {
  ScratchDir scratch;
  const auto out = scratch / "out";
  const pid_t pid =
      testing::start_process({NRMLAB_BINARY, "run", "--preset", "clean", "--window-ms", "1",
                              "--steps", "1000000", "--batch-steps", "16", "--persistence", "off",
                              "--source", "synthetic:const", "--out", out.string()},
                             scratch / "killed.out", scratch / "killed.err");
  // Wait until some batches have landed, then kill without warning.
  std::int64_t seen = 0;
  for (int attempt = 0; attempt < 200 && seen < 64; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    try {
      sqlite::Connection db(out / "telemetry.db");
      seen = sqlite::query_int(db, "SELECT count(*) FROM steps");
    } catch (const std::exception&) {
      // not created yet, or its tables not yet there
    }
  }
  ASSERT_GE(seen, 64) << testing::read_text(scratch / "killed.err");
  kill(pid, SIGKILL);
  EXPECT_EQ(testing::wait_process(pid), 128 + SIGKILL);

  sqlite::Connection db(out / "telemetry.db");
  const auto steps = sqlite::query_int(db, "SELECT count(*) FROM steps");
  EXPECT_GE(steps, seen);
  // Whole batches only: the steps recorded are exactly 0 .. n-1, in multiples of 16.
  EXPECT_EQ(sqlite::query_int(db, "SELECT max(step) + 1 FROM steps WHERE condition = 0"), steps);
  EXPECT_EQ(steps % 16, 0);
  sqlite::Statement complete(db, "SELECT value FROM meta WHERE key = 'complete'");
  ASSERT_TRUE(complete.step());
  EXPECT_EQ(complete.column_text(0), "false");
}

TEST(TelemetryRun, ExportWritesEveryTableAsCsvAndJsonLines) {
  ScratchDir scratch;
  const auto out = scratch / "run";
  ASSERT_EQ(testing::run_nrmlab({"run", "--steps", "20", "--max-agents", "8", "--persistence",
                                 "off", "--memory-every", "5", "--telemetry-budget", "0",
                                 "--source", "synthetic:const", "--out", out.string()},
                                scratch)
                .exit_code,
            0);
  const auto csv = testing::run_nrmlab({"export", out.string()}, scratch);
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_THAT(csv.out, HasSubstr("steps.csv"));
  std::ifstream steps_csv(out / "export" / "steps.csv");
  std::string header;
  std::getline(steps_csv, header);
  EXPECT_THAT(header, HasSubstr("condition,step,t_ns,wall_ns,cpu_ns,usage_steps,user_ns"));
  int lines = 0;
  for (std::string line; std::getline(steps_csv, line);)
    ++lines;
  EXPECT_EQ(lines, 80);
  // Absent values stay absent: alloc_probe_ns, the last column, is measured at step 0 (every
  // 256 steps) but not at step 5. (No budget: these microsecond steps would stretch the
  // memory cadence.)
  std::ifstream memory_csv(out / "export" / "memory.csv");
  std::string memory_header, first_row, second_row;
  std::getline(memory_csv, memory_header);
  std::getline(memory_csv, first_row);
  std::getline(memory_csv, second_row);
  EXPECT_TRUE(memory_header.ends_with(",alloc_probe_ns")) << memory_header;
  EXPECT_TRUE(first_row.starts_with("0,0,")) << first_row;
  EXPECT_FALSE(first_row.ends_with(",")) << first_row;
  EXPECT_TRUE(second_row.starts_with("0,5,")) << second_row;
  EXPECT_TRUE(second_row.ends_with(",")) << second_row;

  const auto jsonl = testing::run_nrmlab(
      {"export", out.string(), "--format", "jsonl", "--out", (scratch / "json").string()}, scratch);
  ASSERT_EQ(jsonl.exit_code, 0) << jsonl.err;
  std::ifstream memory_jsonl(scratch / "json" / "memory.jsonl");
  std::string line;
  std::getline(memory_jsonl, line);
  std::getline(memory_jsonl, line);
  const auto object = nlohmann::json::parse(line);
  EXPECT_TRUE(object["alloc_probe_ns"].is_null());
  EXPECT_EQ(object["step"], 5);

  const auto missing = testing::run_nrmlab({"export", (scratch / "nothing").string()}, scratch);
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("telemetry.db does not exist"));
}

TEST(TelemetryRun, ARunIntoAnUsedDirectoryReplacesItsTelemetry) {
  ScratchDir scratch;
  const auto out = (scratch / "run").string();
  for (const char* steps : {"30", "10"})
    ASSERT_EQ(testing::run_nrmlab({"run", "--steps", steps, "--persistence", "off", "--source",
                                   "synthetic:const", "--out", out},
                                  scratch)
                  .exit_code,
              0);
  sqlite::Connection db(scratch / "run" / "telemetry.db");
  EXPECT_EQ(sqlite::query_int(db, "SELECT count(*) FROM steps"), 40);
  EXPECT_EQ(sqlite::query_int(db, "SELECT max(step) FROM steps"), 9);
}

TEST(TelemetryRun, ARunWhoseTelemetryCannotBeWrittenWarnsAndGoesOn) {
  ScratchDir scratch;
  const auto out = scratch / "run";
  // A non-empty directory where telemetry.db should be: it can be neither replaced nor opened.
  std::filesystem::create_directories(out / "telemetry.db" / "occupied");
  const auto result = testing::run_nrmlab({"run", "--steps", "10", "--persistence", "off",
                                           "--source", "synthetic:const", "--out", out.string()},
                                          scratch);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.err, HasSubstr("warning: telemetry disabled"));
  EXPECT_TRUE(std::filesystem::exists(out / "result.json"));
}

TEST(TelemetryRun, TelemetryCanBeSwitchedOff) {
  ScratchDir scratch;
  const auto out = scratch / "run";
  const auto result =
      testing::run_nrmlab({"run", "--steps", "5", "--telemetry", "off", "--persistence", "off",
                           "--source", "synthetic:const", "--out", out.string()},
                          scratch);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_FALSE(std::filesystem::exists(out / "telemetry.db"));
  const auto bad = testing::run_nrmlab({"run", "--steps", "5", "--batch-steps", "0", "--source",
                                        "synthetic:const", "--out", out.string()},
                                       scratch);
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, HasSubstr("batch size"));
}

}  // namespace
}  // namespace nrmlab
