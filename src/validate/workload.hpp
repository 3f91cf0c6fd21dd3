// The planted-cause workloads of `nrmlab validate`: small programs, each with one known
// cause of slowdown (or none), run under the same recorder as the NRM engine so the
// analysis sees exactly the telemetry it sees for a real run. Each workload does its work
// one step at a time and says what a step did (work counters, database time); the
// recorder measures the rest.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/step_counters.hpp"

namespace nrmlab::validate {

enum class WorkloadKind {
  stable,          // the same computation every step: nothing to find
  growth,          // H5: work per step grows, each unit costs the same
  store,           // H3: unbatched writes to a store whose per-write cost grows with its size
  contention,      // H1: stable, two CPU-bound competitors per core in the middle half
  fragmentation,   // H2: a long-lived structure scattered by interleaved short-lived allocations
  dearer,          // the same items every step, each dearer: a hidden history grows (not H5)
  fsync,           // a writer that waits for the device on every step (off-CPU, not H1)
  waits,           // C256's waits: a timed sleep and a synced one-row SQLite commit a step
  hotspot,         // two functions a step, one dearer at constant work (issue 19)
  hotspot_growth,  // the same two, the work growing, neither dearer per item
};

std::optional<WorkloadKind> parse_workload(std::string_view name);
std::string_view workload_name(WorkloadKind kind);
// Every workload's name, for messages and --help.
std::vector<std::string> workload_names();

struct WorkloadOptions {
  WorkloadKind kind = WorkloadKind::stable;
  std::uint64_t seed = 1;
  std::int64_t steps = 400;
  std::filesystem::path dir;  // the run directory (the store and fsync workloads write here)
  unsigned profile_hz = 0;    // stack samples per second (telemetry/profile); 0: off
  std::int64_t profile_window_ms = 1'000;  // the profile's window (its unit of time)
  // Multiplies the units of the unit-kernel workloads (stable, growth): a watched program's
  // steps must be long against the latency of its marker lines (milliseconds, not 0.1 ms).
  std::int64_t work_scale = 1;
  std::optional<double> budget_share;  // the recorder's telemetry budget; absent: its default
};

// What one step did, beyond what the recorder measures itself.
struct StepReport {
  model::StepCounters counters;                      // db_transactions and db_rows for the store
  model::SectionTimes sections;                      // database_ns for the store
  std::vector<std::pair<std::string, double>> work;  // named work counters (work.<name>)
};

class Workload {
 public:
  virtual ~Workload() = default;
  // Set-up that belongs to no step (allocating, filling caches, creating the store).
  virtual void prepare() {}
  virtual void step(std::int64_t index, StepReport& report) = 0;
  // A checksum of the computation, so the compiler cannot drop it.
  virtual double checksum() const = 0;
};

std::unique_ptr<Workload> make_workload(const WorkloadOptions& options);

}  // namespace nrmlab::validate
