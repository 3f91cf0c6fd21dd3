// How a watch ends and what it says (issue 20's outcomes): the program's exit status as the
// run's outcome, nothing of nrmlab's on stdout, no stale step socket, the start time, nrmlab's
// own CPU, programs that daemonize and programs shorter than one window. Each drives real
// programs (sh, python3).
#include <signal.h>
#include <time.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_support.hpp"
#include "util/sqlite.hpp"

namespace nrmlab {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::read_text;
using testing::run_meta;
using testing::run_nrmlab;
using testing::run_query;
using testing::ScratchDir;

std::int64_t clock_now_ns(clockid_t clock) {
  timespec now{};
  ::clock_gettime(clock, &now);
  return static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

// A shell loop printing `steps` markers, each after some work, then exiting with `status`.
std::vector<std::string> marked_program(int steps, int status) {
  return {"sh", "-c",
          "i=0; while [ $i -lt " + std::to_string(steps) +
              " ]; do i=$((i+1)); j=0; while [ $j -lt 2000 ]; do j=$((j+1)); done; "
              "echo \"NRMLAB step=$i\"; done; exit " +
              std::to_string(status)};
}

std::vector<std::string> watch_args(const fs::path& run, std::vector<std::string> options,
                                    const std::vector<std::string>& program) {
  std::vector<std::string> args = {"watch", "--out", run.string()};
  args.insert(args.end(), options.begin(), options.end());
  args.emplace_back("--");
  args.insert(args.end(), program.begin(), program.end());
  return args;
}

TEST(WatchOutcome, AProgramThatDoesNotExitZeroIsTheRunsOutcome) {
  ScratchDir scratch;
  const auto failed =
      run_nrmlab(watch_args(scratch / "false", {"--no-analysis"}, {"/bin/false"}), scratch);
  EXPECT_EQ(failed.exit_code, 1);
  EXPECT_EQ(run_meta(scratch / "false", "outcome"), "exited with status 1");
  EXPECT_EQ(run_meta(scratch / "false", "complete"), "true");

  const auto killed = run_nrmlab(
      watch_args(scratch / "killed", {"--no-analysis"}, {"sh", "-c", "kill -KILL $$"}), scratch);
  EXPECT_EQ(killed.exit_code, 128 + SIGKILL);
  EXPECT_EQ(run_meta(scratch / "killed", "outcome"), "killed by signal 9 (Killed)");

  const auto fine =
      run_nrmlab(watch_args(scratch / "true", {"--no-analysis"}, {"/bin/true"}), scratch);
  EXPECT_EQ(fine.exit_code, 0);
  EXPECT_EQ(run_meta(scratch / "true", "outcome"), "complete");

  // The analysis shows it: the summary's first line and analysis.json.
  const fs::path run = scratch / "three";
  const auto marked = run_nrmlab(watch_args(run, {}, marked_program(12, 3)), scratch);
  EXPECT_EQ(marked.exit_code, 3);
  EXPECT_THAT(marked.err, HasSubstr("11 steps, "));  // the first marker's step is the start-up
  EXPECT_THAT(marked.err, HasSubstr(" s, exited with status 3)"));
  const auto analysis = nlohmann::json::parse(read_text(run / "analysis.json"));
  EXPECT_EQ(analysis["runs"][0]["outcome"], "exited with status 3");
}

TEST(WatchOutcome, StdoutIsTheProgramsAloneAndNrmlabSpeaksOnStderr) {
  ScratchDir scratch;
  const fs::path run = scratch / "quiet";
  const auto quiet = run_nrmlab(watch_args(run, {"-q"}, marked_program(12, 0)), scratch);
  ASSERT_EQ(quiet.exit_code, 0) << quiet.err;
  std::string expected;
  for (int i = 1; i <= 12; ++i)
    expected += "NRMLAB step=" + std::to_string(i) + "\n";
  EXPECT_EQ(quiet.out, expected);
  EXPECT_THAT(quiet.err, HasSubstr("telemetry: "));
  EXPECT_THAT(quiet.err, HasSubstr("analysis: "));
  EXPECT_THAT(quiet.err, HasSubstr("report: "));
  EXPECT_THAT(quiet.err, Not(HasSubstr("drift    "))) << "-q: no summary";

  const auto loud = run_nrmlab(watch_args(scratch / "loud", {}, marked_program(12, 0)), scratch);
  EXPECT_EQ(loud.out, expected);
  EXPECT_THAT(loud.err, HasSubstr("drift    "));

  // On their own, analyze and report print on stdout as before.
  const auto analysed = run_nrmlab({"analyze", run.string()}, scratch);
  EXPECT_THAT(analysed.out, HasSubstr("drift    "));
  EXPECT_THAT(analysed.out, HasSubstr("analysis: "));
  const auto reported = run_nrmlab({"report", run.string(), "--no-figures"}, scratch);
  EXPECT_THAT(reported.out, HasSubstr("report: "));
}

TEST(WatchOutcome, NoStaleStepSocketOnAnyPathOut) {
  ScratchDir scratch;
  // The program cannot be started.
  const auto missing =
      run_nrmlab(watch_args(scratch / "missing", {}, {"/no/such/program"}), scratch);
  EXPECT_EQ(missing.exit_code, 127);
  EXPECT_TRUE(fs::exists(scratch / "missing" / "telemetry.db"));
  EXPECT_FALSE(fs::exists(scratch / "missing" / "step.sock"));
  // The watch fails after the program started (its output file cannot be written).
  const auto failed =
      run_nrmlab(watch_args(scratch / "failed", {"--stdout", (scratch / "no-dir" / "out").string()},
                            {"sleep", "0.2"}),
                 scratch);
  EXPECT_EQ(failed.exit_code, 1);
  EXPECT_THAT(failed.err, HasSubstr("cannot write"));
  EXPECT_FALSE(fs::exists(scratch / "failed" / "step.sock"));
  // A normal end.
  const auto normal = run_nrmlab(
      watch_args(scratch / "normal", {"--no-analysis"}, {"sh", "-c", "echo hi"}), scratch);
  EXPECT_EQ(normal.exit_code, 0);
  EXPECT_FALSE(fs::exists(scratch / "normal" / "step.sock"));
}

// The seconds since the epoch of "YYYY-MM-DDTHH:MM:SS.ffffffZ", in ns.
std::int64_t parse_utc(const std::string& text) {
  std::tm tm{};
  const char* rest = ::strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (rest == nullptr || *rest != '.') return -1;
  return static_cast<std::int64_t>(::timegm(&tm)) * 1'000'000'000 +
         std::stoll(std::string(rest + 1, 6)) * 1000;
}

TEST(WatchOutcome, TheStartTimeIsInTheMetaAndTheExports) {
  ScratchDir scratch;
  const fs::path run = scratch / "start";
  const std::int64_t unix_before = clock_now_ns(CLOCK_REALTIME);
  const std::int64_t monotonic_before = clock_now_ns(CLOCK_MONOTONIC);
  const auto watched =
      run_nrmlab(watch_args(run, {"--no-analysis"}, {"sh", "-c", "echo NRMLAB step=1"}), scratch);
  const std::int64_t monotonic_after = clock_now_ns(CLOCK_MONOTONIC);
  const std::int64_t unix_after = clock_now_ns(CLOCK_REALTIME);
  ASSERT_EQ(watched.exit_code, 0) << watched.err;
  const std::int64_t unix_ns = std::stoll(run_meta(run, "start.unix_ns"));
  const std::int64_t monotonic_ns = std::stoll(run_meta(run, "start.monotonic_ns"));
  EXPECT_GT(unix_ns, unix_before);
  EXPECT_LT(unix_ns, unix_after);
  EXPECT_GT(monotonic_ns, monotonic_before);
  EXPECT_LT(monotonic_ns, monotonic_after);
  const std::string utc = run_meta(run, "start.utc");
  EXPECT_TRUE(std::regex_match(utc, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)")))
      << utc;
  EXPECT_EQ(parse_utc(utc), unix_ns / 1000 * 1000);

  const auto exported = run_nrmlab({"export", run.string(), "--format", "csv"}, scratch);
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  const std::string meta_csv = read_text(run / "export" / "meta.csv");
  EXPECT_THAT(meta_csv, HasSubstr("start.utc," + utc));
  EXPECT_THAT(meta_csv, HasSubstr("start.monotonic_ns," + std::to_string(monotonic_ns)));

  // A native run records the same keys.
  const fs::path native = scratch / "native";
  const auto ran = run_nrmlab({"run", "--steps", "5", "--persistence", "off", "--source",
                               "synthetic:const", "--out", native.string()},
                              scratch);
  ASSERT_EQ(ran.exit_code, 0) << ran.err;
  EXPECT_GT(std::stoll(run_meta(native, "start.unix_ns")), unix_after);
  EXPECT_EQ(parse_utc(run_meta(native, "start.utc")),
            std::stoll(run_meta(native, "start.unix_ns")) / 1000 * 1000);
  EXPECT_GT(std::stoll(run_meta(native, "start.monotonic_ns")), monotonic_after);
}

TEST(WatchOutcome, NrmlabsOwnCpuWhileWatchingIsMeasuredAndReported) {
  ScratchDir scratch;
  const fs::path run = scratch / "self";
  // Over a second: a shorter watch is not judged (nrmlab's own start would decide it).
  const auto watched = run_nrmlab(
      watch_args(
          run, {},
          {"sh", "-c", "for i in $(seq 1 40); do echo \"NRMLAB step=$i\"; sleep 0.03; done"}),
      scratch);
  ASSERT_EQ(watched.exit_code, 0) << watched.err;
  const std::int64_t self_ns = std::stoll(run_meta(run, "watch.self_cpu_ns"));
  const std::int64_t wall_ns = std::stoll(run_meta(run, "watch.wall_ns"));
  EXPECT_GT(self_ns, 0) << "reading /proc and writing telemetry.db cost some CPU";
  EXPECT_GT(wall_ns, 0);
  const double share = std::stod(run_meta(run, "recorder_share"));
  EXPECT_GT(share, 0.0);
  EXPECT_NEAR(share, static_cast<double>(self_ns) / static_cast<double>(wall_ns), 1e-6);
  EXPECT_THAT(watched.err, HasSubstr("% of a core while watching"));
  // The analysis judges the observer effect on it.
  const auto analysis = nlohmann::json::parse(read_text(run / "analysis.json"));
  std::string observer;
  for (const auto& h : analysis["runs"][0]["sound"]["hypotheses"])
    if (h["id"] == "observer") observer = h["reason"].get<std::string>();
  EXPECT_THAT(observer, HasSubstr("nrmlab used "));
  EXPECT_THAT(observer, HasSubstr("% of a core while watching"));
}

// A daemon: the program forks a child that leaves the program's output and outlives it.
std::vector<std::string> daemonizing_program(const fs::path& dir, const std::string& work) {
  return {"sh", "-c",
          "( exec >/dev/null 2>&1; sh -c 'echo $$ > \"$0/daemon.pid\"; " + work +
              "; echo done > \"$0/daemon.done\"' \"" + dir.string() + "\" ) & echo started"};
}

TEST(WatchOutcome, ADaemonIsFollowedWithChildrenAndNamedWithout) {
  ScratchDir scratch;
  // With --children: the watch follows it until it ends, and counts its CPU (from its first
  // reading, while it sleeps: what an orphan did before nrmlab found it is the program's).
  const fs::path followed = scratch / "followed";
  fs::create_directories(followed);
  const auto with = run_nrmlab(
      watch_args(
          followed / "run", {"--children", "--no-analysis"},
          daemonizing_program(followed, "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done")),
      scratch);
  EXPECT_EQ(with.exit_code, 0) << with.err;
  EXPECT_TRUE(fs::exists(followed / "daemon.done")) << "the watch ended before the daemon";
  EXPECT_THAT(with.err, HasSubstr("they were followed"));
  EXPECT_GE(run_query(followed / "run", "SELECT max(user_ns + system_ns) FROM process"),
            150'000'000);

  // Without: said plainly, and not waited for.
  const fs::path named = scratch / "named";
  fs::create_directories(named);
  const auto without = run_nrmlab(
      watch_args(named / "run", {"--no-analysis"}, daemonizing_program(named, "exec sleep 30")),
      scratch);
  EXPECT_EQ(without.exit_code, 0) << without.err;
  EXPECT_THAT(without.err,
              HasSubstr("the program exited at once, leaving processes it started running (a "
                        "daemon?): watch again with --children to follow them"));
  testing::wait_for_file(named / "daemon.pid");
  if (fs::exists(named / "daemon.pid")) ::kill(std::stoi(read_text(named / "daemon.pid")), SIGKILL);
}

TEST(WatchOutcome, AProgramShorterThanOneWindowIsToldWhatThereIs) {
  ScratchDir scratch;
  const fs::path run = scratch / "short";
  const auto result =
      run_nrmlab(watch_args(run, {"--window-ms", "1000"}, {"sh", "-c", "echo hi"}), scratch);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "hi\n");
  // Its partial window is a step, analysed as such, or the watch says what it has instead.
  if (run_query(run, "SELECT count(*) FROM steps") > 0) {
    EXPECT_TRUE(fs::exists(run / "analysis.json")) << result.err;
  } else {
    EXPECT_THAT(result.err, HasSubstr("shorter than one --window-ms window (1000 ms)"));
    EXPECT_THAT(result.err, HasSubstr("/proc readings"));
  }
}

}  // namespace
}  // namespace nrmlab
