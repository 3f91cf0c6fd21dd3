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

enum class ConditionEnd { finished, suspended, interrupted };

// Runs one condition (or, in a segment, one stretch of it), recording its history into
// `out`.
ConditionEnd run_condition(const RunConfig& config, const ExperimentDesign& design, int index,
                           Sampler& sampler, FaithfulStores* stores, const RunHooks& hooks,
                           ConditionResult& out) {
  const Condition condition = condition_at(index);
  out.name = std::string(condition_name(condition));
  out.flags = design.mechanisms_for(condition);
  const Segment segment = hooks.segment != nullptr ? *hooks.segment : Segment{};
  const std::int64_t steps = config.params.steps;
  const std::int64_t first = segment.resume != nullptr ? segment.resume->next_step : 0;
  const std::int64_t end = segment.end_step > 0 ? std::min(segment.end_step, steps) : steps;
  // Reserve for ordinary runs only: an interrupted giant run should not pay for its end.
  const auto reserve = static_cast<std::size_t>(std::clamp<std::int64_t>(end - first, 0, 1 << 20));
  out.population_history.reserve(reserve);
  out.pattern_count_history.reserve(reserve);

  // A fresh condition's step 0 includes its setup; a resumed stretch's first step does not
  // include restoring the state (an artefact of recycling, growing with the run).
  const bool resuming = segment.resume != nullptr;
  if (hooks.observer != nullptr && !resuming) hooks.observer->on_condition_begin(index);
  const auto started = std::chrono::steady_clock::now();
  sampler.begin_condition(index);
  ConditionEnd ended = ConditionEnd::finished;
  std::uint64_t digest = 0;
  // The summary is filled however the condition ends, so a checkpoint written on the error
  // path agrees with the history it carries.
  const auto summarize = [&] {
    out.runtime_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    summarize_history(out);
    out.state_digest =
        ended == ConditionEnd::finished ? fmt::format("{:016x}", digest) : std::string();
  };
  try {
    Simulation simulation =
        segment.resume != nullptr
            ? Simulation(config.params, out.flags, sampler, stores, segment.resume->engine,
                         config.compute)
            : Simulation(config.params, out.flags, sampler, stores, config.compute);
    if (hooks.observer != nullptr && resuming) hooks.observer->on_condition_begin(index);
    for (std::int64_t t = first; t < steps; ++t) {
      if (hooks.stop_requested != nullptr &&
          hooks.stop_requested->load(std::memory_order_relaxed)) {
        ended = ConditionEnd::interrupted;
        break;
      }
      if (t == end) {
        if (segment.suspended != nullptr) *segment.suspended = {index, t, simulation.save()};
        ended = ConditionEnd::suspended;
        break;
      }
      const StepCounters& counters = simulation.step();
      out.population_history.push_back(static_cast<std::int64_t>(counters.agents_alive));
      out.pattern_count_history.push_back(static_cast<std::int64_t>(counters.pattern_count));
      add_counters(out.totals, counters);
      if (hooks.observer != nullptr)
        hooks.observer->on_step({index, t, counters, simulation.last_sections()});
    }
    digest = simulation.state_digest();
  } catch (const StepInterrupted&) {
    ended = ConditionEnd::interrupted;  // the partial step is not recorded nor digested
  } catch (...) {
    ended = ConditionEnd::interrupted;
    summarize();
    throw;
  }
  summarize();
  return ended;
}

void check_segment(const RunConfig& config, const Segment& segment) {
  if (config.conditions.size() != 1) throw Error("a segment of a run has exactly one condition");
  const Snapshot* resume = segment.resume;
  if (resume != nullptr && (resume->condition != config.conditions.front() ||
                            resume->next_step < 0 || resume->next_step > config.params.steps))
    throw Error(fmt::format("cannot resume condition {} at step {} in a run of condition {}",
                            resume->condition, resume->next_step, config.conditions.front()));
}

}  // namespace

ExperimentResult run_experiment(const RunConfig& config, const RunHooks& hooks) {
  check_config(config);
  if (hooks.segment != nullptr) check_segment(config, *hooks.segment);
  ExperimentResult result;
  result.config = config;
  result.design = config.design();
  result.started_at = utc_now_iso8601();
  auto checkpoint = [&] {
    if (hooks.checkpoint) hooks.checkpoint(result);
  };

  bool suspended = false;
  try {
    const auto source = make_source(config.source, config.params.steps);
    std::unique_ptr<FaithfulStores> stores;
    if (config.overheads.persistence != Persistence::off)
      stores = hooks.count_database_work
                   ? std::make_unique<FaithfulStores>(config.overheads.persistence, CountOnly{})
                   : std::make_unique<FaithfulStores>(config.db_dir, config.overheads.persistence);
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
      const ConditionEnd ended = run_condition(config, result.design, index, sampler, stores.get(),
                                               hooks, result.conditions.emplace_back());
      if (trace) trace->flush();
      if (ended == ConditionEnd::interrupted) {
        result.stopped_because = "interrupted";
        break;
      }
      if (ended == ConditionEnd::suspended) {
        suspended = true;  // the segment's caller goes on with the condition
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
  if (suspended) result.complete = false;
  checkpoint();
  return result;
}

}  // namespace nrmlab::model
