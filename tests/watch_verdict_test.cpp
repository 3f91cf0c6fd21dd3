// Verdicts only from what a watch observed (issue 20), on real programs: a program that
// marks no step is not judged per step (and is told how to mark one, in its language), and
// a short marked run whose work grows is judged on its steps, the start-up left out.
#include <nlohmann/json.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "analysis/step_coverage.hpp"
#include "test_support.hpp"

namespace nrmlab {
namespace {

namespace fs = std::filesystem;
using ::testing::AnyOf;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::read_text;
using testing::run_nrmlab;
using testing::ScratchDir;

nlohmann::json hypothesis(const nlohmann::json& run, const std::string& id) {
  for (const auto& h : run["sound"]["hypotheses"])
    if (h["id"] == id) return h;
  return {};
}

TEST(WatchVerdicts, AProgramWithoutMarkersIsNotJudgedPerStepAndIsToldHowToMarkOne) {
  ScratchDir scratch;
  const fs::path run = scratch / "unmarked";
  // Each pass does more work than the last, for about 2 s; it prints nothing.
  const auto result =
      run_nrmlab({"watch", "--out", run.string(), "--window-ms", "100", "--profile", "off", "--",
                  "python3", "-c",
                  "import time\nt = time.time(); n = 1000\nwhile time.time() - t < 2:\n"
                  "    sum(i * i for i in range(n)); n = int(n * 1.01) + 1\n"},
                 scratch);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.err, HasSubstr("slowdown per step cannot be judged"));
  EXPECT_THAT(result.err, Not(HasSubstr("does not slow down")));
  EXPECT_THAT(result.err, HasSubstr(R"(print(f"NRMLAB step={step}", flush=True))"));
  EXPECT_THAT(result.err, HasSubstr("seen     per window"));
  const auto analysis = nlohmann::json::parse(read_text(run / "analysis.json"))["runs"][0];
  EXPECT_EQ(analysis["step_source"], "time windows");
  EXPECT_EQ(analysis["sound"]["drift"][0]["direction"], "no steps");
  EXPECT_EQ(analysis["proxies"][0]["column"], "cpu_ns");
  for (const char* id : {"H1", "H3", "H5"}) {
    EXPECT_EQ(hypothesis(analysis, id)["verdict"], "not testable") << id;
    EXPECT_THAT(hypothesis(analysis, id)["reason"].get<std::string>(),
                HasSubstr("needs step markers"));
  }
}

TEST(WatchVerdicts, AShortMarkedRunWithGrowingWorkIsJudgedWithoutItsStartUp) {
  ScratchDir scratch;
  const fs::path run = scratch / "short";
  // 20 steps whose items grow from 2 to about 370 (and move from step to step, like a
  // population), each item the same work; the interpreter's start-up precedes step 0. The
  // growth is quadratic: on a shared machine the CPU can get 1.6x faster mid-run (another
  // program ends), which flattened a linear growth's second half into "stable" now and then.
  const auto result =
      run_nrmlab({"watch", "--out", run.string(), "--profile", "off", "--", "python3", "-c",
                  "import random\nrandom.seed(7)\nfor step in range(20):\n"
                  "    items = 1 + step * step + random.randint(0, 10)\n"
                  "    sum(i * i for i in range(items * 10000))\n"
                  "    print(f'NRMLAB step={step} items={items}', flush=True)\n"},
                 scratch);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.err, HasSubstr("left out: the first marker's step"));
  const auto analysis = nlohmann::json::parse(read_text(run / "analysis.json"))["runs"][0];
  EXPECT_EQ(analysis["steps"], 19);
  EXPECT_GT(analysis["coverage"]["startup_seconds"].get<double>(), 0.0);
  EXPECT_EQ(analysis["sound"]["drift"][0]["direction"], "slower") << result.err;
  // At 19 steps the attribution's intervals are wide: "more work" or "one run cannot tell",
  // never rejected or untestable (tests/analysis_short_run_test.cpp has the rates).
  EXPECT_THAT(hypothesis(analysis, "H5")["verdict"].get<std::string>(),
              AnyOf("supported", "not identifiable"))
      << result.err;
}

TEST(WatchVerdicts, StepsThatCoverLittleOfTheProgramAreAWarningInTheSummaryAndTheReport) {
  ScratchDir scratch;
  const fs::path run = scratch / "partial";
  // Three quick steps, then two seconds no marker covers (the issue's "1 step of 0.44 s
  // analysed, the other 299.6 s dropped without a word").
  const auto result =
      run_nrmlab({"watch", "--out", run.string(), "--profile", "off", "--", "sh", "-c",
                  "for i in 1 2 3; do echo \"NRMLAB step=$i\"; done; sleep 2"},
                 scratch);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.err, HasSubstr("steps    warning: the analysed steps cover"));
  EXPECT_THAT(result.err, HasSubstr("the analysis sees only that part"));
  const auto analysis = nlohmann::json::parse(read_text(run / "analysis.json"))["runs"][0];
  EXPECT_LT(analysis["coverage"]["share"].get<double>(), 0.2);
  EXPECT_GT(analysis["coverage"]["tail_seconds"].get<double>(), 1.5);
  EXPECT_THAT(read_text(run / "report.html"), HasSubstr("the analysis sees only that part"));
}

TEST(WatchVerdicts, TooFewStepsAreNotReadAsNoSlowdown) {
  ScratchDir scratch;
  const fs::path run = scratch / "few";
  const auto result = run_nrmlab({"watch", "--out", run.string(), "--profile", "off", "--", "sh",
                                  "-c", "for i in 1 2 3 4 5; do echo \"NRMLAB step=$i\"; done"},
                                 scratch);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.err, HasSubstr("drift    program too short to tell"));
  EXPECT_THAT(result.err, HasSubstr("too few steps to tell whether the run slows down"));
  EXPECT_THAT(result.err, Not(HasSubstr("does not slow down")));
  EXPECT_THAT(result.err,
              HasSubstr("needs at least 10 steps to fit a trend (this condition has 4)"));
  // A watch of a few milliseconds is not judged on nrmlab's share: its own start decides it.
  EXPECT_THAT(result.err, HasSubstr("its own start decides that share"));
  EXPECT_THAT(result.err, Not(HasSubstr("watching is costly")));
}

TEST(WatchVerdicts, TheMarkerLineFollowsTheProgramsLanguage) {
  EXPECT_EQ(analysis::marker_example("python3.11"), R"(print(f"NRMLAB step={step}", flush=True))");
  EXPECT_EQ(analysis::marker_example("bash"), R"(echo "NRMLAB step=$step")");
  EXPECT_THAT(analysis::marker_example("Rscript"),
              HasSubstr(R"(sprintf("NRMLAB step=%d\n", step))"));
  EXPECT_THAT(analysis::marker_example("julia"), HasSubstr("println"));
  // A native program (or one attached by pid: no name) gets C's.
  EXPECT_EQ(analysis::marker_example("sim"),
            R"(printf("NRMLAB step=%ld\n", step); fflush(stdout);)");
  EXPECT_EQ(analysis::marker_example(""), analysis::marker_example("sim"));
}

}  // namespace
}  // namespace nrmlab
