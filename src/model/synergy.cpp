#include "model/synergy.hpp"

namespace nrmlab::model {

Synergy compute_synergy(double off_off, double on_off, double off_on, double on_on) {
  Synergy result;
  result.effect_a = on_off - off_off;
  result.effect_b = off_on - off_off;
  result.additive = off_off + result.effect_a + result.effect_b;
  result.synergy = on_on - result.additive;
  if (off_off > 0.0) result.fold_change = on_on / off_off;
  if (result.synergy > 0.1)
    result.classification = "SYNERGISTIC";
  else if (result.synergy < -0.1)
    result.classification = "ANTAGONISTIC";
  else
    result.classification = "ADDITIVE";
  return result;
}

}  // namespace nrmlab::model
