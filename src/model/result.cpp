#include "model/result.hpp"

#include <algorithm>
#include <numeric>

#include "build_info.hpp"
#include "util/atomic_file.hpp"

namespace nrmlab::model {
namespace {

nlohmann::ordered_json to_json(const MechanismSet& flags) {
  return {{"energy_pooling", flags.energy_pooling},
          {"reality_sources", flags.reality_sources},
          {"spawn_throttling", flags.spawn_throttling},
          {"energy_recovery", flags.energy_recovery}};
}

nlohmann::ordered_json to_json(const StepCounters& c) {
  return {{"evolve_calls", c.evolve_calls},
          {"metric_samples", c.metric_samples},
          {"resonance_pairs", c.resonance_pairs},
          {"resonant_pairs", c.resonant_pairs},
          {"clusters_found", c.clusters_found},
          {"pattern_count", c.pattern_count},
          {"spawns", c.spawns},
          {"deaths", c.deaths},
          {"db_transactions", c.db_transactions},
          {"db_rows", c.db_rows}};
}

nlohmann::ordered_json to_json(const Synergy& s) {
  return {{"effect_a", s.effect_a},
          {"effect_b", s.effect_b},
          {"additive", s.additive},
          {"synergy", s.synergy},
          {"fold_change", s.fold_change ? nlohmann::ordered_json(*s.fold_change)
                                        : nlohmann::ordered_json(nullptr)},
          {"classification", s.classification}};
}

}  // namespace

nlohmann::ordered_json to_json(const ConditionResult& c) {
  return {{"flags", to_json(c.flags)},
          {"steps_completed", c.steps_completed},
          {"mean_population", c.mean_population},
          {"final_population", c.final_population},
          {"max_population", c.max_population},
          {"runtime_seconds", c.runtime_seconds},
          {"totals", to_json(c.totals)},
          {"state_digest", c.state_digest},
          {"population_history", c.population_history},
          {"pattern_count_history", c.pattern_count_history}};
}

ConditionResult condition_from_json(const nlohmann::json& json, std::string name) {
  ConditionResult c;
  c.name = std::move(name);
  const nlohmann::json& flags = json.at("flags");
  c.flags.energy_pooling = flags.at("energy_pooling").get<bool>();
  c.flags.reality_sources = flags.at("reality_sources").get<bool>();
  c.flags.spawn_throttling = flags.at("spawn_throttling").get<bool>();
  c.flags.energy_recovery = flags.at("energy_recovery").get<bool>();
  c.steps_completed = json.at("steps_completed").get<std::int64_t>();
  c.mean_population = json.at("mean_population").get<double>();
  c.final_population = json.at("final_population").get<std::int64_t>();
  c.max_population = json.at("max_population").get<std::int64_t>();
  c.runtime_seconds = json.at("runtime_seconds").get<double>();
  const nlohmann::json& totals = json.at("totals");
  c.totals.evolve_calls = totals.at("evolve_calls").get<std::uint64_t>();
  c.totals.metric_samples = totals.at("metric_samples").get<std::uint64_t>();
  c.totals.resonance_pairs = totals.at("resonance_pairs").get<std::uint64_t>();
  c.totals.resonant_pairs = totals.at("resonant_pairs").get<std::uint64_t>();
  c.totals.clusters_found = totals.at("clusters_found").get<std::uint64_t>();
  c.totals.pattern_count = totals.at("pattern_count").get<std::uint64_t>();
  c.totals.spawns = totals.at("spawns").get<std::uint64_t>();
  c.totals.deaths = totals.at("deaths").get<std::uint64_t>();
  c.totals.db_transactions = totals.at("db_transactions").get<std::uint64_t>();
  c.totals.db_rows = totals.at("db_rows").get<std::uint64_t>();
  c.state_digest = json.at("state_digest").get<std::string>();
  c.population_history = json.at("population_history").get<std::vector<std::int64_t>>();
  c.pattern_count_history = json.at("pattern_count_history").get<std::vector<std::int64_t>>();
  return c;
}

void summarize_history(ConditionResult& condition) {
  const auto& history = condition.population_history;
  condition.steps_completed = static_cast<std::int64_t>(history.size());
  if (history.empty()) return;
  const double sum = std::accumulate(history.begin(), history.end(), 0.0);
  condition.mean_population = sum / static_cast<double>(history.size());
  condition.final_population = history.back();
  condition.max_population = *std::max_element(history.begin(), history.end());
}

void append_segment(ConditionResult& condition, const ConditionResult& later) {
  const auto append = [](std::vector<std::int64_t>& to, const std::vector<std::int64_t>& from) {
    to.insert(to.end(), from.begin(), from.end());
  };
  append(condition.population_history, later.population_history);
  append(condition.pattern_count_history, later.pattern_count_history);
  add_counters(condition.totals, later.totals);
  condition.runtime_seconds += later.runtime_seconds;
  condition.state_digest = later.state_digest;
  summarize_history(condition);
}

void finish_experiment(ExperimentResult& result) {
  result.complete = !result.stopped_because.has_value();
  if (result.complete && result.conditions.size() == 4) {
    const auto mean = [&](int index) {
      for (const auto& c : result.conditions)
        if (c.name == k_condition_names[static_cast<std::size_t>(index)]) return c.mean_population;
      return 0.0;
    };
    result.synergy = compute_synergy(mean(0), mean(1), mean(2), mean(3));
  }
}

nlohmann::ordered_json to_json(const ExperimentResult& result) {
  nlohmann::ordered_json conditions = nlohmann::ordered_json::object();
  for (const ConditionResult& condition : result.conditions)
    conditions[condition.name] = to_json(condition);
  const ExperimentDesign& design = result.design;
  return {
      {"schema", k_result_schema},
      {"complete", result.complete},
      {"stopped_because", result.stopped_because ? nlohmann::ordered_json(*result.stopped_because)
                                                 : nlohmann::ordered_json(nullptr)},
      {"metadata",
       {{"experiment", experiment_name(design.id)},
        {"variant", variant_name(design.variant)},
        {"mechanisms",
         {{"factor_a", mechanism_label(design.factor_a)},
          {"factor_b", mechanism_label(design.factor_b)}}},
        {"steps", result.config.params.steps},
        {"timestamp", result.started_at},
        {"nrmlab_version", build_info::k_version},
        {"nrmlab_commit", build_info::k_commit},
        {"configuration", to_json(result.config)}}},
      {"conditions", conditions},
      {"synergy", result.synergy ? to_json(*result.synergy) : nlohmann::ordered_json(nullptr)},
  };
}

void write_result(const std::filesystem::path& dir, const ExperimentResult& result) {
  write_file_atomically(dir / "result.json", to_json(result).dump(1) + "\n");
}

}  // namespace nrmlab::model
