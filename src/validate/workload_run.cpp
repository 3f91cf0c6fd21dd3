#include "validate/workload_run.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "telemetry/instrumented_run.hpp"
#include "util/error.hpp"

namespace nrmlab::validate {

WorkloadRunResult run_workload(const WorkloadOptions& options, const std::atomic<bool>& stop) {
  const std::string name(workload_name(options.kind));
  telemetry::RecorderOptions recorder_options;
  recorder_options.db_path = options.dir / "telemetry.db";
  recorder_options.record_inputs = false;  // a workload takes no metric samples
  recorder_options.condition_names = {name};
  if (options.budget_share) recorder_options.budget_share = *options.budget_share;
  recorder_options.warn = [](const std::string& message) {
    fmt::print(stderr, "nrmlab: warning: telemetry: {}\n", message);
  };
  const nlohmann::json configuration = {
      {"workload", name}, {"seed", options.seed}, {"steps", options.steps}};
  telemetry::Recorder recorder(recorder_options, {{"experiment", "validate:" + name},
                                                  {"workload", name},
                                                  {"configuration", configuration.dump()},
                                                  {"seed", std::to_string(options.seed)},
                                                  {"source", "workload"},
                                                  {"process." + name, std::to_string(::getpid())}});
  recorder.track_file("store.db", options.dir / "store.db");
  recorder.track_file("store.db-wal", options.dir / "store.db-wal");

  const std::unique_ptr<telemetry::profile::Profiler> profiler =
      telemetry::start_profiler(options.profile_hz, recorder, false, recorder_options.warn,
                                options.profile_window_ms * 1'000'000);
  WorkloadRunResult result;
  try {
    const std::unique_ptr<Workload> workload = make_workload(options);
    workload->prepare();
    recorder.on_condition_begin(0);
    StepReport report;
    for (std::int64_t step = 0; step < options.steps; ++step) {
      if (stop.load(std::memory_order_relaxed)) break;
      report = {};
      workload->step(step, report);
      for (auto& [counter, value] : report.work)
        recorder.record_work(step, std::move(counter), value);
      recorder.on_step({0, step, report.counters, report.sections});
      ++result.steps;
    }
    result.checksum = workload->checksum();
  } catch (const std::exception& error) {
    if (profiler) profiler->stop();
    recorder.finish(error.what());
    throw;
  }
  if (profiler) profiler->stop();  // its last batch before the recorder's last
  result.complete = result.steps == options.steps;
  result.telemetry = recorder.finish(result.complete ? "complete" : "interrupted");
  return result;
}

std::int64_t run_workload_as_program(const WorkloadOptions& options, bool markers,
                                     const std::atomic<bool>& stop) {
  const std::unique_ptr<Workload> workload = make_workload(options);
  workload->prepare();
  std::int64_t done = 0;
  StepReport report;
  for (std::int64_t step = 0; step < options.steps; ++step) {
    if (stop.load(std::memory_order_relaxed)) break;
    report = {};
    workload->step(step, report);
    ++done;
    if (!markers) continue;
    std::string line = fmt::format("NRMLAB step={}", step);
    for (const auto& [counter, value] : report.work)
      line += fmt::format(" {}={}", counter, value);
    std::fputs(line.c_str(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
  }
  std::fprintf(stdout, "checksum %.17g\n", workload->checksum());
  return done;
}

}  // namespace nrmlab::validate
