// One struct per telemetry table row. The column registry (telemetry/columns.hpp) maps each
// field to its column: a field added here needs its entry there.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "model/metric_source.hpp"
#include "model/step_counters.hpp"
#include "telemetry/allocator.hpp"
#include "telemetry/process_probe.hpp"
#include "telemetry/system_streams.hpp"

namespace nrmlab::telemetry {

using MetaRow = std::pair<std::string, std::string>;  // key, value
using ConditionRow = std::pair<int, std::string>;     // condition, name

struct StepRow {
  int condition = 0;
  std::int64_t step = 0;
  std::int64_t t_ns = 0;  // when the step began, since the recorder started
  std::int64_t wall_ns = 0;
  std::int64_t cpu_ns = 0;  // the engine thread's CPU time, exact
  // getrusage figures, read every `rusage_every` steps: the deltas since the previous
  // reading, covering `usage_steps` steps (absent, and 0, between readings).
  std::int64_t usage_steps = 0;
  std::optional<std::int64_t> user_ns, system_ns;
  std::optional<std::int64_t> voluntary_switches, involuntary_switches;
  std::optional<std::int64_t> minor_faults, major_faults;
  model::SectionTimes sections;
  std::int64_t recorder_ns = 0;  // the recorder's own time inside this step's interval
  model::StepCounters counters;
  // The engine thread's run-queue delay (schedstat) over the same `usage_steps` steps as the
  // getrusage deltas: absent between readings and where schedstat cannot be read. Last, as
  // its column is (fields added later go last, so the tests' frozen fixtures keep their values).
  std::optional<std::int64_t> runq_ns;
  // `nrmlab watch`: the program's /proc/PID/io (its descendants' too with --children) over the
  // step, the growth of the cumulative counters like the CPU time. Absent for native runs and
  // where /proc/PID/io could not be read.
  std::optional<std::int64_t> io_read_bytes, io_write_bytes;  // storage I/O
  std::optional<std::int64_t> io_rchar, io_wchar;  // bytes through read/write system calls
  std::optional<std::int64_t> io_syscr, io_syscw;  // read and write system calls

  // Wall time not spent in any instrumented section: the model's own computation.
  std::int64_t compute_ns() const {
    return wall_ns - sections.sampling_ns - sections.window_ns - sections.database_ns - recorder_ns;
  }
};

// numerator / denominator, absent when either is or the denominator is not positive.
inline std::optional<double> optional_ratio(const std::optional<std::int64_t>& numerator,
                                            const std::optional<std::int64_t>& denominator) {
  if (!numerator || !denominator || *denominator <= 0) return std::nullopt;
  return static_cast<double>(*numerator) / static_cast<double>(*denominator);
}

struct MemoryRow {
  int condition = 0;
  std::int64_t step = 0;
  std::int64_t t_ns = 0;
  std::optional<std::int64_t> rss_bytes;
  AllocatorStats allocator;
  std::optional<std::int64_t> alloc_probe_ns;

  // The allocator ratios (absent wherever an operand is).
  std::optional<double> rss_per_allocated() const {
    return optional_ratio(rss_bytes, allocator.allocated);
  }
  std::optional<double> resident_per_active() const {
    return optional_ratio(allocator.resident, allocator.active);
  }
  std::optional<double> active_per_allocated() const {
    return optional_ratio(allocator.active, allocator.allocated);
  }
};

struct SampleRow {
  model::SampleKey key;
  model::MetricSample sample;
};

struct SystemRow {
  std::int64_t t_ns = 0;
  double unix_time = 0.0;
  int condition = 0;
  std::int64_t step = 0;
  SystemSample sample;
  std::optional<std::int64_t> pss_bytes;  // this process, on the slower PSS cadence
};

struct SensorRow {
  std::int64_t t_ns = 0;
  int condition = 0;
  std::int64_t step = 0;
  SensorReading reading;
};

struct FileRow {
  std::int64_t t_ns = 0;
  int condition = 0;
  std::int64_t step = 0;
  FileSize file;
};

// A work counter of one step that is not one of the engine's (`nrmlab watch`: the keys of
// a program's step markers).
struct WorkRow {
  int condition = 0;
  std::int64_t step = 0;
  std::string name;
  double value = 0.0;
};

// One reading of a watched process (and its descendants) from /proc.
struct ProcessRow {
  int condition = 0;
  std::int64_t step = 0;  // the step in progress
  std::int64_t t_ns = 0;  // since the watch began
  ProcessSample sample;
};

// Stack sampling (issue 18, telemetry/profile/): frames and stacks are interned, so a long
// run stores each distinct call path once, and time is counted per window of the run's clock.
// Ids start at 1; a stack's frames are its chain of parents, outermost (parent 0) first.
struct ProfileFrameRow {
  std::int64_t id = 0;
  std::string function;  // demangled; empty when no symbol covers the address
  std::string module;    // the file's base name, "[kernel]", or empty
  // The call site (a caller's return address) or 0 for the innermost frame of a known
  // function (its sampled addresses vary; the function is what matters). Kernel addresses
  // (above 2^63) are stored as their two's-complement int64.
  std::int64_t address = 0;
};

struct ProfileStackRow {
  std::int64_t id = 0;
  std::int64_t parent = 0;  // the stack one frame shorter; 0: this is an outermost frame
  std::int64_t frame = 0;
};

// Time in one stack and wait class during one window. Rows are partial sums (an off-CPU
// interval is counted when it ends, after its window may have been written): readers sum
// the rows of a (window, stack, wait).
struct ProfileCountRow {
  std::int64_t window = 0;  // [window * meta profile.window_ns, +window_ns) since the origin
  std::int64_t stack = 0;   // 0: no stack was recorded (only the wait class is known)
  std::string wait;         // telemetry::profile::to_string(WaitClass)
  std::int64_t samples = 0;
  std::int64_t weight_ns = 0;  // wall time the samples stand for
};

// Everything written in one transaction.
struct Batch {
  std::vector<ConditionRow> conditions;
  std::vector<StepRow> steps;
  std::vector<MemoryRow> memory;
  std::vector<SampleRow> samples;
  std::vector<SystemRow> system;
  std::vector<SensorRow> sensors;
  std::vector<FileRow> files;
  std::vector<WorkRow> work;
  std::vector<ProcessRow> process;
  std::vector<ProfileFrameRow> profile_frames;
  std::vector<ProfileStackRow> profile_stacks;
  std::vector<ProfileCountRow> profile_counts;
  std::vector<MetaRow> meta;

  bool empty() const {
    return conditions.empty() && steps.empty() && memory.empty() && samples.empty() &&
           system.empty() && sensors.empty() && files.empty() && work.empty() && process.empty() &&
           profile_frames.empty() && profile_stacks.empty() && profile_counts.empty() &&
           meta.empty();
  }
};

}  // namespace nrmlab::telemetry
