#include "cli/progress.hpp"

#include <fmt/format.h>

#include "model/experiment.hpp"

namespace nrmlab::cli {

std::string format_duration(double seconds) {
  if (seconds < 10.0) return fmt::format("{:.1f}s", seconds);
  if (seconds < 60.0) return fmt::format("{:.0f}s", seconds);
  const auto total = static_cast<std::int64_t>(seconds);
  if (total < 3600) return fmt::format("{}m{:02}s", total / 60, total % 60);
  if (total < 86400) return fmt::format("{}h{:02}m", total / 3600, total % 3600 / 60);
  return fmt::format("{}d{:02}h", total / 86400, total % 86400 / 3600);
}

ProgressLine::ProgressLine(std::FILE* out, std::string label, std::int64_t steps_per_condition,
                           std::int64_t conditions)
    : m_out(out),
      m_label(std::move(label)),
      m_steps_per_condition(steps_per_condition),
      m_total_steps(steps_per_condition * conditions),
      m_eta(static_cast<std::size_t>(steps_per_condition), static_cast<std::size_t>(conditions)) {}

ProgressLine::~ProgressLine() {
  finish();
}

void ProgressLine::on_condition_begin(int) {
  m_eta.begin_condition();
  m_last_step = std::chrono::steady_clock::now();
}

void ProgressLine::on_step(const model::StepRecord& record) {
  ++m_done;
  const auto now = std::chrono::steady_clock::now();
  m_eta.add_step(std::chrono::duration<double>(now - m_last_step).count());
  m_last_step = now;
  if (m_printed && now - m_last_print < std::chrono::milliseconds(200)) return;
  m_last_print = now;
  m_printed = true;
  const double elapsed = std::chrono::duration<double>(now - m_started).count();
  const double rate = elapsed > 0.0 ? static_cast<double>(m_done) / elapsed : 0.0;
  const analysis::LiveEta::Estimate eta = m_eta.estimate();
  fmt::print(m_out, "\r\033[K{} {} step {}/{}  {:.1f} steps/s  elapsed {}  ETA {} ({})", m_label,
             model::condition_name(model::condition_at(record.condition)), record.step + 1,
             m_steps_per_condition, rate, format_duration(elapsed),
             format_duration(eta.remaining_s), eta.basis);
  std::fflush(m_out);
}

void ProgressLine::finish() {
  if (!m_printed) return;
  fmt::print(m_out, "\r\033[K");
  std::fflush(m_out);
  m_printed = false;
}

}  // namespace nrmlab::cli
