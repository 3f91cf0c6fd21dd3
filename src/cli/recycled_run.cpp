#include "cli/recycled_run.hpp"

#include <fcntl.h>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "cli/run_output.hpp"
#include "util/error.hpp"

namespace nrmlab::cli {
namespace {

// What a child reports: its condition's result, or why it stopped.
std::string child_report(const model::ExperimentResult& part) {
  nlohmann::ordered_json report;
  report["condition"] = part.conditions.empty() ? nlohmann::ordered_json(nullptr)
                                                : model::to_json(part.conditions.front());
  report["stopped_because"] = part.stopped_because ? nlohmann::ordered_json(*part.stopped_because)
                                                   : nlohmann::ordered_json(nullptr);
  return report.dump();
}

[[noreturn]] void run_child(
    int out, const model::RunConfig& part, bool first,
    const std::function<model::ExperimentResult(const model::RunConfig&, bool)>& run_part) {
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // never outlive the run's own process
  int code = 1;
  try {
    const model::ExperimentResult result = run_part(part, first);
    const std::string report = child_report(result);
    std::size_t written = 0;
    while (written < report.size()) {
      const ssize_t n = ::write(out, report.data() + written, report.size() - written);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      written += static_cast<std::size_t>(n);
    }
    code = result.complete ? 0 : 130;
  } catch (const std::exception& error) {
    fmt::print(stderr, "nrmlab: error: {}\n", error.what());
  }
  std::fflush(stdout);
  std::fflush(stderr);
  ::_exit(code);  // the parent owns everything else this process inherited
}

// Reads the child's report, forwarding one SIGTERM if we are asked to stop meanwhile.
std::string collect(int in, pid_t child, const std::atomic<bool>& stop, int& wait_status) {
  std::string report;
  bool forwarded = false;
  char buffer[65536];
  for (;;) {
    pollfd fd{in, POLLIN, 0};
    const int ready = ::poll(&fd, 1, 100);
    if (ready < 0 && errno != EINTR) break;
    if (ready > 0) {
      const ssize_t n = ::read(in, buffer, sizeof buffer);
      if (n > 0) {
        report.append(buffer, static_cast<std::size_t>(n));
        continue;
      }
      if (n == 0 || errno != EINTR) break;
    }
    if (stop.load() && !forwarded) {
      ::kill(child, SIGTERM);
      forwarded = true;
    }
  }
  while (::waitpid(child, &wait_status, 0) < 0 && errno == EINTR) {
  }
  return report;
}

}  // namespace

model::ExperimentResult run_recycled(
    const model::RunConfig& config, const std::atomic<bool>& stop,
    const std::function<model::ExperimentResult(const model::RunConfig& part, bool first)>&
        run_part) {
  model::ExperimentResult result;
  result.config = config;
  result.design = config.design();
  result.started_at = fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::time(nullptr)));
  bool first = true;
  for (const int index : config.conditions) {
    if (stop.load()) {
      result.stopped_because = "interrupted";
      break;
    }
    model::RunConfig part = config;
    part.conditions = {index};
    int pipe[2];
    if (::pipe2(pipe, O_CLOEXEC) != 0)
      throw Error(fmt::format("cannot recycle: pipe: {}", std::strerror(errno)));
    std::fflush(stdout);
    std::fflush(stderr);
    const pid_t child = ::fork();
    if (child == 0) {
      ::close(pipe[0]);
      run_child(pipe[1], part, first, run_part);
    }
    ::close(pipe[1]);
    if (child < 0) {
      ::close(pipe[0]);
      throw Error(fmt::format("cannot recycle: fork: {}", std::strerror(errno)));
    }
    int wait_status = 0;
    const std::string text = collect(pipe[0], child, stop, wait_status);
    ::close(pipe[0]);
    first = false;

    const std::string name(model::condition_name(model::condition_at(index)));
    const nlohmann::json report = nlohmann::json::parse(text, nullptr, false);
    if (!report.is_discarded() && report.is_object() && report["condition"].is_object())
      result.conditions.push_back(model::condition_from_json(report["condition"], name));
    const bool exited = WIFEXITED(wait_status);
    const int code = exited ? WEXITSTATUS(wait_status) : 128 + WTERMSIG(wait_status);
    if (code == 0) {
      write_result(config.out_dir, result);  // a checkpoint per condition, as without recycling
      continue;
    }
    if (code == 130 || (stop.load() && !report.is_discarded())) {
      result.stopped_because = "interrupted";
      break;
    }
    result.stopped_because =
        fmt::format("condition {} failed in its process ({} {})", name,
                    exited ? "exit status" : "signal", exited ? code : WTERMSIG(wait_status));
    write_result(config.out_dir, result);
    throw Error(*result.stopped_because);
  }
  model::finish_experiment(result);
  write_result(config.out_dir, result);
  return result;
}

}  // namespace nrmlab::cli
