#include "study/prediction.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <Eigen/Dense>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <limits>
#include <map>
#include <optional>

#include "build_info.hpp"
#include "model/experiment.hpp"
#include "model/experiment_runner.hpp"
#include "model/live_source.hpp"
#include "model/settings.hpp"
#include "util/atomic_file.hpp"
#include "util/error.hpp"

namespace nrmlab::study {
namespace {

using Clock = std::chrono::steady_clock;
using model::Persistence;

double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

std::string utc_now() {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::time(nullptr)));
}

// ---- Calibration ------------------------------------------------------------------------

// One timed step of a calibration run.
struct TimedStep {
  model::StepCounters work;
  model::SectionTimes sections;
  double wall_s = 0.0;
  std::int64_t step = 0;

  double window_s() const { return static_cast<double>(sections.window_ns) * 1e-9; }
  double sampling_s() const { return static_cast<double>(sections.sampling_ns) * 1e-9; }
  double database_s() const { return static_cast<double>(sections.database_ns) * 1e-9; }
  // What the step spent in the model itself.
  double compute_s() const { return wall_s - window_s() - sampling_s() - database_s(); }
  double pairs() const { return static_cast<double>(work.resonance_pairs); }
  double evolve_calls() const { return static_cast<double>(work.evolve_calls); }
};

class TimingObserver final : public model::StepObserver {
 public:
  void on_condition_begin(int) override { m_last = Clock::now(); }
  void on_step(const model::StepRecord& record) override {
    const Clock::time_point now = Clock::now();
    // Step 0 holds the condition's set-up: not a step like the others.
    if (record.step > 0)
      m_steps.push_back(
          {record.counters, record.sections, seconds_between(m_last, now), record.step});
    m_last = now;
  }
  std::vector<TimedStep> take() { return std::move(m_steps); }

 private:
  Clock::time_point m_last = Clock::now();
  std::vector<TimedStep> m_steps;
};

// `path` or its nearest existing ancestor directory: where the run's databases will be
// (the output directory may not exist yet). An empty path is the working directory.
std::filesystem::path nearest_directory(const std::filesystem::path& path) {
  std::error_code ec;
  std::filesystem::path dir =
      std::filesystem::absolute(path.empty() ? std::filesystem::path(".") : path, ec);
  while (!std::filesystem::is_directory(dir, ec) && dir.has_parent_path() &&
         dir != dir.parent_path())
    dir = dir.parent_path();
  return dir;
}

// A directory for the calibration's databases, removed with everything in it.
class ScratchDir {
 public:
  explicit ScratchDir(const std::filesystem::path& near) {
    const std::filesystem::path parent = nearest_directory(near);
    std::string pattern = (parent / ".nrmlab-calibration-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr)
      throw Error(fmt::format("cannot create a calibration directory in {}: {}", parent.string(),
                              std::strerror(errno)));
    m_path = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return m_path; }

 private:
  std::filesystem::path m_path;
};

// A small C256 run of the engine, as the calibration needs it.
struct Probe {
  std::int64_t agents = 100;
  std::int64_t steps = 100;
  Persistence persistence = Persistence::off;
  std::int64_t window_ms = 0;
  model::SamplingPolicy::Kind sampling = model::SamplingPolicy::Kind::per_step;
  std::vector<int> conditions = {0, 1, 2, 3};
  bool live = false;  // the run's own live source, else a synthetic one
  // Run once untimed first, into the same databases: a long run's rows go to files whose
  // journal has reached its working size, and a fresh file's first rows cost more (the files
  // grow).
  bool warm_up = false;
};

std::vector<TimedStep> timed_run(const model::RunConfig& run, const Probe& probe,
                                 const std::filesystem::path& db_dir) {
  model::RunConfig config;
  config.experiment = model::ExperimentId::c256;
  config.variant = model::Variant::as_intended;
  config.apply_preset(model::Preset::clean);
  config.params.max_agents = probe.agents;
  config.params.steps = probe.steps;
  config.overheads.persistence = probe.persistence;
  config.overheads.window_ms = probe.window_ms;
  config.overheads.sampling = {probe.sampling, 1};
  config.conditions = probe.conditions;
  config.seed = 1;
  config.source = probe.live
                      ? run.source
                      : model::parse_source_spec("synthetic:1", model::ReplayGranularity::step, 1);
  config.compute = run.compute;
  config.out_dir = db_dir;
  config.db_dir = db_dir;
  if (probe.warm_up) model::run_experiment(config);
  TimingObserver observer;
  model::RunHooks hooks;
  hooks.observer = &observer;
  hooks.time_sections = true;
  model::run_experiment(config, hooks);
  return observer.take();
}

template <typename Value>
double sum_over(const std::vector<TimedStep>& steps, Value value) {
  double total = 0.0;
  for (const TimedStep& step : steps)
    total += value(step);
  return total;
}

double ratio(double numerator, double denominator) {
  return denominator > 0.0 ? std::max(0.0, numerator / denominator) : 0.0;
}

// Least squares of y on the columns; a negative coefficient (noise on a cost near zero) is
// read as 0.
std::vector<double> fit_costs(const std::vector<std::vector<double>>& columns,
                              const std::vector<double>& y) {
  const auto rows = static_cast<Eigen::Index>(y.size());
  const auto cols = static_cast<Eigen::Index>(columns.size());
  Eigen::MatrixXd x(rows, cols);
  Eigen::VectorXd v(rows);
  for (Eigen::Index r = 0; r < rows; ++r) {
    v(r) = y[static_cast<std::size_t>(r)];
    for (Eigen::Index c = 0; c < cols; ++c)
      x(r, c) = columns[static_cast<std::size_t>(c)][static_cast<std::size_t>(r)];
  }
  const Eigen::VectorXd beta = x.colPivHouseholderQr().solve(v);
  std::vector<double> costs;
  for (Eigen::Index c = 0; c < cols; ++c)
    costs.push_back(std::max(0.0, beta(c)));
  return costs;
}

using Estimate = std::array<double, k_unit_count>;

// Step, evolve call and decided pair from a run with no store and no window: the model's
// compute time per step against its work.
void estimate_compute(const std::vector<TimedStep>& steps, Estimate& out) {
  std::vector<double> ones, evolve, pairs, compute;
  for (const TimedStep& step : steps) {
    ones.push_back(1.0);
    evolve.push_back(step.evolve_calls());
    pairs.push_back(step.pairs());
    compute.push_back(step.compute_s());
  }
  const std::vector<double> fit = fit_costs({ones, evolve, pairs}, compute);
  out[static_cast<std::size_t>(Unit::step)] = fit[0];
  out[static_cast<std::size_t>(Unit::evolve_call)] = fit[1];
  out[static_cast<std::size_t>(Unit::pair_decided)] = fit[2];
}

// A pair's cost on the steps that have pairs, once the step and its evolve calls are paid.
double pair_cost(const std::vector<TimedStep>& steps, const Estimate& known) {
  const double step = known[static_cast<std::size_t>(Unit::step)];
  const double evolve = known[static_cast<std::size_t>(Unit::evolve_call)];
  double spent = 0.0;
  double pairs = 0.0;
  for (const TimedStep& s : steps) {
    if (s.work.resonance_pairs == 0) continue;
    spent += s.compute_s() - step - evolve * s.evolve_calls();
    pairs += s.pairs();
  }
  return ratio(spent, pairs);
}

// A DB probe's sampling and window, as the run's: how often the two files' writes alternate,
// and whether the disk and CPU idle between them, change what a row costs. Probes that
// did not match the run (fresh files, another sampling, no window) put the validation
// configurations' predictions off by -25% to +98% (bench/predict_validation.sh; the
// matched probes: README).
Probe database_probe(const model::RunConfig& run, std::int64_t agents, std::int64_t steps,
                     Persistence mode) {
  using Kind = model::SamplingPolicy::Kind;
  const Kind sampling =
      run.overheads.sampling.kind == Kind::every_k ? Kind::per_step : run.overheads.sampling.kind;
  Probe probe{agents, steps, mode, std::min<std::int64_t>(run.overheads.window_ms, 1), sampling};
  probe.warm_up = true;
  return probe;
}

// Rows and commits of the run's persistence mode, and a pair scored for the store.
void estimate_database(const model::RunConfig& run, const Probe& probe,
                       const std::filesystem::path& dir, Estimate& out) {
  const std::vector<TimedStep> steps = timed_run(run, probe, dir);
  out[static_cast<std::size_t>(Unit::pair_scored)] = pair_cost(steps, out);
  std::vector<double> first, second, database;
  for (const TimedStep& s : steps) {
    database.push_back(s.database_s());
    if (probe.persistence == Persistence::transaction_per_step) {
      first.push_back(static_cast<double>(s.work.db_transactions));
      second.push_back(static_cast<double>(s.work.db_rows));
    } else {
      // One metrics row per sample; the pooling conditions' pairs in bridge.db.
      first.push_back(static_cast<double>(s.work.metric_samples));
      second.push_back(static_cast<double>(s.work.db_rows - s.work.metric_samples));
    }
  }
  const std::vector<double> fit = fit_costs({first, second}, database);
  const auto [first_unit, second_unit] = [&]() -> std::pair<Unit, Unit> {
    switch (probe.persistence) {
      case Persistence::connection_per_write:
        return {Unit::metrics_row_connection, Unit::bridge_row_connection};
      case Persistence::commit_per_write:
        return {Unit::metrics_row_commit, Unit::bridge_row_commit};
      default:
        return {Unit::transaction, Unit::row_in_transaction};
    }
  }();
  out[static_cast<std::size_t>(first_unit)] = fit[0];
  out[static_cast<std::size_t>(second_unit)] = fit[1];
}

// A sample event's own cost and a window's overshoot, from 1 ms windows.
void estimate_samples(const model::RunConfig& run, const std::filesystem::path& dir,
                      Estimate& out) {
  constexpr std::int64_t k_window_ms = 1;
  Probe probe{8, 5, Persistence::off, k_window_ms, model::SamplingPolicy::Kind::per_call};
  probe.live = run.source.kind == model::SourceSpec::Kind::live;
  const std::vector<TimedStep> sampled = timed_run(run, probe, dir);
  const double samples =
      sum_over(sampled, [](const TimedStep& s) { return double(s.work.metric_samples); });
  out[static_cast<std::size_t>(Unit::sample)] =
      ratio(sum_over(sampled, [](const TimedStep& s) { return s.sampling_s(); }), samples);
  const double window_each =
      ratio(sum_over(sampled, [](const TimedStep& s) { return s.window_s(); }), samples);
  out[static_cast<std::size_t>(Unit::window_overshoot)] =
      std::max(0.0, window_each - static_cast<double>(k_window_ms) * 1e-3);
}

// One repetition: the units `run` needs (its persistence mode's only), the others NaN.
Estimate measure_once(const model::RunConfig& run, const std::filesystem::path& scratch,
                      const std::function<void(std::string_view)>& say) {
  Estimate out;
  out.fill(std::numeric_limits<double>::quiet_NaN());
  auto fresh_dir = [&](std::string_view name) {
    const std::filesystem::path dir = scratch / name;
    std::filesystem::remove_all(dir);
    return dir;
  };
  say("the model's compute");
  estimate_compute(timed_run(run, {100, 150}, fresh_dir("compute")), out);
  if (run.compute.threads > 1) {
    Probe wide{1000, 30};
    wide.conditions = {1};  // ON-OFF pools: every step checks its pairs
    std::vector<TimedStep> steps = timed_run(run, wide, fresh_dir("wide"));
    // The steps at (nearly) the full population: the ones a long run at this size has.
    double most = 0.0;
    for (const TimedStep& s : steps)
      most = std::max(most, s.pairs());
    const double parallel_pairs =
        static_cast<double>(run.compute.parallel_from * (run.compute.parallel_from - 1) / 2);
    std::erase_if(steps, [&](const TimedStep& s) {
      return s.pairs() < 0.8 * most || s.pairs() < parallel_pairs;
    });
    // No step of the probe reached the parallel path (its population stayed under
    // parallel_from): the one-thread cost, an upper bound, stands in.
    out[static_cast<std::size_t>(Unit::pair_decided_parallel)] =
        steps.empty() ? out[static_cast<std::size_t>(Unit::pair_decided)] : pair_cost(steps, out);
  } else {
    out[static_cast<std::size_t>(Unit::pair_decided_parallel)] =
        out[static_cast<std::size_t>(Unit::pair_decided)];
  }
  // Each probe long enough to take in the periodic costs: commit-per-write's bridge.db
  // checkpoints its write-ahead log every 1,000 pages, about every 1,000 rows.
  switch (run.overheads.persistence) {
    case Persistence::connection_per_write:
      say("connection-per-write rows");
      estimate_database(run, database_probe(run, 10, 5, Persistence::connection_per_write),
                        fresh_dir("connection"), out);
      break;
    case Persistence::commit_per_write:
      say("commit-per-write rows");
      estimate_database(run, database_probe(run, 20, 12, Persistence::commit_per_write),
                        fresh_dir("commit"), out);
      break;
    case Persistence::transaction_per_step:
      say("transaction-per-step rows and commits");
      estimate_database(run, database_probe(run, 60, 60, Persistence::transaction_per_step),
                        fresh_dir("transaction"), out);
      break;
    case Persistence::off:
      break;
  }
  say("samples and their windows");
  estimate_samples(run, fresh_dir("samples"), out);
  return out;
}

std::string first_cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      return colon == std::string::npos ? line : line.substr(colon + 2);
    }
  return "unknown CPU";
}

std::string machine_host_name() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return "unknown host";
  return name;
}

// The file system type (statfs's magic number) the databases would go to.
std::string file_system_of(const std::filesystem::path& dir) {
  const std::filesystem::path probe = nearest_directory(dir);
  struct statfs info {};
  if (statfs(probe.c_str(), &info) != 0) return "unknown";
  return fmt::format("{:x}", static_cast<unsigned long>(info.f_type));
}

// ---- The cache --------------------------------------------------------------------------

nlohmann::json costs_to_json(const UnitCosts& costs) {
  nlohmann::ordered_json units;
  for (const UnitInfo& info : k_units) {
    const UnitCost& cost = costs[info.unit];
    units[std::string(info.name)] = cost.measured
                                        ? nlohmann::ordered_json{{"seconds", cost.seconds},
                                                                 {"low", cost.low},
                                                                 {"high", cost.high}}
                                        : nlohmann::ordered_json();
  }
  return {{"measured_at", costs.measured_at},
          {"calibration_s", costs.calibration_seconds},
          {"units", units}};
}

std::optional<UnitCosts> costs_from_json(const nlohmann::json& entry) {
  try {
    UnitCosts costs;
    costs.measured_at = entry.at("measured_at").get<std::string>();
    costs.calibration_seconds = entry.at("calibration_s").get<double>();
    for (const UnitInfo& info : k_units) {
      const nlohmann::json& unit = entry.at("units").at(std::string(info.name));
      if (unit.is_null()) continue;  // not measured for this key
      costs[info.unit] = {unit.at("seconds").get<double>(), unit.at("low").get<double>(),
                          unit.at("high").get<double>(), true};
    }
    return costs;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;  // a unit this build knows is missing, or a value of another type
  }
}

nlohmann::json read_cache(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return nlohmann::json::object();
  nlohmann::json cache = nlohmann::json::parse(in, nullptr, false);
  if (!cache.is_object() || !cache.contains("entries") || !cache["entries"].is_object())
    return nlohmann::json::object();
  return cache;
}

}  // namespace

std::string cache_key(const model::RunConfig& config) {
  const bool live = config.source.kind == model::SourceSpec::Kind::live;
  const model::SamplingPolicy& sampling = config.overheads.sampling;
  return fmt::format(
      "host={} cpu={} build={}@{} threads={} isa={} source={} persistence={} sampling={}{} "
      "fs={}",
      machine_host_name(), first_cpu_model(), build_info::k_version, build_info::k_commit,
      config.compute.threads, model::isa_name(model::resolve_isa(config.compute.isa)),
      live ? "live" : "deterministic", model::persistence_name(config.overheads.persistence),
      // every:K is calibrated as per-step
      sampling.kind == model::SamplingPolicy::Kind::every_k ? "per-step"
                                                            : model::sampling_policy_name(sampling),
      config.overheads.window_ms > 0 ? "+window" : "", file_system_of(config.db_dir));
}

UnitCosts calibrate(const model::RunConfig& config,
                    const std::function<void(std::string_view)>& progress) {
  constexpr int k_repetitions = 3;
  const Clock::time_point started = Clock::now();
  const ScratchDir scratch(config.db_dir);
  std::vector<Estimate> estimates;
  for (int r = 0; r < k_repetitions; ++r)
    estimates.push_back(measure_once(config, scratch.path(), [&](std::string_view what) {
      if (progress) progress(fmt::format("calibrating ({} of {}): {}", r + 1, k_repetitions, what));
    }));
  // The mean of the repetitions, not their median: a total is a sum, and a disk's latency
  // has a heavy tail that a median of short probes would leave out.
  UnitCosts costs;
  for (std::size_t u = 0; u < k_unit_count; ++u) {
    if (std::isnan(estimates.front()[u])) continue;  // a unit this run does not need
    std::vector<double> values;
    for (const Estimate& estimate : estimates)
      values.push_back(estimate[u]);
    std::sort(values.begin(), values.end());
    double sum = 0.0;
    for (const double value : values)
      sum += value;
    costs.costs[u] = {sum / static_cast<double>(values.size()), values.front(), values.back(),
                      true};
  }
  costs.key = cache_key(config);
  costs.measured_at = utc_now();
  costs.calibration_seconds = seconds_between(started, Clock::now());
  return costs;
}

std::filesystem::path default_cache_dir() {
  if (const char* dir = std::getenv("NRMLAB_CACHE_DIR"); dir != nullptr && *dir != '\0') return dir;
  if (const char* dir = std::getenv("XDG_CACHE_HOME"); dir != nullptr && *dir != '\0')
    return std::filesystem::path(dir) / "nrmlab";
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0')
    return std::filesystem::path(home) / ".cache" / "nrmlab";
  return std::filesystem::temp_directory_path() / "nrmlab-cache";
}

UnitCosts unit_costs_for(const model::RunConfig& config, const std::filesystem::path& cache_dir,
                         bool recalibrate, const std::function<void(std::string_view)>& progress) {
  const std::filesystem::path file = cache_dir / "unit-costs.json";
  const std::string key = cache_key(config);
  nlohmann::json cache = read_cache(file);
  if (!recalibrate && cache.contains("entries") && cache["entries"].contains(key))
    if (std::optional<UnitCosts> cached = costs_from_json(cache["entries"][key])) {
      cached->key = key;
      cached->from_cache = true;
      cached->cache_file = file;
      return *cached;
    }
  UnitCosts costs = calibrate(config, progress);
  if (!cache.is_object() || !cache.contains("entries")) cache = {{"format", 1}, {"entries", {}}};
  cache["entries"][key] = costs_to_json(costs);
  // A cache that cannot be written costs the next prediction a calibration, nothing more.
  std::error_code ec;
  std::filesystem::create_directories(cache_dir, ec);
  try {
    if (!ec) {
      write_file_atomically(file, cache.dump(1) + "\n");
      costs.cache_file = file;
    }
  } catch (const Error&) {
  }
  return costs;
}

// ---- The work ---------------------------------------------------------------------------

namespace {

class WorkObserver final : public model::StepObserver {
 public:
  explicit WorkObserver(RunWork& work) : m_work(work) {}
  void on_condition_begin(int condition) override {
    ConditionWork& added = m_work.conditions.emplace_back();
    added.condition = condition;
    added.name = std::string(model::condition_name(model::condition_at(condition)));
  }
  void on_step(const model::StepRecord& record) override {
    m_work.conditions.back().steps.push_back(record.counters);
  }

 private:
  RunWork& m_work;
};

// A constant synthetic source at the machine's readings now (one live sample over 100 ms).
model::SourceSpec current_readings(const model::SourceSpec& live, std::string& assumption) {
  model::LiveSource source(live.path);
  source.begin_condition(0);
  const model::MetricSample now = source.sample({}, std::chrono::milliseconds(100));
  model::SourceSpec constant;
  constant.kind = model::SourceSpec::Kind::synthetic;
  constant.synthetic = {0, now.cpu_percent, now.memory_percent, now.disk_percent, 0.0};
  constant.text = "synthetic:const";
  assumption = fmt::format(
      "the live source's readings are assumed constant at this machine's current ones (CPU "
      "{:.0f}%, memory {:.0f}%, disk {:.0f}%): the work is that of such a run, not exact",
      now.cpu_percent, now.memory_percent, now.disk_percent);
  return constant;
}

}  // namespace

RunWork count_work(const model::RunConfig& config) {
  const Clock::time_point started = Clock::now();
  RunWork work;
  model::RunConfig stubbed = config;
  stubbed.overheads.window_ms = 0;
  stubbed.record_trace.reset();
  if (config.source.kind == model::SourceSpec::Kind::live)
    stubbed.source = current_readings(config.source, work.assumption);
  WorkObserver observer(work);
  model::RunHooks hooks;
  hooks.observer = &observer;
  hooks.count_database_work = true;
  model::run_experiment(stubbed, hooks);
  work.counting_seconds = seconds_between(started, Clock::now());
  return work;
}

// ---- The prediction ---------------------------------------------------------------------

SectionSeconds& SectionSeconds::operator+=(const SectionSeconds& other) {
  window += other.window;
  sampling += other.sampling;
  database += other.database;
  compute += other.compute;
  return *this;
}

SectionSeconds step_cost(const model::RunConfig& config, const model::StepCounters& work,
                         const UnitCosts& costs, CostPick pick) {
  auto cost = [&](Unit unit) {
    const UnitCost& c = costs[unit];
    if (!c.measured)
      throw Error(fmt::format("the unit costs ({}) lack '{}': measure them with --recalibrate",
                              costs.key, k_units[static_cast<std::size_t>(unit)].name));
    return pick == CostPick::mean ? c.seconds : pick == CostPick::low ? c.low : c.high;
  };
  const model::Overheads& overheads = config.overheads;
  const auto pairs = static_cast<double>(work.resonance_pairs);
  // The population the pairs were checked in: pairs = n(n-1)/2.
  const double population = 0.5 + std::sqrt(0.25 + 2.0 * pairs);
  Unit pair_unit = Unit::pair_decided;
  if (overheads.persistence != Persistence::off)
    pair_unit = Unit::pair_scored;
  else if (config.compute.threads > 1 &&
           population >= static_cast<double>(config.compute.parallel_from))
    pair_unit = Unit::pair_decided_parallel;

  SectionSeconds seconds;
  const auto samples = static_cast<double>(work.metric_samples);
  if (overheads.window_ms > 0)
    seconds.window =
        samples * (static_cast<double>(overheads.window_ms) * 1e-3 + cost(Unit::window_overshoot));
  seconds.sampling = samples * cost(Unit::sample);
  const auto rows = static_cast<double>(work.db_rows);
  // Every sample event writes one metrics row; the other rows go to bridge.db.
  const double metric_rows = std::min(samples, rows);
  const double bridge_rows = rows - metric_rows;
  switch (overheads.persistence) {
    case Persistence::connection_per_write:
      seconds.database = metric_rows * cost(Unit::metrics_row_connection) +
                         bridge_rows * cost(Unit::bridge_row_connection);
      break;
    case Persistence::commit_per_write:
      seconds.database = metric_rows * cost(Unit::metrics_row_commit) +
                         bridge_rows * cost(Unit::bridge_row_commit);
      break;
    case Persistence::transaction_per_step:
      seconds.database = rows * cost(Unit::row_in_transaction) +
                         static_cast<double>(work.db_transactions) * cost(Unit::transaction);
      break;
    case Persistence::off:
      break;
  }
  seconds.compute = cost(Unit::step) +
                    static_cast<double>(work.evolve_calls) * cost(Unit::evolve_call) +
                    pairs * cost(pair_unit);
  return seconds;
}

Prediction predict(const model::RunConfig& config, const RunWork& work, const UnitCosts& costs) {
  Prediction prediction;
  prediction.assumption = work.assumption;
  for (const ConditionWork& condition : work.conditions) {
    ConditionPrediction& out = prediction.conditions.emplace_back();
    out.name = condition.name;
    out.steps = static_cast<std::int64_t>(condition.steps.size());
    out.step_s.reserve(condition.steps.size());
    for (const model::StepCounters& step : condition.steps) {
      model::add_counters(out.totals, step);
      const SectionSeconds mean = step_cost(config, step, costs);
      out.sections += mean;
      out.step_s.push_back(mean.total());
      out.low_s += step_cost(config, step, costs, CostPick::low).total();
      out.high_s += step_cost(config, step, costs, CostPick::high).total();
    }
    prediction.sections += out.sections;
    prediction.low_s += out.low_s;
    prediction.high_s += out.high_s;
  }
  prediction.total_s = prediction.sections.total();
  return prediction;
}

namespace {

nlohmann::ordered_json sections_json(const SectionSeconds& s) {
  return {{"window_s", s.window},
          {"sampling_s", s.sampling},
          {"database_s", s.database},
          {"compute_s", s.compute}};
}

}  // namespace

nlohmann::ordered_json to_json(const Prediction& prediction, const UnitCosts& costs,
                               std::size_t max_points) {
  nlohmann::ordered_json conditions = nlohmann::ordered_json::array();
  for (const ConditionPrediction& c : prediction.conditions) {
    const std::size_t stride = std::max<std::size_t>(
        1, (c.step_s.size() + max_points - 1) / std::max<std::size_t>(1, max_points));
    std::vector<double> series;
    for (std::size_t begin = 0; begin < c.step_s.size(); begin += stride) {
      const std::size_t end = std::min(c.step_s.size(), begin + stride);
      double sum = 0.0;
      for (std::size_t i = begin; i < end; ++i)
        sum += c.step_s[i];
      series.push_back(sum / static_cast<double>(end - begin));
    }
    nlohmann::ordered_json work;
    for (const model::StepCounterField& field : model::k_step_counter_fields)
      if (field.role == model::CounterRole::work && field.tally == model::Tally::sum)
        work[std::string(field.name)] = c.totals.*field.member;
    conditions.push_back({{"name", c.name},
                          {"steps", c.steps},
                          {"total_s", c.sections.total()},
                          {"interval_s", {c.low_s, c.high_s}},
                          {"sections", sections_json(c.sections)},
                          {"work", work},
                          {"step_stride", stride},
                          {"step_s", series}});
  }
  nlohmann::ordered_json units;
  for (const UnitInfo& info : k_units)
    units[std::string(info.name)] = costs[info.unit].measured
                                        ? nlohmann::ordered_json(costs[info.unit].seconds)
                                        : nlohmann::ordered_json();
  return {
      {"schema", "nrmlab.prediction/1"},
      {"total_s", prediction.total_s},
      {"interval_s", {prediction.low_s, prediction.high_s}},
      {"sections", sections_json(prediction.sections)},
      {"conditions", conditions},
      {"unit_costs", {{"key", costs.key}, {"measured_at", costs.measured_at}, {"seconds", units}}},
      {"assumption", prediction.assumption}};
}

std::size_t predict_plan(StudyPlan& plan, const std::filesystem::path& cache_dir,
                         const std::function<void(std::string_view)>& progress) {
  std::size_t predicted = 0;
  // The cache file is read once per key, not once per run (a study has hundreds).
  std::map<std::string, UnitCosts> costs_by_key;
  for (PlannedRun& run : plan.runs) {
    if (run.command != "run" || run.settings.empty()) continue;
    model::SettingValues settings = run.settings;
    settings.emplace_back("seed", std::to_string(run.seed));
    const model::RunConfig config = model::run_config_from(settings);
    const std::string key = cache_key(config);
    auto known = costs_by_key.find(key);
    if (known == costs_by_key.end())
      known = costs_by_key.emplace(key, unit_costs_for(config, cache_dir, false, progress)).first;
    const UnitCosts& costs = known->second;
    if (progress)
      progress(
          fmt::format("predicting run {} ({} of {})", run.id, predicted + 1, plan.runs.size()));
    run.estimated_seconds = predict(config, count_work(config), costs).total_s;
    ++predicted;
  }
  return predicted;
}

}  // namespace nrmlab::study
