// Step markers for `nrmlab watch`: the lines an external program prints to say where its
// steps end, and the splitting of its output stream into lines.
//
// The default marker is a line that starts (after optional spaces or tabs) with the word
// `NRMLAB`, then whitespace-separated tokens: `step=<n>` (or a bare `step`) and `key=value`
// work counters, e.g. `NRMLAB step=12 agents=40 pairs=780`. Requiring the word at the start
// keeps ordinary output that merely mentions NRMLAB from being taken for a marker. With
// `--step-regex` a line is a marker when the regex matches in it; group 1, if the regex has
// one, is the step number, and `key=number` tokens after the match are its counters.
//
// Both paths run once per output line of the watched program, so the default one uses no
// std::regex (issue 7: 100,000 markers per second; bench/step_markers_bench.cpp).
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace nrmlab::telemetry {

struct StepMarker {
  // The step number, when the marker gives one; absent, steps are counted by arrival.
  std::optional<std::int64_t> step;
  // key=value work counters, in the order of the line; keys are unique.
  std::vector<std::pair<std::string, double>> counters;
};

enum class MarkerKind { none, marker, malformed };

struct MarkerResult {
  MarkerKind kind = MarkerKind::none;
  // For malformed lines: the offending token and what was expected, e.g.
  // "step=abc: expected a non-negative integer". Empty otherwise.
  std::string problem;
};

class MarkerParser {
 public:
  // More counters than this on one line is malformed: they become stored series, and the
  // duplicate-key check is quadratic (a 64 KiB line could otherwise hold ~10,000 keys).
  static constexpr std::size_t k_max_counters = 256;
  // A --step-regex must match within this many bytes at the start of a line. libstdc++'s
  // regex_search is quadratic in the line length for patterns such as `.*x` (about
  // 0.3 s for 4 KiB on a non-matching line), so the window bounds the cost of a long line.
  static constexpr std::size_t k_regex_window = 4096;

  // The default format when `regex` is empty, else ECMAScript syntax without
  // back-references. Throws nrmlab::Error naming the regex and the reason if it is invalid.
  explicit MarkerParser(std::string regex = "");

  // Classifies one line (without its newline; one trailing \r is ignored). `out` is
  // overwritten on every call: it holds the marker when the result is `marker` and is
  // empty otherwise. Its counters' strings are reused, so a caller that keeps one
  // StepMarker across lines allocates nothing in the steady state.
  MarkerResult parse(std::string_view line, StepMarker& out) const;

  // For messages: "NRMLAB step=<n> [key=value ...]" or "lines matching /REGEX/".
  std::string describe() const;

 private:
  struct Compiled;

  MarkerResult parse_default(std::string_view line, StepMarker& out) const;
  MarkerResult parse_regex(std::string_view line, StepMarker& out) const;

  std::string m_source;
  // Null for the default format. Shared and const: a compiled regex never changes, and this
  // keeps the parser cheap to copy and <regex> out of this header.
  std::shared_ptr<const Compiled> m_compiled;
};

// Splits a byte stream (as read from a pipe, in arbitrary chunks) into lines. A line that
// lies whole inside one chunk is passed as a view into that chunk; only a line spanning
// chunks is copied. Memory stays bounded whatever arrives: a line longer than k_max_line
// is passed once, truncated to k_max_line bytes, as soon as that much has arrived, and the
// rest of it is skipped up to its newline.
//
// `on_line` is called as on_line(std::string_view line) or, if it accepts one,
// on_line(std::string_view line, bool truncated). Lines are split at '\n' only; a '\r'
// before it stays in the line (MarkerParser ignores it). The view is valid only during
// the call. If on_line throws, the rest of that chunk is dropped and the splitter stays
// usable. A truncated marker line may end inside a number, so a caller should not trust
// one (the two-argument form tells).
class LineSplitter {
 public:
  static constexpr std::size_t k_max_line = 64 * 1024;
  static_assert(std::has_single_bit(k_max_line), "the buffer grows in powers of two");

  template <typename OnLine>
  void feed(std::string_view chunk, OnLine&& on_line);
  // Passes a last line that had no newline (unless it was already passed truncated).
  template <typename OnLine>
  void finish(OnLine&& on_line);

  // How many lines were truncated so far.
  std::size_t truncated_lines() const { return m_truncated_lines; }
  // Memory held for lines that span chunks: at most k_max_line bytes.
  std::size_t buffer_capacity() const { return m_partial.capacity(); }

 private:
  template <typename OnLine>
  void emit(OnLine& on_line, std::string_view line, bool truncated);
  void take_partial(std::string_view bytes);

  std::string m_partial;    // the start of a line that spans chunks, at most k_max_line
  bool m_skipping = false;  // inside the rest of a truncated line
  std::size_t m_truncated_lines = 0;
};

inline void LineSplitter::take_partial(std::string_view bytes) {
  // Powers of two up to k_max_line (itself one): std::string's own growth, and libstdc++'s
  // reserve(), round up to twice the old capacity, which could hold 2 * k_max_line.
  const std::size_t needed = m_partial.size() + bytes.size();
  if (needed > m_partial.capacity())
    m_partial.reserve(std::min(k_max_line, std::bit_ceil(std::max<std::size_t>(needed, 256))));
  m_partial.append(bytes.data(), bytes.size());
}

template <typename OnLine>
void LineSplitter::emit(OnLine& on_line, std::string_view line, bool truncated) {
  if (truncated) ++m_truncated_lines;
  if constexpr (std::is_invocable_v<OnLine&, std::string_view, bool>)
    on_line(line, truncated);
  else
    on_line(line);
}

template <typename OnLine>
void LineSplitter::feed(std::string_view chunk, OnLine&& on_line) {
  // Clears the buffered line even if on_line throws, so a caught exception cannot glue the
  // line passed to the next one.
  struct ClearPartial {
    std::string& partial;
    ~ClearPartial() { partial.clear(); }
  };
  while (!chunk.empty()) {
    const std::size_t newline = chunk.find('\n');
    if (m_skipping) {
      if (newline == std::string_view::npos) return;
      m_skipping = false;
      chunk.remove_prefix(newline + 1);
      continue;
    }
    const std::size_t room = k_max_line - m_partial.size();
    if (newline == std::string_view::npos) {
      if (chunk.size() <= room) {
        take_partial(chunk);
        return;
      }
      // Longer than k_max_line with no end in sight: pass it now, skip the rest.
      m_skipping = true;
      take_partial(chunk.substr(0, room));
      const ClearPartial clear{m_partial};
      emit(on_line, m_partial, true);
      return;
    }
    const bool truncated = newline > room;
    if (m_partial.empty()) {
      emit(on_line, chunk.substr(0, truncated ? room : newline), truncated);
    } else {
      take_partial(chunk.substr(0, truncated ? room : newline));
      const ClearPartial clear{m_partial};
      emit(on_line, m_partial, truncated);
    }
    chunk.remove_prefix(newline + 1);
  }
}

template <typename OnLine>
void LineSplitter::finish(OnLine&& on_line) {
  if (m_skipping) {
    m_skipping = false;
    return;
  }
  if (m_partial.empty()) return;
  std::string line;
  line.swap(m_partial);
  emit(on_line, line, false);
}

}  // namespace nrmlab::telemetry
