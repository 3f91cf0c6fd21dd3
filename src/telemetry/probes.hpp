// The per-step probes: a monotonic clock, the engine thread's CPU and scheduling counters,
// and the process's memory. Each reading is one cheap system call or less; anything that
// cannot be measured is absent (std::nullopt), never zero.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "util/proc_stat.hpp"

namespace nrmlab::telemetry {

std::int64_t monotonic_ns();

// CPU time the calling thread has used, to the nanosecond (CLOCK_THREAD_CPUTIME_ID). Unlike
// getrusage's user and system times, which many kernels advance only at scheduler ticks,
// it is exact over a single step.
std::int64_t thread_cpu_ns();

// The calling thread's CPU time at step boundaries, with the system call only where it is
// needed. CLOCK_THREAD_CPUTIME_ID has no vDSO: every reading is a system call (0.4-1.7 us on
// the project's VMs), alone 2-9% of a 20 us step. But a thread that was never switched out
// between two boundaries was on its CPU all along, so its CPU time advanced by the wall time
// (to within interrupt time and time the hypervisor stole, which the kernel's clock leaves
// out). Whether it was switched out is read from a perf event's user page, mapped once: the
// kernel rewrites the page, bumping its sequence number, each time it puts the thread back on
// a CPU. Intervals shorter than `exact_from_ns` without a switch take that shortcut; any
// other interval (longer, or with a switch) reads the clock. Without perf events (seccomp,
// perf_event_paranoid 3) every reading is the system call, as before, and how() says why.
class ThreadCpuClock {
 public:
  // Opens the event on the calling thread: construct it on the thread it is to measure.
  explicit ThreadCpuClock(std::int64_t exact_from_ns);
  ~ThreadCpuClock();
  ThreadCpuClock(const ThreadCpuClock&) = delete;
  ThreadCpuClock& operator=(const ThreadCpuClock&) = delete;

  // The user page's sequence number (0 when unavailable); read it just before the wall
  // clock at a boundary and pass it to at().
  std::uint32_t sequence() const;
  // The thread's CPU time at the boundary whose wall-clock reading is `wall_ns`, taken after
  // `sequence_before` was read.
  std::int64_t at(std::int64_t wall_ns, std::uint32_t sequence_before);
  // "switch-checked (...)" or "system call (...: why not switch-checked)".
  const std::string& how() const { return m_how; }
  std::int64_t exact_readings() const { return m_exact; }
  std::int64_t shortcut_readings() const { return m_shortcut; }

 private:
  std::int64_t m_exact_from_ns;
  int m_fd = -1;
  void* m_page = nullptr;
  std::string m_how;
  bool m_anchored = false;
  std::uint32_t m_last_sequence = 0;  // read before the previous boundary's wall clock
  std::int64_t m_last_wall_ns = 0;
  std::int64_t m_last_cpu_ns = 0;
  std::int64_t m_exact = 0;
  std::int64_t m_shortcut = 0;
};

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

// The calling thread's scheduler statistics, above all its run-queue delay: the time it was
// runnable but waiting for a CPU, the direct measure of CPU contention (involuntary switches
// only count preemptions, whatever they cost). PROC/thread-self/schedstat is opened once, by
// the thread it describes -- the descriptor keeps naming that thread whoever reads it -- and
// re-read with one pread. The kernel charges a wait when the wait ends (the task is put on a
// CPU), so a thread reading its own file sees every wait so far.
class ThreadSchedstat {
 public:
  // Opens the file and checks a first reading; unavailable() says why it cannot be used.
  explicit ThreadSchedstat(const std::filesystem::path& proc_root = "/proc");
  ~ThreadSchedstat();
  ThreadSchedstat(const ThreadSchedstat&) = delete;
  ThreadSchedstat& operator=(const ThreadSchedstat&) = delete;

  // nullopt when unavailable or the file cannot be read or parsed.
  std::optional<Schedstat> read() const;
  // Empty when the statistics are there; else why not ("cannot open ...: No such file ...",
  // "... reads 0 0 0: the kernel keeps no scheduler statistics").
  const std::string& unavailable() const { return m_unavailable; }
  const std::string& path() const { return m_path; }

 private:
  std::string m_path;
  int m_fd = -1;
  std::string m_unavailable;
};

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
