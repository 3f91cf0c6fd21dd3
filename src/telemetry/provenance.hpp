// Where and how a run was made (study.md 4.7): nrmlab version and commit, compiler,
// allocator, MALLOC_ARENA_MAX, kernel, CPU, cores, governor, THP mode, sensors.
#pragma once

#include <cstdint>
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

// When the run's clock started (t_ns = 0), on both clocks: `start.monotonic_ns` (the origin on
// CLOCK_MONOTONIC, which the program's own monotonic timestamps share), `start.unix_ns` and
// `start.utc` (CLOCK_REALTIME, ISO 8601 UTC with microseconds: "2026-12-05T10:11:12.345678Z"),
// for lining the telemetry up with the program's logs. The realtime clock is read right
// beside the monotonic one; an origin already past is carried back by the time since.
MetaEntries start_time_meta(std::int64_t origin_ns);

// ISO 8601 UTC with microseconds of a CLOCK_REALTIME time in ns since the Unix epoch.
std::string utc_iso8601(std::int64_t unix_ns);

}  // namespace nrmlab::telemetry
