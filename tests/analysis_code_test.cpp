// analysis.json's `code` (issue 18) from stack samples with known stacks: which frame holds
// the time (a blocked thread's libc call, not the kernel's schedule()), the call site outside
// the system's libraries and the one in the program, shares and their order, the status of
// an unsampled run, and the summary line.
#include <fmt/format.h>

#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "analysis/code_profile.hpp"

namespace nrmlab::analysis {
namespace {

using telemetry::profile::ProfileData;
using telemetry::profile::WaitClass;

// Builds a ProfileData one stack at a time: frames given outermost first.
class ProfileBuilder {
 public:
  std::int64_t stack(const std::vector<std::pair<std::string, std::string>>& frames) {
    std::int64_t parent = 0;
    for (const auto& [function, module] : frames) {
      m_data.frames.push_back(
          {static_cast<std::int64_t>(m_data.frames.size()) + 1, function, module, 0});
      const std::int64_t id = static_cast<std::int64_t>(m_data.stacks.size()) + 1;
      m_data.stacks.push_back({id, parent, m_data.frames.back().id});
      parent = id;
    }
    return parent;
  }
  void count(std::int64_t stack, WaitClass wait, std::int64_t weight_ns, std::int64_t window = 0) {
    m_data.counts.push_back({window, stack, wait, 1, weight_ns});
  }
  ProfileData data(std::string status = "sampled") {
    m_data.status = std::move(status);
    return m_data;
  }

 private:
  ProfileData m_data;
};

// The C256 original's shape: a Python loop that sleeps in time.sleep and commits through
// SQLite, which syncs.
ProfileData c256_like() {
  ProfileBuilder b;
  const std::int64_t sleep = b.stack({{"main", "python3.11"},
                                      {"Py_BytesMain", "libpython3.11.so.1.0"},
                                      {"time_sleep", "libpython3.11.so.1.0"},
                                      {"clock_nanosleep", "libc.so.6"},
                                      {"do_nanosleep", "[kernel]"},
                                      {"schedule", "[kernel]"}});
  const std::int64_t sync = b.stack({{"main", "python3.11"},
                                     {"Py_BytesMain", "libpython3.11.so.1.0"},
                                     {"sqlite3PagerCommitPhaseOne", "libsqlite3.so.0"},
                                     {"fdatasync", "libc.so.6"},
                                     {"ext4_sync_file", "[kernel]"},
                                     {"schedule", "[kernel]"}});
  const std::int64_t compute = b.stack({{"main", "python3.11"},
                                        {"Py_BytesMain", "libpython3.11.so.1.0"},
                                        {"_PyEval_EvalFrameDefault", "libpython3.11.so.1.0"}});
  b.count(sleep, WaitClass::sleep, 900, 0);
  b.count(sleep, WaitClass::sleep, 30, 1);  // a second window of the same place adds up
  b.count(sync, WaitClass::disk, 50);
  b.count(compute, WaitClass::on_cpu, 20);
  return b.data();
}

TEST(CodeProfile, PutsABlockedThreadsTimeOnItsLibcCallWithTheCallSite) {
  const CodeProfile code = analyse_code(c256_like(), 10, 2.0);
  EXPECT_EQ(code.status, "sampled");
  EXPECT_DOUBLE_EQ(code.sampled_seconds, 1000e-9);
  ASSERT_EQ(code.time.size(), 3U);
  const CodeTime& sleep = code.time[0];
  EXPECT_EQ(sleep.function, "clock_nanosleep") << "not the kernel's schedule()";
  EXPECT_EQ(sleep.module, "libc.so.6");
  EXPECT_EQ(sleep.wait_class, "sleep");
  EXPECT_EQ(sleep.caller, "time_sleep");
  EXPECT_EQ(sleep.caller_module, "libpython3.11.so.1.0");
  EXPECT_DOUBLE_EQ(sleep.share, 0.93);
  EXPECT_DOUBLE_EQ(sleep.per_step, 930e-9 / 10);
  const CodeTime& sync = code.time[1];
  EXPECT_EQ(sync.function, "fdatasync");
  EXPECT_EQ(sync.wait_class, "disk");
  EXPECT_EQ(sync.caller, "sqlite3PagerCommitPhaseOne");
  EXPECT_DOUBLE_EQ(sync.share, 0.05);
  // On the CPU the time is the innermost frame's own.
  EXPECT_EQ(code.time[2].function, "_PyEval_EvalFrameDefault");
  EXPECT_EQ(code.time[2].wait_class, "on_cpu");
  double total = 0;
  for (const CodeTime& t : code.time)
    total += t.share;
  EXPECT_NEAR(total, 1.0, 1e-12);
  // The waits, largest first.
  ASSERT_EQ(code.waits.size(), 3U);
  EXPECT_EQ(code.waits[0].wait_class, "sleep");
  EXPECT_EQ(code.waits[1].wait_class, "disk");
  EXPECT_EQ(code.waits[2].wait_class, "on_cpu");
}

TEST(CodeProfile, NamesTheProgramsOwnFrameWhenALibraryCallsTheSystem) {
  ProfileBuilder b;
  const std::int64_t sync = b.stack({{"main", "sim"},
                                     {"persist_row(long)", "sim"},
                                     {"sqlite::Statement::run()", "sim"},
                                     {"sqlite3_step", "libsqlite3.so.0"},
                                     {"sqlite3PagerCommitPhaseOne", "libsqlite3.so.0"},
                                     {"fdatasync", "libc.so.6"}});
  const std::int64_t own = b.stack({{"main", "sim"}, {"nap()", "sim"}, {"nanosleep", "libc.so.6"}});
  b.count(sync, WaitClass::disk, 60);
  b.count(own, WaitClass::sleep, 40);
  const CodeProfile code = analyse_code(b.data(), 0, 1.0);
  ASSERT_EQ(code.time.size(), 2U);
  EXPECT_EQ(code.time[0].caller, "sqlite3PagerCommitPhaseOne");
  EXPECT_EQ(code.time[0].site, "sqlite::Statement::run()") << "the innermost frame of the program";
  EXPECT_TRUE(std::isnan(code.time[0].per_step)) << "no steps: no time per step";
  // The program's own frame is the caller: no separate site.
  EXPECT_EQ(code.time[1].caller, "nap()");
  EXPECT_EQ(code.time[1].site, "");
  const std::string line = code_line(code);
  EXPECT_NE(line.find("60% disk in fdatasync (libc.so.6) from sqlite3PagerCommitPhaseOne "
                      "(libsqlite3.so.0) at sqlite::Statement::run"),
            std::string::npos)
      << line;
  EXPECT_NE(line.find("40% sleep in nanosleep (libc.so.6) from nap (sim)"), std::string::npos)
      << line;
}

TEST(CodeProfile, TheSummaryLineNamesSmallWaitsTooButNotEntryPointsOrStacklessTime) {
  ProfileBuilder b;
  const std::int64_t sleep = b.stack({{"_start", "python3.11"},
                                      {"Py_BytesMain", "libpython3.11.so.1.0"},
                                      {"time_sleep", "libpython3.11.so.1.0"},
                                      {"clock_nanosleep", "libc.so.6"}});
  const std::int64_t sync = b.stack({{"_start", "python3.11"},
                                     {"sqlite3PagerCommitPhaseOne", "libsqlite3.so.0"},
                                     {"fdatasync", "libc.so.6"}});
  const std::int64_t tiny = b.stack({{"_start", "python3.11"}, {"f", "libpython3.11.so.1.0"}});
  b.count(sleep, WaitClass::sleep, 9000);
  b.count(0, WaitClass::other, 500);  // no stack: not a place to name
  b.count(sync, WaitClass::disk, 60);
  b.count(tiny, WaitClass::on_cpu, 40);  // under 0.5%
  const CodeProfile code = analyse_code(b.data(), 1, 1.0);
  EXPECT_EQ(code.time[0].site, "") << "_start is an entry point, not a site";
  EXPECT_EQ(code_line(code),
            "94% sleep in clock_nanosleep (libc.so.6) from time_sleep (libpython3.11.so.1.0); "
            "0.6% disk in fdatasync (libc.so.6) from sqlite3PagerCommitPhaseOne (libsqlite3.so.0)");
}

TEST(CodeProfile, StacklessTimeAndUnknownFramesAreNamedAsSuch) {
  ProfileBuilder b;
  const std::int64_t unknown = b.stack({{"", "libfoo.so"}});
  b.count(0, WaitClass::run_queue, 30);
  b.count(unknown, WaitClass::on_cpu, 70);
  const CodeProfile code = analyse_code(b.data(), 1, 1.0);
  ASSERT_EQ(code.time.size(), 2U);
  EXPECT_EQ(code.time[0].function, "[libfoo.so]");
  EXPECT_EQ(code.time[1].function, "[no stack]");
  EXPECT_EQ(code.time[1].wait_class, "run_queue");
}

TEST(CodeProfile, KeepsTheLargestEntriesOnly) {
  ProfileBuilder b;
  for (int i = 0; i < 30; ++i)
    b.count(b.stack({{"main", "sim"}, {fmt::format("f{}", i), "sim"}}), WaitClass::on_cpu, 100 + i);
  const CodeProfile code = analyse_code(b.data(), 1, 1.0);
  ASSERT_EQ(code.time.size(), CodeProfile::k_code_entries);
  EXPECT_EQ(code.time.front().function, "f29");
  EXPECT_EQ(code.time.back().function, "f10");
}

TEST(CodeProfile, AnUnsampledRunKeepsItsStatusAndHint) {
  ProfileData data;
  data.status = "unavailable: perf_event_open: permission denied";
  data.enable_hint = "sysctl -w kernel.perf_event_paranoid=1";
  const CodeProfile code = analyse_code(data, 5, 1.0);
  EXPECT_EQ(code.status, data.status);
  EXPECT_EQ(code.enable_hint, data.enable_hint);
  EXPECT_TRUE(code.time.empty());
  EXPECT_TRUE(code_line(code).empty());
  // A database that cannot be read is said so, not thrown: the rest of the analysis stands.
  const CodeProfile missing =
      analyse_code(std::filesystem::path("/nonexistent/telemetry.db"), 1, 1);
  EXPECT_EQ(missing.status.rfind("unreadable: ", 0), 0U) << missing.status;
}

TEST(CodeProfile, SystemModulesAreTheLibrariesEveryStackPassesThrough) {
  for (const char* system : {"libc.so.6", "ld-linux-x86-64.so.2", "libstdc++.so.6", "[kernel]",
                             "libpthread.so.0", "libm.so.6", "libgcc_s.so.1", ""})
    EXPECT_TRUE(is_system_module(system)) << system;
  for (const char* own : {"python3.11", "libpython3.11.so.1.0", "libsqlite3.so.0", "nrmlab",
                          "libcrypto.so.3", "libcurl.so.4"})
    EXPECT_FALSE(is_system_module(own)) << own;
  EXPECT_EQ(short_function("ns::(anonymous namespace)::persist_row(std::filesystem::path const&)"),
            "ns::persist_row");
  EXPECT_EQ(short_function("plain"), "plain");
}

}  // namespace
}  // namespace nrmlab::analysis
