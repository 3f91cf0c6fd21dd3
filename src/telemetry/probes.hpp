// The per-step probes: a monotonic clock, the engine thread's CPU and scheduling counters,
// and the process's memory. Each reading is one cheap system call or less; anything that
// cannot be measured is absent (std::nullopt), never zero.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>

namespace nrmlab::telemetry {

std::int64_t monotonic_ns();

// CPU time the calling thread has used, to the nanosecond (CLOCK_THREAD_CPUTIME_ID). Unlike
// getrusage's user and system times, which many kernels advance only at scheduler ticks,
// it is exact over a single step.
std::int64_t thread_cpu_ns();

// getrusage(RUSAGE_THREAD): the calling thread only, so the recorder's own background
// threads never pollute the engine's figures. Switch and fault counts are exact; user and
// system times may advance in scheduler ticks, so they are meaningful over many steps.
struct ThreadUsage {
  std::int64_t user_ns = 0;
  std::int64_t system_ns = 0;
  std::int64_t voluntary_switches = 0;
  std::int64_t involuntary_switches = 0;
  std::int64_t minor_faults = 0;
  std::int64_t major_faults = 0;
};
ThreadUsage read_thread_usage();

// Resident set size from /proc/<self>/statm (kept open, read with pread) and proportional
// set size from smaps_rollup (much dearer: use a slow cadence).
class ProcessMemory {
 public:
  explicit ProcessMemory(std::filesystem::path proc_self = "/proc/self");
  ~ProcessMemory();
  ProcessMemory(const ProcessMemory&) = delete;
  ProcessMemory& operator=(const ProcessMemory&) = delete;

  std::optional<std::int64_t> rss_bytes();
  std::optional<std::int64_t> pss_bytes() const;

 private:
  std::filesystem::path m_proc_self;
  int m_statm_fd = -1;
  std::int64_t m_page_size = 4096;
};

// Times a fixed mix of allocations and frees (sizes 16 B to 1 KiB, interleaved lifetimes),
// so a slower allocator shows directly rather than only through its statistics.
std::int64_t time_allocation_probe();

}  // namespace nrmlab::telemetry
