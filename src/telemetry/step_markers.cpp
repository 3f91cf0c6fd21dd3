#include "telemetry/step_markers.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <system_error>

// GCC 12 with the sanitizers reports a false -Wmaybe-uninitialized inside libstdc++'s
// regex compiler (a std::function in a moved-from NFA state); the code is not ours.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <regex>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#include "util/error.hpp"

namespace nrmlab::telemetry {

struct MarkerParser::Compiled {
  std::regex regex;
};

namespace {

constexpr std::string_view k_word = "NRMLAB";
constexpr std::string_view k_default_description = "NRMLAB step=<n> [key=value ...]";
constexpr std::string_view k_key_rule = "[A-Za-z_][A-Za-z0-9_.]*";
// Tokens quoted in a problem are cut to this length, so a warning about a 64 KiB line
// stays one readable line.
constexpr std::size_t k_max_quoted = 40;

// libstdc++'s default regex executor recurses once per character for patterns such as
// `.*x` and overflows an 8 MB stack on a 32-64 KiB line. `__polynomial` selects its
// breadth-first executor, whose depth is bounded by the pattern instead; the price is no
// back-references and longest-match choice between alternatives (`a|ab` takes "ab").
#if defined(__GLIBCXX__)
constexpr auto k_regex_flags = std::regex::ECMAScript | std::regex_constants::__polynomial;
#else
constexpr auto k_regex_flags = std::regex::ECMAScript;
#endif

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

bool is_letter(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

bool is_key(std::string_view key) {
  if (key.empty() || !is_letter(key.front())) return false;
  for (const char c : key.substr(1))
    if (!is_letter(c) && !(c >= '0' && c <= '9') && c != '.') return false;
  return true;
}

// Whitespace-separated tokens of a line.
class Tokens {
 public:
  explicit Tokens(std::string_view text) : m_rest(text) {}
  // The next token, or empty at the end.
  std::string_view next() {
    std::size_t begin = 0;
    while (begin < m_rest.size() && is_blank(m_rest[begin]))
      ++begin;
    std::size_t end = begin;
    while (end < m_rest.size() && !is_blank(m_rest[end]))
      ++end;
    const std::string_view token = m_rest.substr(begin, end - begin);
    m_rest.remove_prefix(end);
    return token;
  }

 private:
  std::string_view m_rest;
};

std::string quoted(std::string_view token) {
  if (token.size() <= k_max_quoted) return std::string(token);
  return fmt::format("{}...", token.substr(0, k_max_quoted));
}

// "" when `text` is a step number, else what was expected.
std::string_view parse_step(std::string_view text, std::int64_t& step) {
  constexpr std::string_view k_expected = "expected a non-negative integer";
  // from_chars takes "-0" and "-5"; a step is never negative.
  if (text.empty() || text.front() == '-') return k_expected;
  const char* last = text.data() + text.size();
  const auto [end, error] = std::from_chars(text.data(), last, step);
  if (error == std::errc::result_out_of_range && end == last)
    return "expected a non-negative integer of at most 19 digits";
  if (error != std::errc{} || end != last) return k_expected;
  return {};
}

enum class ValueStatus { number, not_a_number, not_finite };

// Strict: the whole text is the number (integer, decimal or exponent form; no '+', no hex).
ValueStatus parse_value(std::string_view text, double& value) {
  if (text.empty()) return ValueStatus::not_a_number;
  const char* last = text.data() + text.size();
  const auto [end, error] = std::from_chars(text.data(), last, value);
  if (end != last) return ValueStatus::not_a_number;
  if (error == std::errc::result_out_of_range) return ValueStatus::not_finite;
  if (error != std::errc{}) return ValueStatus::not_a_number;
  // from_chars accepts "inf" and "nan": a counter that is not finite cannot be summed or
  // fitted, so it is rejected rather than stored.
  return std::isfinite(value) ? ValueStatus::number : ValueStatus::not_finite;
}

// Writes counters into a StepMarker, reusing the strings already there.
class CounterWriter {
 public:
  explicit CounterWriter(StepMarker& out) : m_counters(out.counters) {}

  bool contains(std::string_view key) const {
    for (std::size_t i = 0; i < m_size; ++i)
      if (m_counters[i].first == key) return true;
    return false;
  }
  bool full() const { return m_size == MarkerParser::k_max_counters; }
  void add(std::string_view key, double value) {
    if (m_size < m_counters.size()) {
      m_counters[m_size].first.assign(key.data(), key.size());
      m_counters[m_size].second = value;
    } else {
      m_counters.emplace_back(std::string(key), value);
    }
    ++m_size;
  }
  void commit() { m_counters.resize(m_size); }

 private:
  std::vector<std::pair<std::string, double>>& m_counters;
  std::size_t m_size = 0;
};

// The problem with adding `key` (from `token`), or "" if it can be added.
std::string check_new_key(const CounterWriter& counters, std::string_view token,
                          std::string_view key) {
  if (counters.contains(key)) return fmt::format("{}: duplicate key {}", quoted(token), key);
  if (counters.full())
    return fmt::format("{}: more than {} counters", quoted(token), MarkerParser::k_max_counters);
  return {};
}

MarkerResult no_marker(StepMarker& out) {
  out.step.reset();
  out.counters.clear();
  return {};
}

MarkerResult malformed(StepMarker& out, std::string problem) {
  no_marker(out);
  return {MarkerKind::malformed, std::move(problem)};
}

}  // namespace

MarkerParser::MarkerParser(std::string regex) : m_source(std::move(regex)) {
  if (m_source.empty()) return;
  try {
    m_compiled = std::make_shared<const Compiled>(Compiled{std::regex(m_source, k_regex_flags)});
  } catch (const std::regex_error& error) {
    // Under __polynomial the only complexity error at construction is a back-reference;
    // libstdc++'s wording for it ("polynomial mode") would mean nothing to a user.
    const std::string reason = error.code() == std::regex_constants::error_complexity
                                   ? std::string("back-references (\\1) are not supported")
                                   : std::string(error.what());
    throw Error(fmt::format("invalid --step-regex /{}/: {}", m_source, reason));
  }
}

std::string MarkerParser::describe() const {
  if (!m_compiled) return std::string(k_default_description);
  return fmt::format("lines matching /{}/", m_source);
}

MarkerResult MarkerParser::parse(std::string_view line, StepMarker& out) const {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return m_compiled ? parse_regex(line, out) : parse_default(line, out);
}

MarkerResult MarkerParser::parse_default(std::string_view line, StepMarker& out) const {
  std::size_t start = 0;
  while (start < line.size() && is_blank(line[start]))
    ++start;
  line.remove_prefix(start);
  // The word must stand alone: "NRMLAB_HOME=..." or "NRMLAB: ..." is ordinary output.
  if (!line.starts_with(k_word)) return no_marker(out);
  line.remove_prefix(k_word.size());
  if (!line.empty() && !is_blank(line.front())) return no_marker(out);

  Tokens tokens(line);
  CounterWriter counters(out);
  bool step_seen = false;
  std::optional<std::int64_t> step;
  std::string_view token = tokens.next();
  if (token.empty()) return malformed(out, "expected step=<n> or key=value after NRMLAB");
  for (; !token.empty(); token = tokens.next()) {
    const std::size_t equals = token.find('=');
    const std::string_view key = token.substr(0, equals);
    if (key == "step") {
      if (step_seen) return malformed(out, fmt::format("{}: step given twice", quoted(token)));
      step_seen = true;
      // A bare `step` is a step without a number, like a marker without step=.
      if (equals == std::string_view::npos) continue;
      std::int64_t number = 0;
      const std::string_view expected = parse_step(token.substr(equals + 1), number);
      if (!expected.empty()) return malformed(out, fmt::format("{}: {}", quoted(token), expected));
      step = number;
      continue;
    }
    if (equals == std::string_view::npos)
      return malformed(out, fmt::format("{}: expected step=<n> or key=value", quoted(token)));
    if (!is_key(key))
      return malformed(out,
                       fmt::format("{}: expected a key matching {}", quoted(token), k_key_rule));
    double value = 0.0;
    switch (parse_value(token.substr(equals + 1), value)) {
      case ValueStatus::number:
        break;
      case ValueStatus::not_a_number:
        return malformed(out, fmt::format("{}: expected a number", quoted(token)));
      case ValueStatus::not_finite:
        return malformed(out, fmt::format("{}: expected a finite number", quoted(token)));
    }
    if (std::string problem = check_new_key(counters, token, key); !problem.empty())
      return malformed(out, std::move(problem));
    counters.add(key, value);
  }
  counters.commit();
  out.step = step;
  return {MarkerKind::marker, {}};
}

MarkerResult MarkerParser::parse_regex(std::string_view line, StepMarker& out) const {
  const std::string_view window = line.substr(0, k_regex_window);
  // match_not_null: a pattern that can match nothing (`x*`) would otherwise mark every
  // line; with it, the first non-empty match counts. match_not_eol: `$` must not match
  // where the window cuts a longer line.
  auto flags = std::regex_constants::match_not_null;
  if (window.size() < line.size()) flags |= std::regex_constants::match_not_eol;
  std::cmatch match;
  try {
    if (!std::regex_search(window.data(), window.data() + window.size(), match, m_compiled->regex,
                           flags))
      return no_marker(out);
  } catch (const std::regex_error& error) {
    // The breadth-first executor is not known to throw here; if it ever does, one line
    // is lost, not the recording.
    return malformed(out, fmt::format("/{}/ could not be matched: {}", m_source, error.what()));
  }

  std::optional<std::int64_t> step;
  if (match.size() > 1 && match[1].matched) {
    const std::string_view text(match[1].first, static_cast<std::size_t>(match[1].length()));
    std::int64_t number = 0;
    const std::string_view expected = parse_step(text, number);
    if (!expected.empty())
      return malformed(out, fmt::format("step '{}' (group 1): {}", quoted(text), expected));
    step = number;
  }

  // Free text is expected around the match, so only `key=number` tokens with a valid key
  // are counters and anything else is skipped; `step` is reserved for the step number.
  Tokens tokens(line.substr(static_cast<std::size_t>(match.position(0) + match.length(0))));
  CounterWriter counters(out);
  for (std::string_view token = tokens.next(); !token.empty(); token = tokens.next()) {
    const std::size_t equals = token.find('=');
    if (equals == std::string_view::npos) continue;
    const std::string_view key = token.substr(0, equals);
    if (key == "step" || !is_key(key)) continue;
    double value = 0.0;
    switch (parse_value(token.substr(equals + 1), value)) {
      case ValueStatus::number:
        break;
      case ValueStatus::not_a_number:
        continue;
      case ValueStatus::not_finite:
        return malformed(out, fmt::format("{}: expected a finite number", quoted(token)));
    }
    if (std::string problem = check_new_key(counters, token, key); !problem.empty())
      return malformed(out, std::move(problem));
    counters.add(key, value);
  }
  counters.commit();
  out.step = step;
  return {MarkerKind::marker, {}};
}

}  // namespace nrmlab::telemetry
