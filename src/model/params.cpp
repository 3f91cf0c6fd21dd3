#include "model/params.hpp"

#include <fmt/format.h>

#include <cmath>

namespace nrmlab::model {
namespace {

// Upper bounds that no real study reaches but that keep a typo (an extra zero or three)
// from allocating the machine away: agents are O(N^2) per step.
constexpr std::int64_t k_max_steps = 100'000'000;  // per-step histories live in memory
constexpr std::int64_t k_max_agents = 1'000'000;
constexpr std::int64_t k_max_depth = 64;

void check_range(std::vector<std::string>& problems, const char* name, std::int64_t value,
                 std::int64_t low, std::int64_t high) {
  if (value < low || value > high)
    problems.push_back(fmt::format("{} must be in [{}, {}], got {}", name, low, high, value));
}

void check_finite(std::vector<std::string>& problems, const char* name, double value,
                  bool allow_negative = false) {
  if (!std::isfinite(value) || (!allow_negative && value < 0.0))
    problems.push_back(fmt::format("{} must be a finite{} number, got {}", name,
                                   allow_negative ? "" : " non-negative", value));
}

}  // namespace

std::string_view float_sum_name(FloatSum mode) {
  return mode == FloatSum::plain ? "plain" : "compensated";
}

std::optional<FloatSum> parse_float_sum(std::string_view text) {
  if (text == "plain") return FloatSum::plain;
  if (text == "compensated") return FloatSum::compensated;
  return std::nullopt;
}

std::vector<std::string> validate(const ModelParams& params) {
  std::vector<std::string> problems;
  check_range(problems, "steps", params.steps, 1, k_max_steps);
  check_range(problems, "max agents", params.max_agents, 1, k_max_agents);
  check_range(problems, "max depth", params.max_depth, 0, k_max_depth);
  check_range(problems, "throttle cooldown", params.throttle_cooldown, 0, k_max_steps);
  check_finite(problems, "spawn threshold", params.spawn_threshold);
  check_finite(problems, "spawn cost", params.spawn_cost);
  check_finite(problems, "death threshold", params.death_threshold);
  check_finite(problems, "energy cap", params.energy_cap);
  check_finite(problems, "pooling share", params.pooling_share);
  check_finite(problems, "H2 bonus rate", params.h2_bonus_rate);
  check_finite(problems, "H5 bonus rate", params.h5_bonus_rate);
  check_finite(problems, "H5 bonus factor", params.h5_bonus_factor);
  check_finite(problems, "root energy", params.root_energy);
  check_finite(problems, "decay", params.decay);
  check_finite(problems, "recharge rate", params.recharge_rate);
  check_finite(problems, "resonance threshold", params.resonance_threshold, true);
  return problems;
}

}  // namespace nrmlab::model
