// Where and how a run was made (study.md 4.7): nrmlab version and commit, compiler,
// allocator, MALLOC_ARENA_MAX, kernel, CPU, cores, governor, THP mode, sensors.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "telemetry/allocator.hpp"
#include "telemetry/system_streams.hpp"

namespace nrmlab::telemetry {

using MetaEntries = std::vector<std::pair<std::string, std::string>>;

MetaEntries collect_provenance(const AllocatorProbe& allocator, const SystemSampler& system,
                               const std::filesystem::path& proc_root = "/proc",
                               const std::filesystem::path& sys_root = "/sys");

}  // namespace nrmlab::telemetry
