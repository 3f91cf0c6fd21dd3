#include "study/plan.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "model/experiment.hpp"
#include "model/settings.hpp"
#include "study/knobs.hpp"
#include "telemetry/run_settings.hpp"
#include "util/error.hpp"
#include "util/hash.hpp"
#include "util/parse.hpp"

namespace nrmlab::study {
namespace {

using Settings = std::vector<std::pair<std::string, std::string>>;

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

const std::string* find(const Settings& settings, std::string_view key) {
  for (const auto& [name, value] : settings)
    if (name == key) return &value;
  return nullptr;
}

std::string describe(const PlannedRun& run) {
  std::string text = fmt::format("run {} (replicate {}", run.id, run.replicate);
  for (const auto& [factor, level] : run.levels)
    text += fmt::format(", {}={}", factor, level);
  return text + ")";
}

// The run as `nrmlab run` would build it, checked as a whole before anything runs (each
// value alone was checked when the study file was read).
std::vector<std::string> check_combination(const Settings& settings) {
  try {
    const telemetry::RunRequest request = telemetry::run_request_from(settings);
    return model::validate(request.config.params);
  } catch (const Error& error) {
    return {error.what()};
  }
}

std::vector<std::string> run_arguments(const Settings& settings, std::uint64_t seed) {
  std::vector<std::string> arguments;
  for (const auto& [key, value] : settings) {
    const Knob* knob = find_knob(key);
    if (knob == nullptr || knob->flag.empty()) continue;
    arguments.emplace_back(knob->flag);
    arguments.push_back(value);
  }
  arguments.emplace_back("--seed");
  arguments.push_back(std::to_string(seed));
  return arguments;
}

}  // namespace

std::uint64_t replicate_seed(std::uint64_t study_seed, std::int64_t replicate) {
  // 31 bits keep seeds readable and exact in every JSON reader; distinct replicates get
  // distinct seeds because the low bits of `replicate` pass through unchanged.
  std::uint64_t state = study_seed;
  const std::uint64_t mixed = splitmix64(state) & 0x7fff'0000ULL;
  return (mixed | static_cast<std::uint64_t>(replicate & 0xffff)) + 1;
}

std::vector<std::size_t> shuffled_order(std::size_t count, std::uint64_t seed) {
  std::vector<std::size_t> order(count);
  for (std::size_t i = 0; i < count; ++i)
    order[i] = i;
  std::uint64_t state = seed;
  for (std::size_t i = count; i > 1; --i) {
    // Rejection sampling: an unbiased index in [0, i).
    const std::uint64_t bound = static_cast<std::uint64_t>(i);
    const std::uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
    std::uint64_t draw = 0;
    do {
      draw = splitmix64(state);
    } while (draw >= limit);
    std::swap(order[i - 1], order[draw % bound]);
  }
  return order;
}

double estimate_seconds(const Settings& settings) {
  // The cost inputs are the run's own configuration, built from the settings table as
  // `nrmlab run` builds it (defaults included).
  const model::RunConfig config = model::run_config_from(settings);
  const model::Overheads& overheads = config.overheads;
  const double agents = static_cast<double>(config.params.max_agents);
  const double steps = static_cast<double>(config.params.steps);
  const bool recursive = config.params.recursive_evolve;
  // Which conditions pool is the experiment's business (C258-C260 pool in none of them,
  // C259 as run pooled under its "H2" factor), not the condition's name.
  const model::ExperimentDesign design = config.design();

  // Measured on the 2-core VM (release build, max agents 15 and 100): an evolve call per
  // agent, four with recursion into dead children; one bridge row per pair checked, and pairs
  // are only checked where pooling is on; per-row costs of the persistence modes.
  const double evolve_calls = recursive ? 4.0 * agents : agents;
  double samples = 1.0;
  switch (overheads.sampling.kind) {
    case model::SamplingPolicy::Kind::per_call:
    case model::SamplingPolicy::Kind::spawn_shared:
      samples = evolve_calls;
      break;
    case model::SamplingPolicy::Kind::per_step:
      break;
    case model::SamplingPolicy::Kind::every_k:
      samples = 1.0 / static_cast<double>(overheads.sampling.k);
      break;
  }
  double seconds = 0.05;  // process start, telemetry set-up and finish
  for (const int index : config.conditions) {
    const bool pooling = design.mechanisms_for(model::condition_at(index)).energy_pooling;
    const double pairs = pooling ? agents * (agents - 1.0) / 2.0 : 0.0;
    const double rows = pairs + 1.5;
    double database = 0.0;
    switch (overheads.persistence) {
      case model::Persistence::connection_per_write:
        database = 1.1e-3 * rows;
        break;
      case model::Persistence::commit_per_write:
        database = 0.15e-3 * rows;
        break;
      case model::Persistence::transaction_per_step:
        database = 0.6e-3 * (pooling ? 2.0 : 1.0) + 2e-6 * rows;
        break;
      case model::Persistence::off:
        break;
    }
    const double sleep = samples * static_cast<double>(overheads.window_ms) * 1e-3;
    const double compute = 3e-8 * evolve_calls + 3e-9 * pairs + 2e-7 * samples;
    seconds += steps * (database + sleep + compute);
  }
  return seconds;
}

StudyPlan expand(const StudySpec& spec) {
  StudyPlan plan;
  plan.name = spec.name;
  plan.description = spec.description;
  plan.study_hash = spec.hash;
  plan.seed = spec.seed;
  plan.order_seed = spec.order_seed;
  plan.replicates = spec.replicates;
  plan.parallel = spec.parallel;
  plan.slurm = spec.slurm;
  plan.expected_hours = spec.expected_hours.value_or(0.0);
  plan.milestone_hours = spec.milestone_hours;
  for (const Factor& factor : spec.factors)
    plan.factors.push_back(factor.key);

  std::size_t cells = 1;
  for (const Factor& factor : spec.factors)
    cells *= factor.levels.size();
  const std::size_t total = cells * static_cast<std::size_t>(spec.replicates);
  if (total > 100'000)
    throw Error(fmt::format("{}: the study expands to {} runs; at most 100000 are supported",
                            spec.file.string(), total));
  const int width = std::max<int>(3, static_cast<int>(std::to_string(total - 1).size()));

  for (std::int64_t replicate = 0; replicate < spec.replicates; ++replicate) {
    const std::uint64_t seed = replicate_seed(spec.seed, replicate);
    for (std::size_t cell = 0; cell < cells; ++cell) {
      PlannedRun run;
      run.index = plan.runs.size();
      run.id = fmt::format("r{:0{}}", run.index, width);
      run.replicate = replicate;
      run.seed = seed;
      // The first factor varies slowest, as in a written-out factorial table.
      std::size_t rest = cell;
      std::size_t stride = cells;
      Settings settings;
      for (const Setting& setting : spec.fixed)
        settings.emplace_back(setting.key, setting.value);
      for (const Factor& factor : spec.factors) {
        stride /= factor.levels.size();
        const std::size_t level = rest / stride;
        run.levels.emplace_back(factor.key, factor.levels[level]);
        for (const auto& setting : factor.settings[level])
          settings.push_back(setting);
        rest %= stride;
      }
      if (const std::string* allocator = find(settings, "allocator")) run.allocator = *allocator;
      if (const auto problems = check_combination(settings); !problems.empty())
        throw Error(fmt::format("{}: {} is impossible: {}", spec.file.string(), describe(run),
                                problems.front()));
      run.arguments = run_arguments(settings, seed);
      Fnv1a hash;
      hash.add(run.allocator);
      for (const std::string& argument : run.arguments) {
        hash.add(argument);
        hash.add(std::string_view("\0", 1));
      }
      run.hash = fmt::format("{:016x}", hash.value());
      run.estimated_seconds = estimate_seconds(settings);
      run.settings = std::move(settings);
      plan.runs.push_back(std::move(run));
    }
  }
  plan.order = shuffled_order(plan.runs.size(), spec.order_seed);
  return plan;
}

}  // namespace nrmlab::study
