// The closed vocabularies the analysis hands to later stages: a hypothesis' verdict, the
// direction of a condition's drift, and what a run's steps are. Each is an enum inside the
// program and the string of analysis.json (schema nrmlab.analysis/1) on disk; the one table
// per enum in verdict.cpp is the only place a string is spelled, so a new value (issue 17's
// "not identifiable from this run") is one enumerator and one table row.
//
// Consumers ask questions (`is_supported`, `is_testable`) instead of comparing values, so a
// value added later is handled by every consumer that asks the right question.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <string_view>

namespace nrmlab::analysis {

enum class Verdict {
  supported,
  not_supported,
  not_testable,
  // The data could test it, but one run cannot tell it from a rival explanation (work and
  // time trend together, collinear counters): the reason names the experiment that would.
  not_identifiable,
};

enum class DriftDirection {
  slower,
  faster,
  stable,
  too_short,    // too few steps to fit a trend
  level_shift,  // a step change of level at a change point, flat on either side (not a trend)
  // Not judged: the program marked no steps, and fixed windows of wall time cannot get slower.
  no_steps,
};

// What one step of a run is: the engine's step, a watched program's marker, or a fixed
// window of wall time standing in for steps (the program printed no marker).
enum class StepSource {
  engine,
  markers,
  time_windows,
};

// What became of one function's time between two segments of a run (or two runs), per unit
// of the run's work (code_growth.hpp).
enum class CodeChange {
  dearer,     // more time per unit of work
  more_work,  // more time per step, at the same time per unit of work
  cheaper,    // less time per unit of work
  unchanged,
  // More time per step, and the run measured no work that could tell the two apart.
  not_identifiable,
};

std::string_view to_string(Verdict verdict);
std::string_view to_string(DriftDirection direction);
std::string_view to_string(StepSource source);
std::string_view to_string(CodeChange change);

// Throw nrmlab::Error naming the value and the accepted ones.
Verdict parse_verdict(std::string_view text);
DriftDirection parse_drift_direction(std::string_view text);
StepSource parse_step_source(std::string_view text);
CodeChange parse_code_change(std::string_view text);

// For messages and test failures: the analysis.json string.
inline std::ostream& operator<<(std::ostream& out, Verdict v) {
  return out << to_string(v);
}
inline std::ostream& operator<<(std::ostream& out, DriftDirection d) {
  return out << to_string(d);
}
inline std::ostream& operator<<(std::ostream& out, StepSource s) {
  return out << to_string(s);
}
inline std::ostream& operator<<(std::ostream& out, CodeChange c) {
  return out << to_string(c);
}

constexpr bool is_supported(Verdict v) {
  return v == Verdict::supported;
}
// The data could be tested (whatever the answer; "not identifiable" was tested too).
constexpr bool is_testable(Verdict v) {
  return v != Verdict::not_testable;
}
// The step time changed within the condition: a trend either way, or a level shift.
constexpr bool is_change(DriftDirection d) {
  return d == DriftDirection::slower || d == DriftDirection::faster ||
         d == DriftDirection::level_shift;
}
// Steps of a watched program, not of the NRM engine: wording and advice follow.
constexpr bool is_foreign(StepSource s) {
  return s != StepSource::engine;
}

// analysis.json: the strings above (both json flavours; ordered_json keeps field order).
void to_json(nlohmann::ordered_json& j, Verdict v);
void to_json(nlohmann::ordered_json& j, DriftDirection d);
void to_json(nlohmann::ordered_json& j, StepSource s);
void to_json(nlohmann::ordered_json& j, CodeChange c);
void to_json(nlohmann::json& j, Verdict v);
void to_json(nlohmann::json& j, DriftDirection d);
void to_json(nlohmann::json& j, StepSource s);
void to_json(nlohmann::json& j, CodeChange c);
void from_json(const nlohmann::json& j, Verdict& v);
void from_json(const nlohmann::json& j, DriftDirection& d);
void from_json(const nlohmann::json& j, StepSource& s);
void from_json(const nlohmann::json& j, CodeChange& c);
void from_json(const nlohmann::ordered_json& j, Verdict& v);
void from_json(const nlohmann::ordered_json& j, DriftDirection& d);
void from_json(const nlohmann::ordered_json& j, StepSource& s);
void from_json(const nlohmann::ordered_json& j, CodeChange& c);

}  // namespace nrmlab::analysis
