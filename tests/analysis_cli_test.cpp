// `nrmlab analyze` end to end: a real run, its analysis.json and summary, and bad input.
#include <fstream>
#include <nlohmann/json.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_support.hpp"

namespace nrmlab::testing {
namespace {

using ::testing::HasSubstr;

TEST(AnalyzeCommand, AnalysesARealRunInAllModes) {
  ScratchDir scratch;
  const auto run = run_nrmlab(
      {"run", "--experiment", "c256", "--preset", "clean", "--steps", "300", "--persistence",
       "transaction-per-step", "--source", "synthetic:3", "--out", (scratch / "run").string()},
      scratch);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto analysed =
      run_nrmlab({"analyze", (scratch / "run").string(), "--mode", "all"}, scratch);
  ASSERT_EQ(analysed.exit_code, 0) << analysed.err;
  EXPECT_THAT(analysed.out, HasSubstr("H5"));
  EXPECT_THAT(analysed.out, HasSubstr("drift"));
  EXPECT_THAT(analysed.out, HasSubstr("analysis.json"));

  const auto json = nlohmann::json::parse(read_text(scratch / "run/analysis.json"));
  EXPECT_EQ(json["schema"], "nrmlab.analysis/1");
  EXPECT_EQ(json["mode"], "all");
  ASSERT_EQ(json["runs"].size(), 1u);
  const auto& r = json["runs"][0];
  EXPECT_EQ(r["steps"], 1200);
  EXPECT_EQ(r["sound"]["drift"].size(), 4u);
  EXPECT_EQ(r["sound"]["hypotheses"].size(), 6u);
  EXPECT_EQ(r["paper"]["phase_1a"].size(), 5u);
  EXPECT_TRUE(r["paper"]["phase_1a"][0]["significant"].is_boolean());
  // Persistence was on, so H3 had database work to test; sensors are absent here.
  EXPECT_NE(r["sound"]["hypotheses"][2]["verdict"], "not testable");
  EXPECT_TRUE(json["study"].is_null());
  EXPECT_FALSE(json["summary"].empty());
}

TEST(AnalyzeCommand, PicksUpPreRegisteredThresholdsAndWritesWhereAsked) {
  ScratchDir scratch;
  const auto run =
      run_nrmlab({"run", "--experiment", "c256", "--steps", "60", "--persistence", "off",
                  "--source", "synthetic:const", "--out", (scratch / "run").string()},
                 scratch);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::ofstream(scratch / "run/study.toml") << "[thresholds]\nwindows = 4\nalpha = 0.01\n";
  const auto out = scratch / "elsewhere.json";
  auto analysed = run_nrmlab(
      {"analyze", (scratch / "run").string(), "--quiet", "--out", out.string()}, scratch);
  ASSERT_EQ(analysed.exit_code, 0) << analysed.err;
  EXPECT_FALSE(std::filesystem::exists(scratch / "run/analysis.json"));
  const auto json = nlohmann::json::parse(read_text(out));
  EXPECT_EQ(json["thresholds"]["windows"], 4);
  EXPECT_EQ(json["thresholds"]["alpha"], 0.01);
  EXPECT_EQ(json["runs"][0]["sound"]["drift"][0]["windows"].size(), 4u);
  EXPECT_EQ(analysed.out.find("drift "), std::string::npos);  // --quiet: no summary

  // A broken study file is an error naming it, not silently ignored.
  std::ofstream(scratch / "run/study.toml") << "[thresholds]\nwindow = 4\n";
  analysed = run_nrmlab({"analyze", (scratch / "run").string()}, scratch);
  EXPECT_EQ(analysed.exit_code, 1);
  EXPECT_THAT(analysed.err, HasSubstr("study.toml:2"));
}

TEST(AnalyzeCommand, BadInputIsAClearError) {
  ScratchDir scratch;
  auto result = run_nrmlab({"analyze", (scratch / "missing").string()}, scratch);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, HasSubstr("no such directory"));
  result = run_nrmlab({"analyze", scratch.path().string()}, scratch);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, HasSubstr("no telemetry.db"));
  result = run_nrmlab({"analyze", scratch.path().string(), "--mode", "fast"}, scratch);
  EXPECT_NE(result.exit_code, 0);
  result = run_nrmlab({"analyze", scratch.path().string(), "--milestones", "3"}, scratch);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, HasSubstr("--expected-hours"));
}

}  // namespace
}  // namespace nrmlab::testing
