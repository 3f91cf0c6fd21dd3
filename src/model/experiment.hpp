// The five experiments (model.md section 6): each a 2x2 factorial of two mechanisms, run as
// four conditions OFF-OFF, ON-OFF, OFF-ON, ON-ON (factor A first).
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace nrmlab::model {

enum class Mechanism { energy_pooling, reality_sources, spawn_throttling, energy_recovery };

// Which mechanisms are on in one condition.
struct MechanismSet {
  bool energy_pooling = false;    // H1
  bool reality_sources = false;   // H2
  bool spawn_throttling = false;  // H4
  bool energy_recovery = false;   // H5
  void enable(Mechanism mechanism);
};

enum class ExperimentId { c256, c257, c258, c259, c260 };

// `as_run` reproduces what the original scripts executed (C259's "H2" ran the pooling
// code; the "optimized" C257-C260 scripts were clones of C256); `as_intended` runs the
// mechanisms the experiments are named after.
enum class Variant { as_run, as_intended };

struct Condition {
  int index = 0;  // 0..3 in canonical order; also keys metric samples and traces
  bool factor_a = false;
  bool factor_b = false;
};

inline constexpr std::array<std::string_view, 4> k_condition_names = {"OFF-OFF", "ON-OFF", "OFF-ON",
                                                                      "ON-ON"};

struct ExperimentDesign {
  ExperimentId id = ExperimentId::c256;
  Variant variant = Variant::as_intended;
  Mechanism factor_a = Mechanism::energy_pooling;
  Mechanism factor_b = Mechanism::spawn_throttling;

  MechanismSet mechanisms_for(const Condition& condition) const;
};

// `runs_as_c256` is the optimized-as-run preset's clone slip; it only acts with as_run.
ExperimentDesign design_for(ExperimentId id, Variant variant, bool runs_as_c256 = false);

Condition condition_at(int index);
std::optional<Condition> parse_condition(std::string_view name);
std::string_view condition_name(const Condition& condition);

std::string_view experiment_name(ExperimentId id);  // "c256"
std::optional<ExperimentId> parse_experiment(std::string_view name);
std::string_view variant_name(Variant variant);
std::optional<Variant> parse_variant(std::string_view name);
std::string_view mechanism_label(Mechanism mechanism);  // "H1 energy pooling"

}  // namespace nrmlab::model
