#include "model/experiment.hpp"

namespace nrmlab::model {
namespace {

constexpr std::array<std::string_view, 5> k_experiment_names = {"c256", "c257", "c258", "c259",
                                                                "c260"};

struct Factors {
  Mechanism a;
  Mechanism b;
};

Factors intended_factors(ExperimentId id) {
  switch (id) {
    case ExperimentId::c256:
      return {Mechanism::energy_pooling, Mechanism::spawn_throttling};
    case ExperimentId::c257:
      return {Mechanism::energy_pooling, Mechanism::energy_recovery};
    case ExperimentId::c258:
      return {Mechanism::reality_sources, Mechanism::spawn_throttling};
    case ExperimentId::c259:
      return {Mechanism::reality_sources, Mechanism::energy_recovery};
    case ExperimentId::c260:
      return {Mechanism::spawn_throttling, Mechanism::energy_recovery};
  }
  return {Mechanism::energy_pooling, Mechanism::spawn_throttling};
}

}  // namespace

void MechanismSet::enable(Mechanism mechanism) {
  switch (mechanism) {
    case Mechanism::energy_pooling:
      energy_pooling = true;
      break;
    case Mechanism::reality_sources:
      reality_sources = true;
      break;
    case Mechanism::spawn_throttling:
      spawn_throttling = true;
      break;
    case Mechanism::energy_recovery:
      energy_recovery = true;
      break;
  }
}

MechanismSet ExperimentDesign::mechanisms_for(const Condition& condition) const {
  MechanismSet set;
  if (condition.factor_a) set.enable(factor_a);
  if (condition.factor_b) set.enable(factor_b);
  return set;
}

ExperimentDesign design_for(ExperimentId id, Variant variant, bool runs_as_c256) {
  Factors factors = intended_factors(id);
  if (variant == Variant::as_run) {
    if (runs_as_c256) {
      factors = intended_factors(ExperimentId::c256);
    } else if (id == ExperimentId::c259) {
      factors.a = Mechanism::energy_pooling;  // the copy-paste slip: "H2" ran pooling
    }
  }
  return {id, variant, factors.a, factors.b};
}

Condition condition_at(int index) {
  return {index, (index & 1) != 0, (index & 2) != 0};
}

std::optional<Condition> parse_condition(std::string_view name) {
  for (int i = 0; i < 4; ++i)
    if (k_condition_names[static_cast<std::size_t>(i)] == name) return condition_at(i);
  return std::nullopt;
}

std::string_view condition_name(const Condition& condition) {
  return k_condition_names[static_cast<std::size_t>(condition.index)];
}

std::string_view experiment_name(ExperimentId id) {
  return k_experiment_names[static_cast<std::size_t>(id)];
}

std::optional<ExperimentId> parse_experiment(std::string_view name) {
  for (std::size_t i = 0; i < k_experiment_names.size(); ++i)
    if (k_experiment_names[i] == name) return static_cast<ExperimentId>(i);
  return std::nullopt;
}

std::string_view variant_name(Variant variant) {
  return variant == Variant::as_run ? "as-run" : "as-intended";
}

std::optional<Variant> parse_variant(std::string_view name) {
  if (name == "as-run") return Variant::as_run;
  if (name == "as-intended") return Variant::as_intended;
  return std::nullopt;
}

std::string_view mechanism_label(Mechanism mechanism) {
  switch (mechanism) {
    case Mechanism::energy_pooling:
      return "H1 energy pooling";
    case Mechanism::reality_sources:
      return "H2 reality sources";
    case Mechanism::spawn_throttling:
      return "H4 spawn throttling";
    case Mechanism::energy_recovery:
      return "H5 energy recovery";
  }
  return "?";
}

}  // namespace nrmlab::model
