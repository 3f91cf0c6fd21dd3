#include "analysis/hypothesis_registry.hpp"

namespace nrmlab::analysis {

// Each hypothesis file in src/analysis/hypotheses/ defines one of these. The list's order
// is analysis.json's and the summary's.
#define NRMLAB_HYPOTHESES(X) \
  X(contention)              \
  X(fragmentation)           \
  X(io_accumulation)         \
  X(thermal)                 \
  X(emergent_complexity)     \
  X(observer)

#define NRMLAB_DECLARE(name) extern const HypothesisSpec k_##name##_hypothesis;
NRMLAB_HYPOTHESES(NRMLAB_DECLARE)
#undef NRMLAB_DECLARE

const std::vector<const HypothesisSpec*>& hypothesis_registry() {
#define NRMLAB_ENTRY(name) &k_##name##_hypothesis,
  static const std::vector<const HypothesisSpec*> k_registry{NRMLAB_HYPOTHESES(NRMLAB_ENTRY)};
#undef NRMLAB_ENTRY
  return k_registry;
}

const HypothesisSpec* find_hypothesis(std::string_view id) {
  for (const HypothesisSpec* spec : hypothesis_registry())
    if (spec->id == id) return spec;
  return nullptr;
}

}  // namespace nrmlab::analysis
