// The local backend: runs a study's incomplete runs on this machine in the planned
// (randomised) order, `parallel` at a time, refreshing STUDY/manifest.json after every run.
// A failed run is recorded and the study goes on; an interruption stops starting runs,
// forwards SIGTERM to the running ones and records them as interrupted.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "study/manifest.hpp"

namespace nrmlab::study {

struct LocalProgress {
  std::size_t done = 0;  // complete or failed, including runs completed before this session
  std::size_t failed = 0;
  std::size_t total = 0;
  std::vector<std::string> running;  // ids
  double elapsed = 0.0;              // seconds, this session
  double eta = 0.0;                  // seconds; from this session's durations, else the estimates
};

struct LocalOptions {
  std::filesystem::path nrmlab_binary;
  std::int64_t parallel = 1;
  const std::atomic<bool>* stop = nullptr;
  std::function<void(const LocalProgress&)> on_progress;  // at most every 200 ms
  std::function<void(const PlannedRun&, const RunStatus&)> on_finished;
  int lock_fd = -1;  // the StudyLock's descriptor, which every run inherits (see below)
};

// Holds an exclusive lock on STUDY/.lock for its lifetime, so two runners never work on one
// study at once. The kernel releases it when the last holder dies, however it dies; the
// runs' processes inherit it, so a runner killed with kill -9 keeps the study locked until
// its runs (told to stop by PR_SET_PDEATHSIG) have exited, and a resumed study never clears a
// directory that an orphan is still writing. A busy lock is waited for (up to `wait_seconds`,
// calling `on_wait` once) before it is reported as held by another runner.
class StudyLock {
 public:
  explicit StudyLock(const std::filesystem::path& study_dir, double wait_seconds = 30.0,
                     const std::function<void()>& on_wait = {});
  StudyLock(const StudyLock&) = delete;
  StudyLock& operator=(const StudyLock&) = delete;
  ~StudyLock();
  // Close-on-exec like every descriptor: it reaches a run only when passed to it explicitly
  // (LocalOptions::lock_fd).
  int fd() const { return m_fd; }

 private:
  int m_fd = -1;
};

// Returns the state after the session (also written to the manifest).
StudyState run_local(const std::filesystem::path& study_dir, StudyState state,
                     const LocalOptions& options);

}  // namespace nrmlab::study
