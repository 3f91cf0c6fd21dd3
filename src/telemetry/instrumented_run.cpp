#include "telemetry/instrumented_run.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include "telemetry/profile/profile_data.hpp"
#include "telemetry/profile/profiler.hpp"
#include "util/error.hpp"
#include "util/hash.hpp"

namespace nrmlab::telemetry {
namespace {

// Passes every step to several observers, in order.
class StepFan final : public model::StepObserver {
 public:
  void add(model::StepObserver* observer) {
    if (observer != nullptr) m_observers.push_back(observer);
  }
  bool empty() const { return m_observers.empty(); }
  void on_condition_begin(int condition) override {
    for (auto* observer : m_observers)
      observer->on_condition_begin(condition);
  }
  void on_step(const model::StepRecord& record) override {
    for (auto* observer : m_observers)
      observer->on_step(record);
  }

 private:
  std::vector<model::StepObserver*> m_observers;
};

MetaEntries run_meta(const model::RunConfig& described, const std::vector<int>& running,
                     std::int64_t first_step) {
  const std::string configuration = model::to_json(described).dump();
  Fnv1a hash;
  hash.add(configuration);
  MetaEntries meta = {
      {"configuration", configuration},
      {"configuration_hash", fmt::format("{:016x}", hash.value())},
      {"seed", std::to_string(described.seed)},
      {"experiment", std::string(model::experiment_name(described.experiment))},
      {"source", described.source.text},
  };
  for (const int index : running)
    meta.emplace_back(fmt::format("process.{}{}", model::condition_name(model::condition_at(index)),
                                  first_step > 0 ? fmt::format("@{}", first_step) : ""),
                      std::to_string(::getpid()));
  return meta;
}

}  // namespace

std::unique_ptr<Recorder> make_recorder(const TelemetrySettings& telemetry,
                                        const model::RunConfig& described,
                                        const std::vector<int>& running, std::int64_t first_step,
                                        const Warn& warn) {
  if (!telemetry.enabled) return nullptr;
  RecorderOptions options = telemetry.recorder;
  options.warn = [warn](const std::string& message) { warn("telemetry: " + message); };
  std::unique_ptr<Recorder> recorder;
  try {
    recorder = std::make_unique<Recorder>(options, run_meta(described, running, first_step));
  } catch (const Error& error) {
    warn(fmt::format("telemetry disabled: {}", error.what()));
    return nullptr;
  }
  // The files the faithful databases grow (metrics.db keeps a rollback journal, bridge.db
  // a write-ahead log).
  for (const char* name : {"metrics.db", "metrics.db-journal", "bridge.db", "bridge.db-wal"})
    recorder->track_file(name, described.db_dir / name);
  recorder->track_file("telemetry.db", described.out_dir / "telemetry.db");
  recorder->track_file("telemetry.db-wal", described.out_dir / "telemetry.db-wal");
  return recorder;
}

std::unique_ptr<profile::Profiler> start_profiler(unsigned hz, Recorder& recorder, bool appending,
                                                  const Warn& warn, std::int64_t window_ns) {
  if (hz == 0) {
    Batch off;
    off.meta = profile::profile_off_meta();
    recorder.submit(std::move(off));
    return nullptr;
  }
  profile::ProfilerOptions options;
  options.hz = hz;
  options.window_ns = window_ns;
  options.origin_ns = recorder.origin_ns();
  options.ignored_tids = recorder.own_threads();
  if (appending) options.stored_ids = profile::stored_profile_ids(recorder.db_path());
  auto profiler = std::make_unique<profile::Profiler>(
      ::getpid(), options, [&recorder](Batch&& batch) { recorder.submit(std::move(batch)); });
  if (!profiler->status().available)
    warn(fmt::format(
        "telemetry: no stack samples: {}{}", profiler->status().reason,
        profiler->status().enable_hint.empty() ? "" : " (" + profiler->status().enable_hint + ")"));
  return profiler;
}

InstrumentedResult run_instrumented(const model::RunConfig& config,
                                    const model::RunConfig& described,
                                    const TelemetrySettings& telemetry, model::RunHooks hooks,
                                    const Warn& warn) {
  const std::int64_t first_step = hooks.segment != nullptr && hooks.segment->resume != nullptr
                                      ? hooks.segment->resume->next_step
                                      : 0;
  const std::unique_ptr<Recorder> recorder =
      make_recorder(telemetry, described, config.conditions, first_step, warn);
  StepFan observers;
  observers.add(recorder.get());
  observers.add(hooks.observer);
  hooks.observer = observers.empty() ? nullptr : &observers;
  hooks.sample_observer = recorder.get();
  hooks.time_sections = recorder != nullptr;
  const std::unique_ptr<profile::Profiler> profiler =
      recorder ? start_profiler(telemetry.profile_hz, *recorder, telemetry.recorder.append, warn)
               : nullptr;

  InstrumentedResult outcome;
  try {
    outcome.result = model::run_experiment(config, hooks);
  } catch (const std::exception& error) {
    if (profiler) profiler->stop();
    if (recorder) recorder->finish(error.what());  // keep every recorded step
    throw;
  }
  if (profiler) profiler->stop();  // its last batch before the recorder's last
  if (recorder) {
    const RecorderSummary summary =
        recorder->finish(outcome.result.stopped_because.value_or("complete"));
    outcome.telemetry_line = fmt::format(
        "telemetry: {} ({} steps; the recorder took {:.3f}% of wall time; allocator {})",
        telemetry.recorder.db_path.string(), summary.steps, 100.0 * summary.recorder_share(),
        recorder->allocator_name());
  }
  return outcome;
}

}  // namespace nrmlab::telemetry
