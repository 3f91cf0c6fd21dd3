#include "model/metric_source.hpp"

#include <thread>

namespace nrmlab::model {

void MetricSource::block(std::chrono::milliseconds window) {
  if (window.count() <= 0) return;
  const auto started = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(window);
  m_blocked += std::chrono::steady_clock::now() - started;
}

double wall_clock_seconds() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

}  // namespace nrmlab::model
