#include "telemetry/step_markers.hpp"

#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "util/error.hpp"

namespace nrmlab::telemetry {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

struct Parsed {
  MarkerResult result;
  StepMarker marker;
};

Parsed parse(const MarkerParser& parser, std::string_view line) {
  Parsed parsed;
  parsed.result = parser.parse(line, parsed.marker);
  return parsed;
}

Parsed parse(std::string_view line) {
  return parse(MarkerParser(), line);
}

// The problem text of a line that must be malformed.
std::string problem(const MarkerParser& parser, std::string_view line) {
  const Parsed parsed = parse(parser, line);
  EXPECT_EQ(parsed.result.kind, MarkerKind::malformed) << line;
  EXPECT_TRUE(parsed.marker.counters.empty()) << line;
  EXPECT_FALSE(parsed.marker.step) << line;
  return parsed.result.problem;
}

std::string problem(std::string_view line) {
  return problem(MarkerParser(), line);
}

// --- the default format --------------------------------------------------------------

TEST(StepMarkers, DocumentedFormGivesTheStepAndCountersInOrder) {
  const Parsed parsed = parse("NRMLAB step=12 agents=40 pairs=780 zeta=1");
  ASSERT_EQ(parsed.result.kind, MarkerKind::marker);
  EXPECT_TRUE(parsed.result.problem.empty());
  EXPECT_EQ(parsed.marker.step, 12);
  EXPECT_THAT(parsed.marker.counters,
              ElementsAre(Pair("agents", 40.0), Pair("pairs", 780.0), Pair("zeta", 1.0)));
}

TEST(StepMarkers, StepAloneAndLargeStepNumbers) {
  EXPECT_EQ(parse("NRMLAB step=0").marker.step, 0);
  EXPECT_EQ(parse("NRMLAB step=007").marker.step, 7);
  EXPECT_EQ(parse("NRMLAB step=9223372036854775807").marker.step, INT64_MAX);
  EXPECT_TRUE(parse("NRMLAB step=3").marker.counters.empty());
}

TEST(StepMarkers, ValuesAreIntegersDecimalsOrExponentForm) {
  const Parsed parsed = parse("NRMLAB step=1 a=3 b=2.5 c=-4 d=.5 e=1e6 f=0 g=1.25E-3");
  ASSERT_EQ(parsed.result.kind, MarkerKind::marker);
  EXPECT_THAT(parsed.marker.counters,
              ElementsAre(Pair("a", 3.0), Pair("b", 2.5), Pair("c", -4.0), Pair("d", 0.5),
                          Pair("e", 1e6), Pair("f", 0.0), Pair("g", 1.25e-3)));
}

TEST(StepMarkers, KeysMayHoldUnderscoresDigitsAndDots) {
  const Parsed parsed = parse("NRMLAB step=1 _x=1 db.rows=2 A9_b.c=3");
  ASSERT_EQ(parsed.result.kind, MarkerKind::marker);
  EXPECT_THAT(parsed.marker.counters,
              ElementsAre(Pair("_x", 1.0), Pair("db.rows", 2.0), Pair("A9_b.c", 3.0)));
}

TEST(StepMarkers, LeadingWhitespaceAndRunsOfBlanksAreAllowed) {
  const Parsed parsed = parse(" \t  NRMLAB\tstep=5   a=1 \t b=2  ");
  ASSERT_EQ(parsed.result.kind, MarkerKind::marker);
  EXPECT_EQ(parsed.marker.step, 5);
  EXPECT_THAT(parsed.marker.counters, ElementsAre(Pair("a", 1.0), Pair("b", 2.0)));
}

TEST(StepMarkers, ATrailingCarriageReturnIsIgnored) {
  const Parsed parsed = parse("NRMLAB step=3 a=1\r");
  ASSERT_EQ(parsed.result.kind, MarkerKind::marker);
  EXPECT_EQ(parsed.marker.step, 3);
  EXPECT_THAT(parsed.marker.counters, ElementsAre(Pair("a", 1.0)));
  EXPECT_EQ(parse("NRMLAB step=4\r").marker.step, 4);
}

TEST(StepMarkers, OnlyALineStartingWithTheWordNrmlabIsAMarker) {
  for (const char* line : {"", "\r", "   ", "hello world", "log: NRMLAB step=1",
                           "[rank 0] NRMLAB step=1", "NRMLAB_HOME=/opt/nrmlab", "NRMLAB: started",
                           "NRMLABstep=1", "nrmlab step=1", "Nrmlab step=1", "NRMLA step=1"}) {
    const Parsed parsed = parse(line);
    EXPECT_EQ(parsed.result.kind, MarkerKind::none) << line;
    EXPECT_TRUE(parsed.result.problem.empty()) << line;
  }
}

TEST(StepMarkers, AMarkerWithoutAStepNumberCountsByArrival) {
  const Parsed counters_only = parse("NRMLAB agents=3");
  ASSERT_EQ(counters_only.result.kind, MarkerKind::marker);
  EXPECT_FALSE(counters_only.marker.step);
  EXPECT_THAT(counters_only.marker.counters, ElementsAre(Pair("agents", 3.0)));

  const Parsed bare_step = parse("NRMLAB step");
  ASSERT_EQ(bare_step.result.kind, MarkerKind::marker);
  EXPECT_FALSE(bare_step.marker.step);
  EXPECT_TRUE(bare_step.marker.counters.empty());

  const Parsed bare_with_counters = parse("NRMLAB step a=1");
  ASSERT_EQ(bare_with_counters.result.kind, MarkerKind::marker);
  EXPECT_FALSE(bare_with_counters.marker.step);
  EXPECT_THAT(bare_with_counters.marker.counters, ElementsAre(Pair("a", 1.0)));
}

TEST(StepMarkers, StepMayComeAfterCounters) {
  const Parsed parsed = parse("NRMLAB agents=3 step=4 pairs=6");
  ASSERT_EQ(parsed.result.kind, MarkerKind::marker);
  EXPECT_EQ(parsed.marker.step, 4);
  EXPECT_THAT(parsed.marker.counters, ElementsAre(Pair("agents", 3.0), Pair("pairs", 6.0)));
}

TEST(StepMarkers, NrmlabWithNothingAfterItIsMalformed) {
  EXPECT_EQ(problem("NRMLAB"), "expected step=<n> or key=value after NRMLAB");
  EXPECT_EQ(problem("  NRMLAB  \t \r"), "expected step=<n> or key=value after NRMLAB");
}

TEST(StepMarkers, ABadStepNumberIsMalformed) {
  EXPECT_EQ(problem("NRMLAB step=abc"), "step=abc: expected a non-negative integer");
  EXPECT_EQ(problem("NRMLAB step="), "step=: expected a non-negative integer");
  EXPECT_EQ(problem("NRMLAB step=-1"), "step=-1: expected a non-negative integer");
  EXPECT_EQ(problem("NRMLAB step=-0"), "step=-0: expected a non-negative integer");
  EXPECT_EQ(problem("NRMLAB step=+1"), "step=+1: expected a non-negative integer");
  EXPECT_EQ(problem("NRMLAB step=1.5"), "step=1.5: expected a non-negative integer");
  EXPECT_EQ(problem("NRMLAB step=1e3"), "step=1e3: expected a non-negative integer");
  EXPECT_EQ(problem("NRMLAB step=12a a=1"), "step=12a: expected a non-negative integer");
  EXPECT_EQ(problem("NRMLAB step=9223372036854775808"),
            "step=9223372036854775808: expected a non-negative integer of at most 19 digits");
}

TEST(StepMarkers, AStepGivenTwiceIsMalformed) {
  EXPECT_EQ(problem("NRMLAB step=1 step=2"), "step=2: step given twice");
  EXPECT_EQ(problem("NRMLAB step step=2"), "step=2: step given twice");
  EXPECT_EQ(problem("NRMLAB step=1 step"), "step: step given twice");
}

TEST(StepMarkers, ABadValueIsMalformed) {
  EXPECT_EQ(problem("NRMLAB step=1 agents="), "agents=: expected a number");
  EXPECT_EQ(problem("NRMLAB step=1 agents=1.2.3"), "agents=1.2.3: expected a number");
  EXPECT_EQ(problem("NRMLAB step=1 agents=5ms"), "agents=5ms: expected a number");
  EXPECT_EQ(problem("NRMLAB step=1 agents=+1"), "agents=+1: expected a number");
  EXPECT_EQ(problem("NRMLAB step=1 agents=0x10"), "agents=0x10: expected a number");
  EXPECT_EQ(problem("NRMLAB step=1 agents=a=1"), "agents=a=1: expected a number");
  EXPECT_EQ(problem("NRMLAB step=1 agents=1,5"), "agents=1,5: expected a number");
}

TEST(StepMarkers, ANonFiniteValueIsMalformed) {
  EXPECT_EQ(problem("NRMLAB step=1 loss=nan"), "loss=nan: expected a finite number");
  EXPECT_EQ(problem("NRMLAB step=1 loss=inf"), "loss=inf: expected a finite number");
  EXPECT_EQ(problem("NRMLAB step=1 loss=-infinity"), "loss=-infinity: expected a finite number");
  EXPECT_EQ(problem("NRMLAB step=1 loss=1e999"), "loss=1e999: expected a finite number");
}

TEST(StepMarkers, ABadKeyIsMalformed) {
  const std::string rule = ": expected a key matching [A-Za-z_][A-Za-z0-9_.]*";
  EXPECT_EQ(problem("NRMLAB step=1 9lives=1"), "9lives=1" + rule);
  EXPECT_EQ(problem("NRMLAB step=1 =1"), "=1" + rule);
  EXPECT_EQ(problem("NRMLAB step=1 a-b=1"), "a-b=1" + rule);
  EXPECT_EQ(problem("NRMLAB step=1 .a=1"), ".a=1" + rule);
  EXPECT_EQ(problem("NRMLAB step=1 caf\xc3\xa9=1"), "caf\xc3\xa9=1" + rule);
}

TEST(StepMarkers, ADuplicateKeyIsMalformed) {
  EXPECT_EQ(problem("NRMLAB step=1 agents=1 pairs=2 agents=2"), "agents=2: duplicate key agents");
}

TEST(StepMarkers, ATokenThatIsNotKeyValueIsMalformed) {
  EXPECT_EQ(problem("NRMLAB hello world"), "hello: expected step=<n> or key=value");
  EXPECT_EQ(problem("NRMLAB step=1 done"), "done: expected step=<n> or key=value");
  EXPECT_EQ(problem("NRMLAB steps=1 # comment"), "#: expected step=<n> or key=value");
}

TEST(StepMarkers, ALongTokenIsShortenedInTheProblem) {
  const std::string token = "step=" + std::string(1000, '7') + "x";
  EXPECT_EQ(problem("NRMLAB " + token),
            token.substr(0, 40) + "...: expected a non-negative integer");
}

TEST(StepMarkers, CountersAreCappedPerLine) {
  std::string line = "NRMLAB step=1";
  for (std::size_t i = 0; i < MarkerParser::k_max_counters; ++i)
    line += " k" + std::to_string(i) + "=" + std::to_string(i);
  const Parsed full = parse(line);
  ASSERT_EQ(full.result.kind, MarkerKind::marker);
  EXPECT_EQ(full.marker.counters.size(), MarkerParser::k_max_counters);
  EXPECT_EQ(problem(line + " one_more=1"), "one_more=1: more than 256 counters");
}

TEST(StepMarkers, TheOutputIsOverwrittenOnEveryLine) {
  const MarkerParser parser;
  StepMarker marker;
  ASSERT_EQ(parser.parse("NRMLAB step=1 a=1 b=2 c=3", marker).kind, MarkerKind::marker);
  ASSERT_EQ(parser.parse("NRMLAB x=9", marker).kind, MarkerKind::marker);
  EXPECT_FALSE(marker.step);
  EXPECT_THAT(marker.counters, ElementsAre(Pair("x", 9.0)));
  ASSERT_EQ(parser.parse("NRMLAB step=2 a_much_longer_key_than_fits_inline=1", marker).kind,
            MarkerKind::marker);
  EXPECT_EQ(marker.step, 2);
  EXPECT_THAT(marker.counters, ElementsAre(Pair("a_much_longer_key_than_fits_inline", 1.0)));
  EXPECT_EQ(parser.parse("ordinary output", marker).kind, MarkerKind::none);
  EXPECT_FALSE(marker.step);
  EXPECT_TRUE(marker.counters.empty());
  ASSERT_EQ(parser.parse("NRMLAB step=3 a=1", marker).kind, MarkerKind::marker);
  EXPECT_EQ(parser.parse("NRMLAB step=4 a=1 a=2", marker).kind, MarkerKind::malformed);
  EXPECT_FALSE(marker.step);
  EXPECT_TRUE(marker.counters.empty());
}

TEST(StepMarkers, DescribesTheDefaultFormat) {
  EXPECT_EQ(MarkerParser().describe(), "NRMLAB step=<n> [key=value ...]");
  EXPECT_EQ(MarkerParser("").describe(), "NRMLAB step=<n> [key=value ...]");
}

// --- --step-regex --------------------------------------------------------------------

TEST(StepMarkersRegex, WithoutAGroupAMatchIsAStepCountedByArrival) {
  const MarkerParser parser("^step done");
  const Parsed parsed = parse(parser, "step done in 3 ms a=1 b=2.5 free text");
  ASSERT_EQ(parsed.result.kind, MarkerKind::marker);
  EXPECT_FALSE(parsed.marker.step);
  EXPECT_THAT(parsed.marker.counters, ElementsAre(Pair("a", 1.0), Pair("b", 2.5)));
  EXPECT_EQ(parse(parser, "the step done").result.kind, MarkerKind::none);
  EXPECT_EQ(parse(parser, "NRMLAB step=1").result.kind, MarkerKind::none);
}

TEST(StepMarkersRegex, GroupOneIsTheStepNumber) {
  const MarkerParser parser(R"(iter (\d+))");
  const Parsed parsed = parse(parser, "[12:00:01] iter 42 loss=0.5 lr=1e-3");
  ASSERT_EQ(parsed.result.kind, MarkerKind::marker);
  EXPECT_EQ(parsed.marker.step, 42);
  EXPECT_THAT(parsed.marker.counters, ElementsAre(Pair("loss", 0.5), Pair("lr", 1e-3)));
  EXPECT_EQ(parse(parser, "iteration 42").result.kind, MarkerKind::none);
}

TEST(StepMarkersRegex, AGroupThatIsNotAnIntegerIsMalformed) {
  const MarkerParser parser(R"(^iter (\S+))");
  EXPECT_EQ(problem(parser, "iter abc x=1"),
            "step 'abc' (group 1): expected a non-negative integer");
  EXPECT_EQ(problem(parser, "iter -3"), "step '-3' (group 1): expected a non-negative integer");
  EXPECT_EQ(problem(MarkerParser(R"(^iter (\d*))"), "iter x"),
            "step '' (group 1): expected a non-negative integer");
}

TEST(StepMarkersRegex, AnOptionalGroupThatDidNotTakePartLeavesTheStepAbsent) {
  const MarkerParser parser(R"(^step(?: (\d+))?)");
  const Parsed without = parse(parser, "step done a=1");
  ASSERT_EQ(without.result.kind, MarkerKind::marker);
  EXPECT_FALSE(without.marker.step);
  EXPECT_EQ(parse(parser, "step 8 done").marker.step, 8);
}

TEST(StepMarkersRegex, OnlyKeyNumberTokensAfterTheMatchAreCounters) {
  const MarkerParser parser(R"(STEP (\d+))");
  const Parsed parsed = parse(parser,
                              "before=1 STEP 3 path=/tmp/x a= b=1.2.3 9x=1 step=7 c=2 (d=1) "
                              "e=5ms f=1, g=-1 plain");
  ASSERT_EQ(parsed.result.kind, MarkerKind::marker);
  EXPECT_EQ(parsed.marker.step, 3);
  EXPECT_THAT(parsed.marker.counters, ElementsAre(Pair("c", 2.0), Pair("g", -1.0)));
}

TEST(StepMarkersRegex, NonFiniteAndDuplicateCountersAreMalformed) {
  const MarkerParser parser(R"(STEP (\d+))");
  EXPECT_EQ(problem(parser, "STEP 1 loss=nan"), "loss=nan: expected a finite number");
  EXPECT_EQ(problem(parser, "STEP 1 a=1 a=2"), "a=2: duplicate key a");
}

TEST(StepMarkersRegex, ATrailingCarriageReturnIsIgnoredBeforeMatching) {
  const MarkerParser parser(R"(^done (\d+)$)");
  const Parsed parsed = parse(parser, "done 5\r");
  ASSERT_EQ(parsed.result.kind, MarkerKind::marker);
  EXPECT_EQ(parsed.marker.step, 5);
}

TEST(StepMarkersRegex, AnEmptyMatchIsNotAMarker) {
  const MarkerParser parser("x*");
  EXPECT_EQ(parse(parser, "abc").result.kind, MarkerKind::none);
  EXPECT_EQ(parse(parser, "").result.kind, MarkerKind::none);
  EXPECT_EQ(parse(parser, "axx a=1").result.kind, MarkerKind::marker);
  EXPECT_THAT(parse(parser, "axx a=1").marker.counters, ElementsAre(Pair("a", 1.0)));
}

TEST(StepMarkersRegex, TheMatchMustLieInTheFirstBytesOfALongLine) {
  const MarkerParser parser(R"(^(?:a|b)*c (\d+))");
  const std::string inside = std::string(3000, 'a') + "c 9 x=1";
  EXPECT_EQ(parse(parser, inside).marker.step, 9);
  const std::string beyond = std::string(LineSplitter::k_max_line, 'a') + "c 9";
  EXPECT_EQ(parse(parser, beyond).result.kind, MarkerKind::none);
  // `$` must not match where the window cuts the line.
  const MarkerParser at_end(R"(^a+$)");
  EXPECT_EQ(parse(at_end, std::string(MarkerParser::k_regex_window, 'a')).result.kind,
            MarkerKind::marker);
  EXPECT_EQ(parse(at_end, std::string(MarkerParser::k_regex_window + 1, 'a')).result.kind,
            MarkerKind::none);
}

TEST(StepMarkersRegex, CountersAreReadFromTheWholeLongLine) {
  const MarkerParser parser(R"(^STEP (\d+))");
  const std::string line = "STEP 4 " + std::string(10000, 'x') + " late=3";
  const Parsed parsed = parse(parser, line);
  ASSERT_EQ(parsed.result.kind, MarkerKind::marker);
  EXPECT_THAT(parsed.marker.counters, ElementsAre(Pair("late", 3.0)));
}

TEST(StepMarkersRegex, AnInvalidRegexIsAnErrorNamingItAndTheReason) {
  try {
    MarkerParser parser("step (\\d+");
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("invalid --step-regex /step (\\d+/: "));
    EXPECT_THAT(error.what(), HasSubstr("Mismatched '(' and ')'"));
  }
  try {
    MarkerParser parser("[a-");
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("invalid --step-regex /[a-/: "));
  }
}

TEST(StepMarkersRegex, BackReferencesAreRejectedWithAPlainReason) {
  try {
    MarkerParser parser(R"((a)\1)");
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(),
                 "invalid --step-regex /(a)\\1/: back-references (\\1) are not supported");
  }
}

TEST(StepMarkersRegex, Describes) {
  EXPECT_EQ(MarkerParser(R"(^iter (\d+))").describe(), R"(lines matching /^iter (\d+)/)");
}

// --- LineSplitter --------------------------------------------------------------------

struct Line {
  std::string text;
  bool truncated = false;
  bool operator==(const Line&) const = default;
};

// Feeds `chunks` and finishes; returns every line passed.
std::vector<Line> split(const std::vector<std::string>& chunks, LineSplitter& splitter) {
  std::vector<Line> lines;
  const auto on_line = [&](std::string_view line, bool truncated) {
    lines.push_back({std::string(line), truncated});
  };
  for (const auto& chunk : chunks)
    splitter.feed(chunk, on_line);
  splitter.finish(on_line);
  return lines;
}

std::vector<Line> split(const std::vector<std::string>& chunks) {
  LineSplitter splitter;
  return split(chunks, splitter);
}

TEST(LineSplitter, PassesEveryLineIncludingEmptyOnes) {
  EXPECT_EQ(split({"a\n\nbc\n"}), (std::vector<Line>{{"a"}, {""}, {"bc"}}));
  EXPECT_EQ(split({""}), std::vector<Line>{});
  EXPECT_EQ(split({"\n"}), std::vector<Line>{{""}});
}

TEST(LineSplitter, FinishPassesALastLineWithoutNewline) {
  EXPECT_EQ(split({"a\nNRMLAB step=2"}), (std::vector<Line>{{"a"}, {"NRMLAB step=2"}}));
  LineSplitter splitter;
  std::vector<std::string> lines;
  splitter.feed("x\ny", [&](std::string_view line) { lines.emplace_back(line); });
  EXPECT_EQ(lines, std::vector<std::string>{"x"});
  splitter.finish([&](std::string_view line) { lines.emplace_back(line); });
  splitter.finish([&](std::string_view line) { lines.emplace_back(line); });
  EXPECT_EQ(lines, (std::vector<std::string>{"x", "y"}));
}

TEST(LineSplitter, ALineInsideOneChunkIsAViewIntoIt) {
  const std::string chunk = "first\nsecond\n";
  std::vector<const char*> starts;
  LineSplitter splitter;
  splitter.feed(chunk, [&](std::string_view line) { starts.push_back(line.data()); });
  EXPECT_EQ(starts, (std::vector<const char*>{chunk.data(), chunk.data() + 6}));
}

TEST(LineSplitter, ALineSpanningChunksIsJoined) {
  EXPECT_EQ(split({"NRMLAB st", "ep=1 a", "=2\nnext\n"}),
            (std::vector<Line>{{"NRMLAB step=1 a=2"}, {"next"}}));
}

TEST(LineSplitter, AChunkBoundaryInsideCrLfKeepsTheCarriageReturnForTheParser) {
  const std::vector<Line> lines = split({"NRMLAB step=1 a=2\r", "\nNRMLAB step=2\r\n"});
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].text, "NRMLAB step=1 a=2\r");
  const MarkerParser parser;
  const Parsed first = parse(parser, lines[0].text);
  ASSERT_EQ(first.result.kind, MarkerKind::marker);
  EXPECT_EQ(first.marker.step, 1);
  EXPECT_THAT(first.marker.counters, ElementsAre(Pair("a", 2.0)));
  EXPECT_EQ(parse(parser, lines[1].text).marker.step, 2);
}

TEST(LineSplitter, ByteByByteFeedingGivesTheSameLines) {
  const std::string text = "one\r\n\nNRMLAB step=1 a=1\r\nlast";
  std::vector<std::string> bytes;
  for (const char c : text)
    bytes.emplace_back(1, c);
  EXPECT_EQ(split(bytes), split({text}));
  EXPECT_EQ(split(bytes).size(), 4u);
}

TEST(LineSplitter, ALineOfExactlyTheLimitIsWhole) {
  const std::string line(LineSplitter::k_max_line, 'x');
  EXPECT_EQ(split({line + "\n"}), std::vector<Line>{{line}});
  EXPECT_EQ(split({line.substr(0, 1000), line.substr(1000) + "\nz"}),
            (std::vector<Line>{{line}, {"z"}}));
}

TEST(LineSplitter, ALongerLineIsPassedTruncatedOnceAndTheRestSkipped) {
  const std::string line(LineSplitter::k_max_line + 1, 'x');
  const std::string cut = line.substr(0, LineSplitter::k_max_line);
  LineSplitter whole;
  EXPECT_EQ(split({line + "\nnext\n"}, whole), (std::vector<Line>{{cut, true}, {"next"}}));
  EXPECT_EQ(whole.truncated_lines(), 1u);
  EXPECT_EQ(split({line.substr(0, 10), line.substr(10) + "\nnext\n"}),
            (std::vector<Line>{{cut, true}, {"next"}}));
  EXPECT_EQ(split({line, "\nnext"}), (std::vector<Line>{{cut, true}, {"next"}}));
}

TEST(LineSplitter, AMegabyteWithoutNewlineKeepsMemoryBoundedAndGivesOneTruncatedLine) {
  LineSplitter splitter;
  std::vector<Line> lines;
  const auto on_line = [&](std::string_view line, bool truncated) {
    lines.push_back({std::string(line), truncated});
  };
  const std::string chunk(4096, 'y');
  for (int i = 0; i < 256; ++i) {
    splitter.feed(chunk, on_line);
    ASSERT_LE(splitter.buffer_capacity(), LineSplitter::k_max_line);
  }
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(lines[0].truncated);
  EXPECT_EQ(lines[0].text, std::string(LineSplitter::k_max_line, 'y'));
  EXPECT_EQ(splitter.truncated_lines(), 1u);

  // After the flood's newline, lines are passed as before.
  splitter.feed(chunk + "\nNRMLAB step=2\n", on_line);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1], (Line{"NRMLAB step=2"}));
}

TEST(LineSplitter, AFloodCutOffByTheEndOfTheStreamIsNotPassedTwice) {
  LineSplitter splitter;
  std::size_t count = 0;
  const auto on_line = [&](std::string_view) { ++count; };
  splitter.feed(std::string(LineSplitter::k_max_line + 100, 'z'), on_line);
  splitter.finish(on_line);
  EXPECT_EQ(count, 1u);
}

TEST(LineSplitter, AThrowingCallbackLeavesTheSplitterUsable) {
  LineSplitter splitter;
  std::vector<std::string> lines;
  const auto throw_on_bad = [&](std::string_view line) {
    if (line == "bad") throw Error("callback failed");
    lines.emplace_back(line);
  };
  splitter.feed("ba", throw_on_bad);
  EXPECT_THROW(splitter.feed("d\n", throw_on_bad), Error);
  splitter.feed("good\n", throw_on_bad);
  EXPECT_EQ(lines, (std::vector<std::string>{"good"}));
}

}  // namespace
}  // namespace nrmlab::telemetry
