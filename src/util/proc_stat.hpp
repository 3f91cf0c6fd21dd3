// Strict parsers for the /proc files both the live metric source and the telemetry read.
// Malformed or unreadable input yields std::nullopt, never zeros.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>
#include <vector>

namespace nrmlab {

// The aggregate "cpu" line of /proc/stat, in clock ticks.
struct CpuTicks {
  std::int64_t busy = 0;   // everything but idle and iowait
  std::int64_t total = 0;  // user nice system idle iowait irq softirq steal (guest is in user)
};
std::optional<CpuTicks> read_cpu_ticks(const std::filesystem::path& proc_stat);

// Busy share between two readings, in percent; nullopt when no time passed.
std::optional<double> busy_percent(const CpuTicks& from, const CpuTicks& to);

// MemTotal and MemAvailable of /proc/meminfo, in KiB.
struct MemoryTotals {
  std::int64_t total_kb = 0;
  std::int64_t available_kb = 0;
  std::int64_t used_kb() const { return total_kb - available_kb; }
  double used_percent() const {
    return 100.0 * static_cast<double>(used_kb()) / static_cast<double>(total_kb);
  }
};
std::optional<MemoryTotals> read_memory_totals(const std::filesystem::path& proc_meminfo);

// /proc/<pid>/task/<tid>/schedstat (the kernel's Documentation/scheduler/sched-stats.rst):
// "<on-CPU ns> <run-queue wait ns> <timeslices>", the task's time on a CPU, its time runnable
// but waiting for one, and how many times it was put on a CPU. A kernel without scheduler
// statistics (no CONFIG_SCHED_INFO) shows "0 0 0".
struct Schedstat {
  std::int64_t on_cpu_ns = 0;
  std::int64_t runq_ns = 0;
  std::int64_t timeslices = 0;
  // Every field 0: the kernel keeps no statistics, or the task has never run.
  bool empty() const { return on_cpu_ns == 0 && runq_ns == 0 && timeslices == 0; }
};
// Exactly three non-negative integers separated by single spaces, with an optional newline.
std::optional<Schedstat> parse_schedstat(std::string_view text);

// The numeric entries of a directory (/proc, /proc/<pid>/task): pids or tids, in no order;
// none when it cannot be read.
std::vector<pid_t> numeric_entries(const std::filesystem::path& dir);

// The parent of a live process, from /proc/<pid>/stat (read after the last ')': the command
// may hold spaces and parentheses); nullopt when it is gone.
std::optional<pid_t> parent_process(pid_t pid);

// The live descendants of `root`, by scanning /proc for every process's parent (the kernel's
// children files need CONFIG_PROC_CHILDREN, which these machines lack).
std::vector<pid_t> descendant_processes(pid_t root);

}  // namespace nrmlab
