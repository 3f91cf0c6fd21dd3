// `nrmlab watch` accounts for what a program did: its I/O per step (from /proc/PID/io), how
// much of its run the steps cover, and the CPU and I/O of children too short-lived for any
// /proc reading to see (issue 20). Each test drives a real program and compares what the
// watch recorded with what the program did.
#include <linux/magic.h>
#include <sqlite3.h>
#include <sys/vfs.h>

#include <cstdlib>
#include <regex>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_support.hpp"
#include "util/sqlite.hpp"

namespace nrmlab {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::run_meta;
using testing::run_nrmlab;
using testing::run_query;
using testing::ScratchDir;
using ::testing::StartsWith;

// A directory on a file system that counts storage writes (tmpfs has no storage: its
// write_bytes stay 0), removed at the end.
class DiskDir {
 public:
  DiskDir() {
    std::string pattern = (fs::temp_directory_path() / "nrmlab-io-XXXXXX").string();
    if (::mkdtemp(pattern.data()) != nullptr) m_path = pattern;
  }
  ~DiskDir() {
    std::error_code ignored;
    if (!m_path.empty()) fs::remove_all(m_path, ignored);
  }
  const fs::path& path() const { return m_path; }
  bool on_storage() const {
    struct statfs info {};
    return !m_path.empty() && ::statfs(m_path.c_str(), &info) == 0 &&
           info.f_type != static_cast<decltype(info.f_type)>(TMPFS_MAGIC);
  }

 private:
  fs::path m_path;
};

// Python writes (step + 1) MiB a step in 64 KiB write calls, quiet for 0.25 s on both sides
// of each marker so that no step boundary falls inside a burst of I/O.
TEST(WatchIo, EachStepHoldsTheIoTheProgramDid) {
  ScratchDir scratch;
  DiskDir disk;
  ASSERT_FALSE(disk.path().empty());
  const fs::path run = scratch / "io";
  const auto result =
      run_nrmlab({"watch", "--out", run.string(), "--no-analysis", "--", "/usr/bin/python3", "-c",
                  "import os, sys, time\n"
                  "fd = int(os.environ['NRMLAB_STEP_FD'])\n"
                  "out = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)\n"
                  "block = b'x' * 65536\n"
                  "for step in range(4):\n"
                  "    for _ in range(16 * (step + 1)): os.write(out, block)\n"
                  "    time.sleep(0.25)\n"
                  "    os.write(fd, f'NRMLAB step={step}\\n'.encode())\n"
                  "    time.sleep(0.25)\n",
                  (disk.path() / "data").string()},
                 scratch);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  sqlite::Connection db(run / "telemetry.db");
  sqlite::Statement steps(
      db,
      "SELECT step, io_wchar, io_syscw, io_write_bytes, io_rchar, io_syscr, io_read_bytes "
      "FROM steps ORDER BY step");
  int rows = 0;
  while (steps.step()) {
    const std::int64_t step = steps.column_int(0);
    const std::int64_t written = (step + 1) << 20;
    for (int column = 1; column <= 6; ++column)
      ASSERT_NE(sqlite3_column_type(steps.handle(), column), SQLITE_NULL)
          << "step " << step << " column " << column;
    // The writes, plus the marker (one call, a dozen bytes); the first step also holds the
    // interpreter's start.
    const std::int64_t start_calls = step == 0 ? 64 : 0;
    EXPECT_GE(steps.column_int(1), written) << "step " << step;
    EXPECT_LE(steps.column_int(1), written + 4096 + start_calls * 4096) << "step " << step;
    EXPECT_GE(steps.column_int(2), 16 * (step + 1)) << "step " << step;
    EXPECT_LE(steps.column_int(2), 16 * (step + 1) + 3 + start_calls) << "step " << step;
    // Storage: the pages the writes dirtied (each byte once: the file only grows).
    if (disk.on_storage()) {
      EXPECT_GE(steps.column_int(3), written * 9 / 10) << "step " << step;
      EXPECT_LE(steps.column_int(3), written * 11 / 10 + (1 << 16)) << "step " << step;
    }
    if (step > 0) {
      EXPECT_LT(steps.column_int(5), 16) << "no reads after the start";
    }
    ++rows;
  }
  EXPECT_EQ(rows, 4);
}

// The step regex that matched once: one step of a fraction of the run, the rest
// dropped without a word. Now the meta says how much the steps cover, and a note warns.
TEST(WatchCoverage, AMarkerFarFromTheEndIsReportedAsSmallCoverage) {
  ScratchDir scratch;
  const fs::path run = scratch / "once";
  const auto result = run_nrmlab({"watch", "--out", run.string(), "--no-analysis", "--", "sh", "-c",
                                  "echo 'NRMLAB step=0'; sleep 2"},
                                 scratch);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(run_query(run, "SELECT count(*) FROM steps"), 1);
  const std::int64_t covered = std::stoll(run_meta(run, "steps.covered_ns"));
  const std::int64_t tail = std::stoll(run_meta(run, "steps.tail_ns"));
  const std::int64_t duration = std::stoll(run_meta(run, "watch.duration_ns"));
  EXPECT_EQ(covered, run_query(run, "SELECT sum(wall_ns) FROM steps"));
  EXPECT_LT(covered, 500'000'000);
  EXPECT_GE(tail, 1'900'000'000);
  EXPECT_EQ(covered + tail, duration);
  EXPECT_THAT(result.err, HasSubstr("steps cover only"));
  EXPECT_THAT(result.err, HasSubstr("the analysis sees only that part"));
  std::smatch share;
  ASSERT_TRUE(std::regex_search(result.err, share, std::regex("cover only ([0-9]+)%")));
  EXPECT_LT(std::stoi(share[1]), 25);
}

TEST(WatchCoverage, AProgramShorterThanOneWindowIsOneStep) {
  ScratchDir scratch;
  const fs::path run = scratch / "short";
  const auto result =
      run_nrmlab({"watch", "--out", run.string(), "--no-analysis", "--", "sleep", "0.3"}, scratch);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(run_meta(run, "step_source"), "time windows");
  ASSERT_EQ(run_query(run, "SELECT count(*) FROM steps"), 1);
  EXPECT_GE(run_query(run, "SELECT wall_ns FROM steps"), 300'000'000);
  EXPECT_EQ(run_meta(run, "steps.tail_ns"), "0");
  EXPECT_THAT(result.err, ::testing::Not(HasSubstr("steps cover only")));
}

struct Truth {
  std::int64_t cpu_ns = 0, wchar = 0, syscw = 0;
};

Truth parse_truth(const std::string& err) {
  std::smatch m;
  if (!std::regex_search(err, m, std::regex("truth cpu_ns=([0-9]+) wchar=([0-9]+) syscw=([0-9]+)")))
    return {};
  return {std::stoll(m[1]), std::stoll(m[2]), std::stoll(m[3])};
}

struct Recorded {
  Truth totals;  // summed over the steps
  std::string accounting;
  std::string err;
};

// 200 children of ~5 ms CPU and 64 KiB each, watched with --children.
Recorded watch_short_children(const ScratchDir& scratch, const std::string& mode, bool cgroup) {
  const fs::path run = scratch / (mode + (cgroup ? "-cgroup" : "-reaped"));
  std::vector<std::string> argv;
  if (!cgroup) argv = {"/usr/bin/env", "NRMLAB_CGROUP_UNAVAILABLE=forced by the test"};
  for (const std::string& arg :
       {std::string(NRMLAB_BINARY), std::string("watch"), std::string("--out"), run.string(),
        std::string("--no-analysis"), std::string("--children"), std::string("--"),
        std::string(NRMLAB_WATCH_CHILDREN), mode, std::string("200"), std::string("5"),
        (scratch / (mode + ".data")).string()})
    argv.push_back(arg);
  const auto result = testing::run_process(argv, scratch);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  Recorded recorded;
  recorded.err = result.err;
  recorded.totals.cpu_ns = run_query(run, "SELECT sum(cpu_ns) FROM steps");
  recorded.totals.wchar = run_query(run, "SELECT sum(io_wchar) FROM steps");
  recorded.totals.syscw = run_query(run, "SELECT sum(io_syscw) FROM steps");
  recorded.accounting = run_meta(run, "probe.children");
  return recorded;
}

void expect_near(std::int64_t recorded, std::int64_t truth, double share, const std::string& what) {
  EXPECT_NEAR(static_cast<double>(recorded), static_cast<double>(truth),
              share * static_cast<double>(truth))
      << what << ": recorded " << recorded << ", truth " << truth;
}

// A parent that waits: the kernel adds each child's CPU and I/O to the parent's counters
// as it reaps it, so all of it is counted, with a cgroup or without.
TEST(WatchChildren, ShortChildrenThatAreWaitedForAreCountedInFull) {
  ScratchDir scratch;
  for (const bool cgroup : {true, false}) {
    const Recorded recorded = watch_short_children(scratch, "wait", cgroup);
    const Truth truth = parse_truth(recorded.err);
    ASSERT_GT(truth.cpu_ns, 900'000'000) << recorded.err;
    if (!cgroup) {
      EXPECT_THAT(recorded.accounting, StartsWith("reaped children only (forced"));
    }
    expect_near(recorded.totals.cpu_ns, truth.cpu_ns, 0.1, recorded.accounting + ": CPU");
    expect_near(recorded.totals.wchar, truth.wchar, 0.01, recorded.accounting + ": wchar");
    expect_near(recorded.totals.syscw, truth.syscw, 0.01, recorded.accounting + ": syscw");
  }
}

// A parent that ignores SIGCHLD: the kernel reaps the children and adds nothing to it.
// The program's own cgroup counts their CPU all the same; without one, /proc never saw
// most of them, and the meta says that only reaped children are counted.
TEST(WatchChildren, ShortChildrenNobodyWaitsForAreCountedByTheCgroup) {
  ScratchDir scratch;
  const Recorded with_cgroup = watch_short_children(scratch, "ignore", true);
  const Truth truth = parse_truth(with_cgroup.err);
  ASSERT_GT(truth.cpu_ns, 900'000'000) << with_cgroup.err;
  if (with_cgroup.accounting.starts_with("cgroup v2")) {
    expect_near(with_cgroup.totals.cpu_ns, truth.cpu_ns, 0.1, "cgroup: CPU");
  } else {
    std::cerr << "no cgroup here: " << with_cgroup.accounting << "\n";
    EXPECT_THAT(with_cgroup.accounting, StartsWith("reaped children only ("));
  }
  // Their write calls have no source but /proc: never more than the truth.
  EXPECT_LE(with_cgroup.totals.wchar, truth.wchar);

  const Recorded reaped = watch_short_children(scratch, "ignore", false);
  EXPECT_THAT(reaped.accounting, StartsWith("reaped children only (forced by the test)"));
  const Truth reaped_truth = parse_truth(reaped.err);
  EXPECT_LT(reaped.totals.cpu_ns, reaped_truth.cpu_ns / 2) << "what the meta warns of";
}

}  // namespace
}  // namespace nrmlab
