#include "model/experiment_runner.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <memory>
#include <numeric>

#include "model/faithful_stores.hpp"
#include "model/metric_trace.hpp"
#include "model/sampler.hpp"
#include "model/simulation.hpp"
#include "util/error.hpp"

namespace nrmlab::model {
namespace {

std::string utc_now_iso8601() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", utc);
}

void add_counters(StepCounters& total, const StepCounters& step) {
  total.agents_alive = step.agents_alive;
  total.pattern_count = step.pattern_count;
  total.evolve_calls += step.evolve_calls;
  total.metric_samples += step.metric_samples;
  total.resonance_pairs += step.resonance_pairs;
  total.resonant_pairs += step.resonant_pairs;
  total.clusters_found += step.clusters_found;
  total.spawns += step.spawns;
  total.deaths += step.deaths;
  total.db_transactions += step.db_transactions;
  total.db_rows += step.db_rows;
}

void check_config(const RunConfig& config) {
  const auto problems = validate(config.params);
  if (!problems.empty()) {
    std::string message = "invalid model parameters:";
    for (const auto& problem : problems)
      message += "\n  " + problem;
    throw Error(message);
  }
  if (config.overheads.window_ms < 0 || config.overheads.window_ms > 60'000)
    throw Error(
        fmt::format("sample window must be in [0, 60000] ms, got {}", config.overheads.window_ms));
  if (config.conditions.empty()) throw Error("no condition to run");
  for (std::size_t i = 0; i < config.conditions.size(); ++i) {
    const int index = config.conditions[i];
    if (index < 0 || index > 3) throw Error(fmt::format("condition index {} out of range", index));
    for (std::size_t j = 0; j < i; ++j)
      if (config.conditions[j] == index)
        throw Error(
            fmt::format("condition {} is listed twice", condition_name(condition_at(index))));
  }
}

// Runs one condition, recording its history into `out`. Returns false when stopped early.
bool run_condition(const RunConfig& config, const ExperimentDesign& design, int index,
                   Sampler& sampler, FaithfulStores* stores, const RunHooks& hooks,
                   ConditionResult& out) {
  const Condition condition = condition_at(index);
  out.name = std::string(condition_name(condition));
  out.flags = design.mechanisms_for(condition);
  const auto steps = static_cast<std::size_t>(config.params.steps);
  // Reserve for ordinary runs only: an interrupted giant run should not pay for its end.
  const std::size_t reserve = std::min<std::size_t>(steps, 1u << 20);
  out.population_history.reserve(reserve);
  out.pattern_count_history.reserve(reserve);

  if (hooks.observer != nullptr) hooks.observer->on_condition_begin(index);
  const auto started = std::chrono::steady_clock::now();
  sampler.begin_condition(index);
  bool finished = true;
  std::uint64_t digest = 0;
  // The summary is filled however the condition ends, so a checkpoint written on the error
  // path agrees with the history it carries.
  const auto summarize = [&] {
    out.runtime_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const auto& history = out.population_history;
    out.steps_completed = static_cast<std::int64_t>(history.size());
    if (!history.empty()) {
      const double sum = std::accumulate(history.begin(), history.end(), 0.0);
      out.mean_population = sum / static_cast<double>(history.size());
      out.final_population = history.back();
      out.max_population = *std::max_element(history.begin(), history.end());
    }
    out.state_digest = finished ? fmt::format("{:016x}", digest) : std::string();
  };
  try {
    Simulation simulation(config.params, out.flags, sampler, stores);
    for (std::size_t t = 0; t < steps; ++t) {
      if (hooks.stop_requested != nullptr &&
          hooks.stop_requested->load(std::memory_order_relaxed)) {
        finished = false;
        break;
      }
      const StepCounters& counters = simulation.step();
      out.population_history.push_back(static_cast<std::int64_t>(counters.agents_alive));
      out.pattern_count_history.push_back(static_cast<std::int64_t>(counters.pattern_count));
      add_counters(out.totals, counters);
      if (hooks.observer != nullptr)
        hooks.observer->on_step(
            {index, static_cast<std::int64_t>(t), counters, simulation.last_sections()});
    }
    digest = simulation.state_digest();
  } catch (const StepInterrupted&) {
    finished = false;  // the partial step is not recorded; its state is not digested
  } catch (...) {
    finished = false;
    summarize();
    throw;
  }
  summarize();
  return finished;
}

}  // namespace

ExperimentResult run_experiment(const RunConfig& config, const RunHooks& hooks) {
  check_config(config);
  ExperimentResult result;
  result.config = config;
  result.design = config.design();
  result.started_at = utc_now_iso8601();
  auto checkpoint = [&] {
    if (hooks.checkpoint) hooks.checkpoint(result);
  };

  try {
    const auto source = make_source(config.source, config.params.steps);
    std::unique_ptr<FaithfulStores> stores;
    if (config.overheads.persistence != Persistence::off)
      stores = std::make_unique<FaithfulStores>(config.db_dir, config.overheads.persistence);
    std::unique_ptr<TraceWriter> trace;
    if (config.record_trace)
      trace = std::make_unique<TraceWriter>(*config.record_trace, config.params.steps);
    Sampler sampler(*source, config.overheads.sampling,
                    std::chrono::milliseconds(config.overheads.window_ms), stores.get(),
                    trace.get(), hooks.stop_requested);
    sampler.set_observer(hooks.sample_observer);
    sampler.enable_timing(hooks.time_sections);
    if (stores) stores->enable_timing(hooks.time_sections);

    for (const int index : config.conditions) {
      const bool finished = run_condition(config, result.design, index, sampler, stores.get(),
                                          hooks, result.conditions.emplace_back());
      if (trace) trace->flush();
      if (!finished) {
        result.stopped_because = "interrupted";
        break;
      }
      checkpoint();
    }
  } catch (const std::exception& error) {
    result.stopped_because = error.what();
    checkpoint();
    throw;
  }

  finish_experiment(result);
  checkpoint();
  return result;
}

}  // namespace nrmlab::model
