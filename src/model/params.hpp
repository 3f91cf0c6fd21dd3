// The model's parameters (model.md section 6). Defaults are the original's constants; every
// one is configurable. Two further switches select the original's work-accumulating defects.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nrmlab::model {

// How the model adds up floats where the original called Python's sum(): plain is the left
// fold of Python up to 3.11, compensated the Neumaier summation of Python 3.12+ (the
// archive's runs used 3.13). Pooling's sums differ by a few units in the last place.
enum class FloatSum { plain, compensated };

std::string_view float_sum_name(FloatSum mode);
std::optional<FloatSum> parse_float_sum(std::string_view text);

struct ModelParams {
  std::int64_t steps = 3000;  // per condition
  std::int64_t max_agents = 100;
  std::int64_t max_depth = 7;
  double spawn_threshold = 10.0;
  double spawn_cost = 10.0;
  double death_threshold = 1.0;  // agents below this energy die
  double energy_cap = 200.0;
  std::int64_t throttle_cooldown = 100;  // H4: steps between an agent's spawns
  double pooling_share = 0.10;           // H1: share of the mean member energy given to each
  double h2_bonus_rate = 0.005;          // H2: energy += rate * avail
  double h5_bonus_rate = 0.01;           // H5: energy += rate * avail * factor
  double h5_bonus_factor = 2.0;
  double root_energy = 130.0;
  double decay = 0.01;          // per evolve call
  double recharge_rate = 0.01;  // per evolve call, times avail
  double resonance_threshold = 0.85;

  // The original's defects. On by default because they are its behaviour; switching either
  // off changes results (population, pattern memory, work per step).
  bool recursive_evolve = true;       // evolve recurses into every child, dead ones included
  bool accumulating_clusters = true;  // the cluster table is appended to and never cleared

  // Plain by default: bit-identical to the original under Python 3.11 and before.
  FloatSum float_sum = FloatSum::plain;
};

// Returns one message per invalid or absurd value; empty when the parameters are usable.
std::vector<std::string> validate(const ModelParams& params);

}  // namespace nrmlab::model
