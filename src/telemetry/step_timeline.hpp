// Turns what `nrmlab watch` sees of a program -- its /proc readings (about 10 per second)
// and the moments its step markers arrive -- into the per-step rows of telemetry.db, the
// same schema a native run writes. A step's CPU time, context switches, run-queue delay and
// faults are the growth of the program's cumulative counters between the step's two
// boundaries, each read off the readings by linear interpolation: close for steps much longer
// than the sampling period, an even spread for shorter ones. A step is written once a reading
// at or after its end has arrived.
//
// Without markers, fixed time windows stand in for steps. Markers decide: until the first
// one or the grace period (a program may spend seconds importing before its first step),
// nothing is cut; after the grace period without a marker, windows are cut from the start,
// live, and markers that come later are counted but do not change the steps.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "telemetry/process_probe.hpp"
#include "telemetry/rows.hpp"
#include "telemetry/step_markers.hpp"

namespace nrmlab::telemetry {

class StepTimeline {
 public:
  // `origin_ns`: CLOCK_MONOTONIC when the program started (t_ns = 0).
  StepTimeline(std::int64_t origin_ns, std::int64_t window_ns, std::int64_t grace_ns);

  // Readings, in time order.
  void add_sample(const ProcessSample& sample);
  // A marker that arrived at `t_ns` (CLOCK_MONOTONIC) ends the step in progress.
  void add_marker(std::int64_t t_ns, StepMarker marker);
  // Moves the rows of every step that can be computed into `batch`.
  void take_ready(Batch& batch);
  // The program ended at `t_ns`: the rest. What ran after the last marker, or the last
  // partial window, is not a whole step and is left out.
  void finish(std::int64_t t_ns, Batch& batch);

  bool windows() const { return m_windows; }
  std::int64_t markers() const { return m_markers; }
  std::int64_t markers_ignored() const { return m_markers_ignored; }
  std::int64_t steps_written() const { return m_next_step; }
  // The step a reading taken at `t_ns` belongs to.
  std::int64_t step_at(std::int64_t t_ns) const;

 private:
  // The cumulative counters the rows are differences of.
  struct Point {
    std::int64_t t_ns = 0;
    double user_ns = 0, system_ns = 0, voluntary = 0, involuntary = 0, minor = 0, major = 0;
    std::optional<double> runq_ns;  // absent where the reading had none
    std::optional<std::int64_t> rss_bytes;
  };
  struct Pending {
    std::int64_t end_ns = 0;
    StepMarker marker;
  };

  Point at(std::int64_t t_ns) const;
  void emit(std::int64_t begin_ns, std::int64_t end_ns, const StepMarker& marker, Batch& batch);
  void prune();

  std::int64_t m_origin_ns;
  std::int64_t m_window_ns;
  std::int64_t m_grace_ns;
  std::deque<Point> m_points;  // enough to interpolate every step still to write
  std::deque<Pending> m_pending;
  std::int64_t m_step_begin_ns;  // where the next step to write begins
  std::int64_t m_next_step = 0;
  std::int64_t m_last_memory_ns = 0;  // the end of the step that last got a memory row
  std::int64_t m_markers = 0;
  std::int64_t m_markers_ignored = 0;
  bool m_windows = false;
  bool m_has_switches = false;
};

}  // namespace nrmlab::telemetry
