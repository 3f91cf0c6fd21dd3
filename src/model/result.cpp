#include "model/result.hpp"

#include "build_info.hpp"

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

}  // namespace nrmlab::model
