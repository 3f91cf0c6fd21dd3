#include "telemetry/profile/sample.hpp"

namespace nrmlab::telemetry::profile {

// The names telemetry.db, the exports and analysis.json use for a wait class.
std::string_view to_string(WaitClass c) {
  switch (c) {
    case WaitClass::on_cpu:
      return "on_cpu";
    case WaitClass::run_queue:
      return "run_queue";
    case WaitClass::sleep:
      return "sleep";
    case WaitClass::disk:
      return "disk";
    case WaitClass::lock:
      return "lock";
    case WaitClass::network:
      return "network";
    case WaitClass::page_fault:
      return "page_fault";
    case WaitClass::other:
      return "other";
  }
  return "other";
}

}  // namespace nrmlab::telemetry::profile
