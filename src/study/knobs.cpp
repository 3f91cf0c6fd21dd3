#include "study/knobs.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "telemetry/run_settings.hpp"
#include "util/parse.hpp"

namespace nrmlab::study {
namespace {

Knob knob_of(const model::Setting& setting) {
  Knob knob;
  knob.key = setting.key;
  knob.scope =
      setting.study == model::StudyUse::telemetry_table ? KnobScope::telemetry : KnobScope::run;
  knob.type = setting.type;
  knob.flag = setting.flag();
  knob.accepted = setting.accepted;
  knob.help = setting.syntax.empty() ? setting.help : setting.syntax;
  knob.setting = &setting;
  return knob;
}

std::vector<Knob> make_knobs() {
  std::vector<Knob> list;
  for (const model::Setting* setting : telemetry::run_settings())
    if (setting->study != model::StudyUse::runner) list.push_back(knob_of(*setting));
  Knob allocator;
  allocator.key = "allocator";
  allocator.scope = KnobScope::runner;
  allocator.accepted = {"system", "jemalloc", "mimalloc"};
  allocator.help = "malloc of the run's process (jemalloc and mimalloc are preloaded)";
  list.push_back(std::move(allocator));
  return list;
}

std::string join(const std::vector<std::string_view>& items) {
  std::string text;
  for (const auto item : items)
    text += (text.empty() ? "" : ", ") + std::string(item);
  return text;
}

bool accepted(const Knob& knob, std::string_view value) {
  return std::find(knob.accepted.begin(), knob.accepted.end(), value) != knob.accepted.end();
}

bool distinct_names(const Knob& knob, std::string_view value) {
  std::vector<std::string_view> seen;
  std::size_t start = 0;
  while (start <= value.size()) {
    const std::size_t comma = std::min(value.find(',', start), value.size());
    const std::string_view name = value.substr(start, comma - start);
    if (!accepted(knob, name) || std::find(seen.begin(), seen.end(), name) != seen.end())
      return false;
    seen.push_back(name);
    start = comma + 1;
  }
  return true;
}

// The type, range and vocabulary; the setting's own check comes after.
bool well_formed(const Knob& knob, std::string_view value) {
  switch (knob.type) {
    case KnobType::toggle:
      return value == "on" || value == "off";
    case KnobType::integer: {
      const auto number = parse_number<std::int64_t>(value);
      const model::Setting* setting = knob.setting;
      return number && (setting == nullptr || !setting->ranged ||
                        (static_cast<double>(*number) >= setting->low &&
                         static_cast<double>(*number) <= setting->high));
    }
    case KnobType::unsigned_integer:
      return parse_number<std::uint64_t>(value).has_value();
    case KnobType::number: {
      const auto number = parse_number<double>(value);
      return number && std::isfinite(*number);
    }
    case KnobType::names:
      return distinct_names(knob, value);
    case KnobType::text:
      break;
  }
  return knob.accepted.empty() || accepted(knob, value);
}

}  // namespace

const std::vector<Knob>& knobs() {
  static const std::vector<Knob> k_knobs = make_knobs();
  return k_knobs;
}

const Knob* find_knob(std::string_view key) {
  for (const Knob& knob : knobs())
    if (knob.key == key) return &knob;
  return nullptr;
}

std::string knob_keys(KnobScope scope) {
  std::vector<std::string_view> keys;
  for (const Knob& knob : knobs())
    if (knob.scope == scope || (scope == KnobScope::run && knob.scope == KnobScope::runner))
      keys.push_back(knob.key);
  return join(keys);
}

bool decided_by_runner(std::string_view key) {
  const model::Setting* setting = telemetry::find_run_setting(key);
  return setting != nullptr && setting->study == model::StudyUse::runner;
}

std::string describe_expected(const Knob& knob) {
  const model::Setting* setting = knob.setting;
  switch (knob.type) {
    case KnobType::toggle:
      return "on, off, true or false";
    case KnobType::integer:
      if (setting == nullptr || !setting->ranged) return "an integer";
      return fmt::format("an integer in [{}, {}]", static_cast<std::int64_t>(setting->low),
                         static_cast<std::int64_t>(setting->high));
    case KnobType::unsigned_integer:
      return "a non-negative integer";
    case KnobType::number:
      return "a finite number";
    case KnobType::names:
      return fmt::format("an array of distinct names from: {}", join(knob.accepted));
    case KnobType::text:
      break;
  }
  if (!knob.accepted.empty()) return fmt::format("one of: {}", join(knob.accepted));
  return std::string(knob.help);
}

std::optional<std::string> check_value(const Knob& knob, std::string_view value) {
  if (!well_formed(knob, value))
    return fmt::format("{} = '{}': expected {}", knob.key, value, describe_expected(knob));
  if (knob.setting != nullptr && knob.setting->check != nullptr)
    if (const auto problem = knob.setting->check(value))
      return fmt::format("{} = '{}': {}", knob.key, value, *problem);
  return std::nullopt;
}

}  // namespace nrmlab::study
