#include "telemetry/step_timeline.hpp"

#include <algorithm>
#include <cmath>

namespace nrmlab::telemetry {
namespace {

constexpr std::int64_t k_memory_interval_ns = 100'000'000;

// The cumulative I/O counters of a reading and the step columns of their growth.
struct IoCounter {
  std::optional<std::int64_t> ProcessSample::*reading;
  std::optional<std::int64_t> StepRow::*step;
};
constexpr std::array<IoCounter, 6> k_io_counters = {{
    {&ProcessSample::read_bytes, &StepRow::io_read_bytes},
    {&ProcessSample::write_bytes, &StepRow::io_write_bytes},
    {&ProcessSample::rchar, &StepRow::io_rchar},
    {&ProcessSample::wchar, &StepRow::io_wchar},
    {&ProcessSample::syscr, &StepRow::io_syscr},
    {&ProcessSample::syscw, &StepRow::io_syscw},
}};

}  // namespace

StepTimeline::StepTimeline(std::int64_t origin_ns, std::int64_t window_ns, std::int64_t grace_ns,
                           bool from_zero)
    : m_origin_ns(origin_ns),
      m_window_ns(window_ns),
      m_grace_ns(grace_ns),
      m_from_zero(from_zero),
      m_step_begin_ns(origin_ns) {}

void StepTimeline::add_sample(const ProcessSample& sample) {
  Point point;
  point.t_ns = sample.t_ns;
  point.user_ns = static_cast<double>(sample.user_ns);
  point.system_ns = static_cast<double>(sample.system_ns);
  if (sample.voluntary_switches && sample.involuntary_switches) {
    m_has_switches = true;
    point.voluntary = static_cast<double>(*sample.voluntary_switches);
    point.involuntary = static_cast<double>(*sample.involuntary_switches);
  }
  if (sample.runq_ns) point.runq_ns = static_cast<double>(*sample.runq_ns);
  for (std::size_t i = 0; i < k_io_counters.size(); ++i)
    if (const auto& value = sample.*k_io_counters[i].reading)
      point.io[i] = static_cast<double>(*value);
  point.minor = static_cast<double>(sample.minor_faults);
  point.major = static_cast<double>(sample.major_faults);
  point.rss_bytes = sample.rss_bytes;
  if (m_points.empty() && m_from_zero && point.t_ns > m_origin_ns) {
    Point zero;  // every counter the first reading has, at 0
    zero.t_ns = m_origin_ns;
    if (point.runq_ns) zero.runq_ns = 0.0;
    for (std::size_t i = 0; i < point.io.size(); ++i)
      if (point.io[i]) zero.io[i] = 0.0;
    zero.rss_bytes = point.rss_bytes;  // a gauge: the first one known
    m_points.push_back(zero);
  }
  m_points.push_back(point);
}

void StepTimeline::add_marker(std::int64_t t_ns, StepMarker marker) {
  ++m_markers;
  if (m_windows) {
    ++m_markers_ignored;  // the steps are already windows
    return;
  }
  m_pending.push_back({t_ns, std::move(marker)});
}

std::int64_t StepTimeline::step_at(std::int64_t t_ns) const {
  if (m_windows) return std::max<std::int64_t>(0, (t_ns - m_origin_ns) / m_window_ns);
  return m_next_step + static_cast<std::int64_t>(m_pending.size());
}

StepTimeline::Point StepTimeline::at(std::int64_t t_ns) const {
  if (m_points.empty()) {
    Point nothing;
    nothing.t_ns = t_ns;
    return nothing;
  }
  if (t_ns <= m_points.front().t_ns) return m_points.front();
  if (t_ns >= m_points.back().t_ns) return m_points.back();
  const auto after = std::lower_bound(m_points.begin(), m_points.end(), t_ns,
                                      [](const Point& p, std::int64_t t) { return p.t_ns < t; });
  const Point& b = *after;
  if (b.t_ns == t_ns) return b;
  const Point& a = *std::prev(after);
  const double f = static_cast<double>(t_ns - a.t_ns) / static_cast<double>(b.t_ns - a.t_ns);
  const auto mix = [f](double x, double y) { return x + f * (y - x); };
  Point p;
  p.t_ns = t_ns;
  p.user_ns = mix(a.user_ns, b.user_ns);
  p.system_ns = mix(a.system_ns, b.system_ns);
  p.voluntary = mix(a.voluntary, b.voluntary);
  p.involuntary = mix(a.involuntary, b.involuntary);
  p.minor = mix(a.minor, b.minor);
  p.major = mix(a.major, b.major);
  if (a.runq_ns && b.runq_ns) p.runq_ns = mix(*a.runq_ns, *b.runq_ns);
  for (std::size_t i = 0; i < p.io.size(); ++i)
    if (a.io[i] && b.io[i]) p.io[i] = mix(*a.io[i], *b.io[i]);
  p.rss_bytes = a.rss_bytes;
  return p;
}

void StepTimeline::emit(std::int64_t begin_ns, std::int64_t end_ns, const StepMarker& marker,
                        Batch& batch) {
  const Point from = at(begin_ns);
  const Point to = at(end_ns);
  const auto delta = [](double a, double b) {
    return static_cast<std::int64_t>(std::llround(std::max(0.0, b - a)));
  };
  StepRow row;
  row.condition = 0;
  row.step = m_next_step;
  row.t_ns = begin_ns - m_origin_ns;
  row.wall_ns = end_ns - begin_ns;
  row.user_ns = delta(from.user_ns, to.user_ns);
  row.system_ns = delta(from.system_ns, to.system_ns);
  row.cpu_ns = *row.user_ns + *row.system_ns;
  row.usage_steps = 1;
  if (m_has_switches) {
    row.voluntary_switches = delta(from.voluntary, to.voluntary);
    row.involuntary_switches = delta(from.involuntary, to.involuntary);
  }
  // Absent unless both boundaries lie between readings that have it.
  if (from.runq_ns && to.runq_ns) row.runq_ns = delta(*from.runq_ns, *to.runq_ns);
  for (std::size_t i = 0; i < k_io_counters.size(); ++i)
    if (from.io[i] && to.io[i]) row.*k_io_counters[i].step = delta(*from.io[i], *to.io[i]);
  row.minor_faults = delta(from.minor, to.minor);
  row.major_faults = delta(from.major, to.major);
  batch.steps.push_back(row);
  m_covered_ns += row.wall_ns;
  for (const auto& [name, value] : marker.counters)
    batch.work.push_back({0, m_next_step, name, value});
  // RSS changes only with a reading: one memory row per reading interval is all there is
  // to know (a program doing 10^5 steps a second would otherwise write 10^5 copies).
  if (m_next_step == 0 || end_ns - m_last_memory_ns >= k_memory_interval_ns) {
    MemoryRow memory;
    memory.condition = 0;
    memory.step = m_next_step;
    memory.t_ns = end_ns - m_origin_ns;
    memory.rss_bytes = to.rss_bytes;
    batch.memory.push_back(memory);
    m_last_memory_ns = end_ns;
  }
  ++m_next_step;
}

void StepTimeline::take_ready(Batch& batch) {
  const std::int64_t known = m_points.empty() ? m_origin_ns : m_points.back().t_ns;
  if (m_markers == 0 && !m_windows && known - m_origin_ns >= m_grace_ns) m_windows = true;
  if (m_windows) {
    while (m_step_begin_ns + m_window_ns <= known) {
      emit(m_step_begin_ns, m_step_begin_ns + m_window_ns, StepMarker{}, batch);
      m_step_begin_ns += m_window_ns;
    }
  } else {
    while (!m_pending.empty() && m_pending.front().end_ns <= known) {
      emit(m_step_begin_ns, m_pending.front().end_ns, m_pending.front().marker, batch);
      m_step_begin_ns = m_pending.front().end_ns;
      m_pending.pop_front();
    }
  }
  prune();
}

// Keeps the readings the steps still to write need: the last one at or before the next
// step's beginning, and everything after. Before the first marker or the grace period,
// everything (the windows may yet start at the origin).
void StepTimeline::prune() {
  if (m_markers == 0 && !m_windows) return;
  while (m_points.size() > 2 && m_points[1].t_ns <= m_step_begin_ns)
    m_points.pop_front();
}

void StepTimeline::finish(std::int64_t t_ns, Batch& batch) {
  const std::int64_t end = m_points.empty() ? t_ns : std::max(t_ns, m_points.back().t_ns);
  if (m_markers == 0) m_windows = true;  // the grace period ends with the program
  if (m_windows) {
    for (; m_step_begin_ns + m_window_ns <= end; m_step_begin_ns += m_window_ns)
      emit(m_step_begin_ns, m_step_begin_ns + m_window_ns, StepMarker{}, batch);
    // A program shorter than one window: its whole run is the one step there is.
    if (m_next_step == 0 && end > m_step_begin_ns) {
      emit(m_step_begin_ns, end, StepMarker{}, batch);
      m_step_begin_ns = end;
    }
  } else {
    while (!m_pending.empty()) {
      emit(m_step_begin_ns, m_pending.front().end_ns, m_pending.front().marker, batch);
      m_step_begin_ns = m_pending.front().end_ns;
      m_pending.pop_front();
    }
  }
  // A marker read after the program ended (its output drained) leaves no tail.
  m_tail_ns = std::max<std::int64_t>(0, end - m_step_begin_ns);
  m_duration_ns = end - m_origin_ns;
}

}  // namespace nrmlab::telemetry
