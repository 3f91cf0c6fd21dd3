#include "analysis/verdict.hpp"

#include <fmt/format.h>

#include <array>
#include <utility>

#include "util/error.hpp"

namespace nrmlab::analysis {
namespace {

// One row per enumerator (the tests' round trip checks that none is missing).
constexpr std::array k_verdicts = {
    std::pair{Verdict::supported, std::string_view("supported")},
    std::pair{Verdict::not_supported, std::string_view("not supported")},
    std::pair{Verdict::not_testable, std::string_view("not testable")},
    std::pair{Verdict::not_identifiable, std::string_view("not identifiable")},
};
constexpr std::array k_directions = {
    std::pair{DriftDirection::slower, std::string_view("slower")},
    std::pair{DriftDirection::faster, std::string_view("faster")},
    std::pair{DriftDirection::stable, std::string_view("stable")},
    std::pair{DriftDirection::too_short, std::string_view("too short")},
    std::pair{DriftDirection::level_shift, std::string_view("level shift")},
    std::pair{DriftDirection::no_steps, std::string_view("no steps")},
};
constexpr std::array k_step_sources = {
    std::pair{StepSource::engine, std::string_view("engine")},
    std::pair{StepSource::markers, std::string_view("markers")},
    std::pair{StepSource::time_windows, std::string_view("time windows")},
};
constexpr std::array k_code_changes = {
    std::pair{CodeChange::dearer, std::string_view("dearer")},
    std::pair{CodeChange::more_work, std::string_view("more work")},
    std::pair{CodeChange::cheaper, std::string_view("cheaper")},
    std::pair{CodeChange::unchanged, std::string_view("unchanged")},
    std::pair{CodeChange::not_identifiable, std::string_view("not identifiable")},
};

template <typename Table, typename E>
std::string_view name_of(const Table& table, E value) {
  for (const auto& [v, name] : table)
    if (v == value) return name;
  return "?";
}

template <typename Table>
auto parse(const Table& table, std::string_view text, std::string_view what) {
  std::string accepted;
  for (const auto& [v, name] : table) {
    if (name == text) return v;
    accepted += fmt::format("{}\"{}\"", accepted.empty() ? "" : ", ", name);
  }
  throw Error(fmt::format("unknown {} \"{}\" (expected one of {})", what, text, accepted));
}

template <typename E, typename Json>
E parse_json(const Json& j, E (*parser)(std::string_view), std::string_view what) {
  if (!j.is_string()) throw Error(fmt::format("{} must be a string, not {}", what, j.dump()));
  return parser(j.template get_ref<const std::string&>());
}

}  // namespace

std::string_view to_string(Verdict verdict) {
  return name_of(k_verdicts, verdict);
}
std::string_view to_string(DriftDirection direction) {
  return name_of(k_directions, direction);
}
std::string_view to_string(StepSource source) {
  return name_of(k_step_sources, source);
}
std::string_view to_string(CodeChange change) {
  return name_of(k_code_changes, change);
}

Verdict parse_verdict(std::string_view text) {
  return parse(k_verdicts, text, "verdict");
}
DriftDirection parse_drift_direction(std::string_view text) {
  return parse(k_directions, text, "drift direction");
}
StepSource parse_step_source(std::string_view text) {
  return parse(k_step_sources, text, "step source");
}
CodeChange parse_code_change(std::string_view text) {
  return parse(k_code_changes, text, "code change");
}

void to_json(nlohmann::ordered_json& j, Verdict v) {
  j = to_string(v);
}
void to_json(nlohmann::ordered_json& j, DriftDirection d) {
  j = to_string(d);
}
void to_json(nlohmann::ordered_json& j, StepSource s) {
  j = to_string(s);
}
void to_json(nlohmann::ordered_json& j, CodeChange c) {
  j = to_string(c);
}
void to_json(nlohmann::json& j, Verdict v) {
  j = to_string(v);
}
void to_json(nlohmann::json& j, DriftDirection d) {
  j = to_string(d);
}
void to_json(nlohmann::json& j, StepSource s) {
  j = to_string(s);
}
void to_json(nlohmann::json& j, CodeChange c) {
  j = to_string(c);
}
void from_json(const nlohmann::json& j, Verdict& v) {
  v = parse_json(j, parse_verdict, "verdict");
}
void from_json(const nlohmann::json& j, DriftDirection& d) {
  d = parse_json(j, parse_drift_direction, "drift direction");
}
void from_json(const nlohmann::json& j, StepSource& s) {
  s = parse_json(j, parse_step_source, "step source");
}
void from_json(const nlohmann::json& j, CodeChange& c) {
  c = parse_json(j, parse_code_change, "code change");
}
void from_json(const nlohmann::ordered_json& j, Verdict& v) {
  v = parse_json(j, parse_verdict, "verdict");
}
void from_json(const nlohmann::ordered_json& j, DriftDirection& d) {
  d = parse_json(j, parse_drift_direction, "drift direction");
}
void from_json(const nlohmann::ordered_json& j, StepSource& s) {
  s = parse_json(j, parse_step_source, "step source");
}
void from_json(const nlohmann::ordered_json& j, CodeChange& c) {
  c = parse_json(j, parse_code_change, "code change");
}

}  // namespace nrmlab::analysis
