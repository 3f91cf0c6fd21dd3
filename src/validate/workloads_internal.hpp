// The factories behind make_workload, one per workload file.
#pragma once

#include <memory>

#include "validate/workload.hpp"

namespace nrmlab::validate {

std::unique_ptr<Workload> make_stable(const WorkloadOptions& options);
std::unique_ptr<Workload> make_growth(const WorkloadOptions& options);
std::unique_ptr<Workload> make_contention(const WorkloadOptions& options);
std::unique_ptr<Workload> make_store(const WorkloadOptions& options);
std::unique_ptr<Workload> make_fragmentation(const WorkloadOptions& options);

}  // namespace nrmlab::validate
