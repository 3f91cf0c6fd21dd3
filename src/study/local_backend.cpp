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

namespace {

std::vector<int> passed_fds(const LocalOptions& options) {
  std::vector<int> pass_fds;
  if (options.lock_fd >= 0) pass_fds.push_back(options.lock_fd);
  return pass_fds;
}

// One run_local session: the runs still to start, the running ones and the progress, with
// `state.statuses` updated as runs finish.
class LocalSession {
 public:
  LocalSession(const std::filesystem::path& study_dir, StudyState& state,
               const LocalOptions& options)
      : m_study_dir(study_dir),
        m_state(state),
        m_options(options),
        m_launcher(options.nrmlab_binary, study_dir, "local", passed_fds(options)),
        m_runs(state.plan.runs) {
    for (const std::size_t index : state.plan.order)
      if (state.statuses[index].state != RunState::complete) {
        m_pending.push_back(index);
        m_pending_estimate += m_runs[index].estimated_seconds;
      }
    m_progress.total = m_runs.size();
    m_progress.done = m_runs.size() - m_pending.size();
    m_start = Clock::now();
    m_last_manifest = Clock::now();
  }

  void run() {
    while (!m_running.empty() ||
           (!m_pending.empty() && !(m_options.stop && m_options.stop->load()))) {
      const bool stopping = m_options.stop != nullptr && m_options.stop->load();
      while (!stopping && !m_pending.empty() &&
             static_cast<std::int64_t>(m_running.size()) <
                 std::max<std::int64_t>(1, m_options.parallel))
        start_next();
      if (stopping) interrupt_running();
      if (reap_finished()) {
        // The statuses are the truth; the manifest is a view of them, refreshed at most every
        // two seconds so that a study of many short runs does not spend its time rewriting it.
        if (Clock::now() - m_last_manifest > std::chrono::seconds(2)) {
          write_manifest(m_study_dir, m_state);
          m_last_manifest = Clock::now();
        }
        report(true);
      } else {
        report(false);
        m_waiter.wait(0.1);
      }
    }
  }

 private:
  void report(bool force) {
    if (!m_options.on_progress ||
        (!force && Clock::now() - m_last_report < std::chrono::milliseconds(200)))
      return;
    m_last_report = Clock::now();
    m_progress.elapsed = seconds_since(m_start);
    m_progress.running.clear();
    for (const ChildRun& child : m_running)
      m_progress.running.push_back(m_runs[child.index].id);
    const std::size_t remaining = m_pending.size() + m_running.size();
    const double per_run =
        m_finished_runs > 0 ? m_finished_seconds / static_cast<double>(m_finished_runs) : 0.0;
    const double parallel = static_cast<double>(std::max<std::int64_t>(1, m_options.parallel));
    m_progress.eta = m_finished_runs > 0 ? per_run * static_cast<double>(remaining) / parallel
                                         : m_pending_estimate / parallel;
    m_options.on_progress(m_progress);
  }

  void start_next() {
    const std::size_t index = m_pending.front();
    m_pending.pop_front();
    try {
      m_running.push_back(m_launcher.start(m_runs[index]));
      m_interrupted.push_back(false);
    } catch (const Error& error) {
      // A run that cannot even start is a failed run; the study goes on.
      RunStatus status;
      status.state = RunState::failed;
      status.hash = m_runs[index].hash;
      status.started = status.finished = unix_now();
      status.backend = "local";
      status.stderr_tail = error.what();
      ++m_progress.done;
      ++m_progress.failed;
      if (m_options.on_finished) m_options.on_finished(m_runs[index], status);
      m_state.statuses[index] = std::move(status);
    }
    report(true);
  }

  void interrupt_running() {
    for (std::size_t i = 0; i < m_running.size(); ++i)
      if (!m_interrupted[i]) {
        ::kill(m_running[i].pid, SIGTERM);
        m_interrupted[i] = true;
      }
  }

  // Records the runs that have exited; returns whether there were any.
  bool reap_finished() {
    bool changed = false;
    for (std::size_t i = 0; i < m_running.size();) {
      int wait_status = 0;
      const pid_t done = ::waitpid(m_running[i].pid, &wait_status, WNOHANG);
      if (done == 0 || (done < 0 && errno == EINTR)) {
        ++i;
        continue;
      }
      if (done < 0)
        throw Error(
            fmt::format("lost run {}: {}", m_runs[m_running[i].index].id, std::strerror(errno)));
      const PlannedRun& run = m_runs[m_running[i].index];
      RunStatus status = m_launcher.finish(run, m_running[i], wait_status, m_interrupted[i]);
      m_pending_estimate -= run.estimated_seconds;
      if (status.state != RunState::interrupted) {
        ++m_progress.done;
        ++m_finished_runs;
        m_finished_seconds += status.duration();
        if (status.state == RunState::failed) ++m_progress.failed;
      }
      if (m_options.on_finished) m_options.on_finished(run, status);
      m_state.statuses[run.index] = std::move(status);
      m_running.erase(m_running.begin() + static_cast<std::ptrdiff_t>(i));
      m_interrupted.erase(m_interrupted.begin() + static_cast<std::ptrdiff_t>(i));
      changed = true;
    }
    return changed;
  }

  const std::filesystem::path& m_study_dir;
  StudyState& m_state;
  const LocalOptions& m_options;
  const Launcher m_launcher;
  const ChildExitWaiter m_waiter;
  const std::vector<PlannedRun>& m_runs;
  std::deque<std::size_t> m_pending;
  double m_pending_estimate = 0.0;
  LocalProgress m_progress;
  Clock::time_point m_start{};
  double m_finished_seconds = 0.0;  // sum of this session's run durations
  std::size_t m_finished_runs = 0;
  std::vector<ChildRun> m_running;
  std::vector<bool> m_interrupted;
  Clock::time_point m_last_report{};
  Clock::time_point m_last_manifest{};
};

}  // namespace

StudyState run_local(const std::filesystem::path& study_dir, StudyState state,
                     const LocalOptions& options) {
  // The session (and so the launcher and the child-exit waiter) lives until the return.
  LocalSession session(study_dir, state, options);
  session.run();
  state = collect_state(study_dir, std::move(state.plan));
  write_manifest(study_dir, state);
  return state;
}

}  // namespace nrmlab::study
