// The /proc probe for `nrmlab watch`: an external process (and, on request, its descendants)
// read from /proc at about 10 Hz. Cumulative counters are monotone over the whole watch,
// even as descendants come and go; anything that cannot be read is absent, never zero.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace nrmlab::telemetry {

struct ProcessSample {
  std::int64_t t_ns = 0;  // CLOCK_MONOTONIC when the sample began
  int processes = 0;      // the target plus the live descendants included (zombies not counted)
  std::int64_t threads = 0;
  // Cumulative CPU from /proc/PID/stat (utime, stime: every thread of the process). With
  // descendants, also their children's times the kernel adds on reaping (cutime, cstime), so a
  // descendant that lived less than one sampling interval is still counted.
  std::int64_t user_ns = 0;
  std::int64_t system_ns = 0;
  std::int64_t minor_faults = 0;  // cumulative, like the CPU times
  std::int64_t major_faults = 0;
  // Summed over every thread's /proc/PID/task/TID/status: the process's own status file holds
  // only the main thread's counts. Threads and descendants that exit keep their last counts.
  std::optional<std::int64_t> voluntary_switches, involuntary_switches;
  // Gauges, summed over the live processes (shared pages count once per process for RSS;
  // PSS splits them). Absent while the target itself is exiting.
  std::optional<std::int64_t> rss_bytes;  // VmRSS
  std::optional<std::int64_t> pss_bytes;  // smaps_rollup, only when asked (the kernel walks
                                          // every page table for it)
  // /proc/PID/io, cumulative. The kernel adds a reaped child's I/O to its parent's file, so
  // even without descendants these include the target's reaped children.
  std::optional<std::int64_t> read_bytes, write_bytes, syscr, syscw, rchar, wchar;
  std::optional<std::int64_t> open_fds;  // entries of /proc/PID/fd
  // Run-queue delay, cumulative: every thread's time runnable but waiting for a CPU, from
  // /proc/PID/task/TID/schedstat, kept like the switch counts (threads and descendants that
  // exit keep their last value). A waiting thread's current wait is charged when it ends.
  // Absent where schedstat cannot be read, or the kernel keeps no scheduler statistics.
  std::optional<std::int64_t> runq_ns;
};

// Reads one process, or a process tree, from /proc. A value that any included process could
// not provide is absent from the sample (a partial sum would be a wrong number), and the
// problem is listed once in failures().
//
// Descendants are found through /proc/PID/task/TID/children where the kernel has that file
// (CONFIG_PROC_CHILDREN), else by the parent pid in /proc/*/stat; either search runs only
// when /proc/loadavg's last-allocated pid shows that a process or thread was created since
// the previous one (and every 20th sample), so a quiet tree costs only its own files.
//
// A descendant that leaves the tree (exits, or is orphaned to a process outside it) takes
// its cumulative counters with it. When its parent reaps it, the kernel adds its times,
// faults and I/O to the parent's, so nothing is lost; otherwise (a parent that ignores
// SIGCHLD, an orphan) the missing part is carried forward from the last reading, so every
// cumulative counter is monotone. What a descendant did in its last interval is then lost,
// as are the context switches of any descendant that has exited (the kernel never shows a
// reaped child's switches). `nrmlab watch --children` takes the tree's CPU from a cgroup of
// its own where it can (child_accounting.hpp). Were a counter ever to fall regardless, the
// previous value is held and the fact listed in failures().
class ProcessProbe {
 public:
  // `proc_root` is injectable for tests: a directory tree shaped like /proc.
  ProcessProbe(pid_t pid, bool include_children, std::filesystem::path proc_root = "/proc");
  ~ProcessProbe();
  ProcessProbe(ProcessProbe&&) noexcept;
  ProcessProbe& operator=(ProcessProbe&&) noexcept;

  // nullopt once the target has exited (or is a zombie), and from then on; also while its
  // stat cannot be parsed. Never throws for processes that vanish mid-read: that is normal.
  std::optional<ProcessSample> sample(bool with_pss = false);
  // The last reading, of a target that has exited but is not yet reaped (a zombie): its
  // counters then hold all it did, the children it waited for included, which /proc no
  // longer shows once it is reaped. Gauges are absent. Nothing is read after it.
  std::optional<ProcessSample> final_sample();

  // Problems met (each listed once), e.g. "/proc/123/io: permission denied", for the meta.
  const std::vector<std::string>& failures() const;
  // meta.probe.runq: "schedstat" once a reading held run-queue delay, else
  // "unavailable: <why>".
  std::string runq_source() const;

 private:
  struct State;  // the tree, its open files and the last readings (process_probe.cpp)
  std::unique_ptr<State> m_state;
};

}  // namespace nrmlab::telemetry
