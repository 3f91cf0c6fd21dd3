// The factories behind make_workload, one per workload file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "validate/workload.hpp"

namespace nrmlab::validate {

std::unique_ptr<Workload> make_stable(const WorkloadOptions& options);
std::unique_ptr<Workload> make_growth(const WorkloadOptions& options);
std::unique_ptr<Workload> make_dearer(const WorkloadOptions& options);
// The hidden history the dearer workload's items scan at step `index` of `steps`: it grows
// linearly, threefold from the first step to the last.
std::size_t dearer_history(std::int64_t index, std::int64_t steps);
std::unique_ptr<Workload> make_contention(const WorkloadOptions& options);
std::unique_ptr<Workload> make_store(const WorkloadOptions& options);
std::unique_ptr<Workload> make_fsync(const WorkloadOptions& options);
std::unique_ptr<Workload> make_fragmentation(const WorkloadOptions& options);
std::unique_ptr<Workload> make_waits(const WorkloadOptions& options);
std::unique_ptr<Workload> make_hotspot(const WorkloadOptions& options);
std::unique_ptr<Workload> make_hotspot_growth(const WorkloadOptions& options);

}  // namespace nrmlab::validate
