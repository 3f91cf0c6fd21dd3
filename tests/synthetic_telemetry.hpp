// Synthetic telemetry with known structure, written through the real TelemetryStore so the
// analysis reads exactly what a run would leave. Each test states the step time, the work
// and the side streams as functions of the step, then asserts the verdict.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "telemetry/rows.hpp"

namespace nrmlab::testing {

struct SyntheticCondition {
  std::string name = "OFF-OFF";
  int index = 0;
  std::int64_t steps = 1000;
  // Sets wall_ns, cpu_ns, sections and counters of step `step` (the row comes with 1 agent,
  // 1 evolve call, wall = cpu = 1 ms).
  std::function<void(std::int64_t step, telemetry::StepRow& row, std::mt19937_64& rng)> step;
  std::int64_t usage_every = 8;  // getrusage rows (involuntary switches from `switches`)
  std::function<std::int64_t(std::int64_t step, std::mt19937_64& rng)> switches;
  // Run-queue delay of each step (ns), given the finished row; written summed over each
  // getrusage reading's span, as the recorder does. Unset: NULL (older telemetry).
  std::function<std::int64_t(std::int64_t step, const telemetry::StepRow& row)> runq;
  std::int64_t memory_every = 16;
  std::function<void(std::int64_t step, telemetry::MemoryRow& row)> memory;
  std::int64_t system_every = 25;
  std::function<void(std::int64_t step, telemetry::SystemRow& row, std::mt19937_64& rng)> system;
  std::function<std::int64_t(std::int64_t step)> database_bytes;  // files rows, when set
};

struct SyntheticRun {
  std::vector<SyntheticCondition> conditions;
  std::string preset = "clean";
  std::string allocator = "glibc";
  std::string source = "synthetic:7";
  std::int64_t seed = 1;
  std::uint64_t rng_seed = 42;
  // CPU frequency readings (kHz) with each side sample, when set.
  std::function<double(std::int64_t step)> cpu_frequency_khz;
  std::vector<std::pair<std::string, std::string>> extra_meta;
};

// Writes dir/telemetry.db (dir is created).
void write_synthetic_run(const std::filesystem::path& dir, const SyntheticRun& run);

// Normal noise of the given standard deviation, in ns.
std::int64_t noise(std::mt19937_64& rng, double sd);

}  // namespace nrmlab::testing
