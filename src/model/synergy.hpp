// The synergy analysis of a 2x2 experiment (model.md section 7), on mean populations.
#pragma once

#include <optional>
#include <string>

namespace nrmlab::model {

struct Synergy {
  double effect_a = 0.0;              // on_off - off_off
  double effect_b = 0.0;              // off_on - off_off
  double additive = 0.0;              // off_off + effect_a + effect_b
  double synergy = 0.0;               // on_on - additive
  std::optional<double> fold_change;  // on_on / off_off; none when off_off <= 0
  std::string classification;         // SYNERGISTIC, ANTAGONISTIC or ADDITIVE
};

Synergy compute_synergy(double off_off, double on_off, double off_on, double on_on);

}  // namespace nrmlab::model
