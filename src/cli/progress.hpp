// A single self-rewriting progress line on stderr: condition, step, rate, and an ETA from
// the trend of the step times so far (analysis::LiveEta), not the mean rate.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

#include "analysis/forecast.hpp"
#include "model/step_counters.hpp"

namespace nrmlab::cli {

class ProgressLine final : public model::StepObserver {
 public:
  // `total_steps` over all conditions of the run.
  ProgressLine(std::FILE* out, std::string label, std::int64_t steps_per_condition,
               std::int64_t conditions);
  ~ProgressLine() override;
  void on_condition_begin(int condition) override;
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
  std::chrono::steady_clock::time_point m_last_step = m_started;
  analysis::LiveEta m_eta;
  bool m_printed = false;
};

std::string format_duration(double seconds);

}  // namespace nrmlab::cli
