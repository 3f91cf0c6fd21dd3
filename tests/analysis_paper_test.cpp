// Paper mode (study.md section 3) on synthetic telemetry with planted relations.
#include <gtest/gtest.h>

#include "analysis/analyze.hpp"
#include "analysis/paper_mode.hpp"
#include "analysis/telemetry_reader.hpp"
#include "synthetic_telemetry.hpp"
#include "test_support.hpp"
#include "util/sqlite.hpp"

namespace nrmlab::testing {
namespace {

const analysis::PaperHypothesis& find(const analysis::PaperAnalysis& paper, const std::string& id) {
  for (const auto& h : paper.phase_1a)
    if (h.id == id) return h;
  throw std::runtime_error("no " + id);
}

TEST(AnalysisPaper, Phase1AFollowsThePapersRules) {
  ScratchDir scratch;
  SyntheticRun run;
  SyntheticCondition a;
  a.steps = 600;
  // Runtime accelerates (quadratic in the global step), pattern memory grows linearly.
  a.step = [](std::int64_t step, telemetry::StepRow& row, std::mt19937_64& rng) {
    const double s = static_cast<double>(step);
    row.wall_ns = row.cpu_ns =
        1'000'000 + static_cast<std::int64_t>(3.0 * s * s) + noise(rng, 2'000);
    row.counters.pattern_count = static_cast<std::uint64_t>(step);
  };
  a.system = [](std::int64_t step, telemetry::SystemRow& row, std::mt19937_64&) {
    row.sample.cpu_percent = 20.0 + (step % 50);  // unrelated to runtime's trend
  };
  a.database_bytes = [](std::int64_t step) { return 1'048'576 * step / 25; };
  run.conditions = {a};
  write_synthetic_run(scratch.path(), run);
  analysis::AnalyzeOptions options;
  options.mode = analysis::Mode::paper;
  options.variance = {2.0, {3.0, 4.0}};
  const auto report = analysis::analyze(scratch.path(), options);
  ASSERT_TRUE(report.runs[0].has_paper);
  EXPECT_FALSE(report.runs[0].has_sound);
  const auto& paper = report.runs[0].paper;
  EXPECT_EQ(paper.steps, 600u);

  const auto& h2 = find(paper, "H2");
  EXPECT_TRUE(h2.significant);
  EXPECT_EQ(h2.tier, "Tier 1");
  EXPECT_GT(h2.score, 0.99);
  EXPECT_GT(h2.statistics["coefficients_scaled"][2].get<double>(), 0);

  // Runtime is monotone in pattern count and database size: a strong linear R^2 with a
  // positive slope, though neither causes anything here (the paper's weakness).
  EXPECT_TRUE(find(paper, "H5").significant);
  EXPECT_TRUE(find(paper, "H3").significant);
  EXPECT_GT(find(paper, "H3").score, 0.9);
  EXPECT_GT(find(paper, "H5").score, 0.9);

  const auto& h1 = find(paper, "H1");
  EXPECT_TRUE(h1.testable);
  EXPECT_EQ(h1.statistics["rho_mem"], nullptr);  // constant memory%: NaN, written as null
  EXPECT_LT(h1.score, 0.3);
  EXPECT_EQ(h1.tier, "Tier 3");
  EXPECT_EQ(paper.tier_ranking.substr(0, 2), "H2");

  ASSERT_TRUE(paper.has_variance);
  EXPECT_NEAR(paper.variance.variance_percent, (paper.variance.observed_hours - 2.0) / 2.0 * 100.0,
              1e-9);
  ASSERT_EQ(paper.variance.milestones.size(), 2u);
  EXPECT_DOUBLE_EQ(paper.variance.milestones[0]["variance_percent"].get<double>(), 50.0);
  EXPECT_DOUBLE_EQ(paper.variance.milestones[1]["acceleration_percent_per_hour"].get<double>(),
                   50.0);
}

TEST(AnalysisPaper, PersistenceOffMakesH3Untestable) {
  ScratchDir scratch;
  SyntheticRun run;
  SyntheticCondition a;
  a.steps = 100;
  a.step = [](std::int64_t step, telemetry::StepRow& row, std::mt19937_64&) {
    row.wall_ns = row.cpu_ns = 1'000'000 + 1000 * step;
  };
  run.conditions = {a};
  write_synthetic_run(scratch.path(), run);
  analysis::AnalyzeOptions options;
  options.mode = analysis::Mode::paper;
  const auto report = analysis::analyze(scratch.path(), options);
  const auto& h3 = find(report.runs[0].paper, "H3");
  EXPECT_FALSE(h3.testable);
  EXPECT_EQ(h3.verdict, "UNTESTABLE");
  EXPECT_NE(report.runs[0].paper.tier_ranking.find("untestable: "), std::string::npos);
  EXPECT_FALSE(report.runs[0].paper.has_variance);  // no expected time given
}

TEST(AnalysisPaper, TiersUseThePapersCuts) {
  const analysis::Thresholds t;
  EXPECT_EQ(analysis::paper_tier(0.7, t), "Tier 1");
  EXPECT_EQ(analysis::paper_tier(0.69, t), "Tier 2");
  EXPECT_EQ(analysis::paper_tier(0.3, t), "Tier 2");
  EXPECT_EQ(analysis::paper_tier(0.29, t), "Tier 3");
  EXPECT_EQ(analysis::paper_tier(std::nan(""), t), "untestable");
}

// Issue 17: the files table also tracks nrmlab's own telemetry.db, which grows with every
// step; paper mode summed it into the database size, so H3 was testable -- and, with step
// time growing, "significant" -- for a run that wrote no database at all.
TEST(AnalysisPaper, DatabaseSizeCountsOnlyTheRunsOwnDatabases) {
  for (const bool persistence : {false, true}) {
    ScratchDir scratch;
    SyntheticRun run;
    SyntheticCondition a;
    a.steps = 200;
    a.system_every = 10;
    a.step = [](std::int64_t step, telemetry::StepRow& row, std::mt19937_64&) {
      row.wall_ns = row.cpu_ns = 1'000'000 + 1000 * step;
    };
    if (persistence) a.database_bytes = [](std::int64_t step) { return 4096 * (1 + step % 7); };
    run.conditions = {a};
    write_synthetic_run(scratch.path(), run);
    {
      sqlite::Connection db(scratch / "telemetry.db");
      db.execute(
          "INSERT INTO files (t_ns, condition, step, name, bytes) "
          "SELECT t_ns, condition, step, 'telemetry.db', 1048576 + 65536 * step FROM system; "
          "INSERT INTO files (t_ns, condition, step, name, bytes) "
          "SELECT t_ns, condition, step, 'telemetry.db-wal', 32768 * step FROM system;");
    }
    const analysis::PaperSeries series = analysis::paper_series(analysis::read_run(scratch.path()));
    ASSERT_EQ(series.db_size_mb.size(), 200u);
    for (std::size_t i = 0; i < series.db_size_mb.size(); ++i) {
      // Only metrics.db: at most 7 pages of 4 KiB, never the megabytes of telemetry.db.
      EXPECT_LE(series.db_size_mb[i], persistence ? 7 * 4096 / 1048576.0 : 0.0) << i;
      if (persistence) {
        EXPECT_GT(series.db_size_mb[i], 0.0) << i;
      }
    }
    analysis::AnalyzeOptions options;
    options.mode = analysis::Mode::paper;
    const auto report = analysis::analyze(scratch.path(), options);
    const auto& h3 = find(report.runs[0].paper, "H3");
    EXPECT_EQ(h3.testable, persistence);
    EXPECT_FALSE(h3.significant) << persistence;
  }
}

}  // namespace
}  // namespace nrmlab::testing
