#include "cli/run_command.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>

#include "cli/interrupt.hpp"
#include "cli/progress.hpp"
#include "cli/run_output.hpp"
#include "model/experiment_runner.hpp"
#include "study/recycled_run.hpp"
#include "util/error.hpp"
#include "util/hash.hpp"

namespace nrmlab::cli {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> k_experiments = {"c256", "c257", "c258", "c259", "c260"};
const std::vector<std::string> k_presets = {"as-run", "optimized-as-run", "optimized-as-intended",
                                            "clean"};
const std::vector<std::string> k_persistence = {"connection-per-write", "commit-per-write",
                                                "transaction-per-step", "off"};
const std::vector<std::string> k_switch = {"on", "off"};

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

// `config` describes the whole run; `running` are the conditions this process runs (all of
// them unless the run is recycled), each recorded with this process's pid: as
// process.<condition>, or process.<condition>@<step> for a stretch resumed at that step.
std::unique_ptr<telemetry::Recorder> make_recorder(bool enabled,
                                                   telemetry::RecorderOptions recorder_options,
                                                   const model::RunConfig& config,
                                                   const std::vector<int>& running,
                                                   std::int64_t first_step) {
  if (!enabled) return nullptr;
  recorder_options.warn = [](const std::string& message) {
    fmt::print(stderr, "nrmlab: warning: telemetry: {}\n", message);
  };
  const std::string configuration = model::to_json(config).dump();
  Fnv1a hash;
  hash.add(configuration);
  telemetry::MetaEntries meta = {
      {"configuration", configuration},
      {"configuration_hash", fmt::format("{:016x}", hash.value())},
      {"seed", std::to_string(config.seed)},
      {"experiment", std::string(model::experiment_name(config.experiment))},
      {"source", config.source.text},
  };
  for (const int index : running)
    meta.emplace_back(fmt::format("process.{}{}", model::condition_name(model::condition_at(index)),
                                  first_step > 0 ? fmt::format("@{}", first_step) : ""),
                      std::to_string(::getpid()));
  std::unique_ptr<telemetry::Recorder> recorder;
  try {
    recorder = std::make_unique<telemetry::Recorder>(recorder_options, meta);
  } catch (const Error& error) {
    // Telemetry is an observer: losing it must not cost the run.
    fmt::print(stderr, "nrmlab: warning: telemetry disabled: {}\n", error.what());
    return nullptr;
  }
  // The files the faithful databases grow (metrics.db keeps a rollback journal, bridge.db
  // a write-ahead log).
  for (const char* name : {"metrics.db", "metrics.db-journal", "bridge.db", "bridge.db-wal"})
    recorder->track_file(name, config.db_dir / name);
  recorder->track_file("telemetry.db", config.out_dir / "telemetry.db");
  recorder->track_file("telemetry.db-wal", config.out_dir / "telemetry.db-wal");
  return recorder;
}

model::RunConfig build_config(const RunOptions& options) {
  model::RunConfig config;
  config.experiment = *model::parse_experiment(options.experiment);
  config.variant = *model::parse_variant(options.variant);
  config.apply_preset(*model::parse_preset(options.preset));
  if (!options.sampling.empty()) {
    const auto policy = model::parse_sampling_policy(options.sampling);
    if (!policy)
      throw Error(
          fmt::format("--sampling '{}': expected per-call, spawn-shared, per-step or "
                      "every:K with K >= 1",
                      options.sampling));
    config.overheads.sampling = *policy;
  }
  if (options.window_ms >= 0) config.overheads.window_ms = options.window_ms;
  if (!options.persistence.empty())
    config.overheads.persistence = *model::parse_persistence(options.persistence);

  config.params = options.params;
  config.params.recursive_evolve = options.recursive_evolve == "on";
  config.params.accumulating_clusters = options.accumulating_clusters == "on";
  config.seed = options.seed;
  config.source = model::parse_source_spec(
      options.source, *model::parse_granularity(options.granularity), options.seed);
  if (!options.conditions.empty()) {
    config.conditions.clear();
    for (const auto& name : options.conditions) {
      const auto condition = model::parse_condition(name);
      if (!condition)
        throw Error(
            fmt::format("--condition '{}': expected OFF-OFF, ON-OFF, OFF-ON or ON-ON", name));
      for (const int seen : config.conditions)
        if (seen == condition->index)
          throw Error(fmt::format("--condition '{}' is given twice", name));
      config.conditions.push_back(condition->index);
    }
    // The original ran its conditions in one order, and they share the databases.
    std::sort(config.conditions.begin(), config.conditions.end());
  }
  if (!model::parse_recycling(options.recycle))
    throw Error(fmt::format("--recycle '{}': expected never, condition or every:N with N >= 1",
                            options.recycle));
  config.recycle = options.recycle;
  config.out_dir = options.out_dir;
  config.db_dir = options.db_dir.empty() ? config.out_dir : fs::path(options.db_dir);
  if (!options.record_trace.empty()) config.record_trace = options.record_trace;
  if (config.recycle != "never" && config.record_trace)
    throw Error(fmt::format("--recycle {} cannot record a trace (each process would start it anew)",
                            config.recycle));
  return config;
}

}  // namespace

CLI::App* add_run_command(CLI::App& app, RunOptions& o) {
  CLI::App* run = app.add_subcommand(
      "run",
      "Run one NRM experiment (four conditions back to back) and write OUT/result.json plus the "
      "faithful databases metrics.db and bridge.db.\n\n"
      "Example: nrmlab run --experiment c256 --preset clean --source synthetic:7 --out runs/a\n"
      "Presets: as-run (the original: a fresh sample on every call, 100 ms blocking window, a "
      "database connection per row -- days at full size), optimized-as-run, "
      "optimized-as-intended, clean (one sample per step, no window, one transaction per "
      "step). --sampling, --window-ms and --persistence override the preset.");
  run->add_option("--out", o.out_dir, "Output directory (created if missing)")->required();
  run->add_option("--experiment", o.experiment, "Experiment")
      ->check(CLI::IsMember(k_experiments))
      ->capture_default_str();
  run->add_option("--variant", o.variant,
                  "as-run: what the original scripts executed (C259's H2 ran pooling; with "
                  "preset optimized-as-run every experiment ran C256's mechanisms); "
                  "as-intended: the named mechanisms")
      ->check(CLI::IsMember({"as-run", "as-intended"}))
      ->capture_default_str();
  run->add_option("--preset", o.preset, "Overhead preset")
      ->check(CLI::IsMember(k_presets))
      ->capture_default_str();
  run->add_option("--sampling", o.sampling, "per-call | spawn-shared | per-step | every:K");
  run->add_option("--window-ms", o.window_ms, "Blocking sample window in ms (0..60000)")
      ->check(CLI::Range(0, 60000));
  run->add_option("--persistence", o.persistence, "How metrics.db and bridge.db are written")
      ->check(CLI::IsMember(k_persistence));
  run->add_option("--db-dir", o.db_dir,
                  "Directory of metrics.db and bridge.db (default: --out); existing databases "
                  "are appended to, as the original did");
  run->add_option("--source", o.source,
                  "Metric source: live[:DISK_PATH] | replay:FILE | "
                  "synthetic[:SEED|const][:cpu=C,memory=M,disk=D,jitter=J]")
      ->capture_default_str();
  run->add_option("--replay-granularity", o.granularity,
                  "step: every call in step t gets step t's first recorded sample; call: the "
                  "k-th call gets the k-th sample")
      ->check(CLI::IsMember({"step", "call"}))
      ->capture_default_str();
  run->add_option("--record-trace", o.record_trace, "Record every sample taken to this trace file");
  run->add_option("--seed", o.seed, "Seed (synthetic sources without their own)")
      ->capture_default_str();
  run->add_option("--condition", o.conditions,
                  "Run only these conditions (repeatable or comma-separated): OFF-OFF, ON-OFF, "
                  "OFF-ON, ON-ON")
      ->delimiter(',');
  run->add_option("--recycle", o.recycle,
                  "Process recycling: never (the conditions back to back in one process, as the "
                  "original), condition (each condition in a fresh process with a clean heap) "
                  "or every:N (also a fresh process every N steps inside a condition, carrying "
                  "the engine's state over). Results are unchanged; only cost can differ")
      ->check(CLI::Validator(
          [](const std::string& text) {
            return model::parse_recycling(text)
                       ? std::string()
                       : std::string("expected never, condition or every:N with N >= 1");
          },
          "never|condition|every:N"))
      ->capture_default_str();
  run->add_flag("--quiet,-q", o.quiet, "No progress line");

  const char* telemetry = "Telemetry (OUT/telemetry.db; see ARCHITECTURE.md for the schema)";
  run->add_option("--telemetry", o.telemetry, "Record per-step telemetry")
      ->check(CLI::IsMember(k_switch))
      ->capture_default_str()
      ->group(telemetry);
  auto& r = o.recorder;
  run->add_option("--rusage-every", r.rusage_every,
                  "Steps between getrusage readings (context switches, faults; 1: every step)")
      ->capture_default_str()
      ->group(telemetry);
  run->add_option("--memory-every", r.memory_every,
                  "Steps between RSS and allocator readings (0: off)")
      ->capture_default_str()
      ->group(telemetry);
  run->add_option("--pss-period-ms", r.pss_period_ms, "Period of PSS readings (0: off)")
      ->capture_default_str()
      ->group(telemetry);
  run->add_option("--alloc-probe-every", r.alloc_probe_every,
                  "Steps between allocation-latency probes (0: off)")
      ->capture_default_str()
      ->group(telemetry);
  run->add_option("--side-period-ms", r.side_period_ms,
                  "Period of the machine-wide side streams (0: off)")
      ->capture_default_str()
      ->group(telemetry);
  run->add_option("--batch-steps", r.batch_steps, "Steps per telemetry write")
      ->capture_default_str()
      ->group(telemetry);

  auto& p = o.params;
  const char* model = "Model parameters (defaults are the original's)";
  run->add_option("--steps,--cycles", p.steps, "Steps per condition")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{100'000'000}))
      ->capture_default_str()
      ->group(model);
  run->add_option("--max-agents", p.max_agents, "Population cap")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1'000'000}))
      ->capture_default_str()
      ->group(model);
  run->add_option("--max-depth", p.max_depth, "Deepest generation that exists")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{64}))
      ->capture_default_str()
      ->group(model);
  run->add_option("--spawn-threshold", p.spawn_threshold, "Energy needed to spawn")
      ->capture_default_str()
      ->group(model);
  run->add_option("--spawn-cost", p.spawn_cost, "Energy a spawn costs the parent")
      ->capture_default_str()
      ->group(model);
  run->add_option("--death-threshold", p.death_threshold, "Agents below this energy die")
      ->capture_default_str()
      ->group(model);
  run->add_option("--energy-cap", p.energy_cap, "Maximum energy")
      ->capture_default_str()
      ->group(model);
  run->add_option("--cooldown", p.throttle_cooldown, "H4: steps between an agent's spawns")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{100'000'000}))
      ->capture_default_str()
      ->group(model);
  run->add_option("--pooling-share", p.pooling_share, "H1: share of the members' mean energy")
      ->capture_default_str()
      ->group(model);
  run->add_option("--h2-bonus", p.h2_bonus_rate, "H2: energy += rate * avail")
      ->capture_default_str()
      ->group(model);
  run->add_option("--h5-bonus", p.h5_bonus_rate, "H5: energy += rate * avail * factor")
      ->capture_default_str()
      ->group(model);
  run->add_option("--h5-factor", p.h5_bonus_factor, "H5: the factor")
      ->capture_default_str()
      ->group(model);
  run->add_option("--root-energy", p.root_energy, "Energy of the root agent")
      ->capture_default_str()
      ->group(model);
  run->add_option("--decay", p.decay, "Energy lost per evolve call")
      ->capture_default_str()
      ->group(model);
  run->add_option("--recharge-rate", p.recharge_rate, "Energy gained per evolve call, times avail")
      ->capture_default_str()
      ->group(model);
  run->add_option("--resonance-threshold", p.resonance_threshold,
                  "Similarity that counts as resonant")
      ->capture_default_str()
      ->group(model);
  const char* defects = "The original's defects (on by default; off changes results)";
  run->add_option("--recursive-evolve", o.recursive_evolve,
                  "Evolve recurses into every child, dead ones included")
      ->check(CLI::IsMember(k_switch))
      ->capture_default_str()
      ->group(defects);
  run->add_option("--accumulating-clusters", o.accumulating_clusters,
                  "The cluster table is appended to and never cleared")
      ->check(CLI::IsMember(k_switch))
      ->capture_default_str()
      ->group(defects);
  return run;
}

namespace {

struct Execution {
  model::ExperimentResult result;
  std::string telemetry_line;  // empty without telemetry
};

// Runs `config` in this process. `described` is the run as the user asked for it (the
// telemetry's configuration meta); it differs from `config` when a recycled run executes
// one condition per process. `checkpoints`: write result.json after each condition.
// `segment` (may be null): the stretch of the one condition this process runs.
Execution execute_here(const RunOptions& options, const model::RunConfig& config,
                       const model::RunConfig& described,
                       const telemetry::RecorderOptions& recorder_options, bool checkpoints,
                       const std::atomic<bool>& stop, const model::Segment* segment = nullptr) {
  std::optional<ProgressLine> progress;
  if (!options.quiet && isatty(STDERR_FILENO) == 1)
    progress.emplace(stderr, std::string(model::experiment_name(config.experiment)),
                     config.params.steps, static_cast<std::int64_t>(config.conditions.size()));
  const std::unique_ptr<telemetry::Recorder> recorder = make_recorder(
      options.telemetry == "on", recorder_options, described, config.conditions,
      segment != nullptr && segment->resume != nullptr ? segment->resume->next_step : 0);

  StepFan observers;
  observers.add(recorder.get());
  observers.add(progress ? &*progress : nullptr);
  model::RunHooks hooks;
  hooks.observer = observers.empty() ? nullptr : &observers;
  hooks.sample_observer = recorder.get();
  hooks.time_sections = recorder != nullptr;
  hooks.stop_requested = &stop;
  hooks.segment = segment;
  if (checkpoints)
    hooks.checkpoint = [&](const model::ExperimentResult& result) {
      try {
        model::write_result(config.out_dir, result);
      } catch (const Error& error) {
        if (!result.stopped_because) throw;  // on the error path, keep the original error
        fmt::print(stderr, "nrmlab: warning: {}\n", error.what());
      }
    };
  Execution execution;
  execution.result = [&] {
    try {
      return model::run_experiment(config, hooks);
    } catch (const std::exception& error) {
      if (recorder) recorder->finish(error.what());  // keep every recorded step
      throw;
    }
  }();
  if (progress) progress->finish();
  if (recorder) {
    const telemetry::RecorderSummary summary =
        recorder->finish(execution.result.stopped_because.value_or("complete"));
    execution.telemetry_line = fmt::format(
        "telemetry: {} ({} steps; the recorder took {:.3f}% of wall time; allocator {})",
        recorder_options.db_path.string(), summary.steps, 100.0 * summary.recorder_share(),
        recorder->allocator_name());
  }
  return execution;
}

std::int64_t monotonic_now_ns() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

}  // namespace

int execute_run(const RunOptions& options) {
  const model::RunConfig config = build_config(options);
  if (const auto problems = telemetry::validate(options.recorder); !problems.empty())
    throw Error(problems.front());
  prepare_output_dir(config.out_dir);
  const std::atomic<bool>& stop = install_interrupt_handlers();
  telemetry::RecorderOptions recorder_options = options.recorder;
  recorder_options.db_path = config.out_dir / "telemetry.db";

  Execution execution;
  const model::Recycling recycling = *model::parse_recycling(config.recycle);
  using Kind = model::Recycling::Kind;
  if (recycling.kind == Kind::every_steps ||
      (recycling.kind == Kind::condition && config.conditions.size() > 1)) {
    recorder_options.origin_ns = monotonic_now_ns();
    execution.result = study::run_recycled(
        config, recycling, stop,
        [&](const model::RunConfig& part, const model::Segment& segment, bool first) {
          recorder_options.append = !first;
          return execute_here(options, part, config, recorder_options, false, stop, &segment)
              .result;
        });
    if (options.telemetry == "on")
      execution.telemetry_line =
          fmt::format("telemetry: {} (one process per {})", recorder_options.db_path.string(),
                      recycling.kind == Kind::condition
                          ? std::string("condition")
                          : fmt::format("{} steps of a condition", recycling.steps));
  } else {
    execution = execute_here(options, config, config, recorder_options, true, stop);
  }
  print_summary(stdout, execution.result);
  fmt::print("\nresult: {}\n", (config.out_dir / "result.json").string());
  if (!execution.telemetry_line.empty()) fmt::print("{}\n", execution.telemetry_line);
  if (!execution.result.complete) {
    fmt::print(stderr, "nrmlab: run interrupted; result.json is marked incomplete\n");
    return 130;
  }
  return 0;
}

}  // namespace nrmlab::cli
