#include "model/run_config.hpp"

#include "util/parse.hpp"

namespace nrmlab::model {

std::optional<Recycling> parse_recycling(std::string_view text) {
  using Kind = Recycling::Kind;
  if (text == "never") return Recycling{Kind::never, 0};
  if (text == "condition") return Recycling{Kind::condition, 0};
  constexpr std::string_view prefix = "every:";
  if (text.starts_with(prefix)) {
    const auto steps = parse_number<std::int64_t>(text.substr(prefix.size()));
    if (steps && *steps >= 1) return Recycling{Kind::every_steps, *steps};
  }
  return std::nullopt;
}

nlohmann::ordered_json to_json(const RunConfig& config) {
  const ModelParams& p = config.params;
  nlohmann::ordered_json params = {
      {"steps", p.steps},
      {"max_agents", p.max_agents},
      {"max_depth", p.max_depth},
      {"spawn_threshold", p.spawn_threshold},
      {"spawn_cost", p.spawn_cost},
      {"death_threshold", p.death_threshold},
      {"energy_cap", p.energy_cap},
      {"throttle_cooldown", p.throttle_cooldown},
      {"pooling_share", p.pooling_share},
      {"h2_bonus_rate", p.h2_bonus_rate},
      {"h5_bonus_rate", p.h5_bonus_rate},
      {"h5_bonus_factor", p.h5_bonus_factor},
      {"root_energy", p.root_energy},
      {"decay", p.decay},
      {"recharge_rate", p.recharge_rate},
      {"resonance_threshold", p.resonance_threshold},
      {"recursive_evolve", p.recursive_evolve},
      {"accumulating_clusters", p.accumulating_clusters},
      {"float_sum", float_sum_name(p.float_sum)},
  };
  nlohmann::ordered_json conditions = nlohmann::ordered_json::array();
  for (const int index : config.conditions)
    conditions.push_back(condition_name(condition_at(index)));
  nlohmann::ordered_json source = {{"spec", config.source.text}};
  if (config.source.kind == SourceSpec::Kind::replay)
    source["granularity"] = granularity_name(config.source.granularity);
  return {
      {"experiment", experiment_name(config.experiment)},
      {"variant", variant_name(config.variant)},
      {"preset", preset_name(config.preset)},
      {"model", params},
      {"overheads",
       {{"sampling", sampling_policy_name(config.overheads.sampling)},
        {"window_ms", config.overheads.window_ms},
        {"persistence", persistence_name(config.overheads.persistence)},
        {"runs_as_c256", config.overheads.runs_as_c256}}},
      {"source", source},
      {"conditions", conditions},
      {"recycle", config.recycle},
      {"compute", {{"isa", isa_name(config.compute.isa)}, {"threads", config.compute.threads}}},
      {"seed", config.seed},
      {"out_dir", config.out_dir.string()},
      {"db_dir", config.db_dir.string()},
      {"record_trace", config.record_trace ? nlohmann::ordered_json(config.record_trace->string())
                                           : nlohmann::ordered_json(nullptr)},
  };
}

}  // namespace nrmlab::model
