// One reading of the system metrics that the model treats as "reality" (model.md section 1).
#pragma once

#include <cstdint>

namespace nrmlab::model {

struct MetricSample {
  double timestamp = 0.0;  // seconds since the Unix epoch
  double cpu_percent = 0.0;
  double memory_percent = 0.0;
  double disk_percent = 0.0;
  double memory_used_mb = 0.0;
  double disk_used_gb = 0.0;
  double network_sent_mb = 0.0;
  double network_recv_mb = 0.0;
  std::int64_t process_count = 0;

  // The only quantity that feeds energies: free CPU plus free memory, in percent points.
  double avail() const { return (100.0 - cpu_percent) + (100.0 - memory_percent); }
};

}  // namespace nrmlab::model
