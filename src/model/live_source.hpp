// The machine itself, read from /proc and statvfs the way the original's psutil calls did.
#pragma once

#include <cstdint>
#include <filesystem>

#include "model/metric_source.hpp"
#include "util/proc_stat.hpp"

namespace nrmlab::model {

class LiveSource final : public MetricSource {
 public:
  // `disk_path` is the file system whose usage is disk_percent. Throws nrmlab::Error when
  // the machine does not expose what the source needs.
  explicit LiveSource(std::filesystem::path disk_path = "/");

  void begin_condition(int) override;
  // With a window, CPU% is measured over it (the process sleeps); without one, it is the
  // delta since the previous sample (or since the condition began).
  MetricSample sample(const SampleKey& key, std::chrono::milliseconds window) override;
  // The CPU reading the next windowless sample is measured from (machine-wide ticks, so
  // valid in another process).
  nlohmann::json save_state() const override;
  void restore_state(const nlohmann::json& state) override;

 private:
  static CpuTicks read_cpu_ticks_or_throw();

  std::filesystem::path m_disk_path;
  CpuTicks m_previous;
};

}  // namespace nrmlab::model
