// A single self-rewriting progress line on stderr: condition, step, rate, ETA.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

#include "model/step_counters.hpp"

namespace nrmlab::cli {

class ProgressLine final : public model::StepObserver {
 public:
  // `total_steps` over all conditions of the run.
  ProgressLine(std::FILE* out, std::string label, std::int64_t steps_per_condition,
               std::int64_t conditions);
  ~ProgressLine() override;
  void on_step(const model::StepRecord& record) override;
  void finish();

 private:
  std::FILE* m_out;
  std::string m_label;
  std::int64_t m_steps_per_condition;
  std::int64_t m_total_steps;
  std::int64_t m_done = 0;
  std::chrono::steady_clock::time_point m_started = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point m_last_print{};
  bool m_printed = false;
};

std::string format_duration(double seconds);

}  // namespace nrmlab::cli
