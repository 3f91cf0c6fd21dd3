// Step-marker parsing for `nrmlab watch` (issue 7): it must keep up with 100,000 markers
// per second, so the default format's budget is 1 µs per line. Each case reports its time
// per line; the regex cases show what --step-regex costs in comparison.
#include <string>
#include <string_view>

#include <benchmark/benchmark.h>

#include "telemetry/step_markers.hpp"

namespace nrmlab {
namespace {

constexpr std::string_view k_default_marker =
    "NRMLAB step=123456 agents=412 resonance_pairs=84666 db_rows=1031";
// Typical program output of about the same length, which is most of what watch reads.
constexpr std::string_view k_plain_line =
    "2024-05-01 12:00:01.123 INFO evolve: 412 agents, 84666 pairs, 17 clusters";
constexpr std::string_view k_regex = R"(^iter (\d+) done)";
constexpr std::string_view k_regex_marker =
    "iter 123456 done agents=412 resonance_pairs=84666 db_rows=1031";

void parse_line(benchmark::State& state, const telemetry::MarkerParser& parser,
                std::string_view line, telemetry::MarkerKind expected) {
  telemetry::StepMarker marker;  // reused across lines, as watch does
  if (parser.parse(line, marker).kind != expected) {
    state.SkipWithError("unexpected classification");
    return;
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(parser.parse(line, marker));
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_DefaultMarker(benchmark::State& state) {
  parse_line(state, telemetry::MarkerParser(), k_default_marker, telemetry::MarkerKind::marker);
}
BENCHMARK(BM_DefaultMarker);

void BM_DefaultPlainLine(benchmark::State& state) {
  parse_line(state, telemetry::MarkerParser(), k_plain_line, telemetry::MarkerKind::none);
}
BENCHMARK(BM_DefaultPlainLine);

void BM_DefaultMalformed(benchmark::State& state) {
  parse_line(state, telemetry::MarkerParser(), "NRMLAB step=abc agents=412",
             telemetry::MarkerKind::malformed);
}
BENCHMARK(BM_DefaultMalformed);

void BM_RegexMarker(benchmark::State& state) {
  parse_line(state, telemetry::MarkerParser(std::string(k_regex)), k_regex_marker,
             telemetry::MarkerKind::marker);
}
BENCHMARK(BM_RegexMarker);

void BM_RegexPlainLine(benchmark::State& state) {
  parse_line(state, telemetry::MarkerParser(std::string(k_regex)), k_plain_line,
             telemetry::MarkerKind::none);
}
BENCHMARK(BM_RegexPlainLine);

// An unanchored regex must be tried at every position of a line that does not match.
void BM_RegexUnanchoredPlainLine(benchmark::State& state) {
  parse_line(state, telemetry::MarkerParser(R"(iter (\d+) done)"), k_plain_line,
             telemetry::MarkerKind::none);
}
BENCHMARK(BM_RegexUnanchoredPlainLine);

// Splitting a pipe's 64 KiB reads into lines, per line, for a stream of default markers.
void BM_SplitAndParse(benchmark::State& state) {
  std::string chunk;
  while (chunk.size() + k_default_marker.size() < 64 * 1024)
    chunk.append(k_default_marker).append("\n");
  const std::size_t lines_per_chunk = chunk.size() / (k_default_marker.size() + 1);
  const telemetry::MarkerParser parser;
  telemetry::StepMarker marker;
  telemetry::LineSplitter splitter;
  std::size_t markers = 0;
  for (auto _ : state) {
    splitter.feed(chunk, [&](std::string_view line) {
      markers += parser.parse(line, marker).kind == telemetry::MarkerKind::marker;
    });
  }
  benchmark::DoNotOptimize(markers);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * lines_per_chunk));
}
BENCHMARK(BM_SplitAndParse);

}  // namespace
}  // namespace nrmlab
