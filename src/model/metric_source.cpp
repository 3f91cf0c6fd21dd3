#include "model/metric_source.hpp"

#include <thread>

namespace nrmlab::model {

void wait_out(std::chrono::milliseconds window) {
  if (window.count() > 0) std::this_thread::sleep_for(window);
}

double wall_clock_seconds() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

}  // namespace nrmlab::model
