// `nrmlab watch` on real foreign programs: a C++ program with a planted cause of slowdown
// (tests/watch/growing_workload.cpp, not linked against nrmlab), and programs that fail in
// every way the issue lists. Each must leave a usable run directory and a clear message.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "telemetry/probes.hpp"
#include "test_support.hpp"
#include "util/sqlite.hpp"

namespace nrmlab {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::read_text;
using testing::run_meta;
using testing::run_nrmlab;
using testing::ScratchDir;

// run_meta(), or "(absent)" while the run has no database or its tables do not exist yet (the
// file appears a moment before them): for polling a run that is starting.
std::string meta_when_ready(const fs::path& run, const std::string& key) {
  try {
    if (fs::exists(run / "telemetry.db")) return run_meta(run, key);
  } catch (const std::exception&) {
  }
  return "(absent)";
}

std::int64_t count(const fs::path& run, const std::string& sql) {
  sqlite::Connection db(run / "telemetry.db");
  return sqlite::query_int(db, sql);
}

TEST(Watch, FindsThePlantedWorkloadGrowthOfAForeignProgram) {
  ScratchDir scratch;
  const fs::path run = scratch / "growth";
  const auto result = run_nrmlab(
      {"watch", "--out", run.string(), "--", NRMLAB_WATCH_GROWTH, "80", "20000", "4500"}, scratch);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  // The program's output passes through unchanged (markers included).
  EXPECT_THAT(result.out, HasSubstr("NRMLAB step=79 items=413050"));
  EXPECT_THAT(result.err, HasSubstr("checksum"));
  EXPECT_EQ(run_meta(run, "step_source"), "markers");
  EXPECT_EQ(count(run, "SELECT count(*) FROM steps"), 80);
  EXPECT_EQ(count(run, "SELECT count(*) FROM step_work WHERE name = 'items'"), 80);
  EXPECT_GT(count(run, "SELECT count(*) FROM process"), 0);
  EXPECT_GT(count(run, "SELECT max(user_ns) FROM process"), 0);
  // Run-queue delay: cumulative in the process table, per step in steps, where this kernel
  // keeps scheduler statistics. The steps cover part of the readings' span, so their delays
  // add up to at most the last cumulative value.
  if (telemetry::ThreadSchedstat().unavailable().empty()) {
    EXPECT_EQ(run_meta(run, "probe.runq"), "schedstat");
    EXPECT_GT(count(run, "SELECT count(*) FROM process WHERE runq_ns IS NOT NULL"), 0);
    EXPECT_EQ(count(run, "SELECT count(*) FROM steps WHERE runq_ns IS NOT NULL"), 80);
    // (each step's delta is rounded to whole ns: up to 1 ns a step over)
    EXPECT_LE(count(run, "SELECT sum(runq_ns) FROM steps"),
              count(run, "SELECT max(runq_ns) FROM process") + 80);
  } else {
    EXPECT_THAT(run_meta(run, "probe.runq"), ::testing::StartsWith("unavailable: "));
  }

  const nlohmann::json analysis = nlohmann::json::parse(read_text(run / "analysis.json"));
  std::string h5;
  for (const auto& h : analysis["runs"][0]["sound"]["hypotheses"])
    if (h["id"] == "H5")
      h5 = h["verdict"].get<std::string>() + ": " + h["reason"].get<std::string>();
  // On a busy machine (ctest runs tests in parallel) the program may wait for a CPU: the
  // same items then cost more, and one run may rightly not tell the two apart. Never a
  // denial, and on a run that hardly waited, supported.
  const auto& waited = analysis["runs"][0]["sound"]["run"]["cpu_wait_share"];
  const bool disturbed = waited.is_number() && waited.get<double>() > 0.05;
  if (disturbed && h5.starts_with("not identifiable")) return;
  EXPECT_THAT(h5, ::testing::StartsWith("supported"))
      << h5 << " (waited for a CPU: " << waited.dump() << ")";
  EXPECT_TRUE(fs::exists(run / "report.html"));
}

TEST(Watch, AProgramThatDoesNotExistOrCannotRunIsAClearErrorWithARunDirectory) {
  ScratchDir scratch;
  const auto missing = run_nrmlab(
      {"watch", "--out", (scratch / "missing").string(), "--", "/no/such/program"}, scratch);
  EXPECT_EQ(missing.exit_code, 127);
  EXPECT_THAT(missing.err, HasSubstr("cannot run /no/such/program: No such file or directory"));
  EXPECT_THAT(run_meta(scratch / "missing", "outcome"), HasSubstr("not started"));

  const fs::path script = scratch / "not-executable.sh";
  std::ofstream(script) << "echo hi\n";
  ::chmod(script.c_str(), 0644);
  const auto denied =
      run_nrmlab({"watch", "--out", (scratch / "denied").string(), "--", script.string()}, scratch);
  EXPECT_EQ(denied.exit_code, 126);
  EXPECT_THAT(denied.err, HasSubstr("Permission denied"));
}

TEST(Watch, TheExitStatusAndACrashArePropagated) {
  ScratchDir scratch;
  const auto status = run_nrmlab(
      {"watch", "--out", (scratch / "seven").string(), "--", "sh", "-c", "exit 7"}, scratch);
  EXPECT_EQ(status.exit_code, 7);
  EXPECT_THAT(status.err, HasSubstr("exited with status 7"));
  EXPECT_EQ(run_meta(scratch / "seven", "complete"), "true");

  const auto crash = run_nrmlab(
      {"watch", "--out", (scratch / "crash").string(), "--", "sh", "-c", "kill -SEGV $$"}, scratch);
  EXPECT_EQ(crash.exit_code, 128 + SIGSEGV);
  EXPECT_THAT(crash.err, HasSubstr("killed by signal 11"));
  EXPECT_EQ(run_meta(scratch / "crash", "exit_code"), std::to_string(128 + SIGSEGV));
}

TEST(Watch, WithoutMarkersTimeWindowsStandInAndTheAnalysisIsTold) {
  ScratchDir scratch;
  const fs::path run = scratch / "windows";
  const auto result = run_nrmlab(
      {"watch", "--out", run.string(), "--window-ms", "100", "--", "sleep", "1.05"}, scratch);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.err, HasSubstr("no step marker"));
  EXPECT_EQ(run_meta(run, "step_source"), "time windows");
  // The analysis says so, in its summary (on stderr: stdout is the program's) and in the report.
  EXPECT_THAT(result.err, HasSubstr("fixed windows of wall time stand in for steps"));
  EXPECT_THAT(read_text(run / "report.html"), HasSubstr("printed no step marker"));
  const auto steps = count(run, "SELECT count(*) FROM steps");
  EXPECT_GE(steps, 10);
  EXPECT_LE(steps, 20);  // the program's start and nrmlab's notice of its end add a little
}

TEST(Watch, MalformedMarkersAreReportedAndSkipped) {
  ScratchDir scratch;
  const fs::path run = scratch / "malformed";
  const auto result =
      run_nrmlab({"watch", "--out", run.string(), "--no-analysis", "--", "sh", "-c",
                  "echo 'NRMLAB step=abc'; echo 'NRMLAB step=1 items=2'; echo 'NRMLAB step=2 x='; "
                  "echo 'NRMLAB step=3 items=4'"},
                 scratch);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.err, HasSubstr("malformed step marker ignored"));
  EXPECT_EQ(run_meta(run, "malformed_markers"), "2");
  EXPECT_EQ(count(run, "SELECT count(*) FROM steps"), 2);
}

TEST(Watch, AFloodOfOutputPassesThroughWhole) {
  ScratchDir scratch;
  const auto result = run_nrmlab({"watch", "--out", (scratch / "flood").string(), "--no-analysis",
                                  "--", "sh", "-c", "yes 0123456789abcdef | head -n 300000"},
                                 scratch);
  EXPECT_EQ(result.exit_code, 0) << result.err.substr(0, 400);
  // 300,000 lines of 17 bytes, and nothing else: nrmlab's paths go to stderr.
  EXPECT_EQ(result.out.size(), 300000u * 17u);
  EXPECT_THAT(result.err, HasSubstr("telemetry: "));
}

TEST(Watch, AProgramThatForksAndExitsEndsTheWatch) {
  ScratchDir scratch;
  const auto started = std::chrono::steady_clock::now();
  const auto result = run_nrmlab({"watch", "--out", (scratch / "forks").string(), "--no-analysis",
                                  "--", "sh", "-c", "(sleep 20; echo late) & echo started"},
                                 scratch);
  const auto seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.err, HasSubstr("still hold its output"));
  EXPECT_LT(seconds, 15.0) << "nrmlab waited for the background process";
}

TEST(Watch, TheStepChannelsCarryMarkersWithoutTouchingTheOutput) {
  ScratchDir scratch;
  const fs::path run = scratch / "fd";
  const auto result = run_nrmlab(
      {"watch", "--out", run.string(), "--no-analysis", "--", "sh", "-c",
       "for i in 1 2 3; do echo \"NRMLAB step=$i n=$i\" >&$NRMLAB_STEP_FD; echo plain $i; done"},
      scratch);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(count(run, "SELECT count(*) FROM steps"), 3);
  EXPECT_THAT(result.out, HasSubstr("plain 1\nplain 2\nplain 3\n"));
  EXPECT_THAT(result.out, ::testing::Not(HasSubstr("NRMLAB")));
}

TEST(Watch, AStepRegexMarksStepsOfAnyFormat) {
  ScratchDir scratch;
  const fs::path run = scratch / "regex";
  const auto result = run_nrmlab(
      {"watch", "--out", run.string(), "--no-analysis", "--step-regex", "^iteration ([0-9]+)", "--",
       "sh", "-c", "echo iteration 1 cells=5; echo other; echo iteration 2 cells=9"},
      scratch);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(count(run, "SELECT count(*) FROM steps"), 2);
  EXPECT_EQ(count(run, "SELECT sum(value) FROM step_work WHERE name = 'cells'"), 14);

  const auto bad = run_nrmlab(
      {"watch", "--out", (scratch / "bad").string(), "--step-regex", "(", "--", "true"}, scratch);
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, HasSubstr("--step-regex"));
}

TEST(Watch, SigtermIsForwardedAndNothingIsLeftRunning) {
  ScratchDir scratch;
  const fs::path run = scratch / "term";
  const pid_t watcher = testing::start_process(
      {NRMLAB_BINARY, "watch", "--out", run.string(), "--no-analysis", "--", "sleep", "30"},
      scratch / "term.out", scratch / "term.err");
  // Wait until the program runs (its pid is in the meta).
  std::string program = "(absent)";
  for (int i = 0; i < 100 && program == "(absent)"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    program = meta_when_ready(run, "process.program");
  }
  ASSERT_NE(program, "(absent)") << "the program never started";
  ::kill(watcher, SIGTERM);
  EXPECT_EQ(testing::wait_process(watcher), 128 + SIGTERM);
  EXPECT_NE(::kill(std::stoi(program), 0), 0) << "the program outlived nrmlab";
  EXPECT_THAT(run_meta(run, "program_outcome"), HasSubstr("killed by signal 15"));
}

TEST(Watch, TheStepSocketCarriesMarkersToo) {
  ScratchDir scratch;
  const fs::path run = scratch / "socket";
  // A small Unix-socket client (make test installs python3).
  const auto result =
      run_nrmlab({"watch", "--out", run.string(), "--no-analysis", "--", "python3", "-c",
                  "import os, socket\n"
                  "s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\n"
                  "for i in range(4): s.sendto(f'NRMLAB step={i} k={i}'.encode(), "
                  "os.environ['NRMLAB_STEP_SOCKET'])\n"},
                 scratch);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(count(run, "SELECT count(*) FROM steps"), 4);
  EXPECT_FALSE(fs::exists(run / "step.sock")) << "the socket is removed at the end";
}

TEST(Watch, TheLastStepKeepsItsCpuAndAMarkerWithoutNewlineCounts) {
  ScratchDir scratch;
  const fs::path run = scratch / "busy";
  const auto result =
      run_nrmlab({"watch", "--out", run.string(), "--no-analysis", "--", "sh", "-c",
                  "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; printf 'NRMLAB step=1'"},
                 scratch);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  ASSERT_EQ(count(run, "SELECT count(*) FROM steps"), 1);
  // About 0.3 s of CPU (more under load), most of it after the last /proc reading could
  // see it: the reaped program's own account (wait4) covers what /proc missed.
  EXPECT_GE(count(run, "SELECT cpu_ns FROM steps"), 150'000'000);
}

TEST(Watch, SigintIsForwardedAndASecondStopKillsAProgramThatIgnoresTheFirst) {
  ScratchDir scratch;
  const auto start = [&](const fs::path& run, const std::string& script) {
    const pid_t watcher = testing::start_process({NRMLAB_BINARY, "watch", "--out", run.string(),
                                                  "--no-analysis", "--", "/bin/sh", "-c", script},
                                                 run.string() + ".out", run.string() + ".err");
    for (int i = 0; i < 200 && meta_when_ready(run, "process.program") == "(absent)"; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the program is running
    return watcher;
  };
  const fs::path interrupted = scratch / "int";
  const pid_t first = start(interrupted, "sleep 30");
  ::kill(first, SIGINT);
  EXPECT_EQ(testing::wait_process(first), 128 + SIGINT);
  EXPECT_EQ(run_meta(interrupted, "outcome"), "interrupted");

  const fs::path stubborn = scratch / "stubborn";
  const pid_t second = start(stubborn, "trap '' TERM; sleep 30; sleep 30");
  ::kill(second, SIGTERM);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ::kill(second, SIGTERM);
  EXPECT_EQ(testing::wait_process(second), 128 + SIGKILL);
  EXPECT_EQ(run_meta(stubborn, "complete"), "true") << "nrmlab closed the run after the kill";
  EXPECT_THAT(read_text(stubborn.string() + ".err"), HasSubstr("a second stop"));
}

TEST(Watch, AReaderThatGoesAwayEndsTheProgramAsWithoutNrmlab) {
  ScratchDir scratch;
  const auto started = std::chrono::steady_clock::now();
  const auto result =
      testing::run_process({"/bin/sh", "-c",
                            std::string(NRMLAB_BINARY) + " watch --no-analysis --out '" +
                                (scratch / "yes").string() + "' -- yes | head -n 1"},
                           scratch);
  const auto seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  EXPECT_EQ(result.out, "y\n");
  EXPECT_LT(seconds, 10.0);
}

// On a terminal the program stays in the foreground: it can read what is typed (a program
// in a background group would be stopped), and the terminal's Ctrl-C reaches it once.
TEST(Watch, OnATerminalTheProgramReadsItAndCtrlCEndsIt) {
  ScratchDir scratch;
  const std::string script = R"(
import os, pty, select, sys, time
def run(argv, keys):
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(argv[0], argv)
    time.sleep(1.0)
    os.write(fd, keys)
    out, end = b"", time.time() + 20
    while time.time() < end:
        if select.select([fd], [], [], 0.5)[0]:
            try:
                data = os.read(fd, 4096)
            except OSError:
                break
            if not data:
                break
            out += data
    _, status = os.waitpid(pid, 0)
    return out.decode(errors="replace"), os.waitstatus_to_exitcode(status)
nrmlab, work = sys.argv[1], sys.argv[2]
out, code = run([nrmlab, "watch", "--no-analysis", "--out", work + "/read", "--",
                 "/bin/sh", "-c", "read x; echo got $x"], b"hello\n")
print("read", code, "got hello" in out)
out, code = run([nrmlab, "watch", "--no-analysis", "--out", work + "/int", "--",
                 "/bin/sleep", "30"], b"\x03")
print("ctrl-c", code, "killed by signal 2" in out)
)";
  const auto result = testing::run_process(
      {"/usr/bin/python3", "-c", script, NRMLAB_BINARY, scratch.path().string()}, scratch);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("read 0 True"));
  EXPECT_THAT(result.out, HasSubstr("ctrl-c 130 True"));
}

TEST(Watch, AttachingToARunningProcessRecordsItUntilItEnds) {
  ScratchDir scratch;
  const pid_t target =
      testing::start_process({"/bin/sleep", "2"}, scratch / "s.out", scratch / "s.err");
  const fs::path run = scratch / "attached";
  const auto result = run_nrmlab({"watch", "--out", run.string(), "--no-analysis", "--window-ms",
                                  "200", "--pid", std::to_string(target)},
                                 scratch);
  testing::wait_process(target);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(run_meta(run, "step_source"), "time windows");
  EXPECT_GE(count(run, "SELECT count(*) FROM steps"), 3);
}

}  // namespace
}  // namespace nrmlab
