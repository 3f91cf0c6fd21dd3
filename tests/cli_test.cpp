// The `nrmlab run` command end to end, as a user meets it: outputs, bad input, a full
// disk, an unwritable directory, Ctrl-C.
#include <pty.h>
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_support.hpp"
#include "util/sqlite.hpp"

namespace nrmlab {
namespace {

using ::testing::HasSubstr;
using testing::read_text;
using testing::run_nrmlab;
using testing::ScratchDir;

nlohmann::json load_json(const std::filesystem::path& path) {
  return nlohmann::json::parse(read_text(path));
}

TEST(Cli, RunWritesResultJsonAndPrintsTheSynergyTable) {
  ScratchDir scratch;
  const auto out = scratch / "run";
  const auto result =
      run_nrmlab({"run", "--experiment", "c256", "--preset", "clean", "--steps", "120",
                  "--max-agents", "30", "--source", "synthetic:const", "--out", out.string()},
                 scratch);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("OFF-OFF"));
  EXPECT_THAT(result.out, HasSubstr("ADDITIVE"));
  // No progress line when stderr is not a terminal (a warning, such as the ASan build's
  // "no allocator statistics", may appear).
  EXPECT_THAT(result.err, ::testing::Not(HasSubstr("steps/s")));
  EXPECT_THAT(result.err, ::testing::Not(HasSubstr("\r")));

  const nlohmann::json json = load_json(out / "result.json");
  EXPECT_EQ(json["schema"], "nrmlab.result/1");
  EXPECT_EQ(json["complete"], true);
  EXPECT_EQ(json["metadata"]["experiment"], "c256");
  EXPECT_EQ(json["metadata"]["mechanisms"]["factor_a"], "H1 energy pooling");
  EXPECT_EQ(json["metadata"]["configuration"]["overheads"]["persistence"], "transaction-per-step");
  EXPECT_EQ(json["metadata"]["configuration"]["model"]["max_agents"], 30);
  const auto& off_on = json["conditions"]["OFF-ON"];
  EXPECT_EQ(off_on["flags"]["spawn_throttling"], true);
  EXPECT_EQ(off_on["flags"]["energy_pooling"], false);
  EXPECT_EQ(off_on["population_history"].size(), 120u);
  for (const char* key :
       {"mean_population", "final_population", "max_population", "runtime_seconds"})
    EXPECT_TRUE(off_on.contains(key)) << key;
  EXPECT_EQ(json["synergy"]["classification"], "ADDITIVE");
  EXPECT_TRUE(std::filesystem::exists(out / "metrics.db"));
  EXPECT_TRUE(std::filesystem::exists(out / "bridge.db"));
}

TEST(Cli, FoldChangeIsNullNotInfinityWhenOffOffIsEmpty) {
  ScratchDir scratch;
  const auto out = scratch / "run";
  // No availability and a root below the death threshold: every population is 0.
  const auto result =
      run_nrmlab({"run", "--steps", "5", "--root-energy", "0.5", "--persistence", "off", "--source",
                  "synthetic:const:cpu=100,memory=100", "--out", out.string()},
                 scratch);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const nlohmann::json json = load_json(out / "result.json");
  EXPECT_TRUE(json["synergy"]["fold_change"].is_null());
  EXPECT_THAT(result.out, HasSubstr("fold change n/a"));
}

struct BadInput {
  std::vector<std::string> args;
  std::string expected;
};

TEST(Cli, BadInputIsAClearErrorAndANonZeroExit) {
  ScratchDir scratch;
  const std::string out = (scratch / "out").string();
  std::ofstream(scratch / "bad.trace") << "# nrmlab metric trace v1\n# steps=5\nnonsense\n";
  const std::string bad_trace = "replay:" + (scratch / "bad.trace").string();
  const std::vector<BadInput> cases = {
      {{"run", "--experiment", "c999", "--out", out}, "c999"},
      {{"run", "--preset", "turbo", "--out", out}, "turbo"},
      {{"run", "--frobnicate", "--out", out}, "frobnicate"},
      {{"run", "--steps", "0", "--out", out}, "--steps"},
      {{"run", "--steps=-5", "--out", out}, "--steps"},
      {{"run", "--steps", "many", "--out", out}, "--steps"},
      {{"run", "--max-agents", "1000000000", "--out", out}, "--max-agents"},
      {{"run", "--spawn-cost", "-3", "--source", "synthetic", "--out", out}, "spawn cost"},
      {{"run", "--sampling", "sometimes", "--out", out}, "every:K"},
      {{"run", "--condition", "ON-MAYBE", "--out", out}, "ON-MAYBE"},
      {{"run", "--condition", "ON-ON,ON-ON", "--out", out}, "twice"},
      {{"run", "--source", "sensors", "--out", out}, "expected live"},
      {{"run", "--source", bad_trace, "--out", out}, "bad.trace:3: expected the column header"},
      {{"run", "--source", "replay:/nonexistent.trace", "--out", out}, "cannot read trace"},
      {{"run", "--source", "synthetic"}, "--out"},
      {{"run", "--source", "synthetic", "--out", "/proc/nrmlab-cannot-be-here"},
       "output directory"},
      {{"fly"}, "unknown command 'fly'"},
      {{}, "--help"},
  };
  for (const auto& c : cases) {
    const auto result = run_nrmlab(c.args, scratch);
    std::string joined;
    for (const auto& a : c.args)
      joined += a + " ";
    EXPECT_NE(result.exit_code, 0) << joined;
    EXPECT_LT(result.exit_code, 128) << joined << ": must not crash";
    EXPECT_THAT(result.err, HasSubstr(c.expected)) << joined;
  }
}

TEST(Cli, HelpTeachesThePresetsAndTheSources) {
  ScratchDir scratch;
  const auto result = run_nrmlab({"run", "--help"}, scratch);
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_THAT(result.out, HasSubstr("optimized-as-intended"));
  EXPECT_THAT(result.out, HasSubstr("replay:FILE"));
  EXPECT_THAT(result.out, HasSubstr("--recursive-evolve"));
}

TEST(Cli, AFullDiskEndsTheRunWithAClearErrorAndAPartialResult) {
  if (geteuid() != 0) GTEST_SKIP() << "mounting a small tmpfs needs root";
  ScratchDir scratch;
  const auto small = scratch / "small-disk";
  std::filesystem::create_directory(small);
  if (mount("tmpfs", small.c_str(), "tmpfs", 0, "size=1m") != 0)
    GTEST_SKIP() << "cannot mount a tmpfs here";
  struct Unmount {
    std::filesystem::path path;
    ~Unmount() { umount2(path.c_str(), MNT_DETACH); }
  } unmount{small};

  const auto out = scratch / "out";
  const auto result = run_nrmlab(
      {"run", "--preset", "clean", "--persistence", "commit-per-write", "--steps", "3000",
       "--source", "synthetic:const", "--db-dir", small.string(), "--out", out.string()},
      scratch);
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_THAT(result.err, HasSubstr("full"));
  EXPECT_THAT(result.err, HasSubstr(small.string()));
  const nlohmann::json json = load_json(out / "result.json");
  EXPECT_EQ(json["complete"], false);
  EXPECT_THAT(json["stopped_because"].get<std::string>(), HasSubstr("full"));
  // The condition that hit the error still has a summary consistent with its history.
  ASSERT_FALSE(json["conditions"].empty());
  const auto& failed = json["conditions"].back();
  const auto completed = failed["steps_completed"].get<std::size_t>();
  EXPECT_EQ(completed, failed["population_history"].size());
  EXPECT_GT(completed, 0u);
  EXPECT_LT(completed, 3000u);
  EXPECT_GT(failed["mean_population"].get<double>(), 0.0);
}

TEST(Cli, CtrlCStopsCleanlyAndLeavesAResultMarkedIncomplete) {
  ScratchDir scratch;
  const auto out = scratch / "out";
  // A run of days: 2 ms blocking window per step, 10^6 steps per condition.
  const pid_t pid = testing::start_process(
      {NRMLAB_BINARY, "run", "--preset", "clean", "--window-ms", "2", "--steps", "1000000",
       "--persistence", "off", "--source", "synthetic:const", "--out", out.string()},
      scratch / "ctrlc.out", scratch / "ctrlc.err");
  // telemetry.db appears once the interrupt handlers are in place and the run is starting.
  ASSERT_TRUE(testing::wait_for_file(out / "telemetry.db"));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  kill(pid, SIGINT);
  const int exit_code = testing::wait_process(pid);
  EXPECT_EQ(exit_code, 130) << read_text(scratch / "ctrlc.err");
  EXPECT_THAT(read_text(scratch / "ctrlc.err"), HasSubstr("interrupted"));
  const nlohmann::json json = load_json(out / "result.json");
  EXPECT_EQ(json["complete"], false);
  EXPECT_EQ(json["stopped_because"], "interrupted");
  const auto steps = json["conditions"]["OFF-OFF"]["steps_completed"].get<std::int64_t>();
  EXPECT_GT(steps, 0);
  EXPECT_LT(steps, 1000000);
  EXPECT_EQ(json["conditions"]["OFF-OFF"]["population_history"].size(),
            static_cast<std::size_t>(steps));
  EXPECT_TRUE(json["synergy"].is_null());
  // The telemetry knows how the run ended, and kept every step it ran.
  sqlite::Connection db(out / "telemetry.db");
  sqlite::Statement outcome(db, "SELECT value FROM meta WHERE key = 'outcome'");
  ASSERT_TRUE(outcome.step());
  EXPECT_EQ(outcome.column_text(0), "interrupted");
  EXPECT_EQ(sqlite::query_int(db, "SELECT count(*) FROM steps"), steps);
}

TEST(Cli, CtrlCDoesNotWaitForALongStepToFinish) {
  // Under the original's overheads one step takes minutes. Here every sample blocks 1 s and
  // step 0 needs three (root, evolve, spawn); SIGINT arrives during the first, so the run
  // must abandon step 0 instead of finishing it.
  ScratchDir scratch;
  const auto out = scratch / "out";
  const pid_t pid = testing::start_process(
      {NRMLAB_BINARY, "run", "--preset", "as-run", "--window-ms", "1000", "--steps", "10",
       "--source", "synthetic:const", "--out", out.string()},
      scratch / "long.out", scratch / "long.err");
  // Step 0 needs three 1 s samples; telemetry.db appears just before the first.
  ASSERT_TRUE(testing::wait_for_file(out / "telemetry.db"));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  kill(pid, SIGINT);
  EXPECT_EQ(testing::wait_process(pid), 130) << read_text(scratch / "long.err");
  const nlohmann::json json = load_json(out / "result.json");
  EXPECT_EQ(json["stopped_because"], "interrupted");
  EXPECT_EQ(json["conditions"]["OFF-OFF"]["steps_completed"], 0);
  EXPECT_EQ(json["conditions"]["OFF-OFF"]["state_digest"], "");
}

TEST(Cli, RecordedTraceReplaysToTheSameResult) {
  ScratchDir scratch;
  const auto trace = (scratch / "run.trace").string();
  const std::vector<std::string> common = {"run", "--steps",       "60", "--max-agents",
                                           "12",  "--persistence", "off"};
  auto args = [&](std::vector<std::string> extra) {
    std::vector<std::string> all = common;
    all.insert(all.end(), extra.begin(), extra.end());
    return all;
  };
  ASSERT_EQ(run_nrmlab(args({"--source", "synthetic:5:cpu=88,memory=88,jitter=12", "--record-trace",
                             trace, "--out", (scratch / "a").string()}),
                       scratch)
                .exit_code,
            0);
  ASSERT_EQ(run_nrmlab(args({"--source", "replay:" + trace, "--sampling", "per-call", "--out",
                             (scratch / "b").string()}),
                       scratch)
                .exit_code,
            0);
  const auto a = load_json(scratch / "a" / "result.json");
  const auto b = load_json(scratch / "b" / "result.json");
  for (const char* condition : {"OFF-OFF", "ON-OFF", "OFF-ON", "ON-ON"}) {
    EXPECT_EQ(a["conditions"][condition]["population_history"],
              b["conditions"][condition]["population_history"]);
    EXPECT_EQ(a["conditions"][condition]["state_digest"],
              b["conditions"][condition]["state_digest"]);
  }
}

}  // namespace
}  // namespace nrmlab

namespace nrmlab {
namespace {

// With stderr on a terminal, a live progress line (condition, step, rate, ETA) appears.
TEST(Cli, ShowsAProgressLineWhenStderrIsATerminal) {
  ScratchDir scratch;
  const auto out = scratch / "out";
  int master = -1;
  const pid_t pid = forkpty(&master, nullptr, nullptr, nullptr);
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    execl(NRMLAB_BINARY, NRMLAB_BINARY, "run", "--preset", "clean", "--window-ms", "1", "--steps",
          "400", "--condition", "OFF-OFF", "--persistence", "off", "--source", "synthetic:const",
          "--out", out.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  std::string screen;
  char buffer[4096];
  for (;;) {
    const ssize_t got = read(master, buffer, sizeof buffer);
    if (got <= 0) break;  // EIO once the child has exited
    screen.append(buffer, static_cast<std::size_t>(got));
  }
  close(master);
  EXPECT_EQ(testing::wait_process(pid), 0) << screen;
  EXPECT_THAT(screen, HasSubstr("c256 OFF-OFF step "));
  EXPECT_THAT(screen, HasSubstr("/400"));
  EXPECT_THAT(screen, HasSubstr("steps/s"));
  // The ETA says what it rests on: the mean rate for the first steps, then the trend.
  EXPECT_THAT(screen, HasSubstr("(mean rate)"));
  EXPECT_THAT(screen,
              ::testing::ContainsRegex("ETA [0-9.hms]+ \\((constant|linear|quadratic) trend\\)"));
}

}  // namespace
}  // namespace nrmlab
