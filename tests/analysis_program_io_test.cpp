// H3 for a watched program (issue 20), tested by its rates on planted telemetry: the same
// read/write calls costing more is "the same I/O costs more", more calls at a constant price
// is more work (H5) and never H3, and a program whose I/O does not change supports nothing.

#include <gtest/gtest.h>

#include "analysis/analyze.hpp"
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

}  // namespace
}  // namespace nrmlab::testing
