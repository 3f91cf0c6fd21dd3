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

}  // namespace nrmlab::validate
