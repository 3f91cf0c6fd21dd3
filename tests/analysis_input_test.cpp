// Malformed or partial telemetry must fail with a message that names what is missing.
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "analysis/telemetry_reader.hpp"
#include "analysis/thresholds.hpp"
#include "synthetic_telemetry.hpp"
#include "test_support.hpp"
#include "util/error.hpp"
#include "util/sqlite.hpp"

namespace nrmlab::testing {
namespace {

using ::testing::HasSubstr;

std::string read_error(const std::filesystem::path& dir) {
  try {
    analysis::read_run(dir);
  } catch (const Error& error) {
    return error.what();
  }
  return "(no error)";
}

void write_small_run(const std::filesystem::path& dir) {
  SyntheticRun run;
  SyntheticCondition c;
  c.steps = 50;
  run.conditions = {c};
  write_synthetic_run(dir, run);
}

TEST(AnalysisInput, ReadsWhatTheStoreWrote) {
  ScratchDir scratch;
  write_small_run(scratch.path());
  const auto run = analysis::read_run(scratch.path());
  ASSERT_EQ(run.conditions.size(), 1u);
  EXPECT_EQ(run.conditions[0].name, "OFF-OFF");
  EXPECT_EQ(run.conditions[0].steps.rows(), 50u);
  EXPECT_EQ(run.conditions[0].steps["wall_ns"][7], 1e6);
  EXPECT_EQ(run.conditions[0].system.rows(), 2u);                               // every 25 steps
  EXPECT_TRUE(std::isnan(run.conditions[0].steps["involuntary_switches"][0]));  // NULL
  EXPECT_EQ(run.meta_value("allocator"), "glibc");
}

TEST(AnalysisInput, MissingDatabaseIsNamed) {
  ScratchDir scratch;
  EXPECT_THAT(read_error(scratch.path()), HasSubstr("no telemetry.db"));
  EXPECT_THAT(read_error(scratch / "nowhere"), HasSubstr("no such directory"));
  EXPECT_THROW(analysis::find_runs(scratch.path()), Error);
}

TEST(AnalysisInput, MissingTableAndColumnAreNamed) {
  ScratchDir scratch;
  write_small_run(scratch.path());
  {
    sqlite::Connection db(scratch / "telemetry.db");
    db.execute("DROP TABLE memory; ALTER TABLE steps DROP COLUMN cpu_ns;");
  }
  const auto message = read_error(scratch.path());
  EXPECT_THAT(message, HasSubstr("table 'memory'"));
  EXPECT_THAT(message, HasSubstr("column 'steps.cpu_ns'"));
}

TEST(AnalysisInput, ZeroStepsIsAnError) {
  ScratchDir scratch;
  write_small_run(scratch.path());
  {
    sqlite::Connection db(scratch / "telemetry.db");
    db.execute("DELETE FROM steps;");
  }
  EXPECT_THAT(read_error(scratch.path()), HasSubstr("recorded no step"));
}

TEST(AnalysisInput, TruncatedDatabaseIsAnError) {
  ScratchDir scratch;
  SyntheticRun run;
  SyntheticCondition c;
  c.steps = 5000;
  run.conditions = {c};
  write_synthetic_run(scratch.path(), run);
  const auto path = scratch / "telemetry.db";
  std::filesystem::resize_file(path, std::filesystem::file_size(path) / 3);
  const auto message = read_error(scratch.path());
  EXPECT_THAT(message, HasSubstr("telemetry.db"));
  EXPECT_THAT(message, ::testing::AnyOf(HasSubstr("malformed"), HasSubstr("not a database"),
                                        HasSubstr("corrupt")));
}

TEST(AnalysisInput, NotADatabaseIsAnError) {
  ScratchDir scratch;
  std::ofstream(scratch / "telemetry.db") << "this is not sqlite, just text of some length\n";
  EXPECT_THAT(read_error(scratch.path()), HasSubstr("telemetry.db"));
}

TEST(AnalysisInput, StudyDirectoriesListTheirRuns) {
  ScratchDir scratch;
  write_small_run(scratch / "runs/b");
  write_small_run(scratch / "runs/a");
  std::filesystem::create_directories(scratch / "runs/failed");  // no telemetry: skipped
  const auto runs = analysis::find_runs(scratch.path());
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].filename(), "a");
  EXPECT_EQ(runs[1].filename(), "b");
}

TEST(AnalysisInput, ThresholdsFromAStudyFile) {
  ScratchDir scratch;
  std::ofstream(scratch / "study.toml")
      << "name = \"x\"\n[thresholds]\nalpha = 0.01\nwindows = 10\n";
  const auto t = analysis::load_thresholds(scratch / "study.toml");
  EXPECT_EQ(t.alpha, 0.01);
  EXPECT_EQ(t.windows, 10);
  EXPECT_EQ(t.min_relative_drift, analysis::Thresholds{}.min_relative_drift);

  std::ofstream(scratch / "bad.toml") << "[thresholds]\nalpha = 0.01\nalfa = 0.2\n";
  try {
    analysis::load_thresholds(scratch / "bad.toml");
    FAIL() << "unknown key accepted";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("bad.toml:3"));
    EXPECT_THAT(error.what(), HasSubstr("unknown threshold 'alfa'"));
    EXPECT_THAT(error.what(), HasSubstr("min_relative_drift"));  // lists the accepted keys
  }
  std::ofstream(scratch / "type.toml") << "[thresholds]\nwindows = \"many\"\n";
  EXPECT_THROW(analysis::load_thresholds(scratch / "type.toml"), Error);
  std::ofstream(scratch / "range.toml") << "[thresholds]\nalpha = 2\n";
  EXPECT_THROW(analysis::load_thresholds(scratch / "range.toml"), Error);
  std::ofstream(scratch / "syntax.toml") << "[thresholds\n";
  EXPECT_THROW(analysis::load_thresholds(scratch / "syntax.toml"), Error);
  // The error control is a switch: true or false, nothing else.
  EXPECT_TRUE(analysis::Thresholds{}.holm);
  std::ofstream(scratch / "holm.toml") << "[thresholds]\nholm = false\nmin_cpu_wait_share = 0.2\n";
  const auto holm = analysis::load_thresholds(scratch / "holm.toml");
  EXPECT_FALSE(holm.holm);
  EXPECT_EQ(holm.min_cpu_wait_share, 0.2);
  std::ofstream(scratch / "flag.toml") << "[thresholds]\nalpha = 0.01\nholm = 1\n";
  try {
    analysis::load_thresholds(scratch / "flag.toml");
    FAIL() << "a number accepted for a switch";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("flag.toml:3"));
    EXPECT_THAT(error.what(), HasSubstr("'holm' must be true or false"));
  }
}

}  // namespace
}  // namespace nrmlab::testing
