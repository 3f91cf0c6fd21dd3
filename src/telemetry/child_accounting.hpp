// How `nrmlab watch --children` accounts for the processes a program starts. /proc shows a
// descendant only while it lives; what it did is added to its parent's counters (cutime and
// cstime in stat, the totals of /proc/PID/io) only when the parent waits for it. A child the
// parent does not wait for (SIGCHLD ignored: the kernel reaps it; an orphan) takes with it
// whatever it did since the last reading -- all of it, for a child that lived less than one
// reading interval (see process_probe.hpp).
//
// Where nrmlab can create a cgroup v2 below its own (root, or a delegated subtree) the program
// joins one of its own before it runs (it writes itself into cgroup.procs between fork and
// exec, so everything it ever starts is inside) and the cgroup's cpu.stat, kept by the kernel
// for every task that ran in it, reaped or not, gives the CPU time; its io.stat, where the io
// controller is enabled there, the storage bytes. Otherwise only reaped children are counted
// (and, for the program itself, its wait4 account at the end). The I/O system calls and
// character counts (syscr, syscw, rchar, wchar) of a child nobody waits for have no source
// either way (taskstats would have them, but needs CAP_NET_ADMIN in the initial network
// namespace).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "telemetry/process_probe.hpp"
#include "util/unique_fd.hpp"

namespace nrmlab::telemetry {

// The cgroup's cumulative figures.
struct CgroupReading {
  std::int64_t user_ns = 0;  // cpu.stat user_usec, system_usec (their sum is usage_usec)
  std::int64_t system_ns = 0;
  std::optional<std::int64_t> read_bytes, write_bytes;  // io.stat rbytes, wbytes, all devices
};

// Parsers for the cgroup files (nullopt when malformed), exposed for tests.
std::optional<CgroupReading> parse_cpu_stat(std::string_view text);
// Adds io.stat's rbytes and wbytes over every device into `reading`.
bool parse_io_stat(std::string_view text, CgroupReading& reading);

class ChildAccounting {
 public:
  // The program's own counters only (without --children).
  ChildAccounting() = default;
  // Descendants are counted, reaped children only: `why` says why there is no cgroup.
  static ChildAccounting reaped_only(std::string why);
  ~ChildAccounting();  // moves any process still inside to the parent, removes the cgroup
  ChildAccounting(ChildAccounting&&) noexcept;
  ChildAccounting& operator=(ChildAccounting&&) noexcept;

  // A cgroup for a program about to start, below nrmlab's own (cgroup v2); where that is
  // not possible, reaped children only, with the reason. NRMLAB_CGROUP_UNAVAILABLE=<reason>
  // forces the latter (tests).
  static ChildAccounting for_program();

  // cgroup.procs of the cgroup, open for writing (-1 without one): the program's process
  // writes "0" there before exec (LaunchOptions::join_cgroup_fd).
  int join_fd() const { return m_procs.get(); }
  // After the start: whether process `pid` is in the cgroup. If not (it could not join),
  // the cgroup is given up, with the reason.
  void confirm(pid_t pid);

  // Replaces a reading's CPU times with the cgroup's (the whole tree's, waited for or not)
  // and raises its storage bytes to io.stat's; the values stay monotone (a cgroup file that
  // cannot be read holds the last figures). Without a cgroup, nothing.
  void apply(ProcessSample& sample);

  bool active() const { return !m_dir.empty(); }
  // meta.probe.children: "cgroup v2 (...)", "reaped children only (<why>)" or "not
  // counted (...)".
  std::string describe() const;

 private:
  void give_up(std::string why);
  std::optional<CgroupReading> read();

  std::filesystem::path m_dir;  // empty: no cgroup
  std::string m_relative;       // as /proc/PID/cgroup names it ("/.../nrmlab-watch-PID")
  UniqueFd m_procs;
  std::string m_why;
  bool m_children = false;  // descendants are counted
  bool m_io_stat = false;   // io.stat gave storage bytes at least once
  std::optional<CgroupReading> m_last;
};

}  // namespace nrmlab::telemetry
