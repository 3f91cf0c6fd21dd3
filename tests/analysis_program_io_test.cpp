// H3 for a watched program (issue 20), tested by its rates on planted telemetry: the same
// read/write calls costing more is "the same I/O costs more", more calls at a constant price
// is more work (H5) and never H3, and a program whose I/O does not change supports nothing.

#include <gtest/gtest.h>

#include "analysis/analyze.hpp"
#include "analysis/program_waits.hpp"
#include "rate_rules.hpp"
#include "synthetic_telemetry.hpp"
#include "test_support.hpp"

namespace nrmlab::testing {
namespace {

using analysis::Verdict;

constexpr std::size_t k_io_runs = 60;
constexpr std::int64_t k_io_steps = 120;

// A watched program's step: 1 ms on the CPU, then `calls` write calls of 4 KiB, each waited
// for off the CPU for `price_ns`; 3% noise on the wait.
void program_step(telemetry::StepRow& row, std::mt19937_64& rng, std::int64_t calls,
                  double price_ns) {
  row.counters = {};
  row.cpu_ns = 1'000'000 + noise(rng, 20'000);
  const double wait = price_ns * static_cast<double>(calls);
  row.wall_ns = row.cpu_ns + static_cast<std::int64_t>(wait) + noise(rng, 0.03 * wait);
  row.io_syscr = 0;
  row.io_syscw = calls;
  row.io_rchar = 0;
  row.io_wchar = calls * 4096;
  row.io_read_bytes = row.io_write_bytes = 0;
}

using Shape = std::function<void(std::int64_t, telemetry::StepRow&, std::mt19937_64&)>;

std::map<std::string, Verdict> verdicts(std::uint64_t seed, Shape shape) {
  SyntheticRun run;
  run.rng_seed = seed;
  run.source = "watch";
  run.extra_meta = {{"step_source", "markers"}, {"experiment", "external"}};
  SyntheticCondition c;
  c.name = "program";
  c.steps = k_io_steps;
  c.step = std::move(shape);
  run.conditions = {c};
  ScratchDir scratch;
  write_synthetic_run(scratch.path(), run);
  const analysis::AnalysisReport report = analysis::analyze(scratch.path(), {});
  std::map<std::string, Verdict> out;
  for (const auto& h : report.runs.at(0).sound.hypotheses)
    out[h.id] = h.verdict;
  return out;
}

// The calls move from step to step (a population writing), so their price is estimable.
std::int64_t calls_around(std::int64_t level, std::mt19937_64& rng) {
  return level + std::uniform_int_distribution<std::int64_t>(0, level)(rng);
}

TEST(ProgramIo, TheSameCallsCostingMoreIsTheSameIoCostingMore) {
  std::size_t h3 = 0, h5 = 0;
  for (std::size_t r = 0; r < k_io_runs; ++r) {
    const auto v = verdicts(700 + r, [](std::int64_t step, auto& row, auto& rng) {
      const double price = 20'000 * (1.0 + static_cast<double>(step) / (k_io_steps - 1));
      program_step(row, rng, calls_around(50, rng), price);
    });
    h3 += v.at("H3") == Verdict::supported;
    h5 += v.at("H5") == Verdict::supported;
  }
  EXPECT_FALSE(too_few_at(h3, k_io_runs, 0.9)) << h3 << " of " << k_io_runs;
  EXPECT_FALSE(improbable_at(h5, k_io_runs, 0.05)) << h5 << " read as more work";
}

TEST(ProgramIo, MoreCallsAtTheSamePriceAreMoreWorkNeverDearerIo) {
  std::size_t h3 = 0;
  for (std::size_t r = 0; r < k_io_runs; ++r) {
    const auto v = verdicts(900 + r, [](std::int64_t step, auto& row, auto& rng) {
      program_step(row, rng, calls_around(50 + step, rng), 20'000);
    });
    h3 += v.at("H3") == Verdict::supported;
  }
  EXPECT_FALSE(improbable_at(h3, k_io_runs, 0.05)) << h3 << " of " << k_io_runs;
}

TEST(ProgramIo, UnchangingIoSupportsNothing) {
  std::size_t any = 0;
  for (std::size_t r = 0; r < k_io_runs; ++r) {
    const auto v = verdicts(1100 + r, [](std::int64_t, auto& row, auto& rng) {
      program_step(row, rng, calls_around(50, rng), 20'000);
    });
    for (const auto& [id, verdict] : v)
      if (id != "observer" && verdict == Verdict::supported) {
        ++any;
        break;
      }
  }
  EXPECT_FALSE(improbable_at(any, k_io_runs, 0.05)) << any << " of " << k_io_runs;
}

// ---- sleeps and locks are not I/O (program_waits.hpp) ----------------------------------

analysis::SoundAnalysis supported_h3() {
  analysis::SoundAnalysis sound;
  analysis::Attribution a;
  a.condition = "program";
  sound.attribution.push_back(a);
  analysis::Hypothesis h3;
  h3.id = "H3";
  h3.verdict = analysis::Verdict::supported;
  h3.reason = "program: the same I/O costs more";
  sound.hypotheses.push_back(h3);
  return sound;
}

analysis::CodeGrowth grew(std::string wait_class, std::string function, double share) {
  analysis::CodeGrowth g;
  g.condition = "program";
  g.wait_class = std::move(wait_class);
  g.function = std::move(function);
  g.share_of_change = share;
  return g;
}

analysis::CodeProfile sampled(bool compared) {
  analysis::CodeProfile code;
  code.status = "sampled";
  analysis::CodeComparison c;
  c.condition = "program";
  c.status = compared ? "compared" : "too few windows: 2 early";
  code.comparisons.push_back(c);
  return code;
}

TEST(ProgramWaits, GrowthTheSamplesPutInSleepsIsNotIo) {
  auto sound = supported_h3();
  auto code = sampled(true);
  code.growth = {grew("sleep", "clock_nanosleep", 0.8), grew("disk", "fdatasync", 0.1),
                 grew("on_cpu", "main", 0.5)};
  analysis::check_program_waits(sound, code);
  EXPECT_EQ(sound.hypotheses[0].verdict, analysis::Verdict::not_supported);
  EXPECT_NE(sound.hypotheses[0].reason.find("89%"), std::string::npos)
      << sound.hypotheses[0].reason;  // 0.8 of the 0.9 off the CPU; on-CPU growth is not a wait
  EXPECT_NE(sound.hypotheses[0].reason.find("clock_nanosleep"), std::string::npos);
}

TEST(ProgramWaits, GrowthInDiskWaitsKeepsH3) {
  auto sound = supported_h3();
  auto code = sampled(true);
  code.growth = {grew("disk", "fdatasync", 0.7), grew("lock", "futex_wait", 0.3)};
  analysis::check_program_waits(sound, code);
  EXPECT_EQ(sound.hypotheses[0].verdict, analysis::Verdict::supported);
  EXPECT_EQ(sound.hypotheses[0].reason, "program: the same I/O costs more");
}

TEST(ProgramWaits, UncomparedSamplesMostlySleepingCannotTell) {
  auto sound = supported_h3();
  auto code = sampled(false);
  code.waits = {{"sleep", 9.0, 0.6}, {"on_cpu", 5.0, 0.3}, {"disk", 1.0, 0.1}};
  analysis::check_program_waits(sound, code);
  EXPECT_EQ(sound.hypotheses[0].verdict, analysis::Verdict::not_identifiable);
  EXPECT_NE(sound.hypotheses[0].reason.find("90%"), std::string::npos)
      << sound.hypotheses[0].reason;
  EXPECT_NE(sound.hypotheses[0].experiment.find("--profile-window-ms"), std::string::npos);
  // Mostly disk waits: the composition does not contradict H3.
  auto io = supported_h3();
  code.waits = {{"sleep", 1.0, 0.1}, {"disk", 9.0, 0.9}};
  analysis::check_program_waits(io, code);
  EXPECT_EQ(io.hypotheses[0].verdict, analysis::Verdict::supported);
}

TEST(ProgramWaits, OnlyASampledSupportedH3IsChecked) {
  auto code = sampled(true);
  code.growth = {grew("sleep", "clock_nanosleep", 1.0)};
  auto unsampled = supported_h3();
  code.status = "unavailable: perf_event_paranoid is 3";
  analysis::check_program_waits(unsampled, code);
  EXPECT_EQ(unsampled.hypotheses[0].verdict, analysis::Verdict::supported);
  code.status = "sampled";
  auto rejected = supported_h3();
  rejected.hypotheses[0].verdict = analysis::Verdict::not_supported;
  analysis::check_program_waits(rejected, code);
  EXPECT_EQ(rejected.hypotheses[0].verdict, analysis::Verdict::not_supported);
}

// A real program whose sleeps grow while it writes one line a step (its only I/O): read as
// "the same I/O costs more" before the stack samples were consulted.
TEST(ProgramWaits, AProgramWhoseSleepsGrowIsNotReadAsIo) {
  ScratchDir scratch;
  const auto run = scratch / "sleeper";
  const auto result = run_nrmlab(
      {"watch", "--out", run.string(), "--profile-window-ms", "100", "--", "python3", "-c",
       "import sys, time\nfor s in range(40):\n    time.sleep(0.002 + 0.001 * s)\n"
       "    sys.stdout.write(f'NRMLAB step={s}\\n'); sys.stdout.flush()\n"},
      scratch);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto report = analysis::analyze(run, {});
  ASSERT_EQ(report.runs.size(), 1u);
  const auto& analysed = report.runs.front();
  if (analysed.code.status != "sampled")
    GTEST_SKIP() << "stack sampling " << analysed.code.status << " (" << analysed.code.enable_hint
                 << "): without it off-CPU time cannot be told apart";
  for (const auto& h : analysed.sound.hypotheses) {
    if (h.id == "H3") {
      EXPECT_NE(h.verdict, analysis::Verdict::supported) << h.reason;
    }
  }
}

}  // namespace
}  // namespace nrmlab::testing
