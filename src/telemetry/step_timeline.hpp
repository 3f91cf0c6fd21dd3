// Turns what `nrmlab watch` sees of a program -- its /proc readings (about 10 per second)
// and the moments its step markers arrive -- into the per-step rows of telemetry.db, the
// same schema a native run writes. A step's CPU time, context switches, run-queue delay,
// faults and I/O are the growth of the program's cumulative counters between the step's two
// boundaries, each read off the readings by linear interpolation: close for steps much longer
// than the sampling period, an even spread for shorter ones. A step is written once a reading
// at or after its end has arrived.
//
// Without markers, fixed time windows stand in for steps. Markers decide: until the first
// one or the grace period (a program may spend seconds importing before its first step),
// nothing is cut; after the grace period without a marker, windows are cut from the start,
// live, and markers that come later are counted but do not change the steps.
//
// What the steps leave out is measured: the time after the last step (markers: what ran
// after the last marker; windows: the last partial window), so that a step source covering
// little of the program says so.
#pragma once

#include <array>
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
  // `origin_ns`: CLOCK_MONOTONIC when the program started (t_ns = 0). `from_zero`: the
  // program's counters were 0 then (nrmlab started it), so what it did before the first
  // reading, which may come tens of milliseconds later, belongs to the first step; otherwise
  // (attached to a running process) the first reading is where counting begins.
  StepTimeline(std::int64_t origin_ns, std::int64_t window_ns, std::int64_t grace_ns,
               bool from_zero = false);

  // Readings, in time order.
  void add_sample(const ProcessSample& sample);
  // A marker that arrived at `t_ns` (CLOCK_MONOTONIC) ends the step in progress.
  void add_marker(std::int64_t t_ns, StepMarker marker);
  // Moves the rows of every step that can be computed into `batch`.
  void take_ready(Batch& batch);
  // The program ended at `t_ns`: the rest. What ran after the last marker is not a whole
  // step and is left out (tail_ns() measures it); so is the last partial window, unless the
  // program ran for less than one window: that part is then the one step (a time split).
  void finish(std::int64_t t_ns, Batch& batch);

  bool windows() const { return m_windows; }
  std::int64_t markers() const { return m_markers; }
  std::int64_t markers_ignored() const { return m_markers_ignored; }
  std::int64_t steps_written() const { return m_next_step; }
  // How much of the program the written steps cover: the sum of their wall times (the first
  // step runs from the program's start to the first marker, imports and set-up included: the
  // analysis leaves it out as the start-up); and, after finish(), the time from the last
  // step's end (or the origin, without steps) to the program's end.
  std::int64_t covered_ns() const { return m_covered_ns; }
  std::int64_t tail_ns() const { return m_tail_ns; }
  // After finish(): from the origin to the program's end.
  std::int64_t duration_ns() const { return m_duration_ns; }
  // The step a reading taken at `t_ns` belongs to.
  std::int64_t step_at(std::int64_t t_ns) const;

 private:
  // The cumulative counters the rows are differences of.
  struct Point {
    std::int64_t t_ns = 0;
    double user_ns = 0, system_ns = 0, voluntary = 0, involuntary = 0, minor = 0, major = 0;
    std::optional<double> runq_ns;            // absent where the reading had none
    std::array<std::optional<double>, 6> io;  // /proc/PID/io, in k_io_counters' order
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
  bool m_from_zero;
  std::deque<Point> m_points;  // enough to interpolate every step still to write
  std::deque<Pending> m_pending;
  std::int64_t m_step_begin_ns;  // where the next step to write begins
  std::int64_t m_next_step = 0;
  std::int64_t m_last_memory_ns = 0;  // the end of the step that last got a memory row
  std::int64_t m_markers = 0;
  std::int64_t m_markers_ignored = 0;
  std::int64_t m_covered_ns = 0;
  std::int64_t m_tail_ns = 0;
  std::int64_t m_duration_ns = 0;
  bool m_windows = false;
  bool m_has_switches = false;
};

}  // namespace nrmlab::telemetry
