#include "study/recycled_run.hpp"

#include <fcntl.h>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <optional>

#include "util/error.hpp"
#include "util/process.hpp"

namespace nrmlab::study {
namespace {

// What a child reports: its stretch's result, why it stopped if it did, and the engine's
// state if its condition goes on. CBOR, so the state's numbers cross exactly and compactly.
std::string child_report(const model::ExperimentResult& part, const model::Snapshot& suspended) {
  nlohmann::json report;
  report["condition"] = part.conditions.empty()
                            ? nlohmann::json(nullptr)
                            : nlohmann::json(model::to_json(part.conditions.front()));
  report["stopped_because"] =
      part.stopped_because ? nlohmann::json(*part.stopped_because) : nlohmann::json(nullptr);
  report["snapshot"] =
      suspended.condition >= 0 ? model::to_json(suspended) : nlohmann::json(nullptr);
  const std::vector<std::uint8_t> bytes = nlohmann::json::to_cbor(report);
  return {bytes.begin(), bytes.end()};
}

// In the child: runs the stretch and sends its report; returns the exit status.
int run_child(int out, const model::RunConfig& part, model::Segment segment, bool first,
              const RunPart& run_part) {
  try {
    model::Snapshot suspended;
    segment.suspended = &suspended;
    const model::ExperimentResult result = run_part(part, segment, first);
    const std::string report = child_report(result, suspended);
    std::size_t written = 0;
    while (written < report.size()) {
      const ssize_t n = ::write(out, report.data() + written, report.size() - written);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      written += static_cast<std::size_t>(n);
    }
    return result.stopped_because ? 130 : 0;
  } catch (const std::exception& error) {
    fmt::print(stderr, "nrmlab: error: {}\n", error.what());
  }
  return 1;
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

struct ChildOutcome {
  nlohmann::json report;  // discarded when the child sent nothing readable
  int wait_status = 0;
};

// Runs one stretch in a fresh child process and waits for it.
ChildOutcome run_in_child(const model::RunConfig& part, const model::Segment& segment, bool first,
                          const RunPart& run_part, const std::atomic<bool>& stop) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    throw Error(fmt::format("cannot recycle: pipe: {}", std::strerror(errno)));
  UniqueFd in(fds[0]);
  UniqueFd out(fds[1]);
  LaunchOptions options;
  options.pass_fds = {out.get()};
  options.parent_death_signal = SIGTERM;  // never outlive the run's own process
  // The stretch stops cleanly (and reports) on the SIGTERM we forward: it needs the
  // interrupt handlers of `nrmlab run`.
  options.keep_signal_handlers = true;
  Spawned child;
  try {
    child = fork_child(
        "a recycled process", [&] { return run_child(out.get(), part, segment, first, run_part); },
        options);
  } catch (const Error& error) {
    throw Error(fmt::format("cannot recycle: {}", error.what()));
  }
  out.reset();  // the child's report ends when the child closes its copy
  ChildOutcome outcome;
  const std::string bytes = collect(in.get(), child.pid, stop, outcome.wait_status);
  outcome.report = nlohmann::json::from_cbor(bytes, true, false);
  if (!outcome.report.is_object())
    outcome.report = nlohmann::json(nlohmann::json::value_t::discarded);
  return outcome;
}

}  // namespace

model::ExperimentResult run_recycled(const model::RunConfig& config,
                                     const model::Recycling& recycling,
                                     const std::atomic<bool>& stop, const RunPart& run_part) {
  model::ExperimentResult result;
  result.config = config;
  result.design = config.design();
  result.started_at = fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::time(nullptr)));
  const bool every_steps = recycling.kind == model::Recycling::Kind::every_steps;
  bool first = true;
  for (const int index : config.conditions) {
    model::RunConfig part = config;
    part.conditions = {index};
    const std::string name(model::condition_name(model::condition_at(index)));
    std::optional<model::ConditionResult> condition;
    std::optional<model::Snapshot> resume;
    int code = 0;
    int signal = 0;
    bool readable = true;
    for (;;) {
      if (stop.load()) {
        code = 130;
        break;
      }
      model::Segment segment;
      segment.resume = resume ? &*resume : nullptr;
      if (every_steps) segment.end_step = (resume ? resume->next_step : 0) + recycling.steps;
      const ChildOutcome outcome = run_in_child(part, segment, first, run_part, stop);
      first = false;
      const nlohmann::json& report = outcome.report;
      readable = !report.is_discarded();
      if (readable && report["condition"].is_object()) {
        const model::ConditionResult stretch =
            model::condition_from_json(report["condition"], name);
        if (condition)
          model::append_segment(*condition, stretch);
        else
          condition = stretch;
      }
      const bool exited = WIFEXITED(outcome.wait_status);
      code = exited ? WEXITSTATUS(outcome.wait_status) : 128 + WTERMSIG(outcome.wait_status);
      signal = exited ? 0 : WTERMSIG(outcome.wait_status);
      if (code != 0 || !readable || !report["snapshot"].is_object()) break;
      resume = model::snapshot_from_json(report["snapshot"]);
    }
    if (condition) result.conditions.push_back(std::move(*condition));
    if (code == 0 && readable) {
      model::write_result(config.out_dir,
                          result);  // a checkpoint per condition, as without recycling
      continue;
    }
    if (code == 130 || (stop.load() && readable)) {
      result.stopped_because = "interrupted";
      break;
    }
    result.stopped_because =
        code == 0
            ? fmt::format("condition {} sent no readable result from its process", name)
            : fmt::format("condition {} failed in its process ({} {})", name,
                          signal == 0 ? "exit status" : "signal", signal == 0 ? code : signal);
    model::write_result(config.out_dir, result);
    throw Error(*result.stopped_because);
  }
  model::finish_experiment(result);
  model::write_result(config.out_dir, result);
  return result;
}

}  // namespace nrmlab::study
