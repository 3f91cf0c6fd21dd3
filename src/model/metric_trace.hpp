// Recorded metric inputs: every run can write the samples it took as a trace, and a trace
// can be replayed into any other configuration (model.md section 1, study.md 4.6).
//
// Format (CSV with a two-line preamble; doubles in shortest round-trip form):
//   # nrmlab metric trace v1
//   # steps=3000
//   condition,step,call,timestamp,cpu_percent,memory_percent,disk_percent,memory_used_mb,disk_used_gb,network_sent_mb,network_recv_mb,process_count
//   OFF-OFF,0,0,1732271234.5,23.1,41.7,52.0,6832.1,250.3,10.2,40.9,212
#pragma once

#include <array>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/metric_source.hpp"

namespace nrmlab::model {

inline constexpr std::string_view k_trace_magic = "# nrmlab metric trace v1";
inline constexpr std::string_view k_trace_columns =
    "condition,step,call,timestamp,cpu_percent,memory_percent,disk_percent,memory_used_mb,"
    "disk_used_gb,network_sent_mb,network_recv_mb,process_count";

class TraceWriter {
 public:
  // Creates (truncates) `path`; `steps` is the number of steps per condition recorded.
  TraceWriter(const std::filesystem::path& path, std::int64_t steps);
  ~TraceWriter();
  TraceWriter(const TraceWriter&) = delete;
  TraceWriter& operator=(const TraceWriter&) = delete;

  void write(const SampleKey& key, const MetricSample& sample);
  // Pushes buffered lines to the file; throws nrmlab::Error when the write failed.
  void flush();

 private:
  std::filesystem::path m_path;
  std::FILE* m_file = nullptr;
};

enum class ReplayGranularity { step, call };

std::string_view granularity_name(ReplayGranularity granularity);
std::optional<ReplayGranularity> parse_granularity(std::string_view text);

// A trace loaded in memory, indexed by condition and step.
class MetricTrace {
 public:
  // Reads and validates the whole file; errors name the file, the line and what was
  // expected there.
  static MetricTrace load(const std::filesystem::path& path);

  const std::filesystem::path& path() const { return m_path; }
  std::int64_t steps() const { return m_steps; }
  bool has_condition(int condition) const;
  // The sample in force at `step`: the first one recorded in that step, or, when the
  // recording skipped the step (every:K sampling), the latest earlier one.
  const MetricSample* in_force(int condition, std::int64_t step) const;
  // The `call`-th sample recorded within `step`, if there is one.
  const MetricSample* at(int condition, std::int64_t step, std::int64_t call) const;
  std::int64_t calls_in_step(int condition, std::int64_t step) const;

 private:
  struct ConditionTrace {
    std::vector<MetricSample> samples;
    std::vector<std::int64_t> step_begin;  // first sample of each step; size steps + 1
    std::vector<std::int64_t> in_force;    // index of the sample in force; -1 before any
  };
  std::filesystem::path m_path;
  std::int64_t m_steps = 0;
  std::array<std::optional<ConditionTrace>, 4> m_conditions;
};

class ReplaySource final : public MetricSource {
 public:
  // Throws nrmlab::Error when the trace covers fewer steps than the run needs.
  ReplaySource(std::shared_ptr<const MetricTrace> trace, ReplayGranularity granularity,
               std::int64_t run_steps);
  void begin_condition(int condition) override;
  MetricSample sample(const SampleKey& key, std::chrono::milliseconds window) override;
  bool fixes_inputs_per_step() const override { return m_granularity == ReplayGranularity::step; }

 private:
  std::shared_ptr<const MetricTrace> m_trace;
  ReplayGranularity m_granularity;
};

}  // namespace nrmlab::model
