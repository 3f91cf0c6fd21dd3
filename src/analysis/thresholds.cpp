#include "analysis/thresholds.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <map>

#include "util/error.hpp"

namespace nrmlab::analysis {
namespace {

struct Field {
  double Thresholds::*number = nullptr;
  int Thresholds::*integer = nullptr;
  bool Thresholds::*flag = nullptr;  // a boolean (true/false in TOML)
  double low = 0.0;
  double high = 0.0;
};

const std::map<std::string, Field>& fields() {
  static const std::map<std::string, Field> k_fields = {
      {"alpha", {&Thresholds::alpha, nullptr, nullptr, 1e-12, 0.5}},
      {"min_relative_drift", {&Thresholds::min_relative_drift, nullptr, nullptr, 0.0, 1e9}},
      {"min_explained_fraction", {&Thresholds::min_explained_fraction, nullptr, nullptr, 0.0, 1.0}},
      {"min_unit_cost_change", {&Thresholds::min_unit_cost_change, nullptr, nullptr, 0.0, 1e9}},
      {"min_partial_r", {&Thresholds::min_partial_r, nullptr, nullptr, 0.0, 1.0}},
      {"holm", {nullptr, nullptr, &Thresholds::holm, 0.0, 1.0}},
      {"min_cpu_wait_share", {&Thresholds::min_cpu_wait_share, nullptr, nullptr, 0.0, 1.0}},
      {"min_io_share", {&Thresholds::min_io_share, nullptr, nullptr, 0.0, 1.0}},
      {"min_ratio_growth", {&Thresholds::min_ratio_growth, nullptr, nullptr, 0.0, 1e9}},
      {"max_observer_share", {&Thresholds::max_observer_share, nullptr, nullptr, 0.0, 1.0}},
      {"windows", {nullptr, &Thresholds::windows, nullptr, 2, 10000}},
      {"equivalence_margin", {&Thresholds::equivalence_margin, nullptr, nullptr, 0.0, 1e9}},
      {"confidence", {&Thresholds::confidence, nullptr, nullptr, 0.5, 0.999999}},
      {"paper_alpha", {&Thresholds::paper_alpha, nullptr, nullptr, 1e-12, 0.5}},
      {"paper_h2_r_squared", {&Thresholds::paper_h2_r_squared, nullptr, nullptr, 0.0, 1.0}},
      {"paper_h3_r_squared", {&Thresholds::paper_h3_r_squared, nullptr, nullptr, 0.0, 1.0}},
      {"paper_h5_r_squared", {&Thresholds::paper_h5_r_squared, nullptr, nullptr, 0.0, 1.0}},
      {"paper_tier1", {&Thresholds::paper_tier1, nullptr, nullptr, 0.0, 1.0}},
      {"paper_tier2", {&Thresholds::paper_tier2, nullptr, nullptr, 0.0, 1.0}},
      {"paper_speedup_low", {&Thresholds::paper_speedup_low, nullptr, nullptr, 0.0, 1e12}},
      {"paper_speedup_high", {&Thresholds::paper_speedup_high, nullptr, nullptr, 0.0, 1e12}},
      {"paper_speedup_partial", {&Thresholds::paper_speedup_partial, nullptr, nullptr, 0.0, 1e12}},
      {"paper_variance_reduction",
       {&Thresholds::paper_variance_reduction, nullptr, nullptr, 0.0, 1.0}},
  };
  return k_fields;
}

std::string accepted_keys() {
  std::string keys;
  for (const auto& [name, field] : fields())
    keys += (keys.empty() ? "" : ", ") + name;
  return keys;
}

}  // namespace

Thresholds load_thresholds(const std::filesystem::path& file) {
  const std::string name = file.string();
  toml::table document;
  try {
    document = toml::parse_file(name);
  } catch (const toml::parse_error& error) {
    throw input_error(name, error.source().begin.line, error.description());
  }
  Thresholds thresholds;
  const toml::node* node = document.get("thresholds");
  if (node == nullptr) return thresholds;
  const toml::table* table = node->as_table();
  if (table == nullptr)
    throw input_error(name, node->source().begin.line, "[thresholds] must be a table");
  for (const auto& [key, value] : *table) {
    const std::size_t line = value.source().begin.line;
    const auto field = fields().find(std::string(key.str()));
    if (field == fields().end())
      throw input_error(
          name, line,
          fmt::format("unknown threshold '{}' (accepted: {})", key.str(), accepted_keys()));
    if (field->second.flag != nullptr) {
      const auto flag = value.value<bool>();
      if (!flag || !value.is_boolean())
        throw input_error(name, line,
                          fmt::format("threshold '{}' must be true or false", key.str()));
      thresholds.*(field->second.flag) = *flag;
      continue;
    }
    const auto number = value.value<double>();  // integers convert too
    if (!number || (field->second.integer != nullptr && !value.is_integer()))
      throw input_error(name, line,
                        fmt::format("threshold '{}' must be {}", key.str(),
                                    field->second.integer ? "an integer" : "a number"));
    if (*number < field->second.low || *number > field->second.high)
      throw input_error(name, line,
                        fmt::format("threshold '{}' = {} is outside [{}, {}]", key.str(), *number,
                                    field->second.low, field->second.high));
    if (field->second.integer != nullptr)
      thresholds.*(field->second.integer) = static_cast<int>(*number);
    else
      thresholds.*(field->second.number) = *number;
  }
  if (thresholds.paper_speedup_low > thresholds.paper_speedup_high)
    throw input_error(name, table->source().begin.line,
                      "paper_speedup_low must not exceed paper_speedup_high");
  return thresholds;
}

}  // namespace nrmlab::analysis
