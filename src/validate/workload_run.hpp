// One planted-cause run in this process: the workload's steps under the recorder, into
// DIR/telemetry.db -- the same telemetry a `nrmlab run` writes, so `nrmlab analyze DIR`
// and `nrmlab report DIR` work on it as on any run.
#pragma once

#include <atomic>

#include "telemetry/recorder.hpp"
#include "validate/workload.hpp"

namespace nrmlab::validate {

struct WorkloadRunResult {
  std::int64_t steps = 0;
  bool complete = false;
  double checksum = 0.0;
  telemetry::RecorderSummary telemetry;
};

// Throws nrmlab::Error when the telemetry cannot be written or the workload fails; the
// steps recorded before a failure stay in telemetry.db, marked with the error.
WorkloadRunResult run_workload(const WorkloadOptions& options, const std::atomic<bool>& stop);

// The same workload as a program nobody instrumented, for `nrmlab watch` to observe: no
// recorder, no telemetry; with `markers`, a line `NRMLAB step=<n> <counter>=<value> ...` on
// stdout after each step (flushed, as a program would print it), else nothing at all.
// Returns the steps done.
std::int64_t run_workload_as_program(const WorkloadOptions& options, bool markers,
                                     const std::atomic<bool>& stop);

}  // namespace nrmlab::validate
