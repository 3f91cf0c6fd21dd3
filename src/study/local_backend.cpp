#include "study/local_backend.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <deque>
#include <thread>

#include "study/launcher.hpp"
#include "util/error.hpp"

namespace nrmlab::study {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

StudyLock::StudyLock(const std::filesystem::path& study_dir, double wait_seconds,
                     const std::function<void()>& on_wait) {
  const std::filesystem::path file = study_dir / ".lock";
  // The runs inherit the lock (see the header), but only by being passed it: a program
  // other than a run must not hold the study.
  m_fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (m_fd < 0) throw Error(fmt::format("cannot open {}: {}", file.string(), std::strerror(errno)));
  const auto start = Clock::now();
  bool told = false;
  while (::flock(m_fd, LOCK_EX | LOCK_NB) != 0) {
    if (seconds_since(start) >= wait_seconds) {
      ::close(m_fd);
      throw Error(fmt::format("{} is being run by another nrmlab process (it holds {})",
                              study_dir.string(), file.string()));
    }
    if (!told && on_wait) on_wait();
    told = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

StudyLock::~StudyLock() {
  if (m_fd >= 0) ::close(m_fd);
}

StudyState run_local(const std::filesystem::path& study_dir, StudyState state,
                     const LocalOptions& options) {
  std::vector<int> pass_fds;
  if (options.lock_fd >= 0) pass_fds.push_back(options.lock_fd);
  const Launcher launcher(options.nrmlab_binary, study_dir, "local", std::move(pass_fds));
  const ChildExitWaiter waiter;
  const std::vector<PlannedRun>& runs = state.plan.runs;
  std::deque<std::size_t> pending;
  double pending_estimate = 0.0;
  for (const std::size_t index : state.plan.order)
    if (state.statuses[index].state != RunState::complete) {
      pending.push_back(index);
      pending_estimate += runs[index].estimated_seconds;
    }

  LocalProgress progress;
  progress.total = runs.size();
  progress.done = runs.size() - pending.size();
  const auto start = Clock::now();
  double finished_seconds = 0.0;  // sum of this session's run durations
  std::size_t finished_runs = 0;
  std::vector<ChildRun> running;
  std::vector<bool> interrupted;
  Clock::time_point last_report{};
  Clock::time_point last_manifest = Clock::now();

  const auto report = [&](bool force) {
    if (!options.on_progress ||
        (!force && Clock::now() - last_report < std::chrono::milliseconds(200)))
      return;
    last_report = Clock::now();
    progress.elapsed = seconds_since(start);
    progress.running.clear();
    for (const ChildRun& child : running)
      progress.running.push_back(runs[child.index].id);
    const std::size_t remaining = pending.size() + running.size();
    const double per_run =
        finished_runs > 0 ? finished_seconds / static_cast<double>(finished_runs) : 0.0;
    const double parallel = static_cast<double>(std::max<std::int64_t>(1, options.parallel));
    progress.eta = finished_runs > 0 ? per_run * static_cast<double>(remaining) / parallel
                                     : pending_estimate / parallel;
    options.on_progress(progress);
  };

  while (!running.empty() || (!pending.empty() && !(options.stop && options.stop->load()))) {
    const bool stopping = options.stop != nullptr && options.stop->load();
    while (!stopping && !pending.empty() &&
           static_cast<std::int64_t>(running.size()) <
               std::max<std::int64_t>(1, options.parallel)) {
      const std::size_t index = pending.front();
      pending.pop_front();
      try {
        running.push_back(launcher.start(runs[index]));
        interrupted.push_back(false);
      } catch (const Error& error) {
        // A run that cannot even start is a failed run; the study goes on.
        RunStatus status;
        status.state = RunState::failed;
        status.hash = runs[index].hash;
        status.started = status.finished = unix_now();
        status.backend = "local";
        status.stderr_tail = error.what();
        ++progress.done;
        ++progress.failed;
        if (options.on_finished) options.on_finished(runs[index], status);
        state.statuses[index] = std::move(status);
      }
      report(true);
    }
    if (stopping)
      for (std::size_t i = 0; i < running.size(); ++i)
        if (!interrupted[i]) {
          ::kill(running[i].pid, SIGTERM);
          interrupted[i] = true;
        }
    bool changed = false;
    for (std::size_t i = 0; i < running.size();) {
      int wait_status = 0;
      const pid_t done = ::waitpid(running[i].pid, &wait_status, WNOHANG);
      if (done == 0 || (done < 0 && errno == EINTR)) {
        ++i;
        continue;
      }
      if (done < 0)
        throw Error(
            fmt::format("lost run {}: {}", runs[running[i].index].id, std::strerror(errno)));
      const PlannedRun& run = runs[running[i].index];
      RunStatus status = launcher.finish(run, running[i], wait_status, interrupted[i]);
      pending_estimate -= run.estimated_seconds;
      if (status.state != RunState::interrupted) {
        ++progress.done;
        ++finished_runs;
        finished_seconds += status.duration();
        if (status.state == RunState::failed) ++progress.failed;
      }
      if (options.on_finished) options.on_finished(run, status);
      state.statuses[run.index] = std::move(status);
      running.erase(running.begin() + static_cast<std::ptrdiff_t>(i));
      interrupted.erase(interrupted.begin() + static_cast<std::ptrdiff_t>(i));
      changed = true;
    }
    if (changed) {
      // The statuses are the truth; the manifest is a view of them, refreshed at most every
      // two seconds so that a study of many short runs does not spend its time rewriting it.
      if (Clock::now() - last_manifest > std::chrono::seconds(2)) {
        write_manifest(study_dir, state);
        last_manifest = Clock::now();
      }
      report(true);
    } else {
      report(false);
      waiter.wait(0.1);
    }
  }
  state = collect_state(study_dir, std::move(state.plan));
  write_manifest(study_dir, state);
  return state;
}

}  // namespace nrmlab::study
