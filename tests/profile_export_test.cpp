// Stack samples exported for flame-graph tools (telemetry/profile/profile_export.hpp): folded
// stacks line by line, speedscope JSON by its invariants, window ranges, runs without samples,
// and `nrmlab export --format folded|speedscope`. The databases are written with
// TelemetryStore, as the recorder writes them.
#include "telemetry/profile/profile_export.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "telemetry/export.hpp"
#include "telemetry/profile/profile_data.hpp"
#include "telemetry/telemetry_store.hpp"
#include "test_support.hpp"
#include "util/error.hpp"
#include "util/sqlite.hpp"

namespace nrmlab::testing {
namespace {

namespace fs = std::filesystem;
using telemetry::ProfileCountRow;
using telemetry::ProfileFrameRow;
using telemetry::ProfileStackRow;
using telemetry::profile::ProfileData;
using telemetry::profile::WindowRange;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Two windows of a program whose step computes, sleeps in the C library (through a module
// without symbols, down into the kernel) and syncs a file; plus time without a stack, an
// unknown frame, a name holding the folded format's separators, and one function reached
// from two call sites of the same caller (two stored stacks that read alike).
telemetry::Batch profile_export_batch() {
  telemetry::Batch batch;
  batch.profile_frames = {
      {1, "main", "prog", 0x401000},
      {2, "step", "prog", 0x401100},
      {3, "compute", "prog", 0},
      {4, "", "libfoo.so", 0x7f0000001000},
      {5, "clock_nanosleep", "libc.so.6", 0x7f0000002000},
      {6, "schedule", "[kernel]", -0x7000000000000000},
      {7, "fdatasync", "libc.so.6", 0},
      {8, "", "", 0x1234},
      {9, "weird;name\nx", "prog", 0},
      {10, "step", "prog", 0x401140},  // the second call site of step in main
  };
  batch.profile_stacks = {
      {1, 0, 1}, {2, 1, 2}, {3, 2, 3}, {4, 2, 4},   {5, 4, 5},   {6, 5, 6},
      {7, 2, 7}, {8, 1, 8}, {9, 1, 9}, {10, 1, 10}, {11, 10, 3},
  };
  batch.profile_counts = {
      {0, 3, "on_cpu", 3, 30'000'000},
      {0, 6, "sleep", 1, 50'000'000},
      {0, 0, "on_cpu", 1, 10'000'000},
      {0, 0, "disk", 1, 2'000'000},
      {0, 7, "disk", 1, 0},    // an interval not yet ended: no time
      {0, 9, "lock", 1, 400},  // under half a microsecond
      {1, 3, "on_cpu", 1, 10'000'000},
      {1, 3, "on_cpu", 1, 10'000'000},  // a partial sum of the same (window, stack, wait)
      {1, 11, "on_cpu", 1, 10'000'000},
      {1, 6, "sleep", 1, 40'000'000},
      {1, 7, "disk", 1, 4'000'400},
      {1, 8, "on_cpu", 1, 10'000'000},
      {1, 9, "lock", 1, 1'499},
  };
  batch.meta = {
      {"profile.status", "sampled"}, {"profile.hz", "100"}, {"profile.window_ns", "1000000000"}};
  return batch;
}

fs::path write_profile_run(const fs::path& run_dir, const telemetry::Batch& batch) {
  fs::create_directories(run_dir);
  const fs::path db = run_dir / "telemetry.db";
  telemetry::TelemetryStore(db).write(batch);
  return db;
}

std::vector<std::string> folded_lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t begin = 0;
  for (std::size_t end; (end = text.find('\n', begin)) != std::string::npos; begin = end + 1)
    lines.push_back(text.substr(begin, end - begin));
  EXPECT_EQ(begin, text.size()) << "the last line is not ended";
  return lines;
}

TEST(ProfileExport, FoldedStacksNameEveryFrameAndWaitInMicroseconds) {
  ScratchDir scratch;
  const ProfileData data =
      telemetry::profile::read_profile(write_profile_run(scratch / "run", profile_export_batch()));
  EXPECT_THAT(folded_lines_of(telemetry::profile::folded_stacks(data)),
              ElementsAre("[disk] 2000", "[unknown] 10000", "main;[unknown] 10000",
                          "main;step;[libfoo.so];clock_nanosleep;schedule_[k];[sleep] 90000",
                          "main;step;compute 60000", "main;step;fdatasync;[disk] 4000",
                          "main;weird:name x;[lock] 2"));
}

TEST(ProfileExport, AWindowRangeSelectsItsWindowsOnly) {
  ScratchDir scratch;
  const ProfileData data =
      telemetry::profile::read_profile(write_profile_run(scratch / "run", profile_export_batch()));
  EXPECT_THAT(folded_lines_of(telemetry::profile::folded_stacks(data, WindowRange{0, 0})),
              ElementsAre("[disk] 2000", "[unknown] 10000",
                          "main;step;[libfoo.so];clock_nanosleep;schedule_[k];[sleep] 50000",
                          "main;step;compute 30000"));
  EXPECT_THAT(folded_lines_of(telemetry::profile::folded_stacks(data, WindowRange{1, 5})),
              ElementsAre("main;[unknown] 10000",
                          "main;step;[libfoo.so];clock_nanosleep;schedule_[k];[sleep] 40000",
                          "main;step;compute 30000", "main;step;fdatasync;[disk] 4000",
                          "main;weird:name x;[lock] 1"));
  EXPECT_EQ(telemetry::profile::folded_stacks(data, WindowRange{2, 9}), "");
  EXPECT_THROW(telemetry::profile::folded_stacks(data, WindowRange{1, 0}), Error);
  const auto window_one = telemetry::profile::speedscope_profile(data, "r", WindowRange{1, 1});
  std::int64_t weight = 0;
  for (const auto& w : window_one["profiles"][0]["weights"])
    weight += w.get<std::int64_t>();
  EXPECT_EQ(weight, 84'001'899);
}

// The names along one speedscope sample, "name@file" ("name" without a file).
std::vector<std::string> speedscope_sample_names(const nlohmann::json& file,
                                                 const nlohmann::json& sample) {
  std::vector<std::string> names;
  for (const auto& index : sample) {
    const auto& frame = file["shared"]["frames"][index.get<std::size_t>()];
    // Appended, not "@" + file: GCC 12 warns -Wrestrict on that (a false positive).
    std::string name = frame["name"].get<std::string>();
    if (frame.contains("file")) name.append("@").append(frame["file"].get<std::string>());
    names.push_back(std::move(name));
  }
  return names;
}

TEST(ProfileExport, SpeedscopeHoldsEveryFrameAndWeightInWindowOrder) {
  ScratchDir scratch;
  const ProfileData data =
      telemetry::profile::read_profile(write_profile_run(scratch / "run", profile_export_batch()));
  // Through text, as a viewer reads it.
  const auto file =
      nlohmann::json::parse(telemetry::profile::speedscope_profile(data, "run x").dump());
  EXPECT_EQ(file["$schema"], "https://www.speedscope.app/file-format-schema.json");
  EXPECT_THAT(file["exporter"].get<std::string>(), ::testing::StartsWith("nrmlab "));
  ASSERT_EQ(file["profiles"].size(), 1u);
  const auto& profile = file["profiles"][0];
  EXPECT_EQ(profile["type"], "sampled");
  EXPECT_EQ(profile["unit"], "nanoseconds");
  EXPECT_EQ(profile["name"], "run x");
  EXPECT_EQ(profile["startValue"], 0);

  // Frames: each (name, file) once; every stored frame there under its name and module.
  const auto& frames = file["shared"]["frames"];
  std::set<std::pair<std::string, std::string>> seen;
  for (const auto& frame : frames)
    EXPECT_TRUE(
        seen.emplace(frame["name"].get<std::string>(), frame.value("file", std::string())).second)
        << frame.dump();
  for (const ProfileFrameRow& stored : data.frames)
    EXPECT_TRUE(
        seen.contains({telemetry::profile::profile_frame_name(stored, false), stored.module}))
        << stored.function << " in " << stored.module;
  EXPECT_TRUE(seen.contains({"[unknown]", ""}));
  EXPECT_TRUE(seen.contains({"[sleep]", ""}));
  EXPECT_FALSE(seen.contains({"[on_cpu]", ""}));

  // Samples: indices in range, one weight each, weights summing to what was stored.
  ASSERT_EQ(profile["samples"].size(), profile["weights"].size());
  std::int64_t total = 0;
  for (std::size_t i = 0; i < profile["samples"].size(); ++i) {
    for (const auto& index : profile["samples"][i]) {
      ASSERT_TRUE(index.is_number_integer());
      EXPECT_GE(index.get<std::int64_t>(), 0);
      EXPECT_LT(index.get<std::size_t>(), frames.size());
    }
    total += profile["weights"][i].get<std::int64_t>();
  }
  EXPECT_EQ(total, data.total_weight_ns());
  EXPECT_EQ(profile["endValue"], total);

  // Window 0's five paths come first; the two call sites of step are one path in window 1.
  std::int64_t first_window = 0;
  for (std::size_t i = 0; i < 5; ++i)
    first_window += profile["weights"][i].get<std::int64_t>();
  EXPECT_EQ(first_window, 92'000'400);
  std::map<std::vector<std::string>, std::int64_t> window_one;
  for (std::size_t i = 5; i < profile["samples"].size(); ++i)
    window_one[speedscope_sample_names(file, profile["samples"][i])] +=
        profile["weights"][i].get<std::int64_t>();
  EXPECT_EQ(window_one.size(), profile["samples"].size() - 5);
  EXPECT_EQ((window_one[{"main@prog", "step@prog", "compute@prog"}]), 30'000'000);
  EXPECT_EQ((window_one[{"main@prog", "step@prog", "[libfoo.so]@libfoo.so",
                         "clock_nanosleep@libc.so.6", "schedule@[kernel]", "[sleep]"}]),
            40'000'000);
  EXPECT_EQ((window_one[{"main@prog", "step@prog", "fdatasync@libc.so.6", "[disk]"}]), 4'000'400);
}

TEST(ProfileExport, ARunWithoutSamplesWritesNothingAndSaysWhy) {
  ScratchDir scratch;
  const fs::path out = scratch / "profile.folded";
  const auto message = [&](const fs::path& db) {
    try {
      telemetry::profile::export_profile(db, out, telemetry::profile::ProfileFormat::folded);
    } catch (const Error& error) {
      return std::string(error.what());
    }
    return std::string("no error");
  };
  // A database from before stack sampling: only the meta table.
  fs::create_directories(scratch / "old");
  {
    sqlite::Connection old(scratch / "old" / "telemetry.db");
    old.execute(
        "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);"
        "INSERT INTO meta VALUES('schema', 'nrmlab.telemetry/1')");
  }
  EXPECT_THAT(
      message(scratch / "old" / "telemetry.db"),
      HasSubstr("old/telemetry.db: no stack samples to export (profile status: not recorded)"));

  telemetry::Batch unavailable;
  unavailable.meta = {{"profile.status", "unavailable: perf_event_open: EACCES"},
                      {"profile.enable_hint", "sysctl kernel.perf_event_paranoid=1"}};
  EXPECT_THAT(message(write_profile_run(scratch / "denied", unavailable)),
              HasSubstr("(profile status: unavailable: perf_event_open: EACCES); to enable "
                        "sampling: sysctl kernel.perf_event_paranoid=1"));

  telemetry::Batch off;
  off.meta = {{"profile.status", "off"}};
  EXPECT_THAT(message(write_profile_run(scratch / "off", off)), HasSubstr("(profile status: off)"));

  telemetry::Batch empty = profile_export_batch();
  empty.profile_counts.clear();
  EXPECT_THAT(message(write_profile_run(scratch / "empty", empty)),
              HasSubstr("profile status: sampled, but no time was counted"));
  EXPECT_FALSE(fs::exists(out));
}

TEST(ProfileExport, TheExportCommandWritesBothFormats) {
  ScratchDir scratch;
  const fs::path run = scratch / "run";
  const ProfileData data =
      telemetry::profile::read_profile(write_profile_run(run, profile_export_batch()));

  const auto folded = run_nrmlab({"export", run.string(), "--format", "folded"}, scratch);
  ASSERT_EQ(folded.exit_code, 0) << folded.err;
  EXPECT_EQ(folded.out, (run / "export" / "profile.folded").string() + "\n");
  EXPECT_EQ(read_text(run / "export" / "profile.folded"), telemetry::profile::folded_stacks(data));

  const auto speedscope = run_nrmlab({"export", run.string(), "--format", "speedscope"}, scratch);
  ASSERT_EQ(speedscope.exit_code, 0) << speedscope.err;
  const auto file = nlohmann::json::parse(read_text(run / "export" / "profile.speedscope.json"));
  EXPECT_EQ(file["name"], "run (wall-clock, every thread)");
  EXPECT_EQ(file["profiles"][0]["name"], "run (wall-clock, every thread)");
  EXPECT_EQ(file["profiles"][0]["endValue"], data.total_weight_ns());

  // Without samples: exit 1, the status and the hint, no file.
  telemetry::Batch unavailable;
  unavailable.meta = {{"profile.status", "unavailable: seccomp"},
                      {"profile.enable_hint", "docker run --security-opt seccomp=unconfined"}};
  const fs::path denied = scratch / "denied";
  write_profile_run(denied, unavailable);
  const auto refused = run_nrmlab({"export", denied.string(), "--format", "speedscope"}, scratch);
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_THAT(refused.err, HasSubstr("nrmlab: error: "));
  EXPECT_THAT(refused.err, HasSubstr("profile status: unavailable: seccomp"));
  EXPECT_THAT(refused.err, HasSubstr("docker run --security-opt seccomp=unconfined"));
  EXPECT_FALSE(fs::exists(denied / "export" / "profile.speedscope.json"));

  // The tables' export is unchanged beside it: the profile tables are tables like any other.
  const auto written = telemetry::export_telemetry(run / "telemetry.db", scratch / "csv",
                                                   telemetry::ExportFormat::csv);
  EXPECT_TRUE(std::find(written.begin(), written.end(), scratch / "csv" / "profile_counts.csv") !=
              written.end());
}

}  // namespace
}  // namespace nrmlab::testing
