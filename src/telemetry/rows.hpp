// One struct per telemetry table row. These are the telemetry schema (ARCHITECTURE.md):
// telemetry_store.cpp maps each field to the column of the same name.
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

  // Wall time not spent in any instrumented section: the model's own computation.
  std::int64_t compute_ns() const {
    return wall_ns - sections.sampling_ns - sections.window_ns - sections.database_ns - recorder_ns;
  }
};

struct MemoryRow {
  int condition = 0;
  std::int64_t step = 0;
  std::int64_t t_ns = 0;
  std::optional<std::int64_t> rss_bytes;
  AllocatorStats allocator;
  std::optional<std::int64_t> alloc_probe_ns;
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

// Everything written in one transaction.
struct Batch {
  std::vector<std::pair<int, std::string>> conditions;
  std::vector<StepRow> steps;
  std::vector<MemoryRow> memory;
  std::vector<SampleRow> samples;
  std::vector<SystemRow> system;
  std::vector<SensorRow> sensors;
  std::vector<FileRow> files;
  std::vector<WorkRow> work;
  std::vector<ProcessRow> process;
  std::vector<std::pair<std::string, std::string>> meta;

  bool empty() const {
    return conditions.empty() && steps.empty() && memory.empty() && samples.empty() &&
           system.empty() && sensors.empty() && files.empty() && work.empty() && process.empty() &&
           meta.empty();
  }
};

}  // namespace nrmlab::telemetry
