// Runs one planned run as a child process: `nrmlab run ARGS --out STUDY/runs/<id>` (or the
// run's other command: `nrmlab validate` starts its planted-cause workloads this way), with
// the allocator preloaded, stdout and stderr kept in the run directory, and its outcome
// written to status.json when it exits. The same code serves the local runner (several
// children at once) and a Slurm array task (one child), so results do not depend on the
// backend.
//
// The child gets its own process group (a terminal's Ctrl-C reaches only the runner, which
// forwards one SIGTERM so the run can flush its telemetry) and is told to terminate if the
// runner dies (PR_SET_PDEATHSIG), so a kill -9 of the runner leaves no orphan writing into
// a directory that the resumed study is about to redo.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <atomic>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "study/plan.hpp"
#include "study/run_status.hpp"

namespace nrmlab::study {

// The shared library to preload for an allocator: nothing for "system"; for jemalloc and
// mimalloc the Debian library (libjemalloc.so.2 / libmimalloc.so.2) or the path in
// NRMLAB_JEMALLOC_LIBRARY / NRMLAB_MIMALLOC_LIBRARY. Throws nrmlab::Error naming the
// package to install when it is missing.
std::optional<std::filesystem::path> allocator_library(std::string_view allocator);

struct ChildRun {
  pid_t pid = -1;
  std::size_t index = 0;  // into the plan's runs
  double started = 0.0;
};

class Launcher {
 public:
  // `pass_fds`: descriptors the runs inherit (the study's lock); they get no other.
  Launcher(std::filesystem::path nrmlab_binary, std::filesystem::path study_dir,
           std::string backend, std::vector<int> pass_fds = {});

  // Clears what an earlier, incomplete attempt left in the run directory and starts the
  // child. Throws nrmlab::Error when it cannot (the allocator is missing, a log cannot be
  // created, the binary cannot be executed, fork fails).
  ChildRun start(const PlannedRun& run) const;
  // Records the outcome of an exited child (its waitpid status) in status.json.
  RunStatus finish(const PlannedRun& run, const ChildRun& child, int wait_status,
                   bool interrupted) const;
  // start + wait + finish; SIGTERM to the child when `stop` becomes true.
  RunStatus run_to_end(const PlannedRun& run, const std::atomic<bool>* stop) const;

 private:
  std::filesystem::path m_binary;
  std::filesystem::path m_study_dir;
  std::string m_backend;
  std::string m_host;
  std::vector<int> m_pass_fds;
};

// Waits for "a child exited" without polling: SIGCHLD is blocked for the object's lifetime
// and awaited with sigtimedwait, so a runner wakes the moment a run ends (and otherwise at
// the time-out, to look at its stop flag) instead of sleeping in a loop that delays every
// run and wakes up on the machine it is measuring. Children unblock SIGCHLD again.
class ChildExitWaiter {
 public:
  ChildExitWaiter();
  ChildExitWaiter(const ChildExitWaiter&) = delete;
  ChildExitWaiter& operator=(const ChildExitWaiter&) = delete;
  ~ChildExitWaiter();
  void wait(double max_seconds) const;

 private:
  sigset_t m_signals{};
  sigset_t m_previous{};
};

// The last `max_lines` lines of a text file, at most 4 KiB.
std::string file_tail(const std::filesystem::path& file, std::size_t max_lines);

}  // namespace nrmlab::study
