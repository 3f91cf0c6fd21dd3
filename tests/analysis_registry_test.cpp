// The concepts the analysis hands to later stages, each defined once: the verdict and drift
// vocabularies, the hypothesis registry, and analysis.json read back into its typed structs.
#include <fstream>
#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "analysis/analysis_result.hpp"
#include "analysis/hypothesis_registry.hpp"
#include "analysis/summary.hpp"
#include "test_support.hpp"
#include "util/error.hpp"

namespace nrmlab::testing {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

TEST(AnalysisVocabulary, EveryValueRoundTripsThroughItsString) {
  std::set<std::string_view> names;
  for (const auto v : {analysis::Verdict::supported, analysis::Verdict::not_supported,
                       analysis::Verdict::not_testable}) {
    EXPECT_EQ(analysis::parse_verdict(analysis::to_string(v)), v);
    names.insert(analysis::to_string(v));
  }
  for (const auto d : {analysis::DriftDirection::slower, analysis::DriftDirection::faster,
                       analysis::DriftDirection::stable, analysis::DriftDirection::too_short}) {
    EXPECT_EQ(analysis::parse_drift_direction(analysis::to_string(d)), d);
    names.insert(analysis::to_string(d));
  }
  for (const auto s : {analysis::StepSource::engine, analysis::StepSource::markers,
                       analysis::StepSource::time_windows}) {
    EXPECT_EQ(analysis::parse_step_source(analysis::to_string(s)), s);
    names.insert(analysis::to_string(s));
  }
  std::set<std::string_view> changes;  // "not identifiable" is also a verdict's name
  for (const auto c : {analysis::CodeChange::dearer, analysis::CodeChange::more_work,
                       analysis::CodeChange::cheaper, analysis::CodeChange::unchanged,
                       analysis::CodeChange::not_identifiable}) {
    EXPECT_EQ(analysis::parse_code_change(analysis::to_string(c)), c);
    changes.insert(analysis::to_string(c));
  }
  EXPECT_EQ(changes.size(), 5u);
  EXPECT_EQ(names.size(), 10u);  // no two values share a string
  // analysis.json's strings are today's: older documents stay readable.
  EXPECT_EQ(analysis::to_string(analysis::Verdict::not_testable), "not testable");
  EXPECT_EQ(analysis::to_string(analysis::DriftDirection::too_short), "too short");
  EXPECT_EQ(analysis::to_string(analysis::StepSource::time_windows), "time windows");
}

TEST(AnalysisVocabulary, AnUnknownStringIsAnErrorNamingTheAcceptedOnes) {
  try {
    analysis::parse_verdict("plausible");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("\"plausible\""));
    EXPECT_THAT(e.what(), HasSubstr("\"not testable\""));
  }
  EXPECT_FALSE(analysis::is_supported(analysis::Verdict::not_supported));
  EXPECT_TRUE(analysis::is_testable(analysis::Verdict::not_supported));
  EXPECT_FALSE(analysis::is_testable(analysis::Verdict::not_testable));
  EXPECT_TRUE(analysis::is_foreign(analysis::StepSource::markers));
  EXPECT_FALSE(analysis::is_foreign(analysis::StepSource::engine));
}

TEST(HypothesisRegistry, EachHypothesisIsDeclaredOnceAndCompletely) {
  const auto& registry = analysis::hypothesis_registry();
  ASSERT_FALSE(registry.empty());
  std::set<std::string_view> ids;
  for (const analysis::HypothesisSpec* spec : registry) {
    SCOPED_TRACE(std::string(spec->id));
    EXPECT_TRUE(ids.insert(spec->id).second) << "duplicate id";
    EXPECT_FALSE(spec->name.empty());
    EXPECT_FALSE(spec->effect_label.empty());
    EXPECT_FALSE(spec->needs.empty());
    EXPECT_FALSE(spec->panel.y_label.empty());
    // Exactly one test: per condition or per run.
    EXPECT_NE(spec->condition_test == nullptr, spec->run_test == nullptr);
    EXPECT_EQ(analysis::find_hypothesis(spec->id), spec);
    // Every cause a run can be told about comes with advice for both kinds of run, or with
    // none for either.
    EXPECT_EQ(spec->engine_advice.empty(), spec->program_advice.empty());
  }
  EXPECT_EQ(analysis::find_hypothesis("H10"), nullptr);
}

// The analysis of the golden native run, as committed.
analysis::AnalysisReport golden_native() {
  return analysis::read_analysis(fs::path(NRMLAB_TEST_DATA) /
                                 "golden/expected/native/analysis.json");
}

TEST(HypothesisRegistry, TheAnalysisJudgesEveryRegisteredHypothesisInRegistryOrder) {
  const analysis::AnalysisReport report = golden_native();
  ASSERT_EQ(report.runs.size(), 1u);
  const auto& judged = report.runs[0].sound.hypotheses;
  const auto& registry = analysis::hypothesis_registry();
  ASSERT_EQ(judged.size(), registry.size());
  for (std::size_t i = 0; i < judged.size(); ++i)
    EXPECT_EQ(judged[i].id, registry[i]->id);
}

TEST(AnalysisJson, ReadingAndWritingBackGivesTheSameDocument) {
  const fs::path file = fs::path(NRMLAB_TEST_DATA) / "golden/expected/study/analysis.json";
  const auto original = nlohmann::ordered_json::parse(read_text(file));
  const analysis::AnalysisReport report = analysis::read_analysis(file);
  EXPECT_TRUE(report.has_study);
  EXPECT_EQ(report.thresholds.confidence, 0.9);
  EXPECT_EQ(report.runs.size(), 8u);
  // Every key, in order, with NaN written back as the null it was read from.
  EXPECT_EQ(analysis::to_json(report).dump(), original.dump());
}

TEST(AnalysisJson, AnOlderDocumentKeepsDefaultsAndAWrongTypeNamesTheKey) {
  auto document = nlohmann::ordered_json::parse(
      read_text(fs::path(NRMLAB_TEST_DATA) / "golden/expected/watch/analysis.json"));
  document["runs"][0].erase("step_source");  // before watch existed
  EXPECT_EQ(analysis::analysis_from_json(document).runs[0].step_source,
            analysis::StepSource::engine);
  document["runs"][0]["sound"]["hypotheses"][0]["verdict"] = 1;
  try {
    analysis::analysis_from_json(document);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("\"verdict\""));
  }
  document["schema"] = "nrmlab.analysis/0";
  EXPECT_THROW(analysis::analysis_from_json(document), Error);
}

// A one-run report whose only supported hypothesis is `id`, with the run's drift.
analysis::AnalysisReport supporting(const std::string& id, analysis::StepSource source,
                                    bool drifts) {
  analysis::AnalysisReport report;
  analysis::RunAnalysis run;
  run.id = "r";
  run.step_source = source;
  run.has_sound = true;
  run.sound.run.scope = "run";
  run.sound.run.dominant = "compute";
  analysis::Drift drift;
  drift.condition = "program";
  drift.drifts = drifts;
  drift.direction = drifts ? analysis::DriftDirection::slower : analysis::DriftDirection::stable;
  run.sound.drift.push_back(drift);
  for (const analysis::HypothesisSpec* spec : analysis::hypothesis_registry()) {
    analysis::Hypothesis h;
    h.id = spec->id;
    h.name = spec->name;
    h.verdict = spec->id == id ? analysis::Verdict::supported : analysis::Verdict::not_supported;
    run.sound.hypotheses.push_back(h);
  }
  report.runs.push_back(run);
  return report;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& line : lines)
    text += line + "\n";
  return text;
}

TEST(Summary, AdviceNamesInterventionsThatExistForTheKindOfRun) {
  const auto engine =
      joined(analysis::summarise(supporting("H2", analysis::StepSource::engine, true)));
  EXPECT_THAT(engine, HasSubstr("run the allocator intervention"));
  EXPECT_THAT(engine, HasSubstr("step time is model compute"));
  const auto program =
      joined(analysis::summarise(supporting("H2", analysis::StepSource::markers, true)));
  EXPECT_THAT(program, HasSubstr("LD_PRELOAD"));
  EXPECT_THAT(program, ::testing::Not(HasSubstr("model")));
  // Drift that nothing explains: the engine has overhead factors to vary, a program has
  // its markers to enrich.
  const auto engine_drift =
      joined(analysis::summarise(supporting("none", analysis::StepSource::engine, true)));
  EXPECT_THAT(engine_drift, HasSubstr("factorial study over the overhead factors"));
  const auto program_drift =
      joined(analysis::summarise(supporting("none", analysis::StepSource::markers, true)));
  EXPECT_THAT(program_drift, HasSubstr("key=value work counters"));
  EXPECT_THAT(program_drift, ::testing::Not(HasSubstr("overhead factors")));
}

// Each run's family-wise false-support rate is at most alpha, so a study of 192 runs expects
// about 10 supporting a hypothesis by chance: a count that chance explains is no finding.
TEST(Summary, AStudyCountsAHypothesisAsAFindingOnlyBeyondWhatChanceGives) {
  const auto study = [](std::size_t supported) {
    analysis::AnalysisReport report;
    report.mode = "sound";
    report.has_study = true;
    report.study.runs = 192;
    for (std::size_t i = 0; i < 192; ++i) {
      analysis::RunAnalysis run;
      run.has_sound = true;
      analysis::Hypothesis h;
      h.id = "H1";
      h.verdict = i < supported ? analysis::Verdict::supported : analysis::Verdict::not_supported;
      run.sound.hypotheses.push_back(h);
      report.runs.push_back(std::move(run));
    }
    return joined(analysis::summarise(report));
  };
  EXPECT_THAT(study(7), HasSubstr("H1 in 7/192 runs (as many as chance gives: not a finding)"));
  EXPECT_THAT(study(9), HasSubstr("not a finding"));
  EXPECT_THAT(study(40), HasSubstr("H1 in 40/192 runs"));
  EXPECT_THAT(study(40), ::testing::Not(HasSubstr("not a finding")));
}

TEST(Report, AHypothesisThisVersionDoesNotKnowGetsNoBorrowedPanel) {
  ScratchDir scratch;
  const fs::path dir = scratch / "native";
  fs::copy(fs::path(NRMLAB_TEST_DATA) / "golden/native", dir, fs::copy_options::recursive);
  ASSERT_EQ(run_nrmlab({"analyze", dir.string(), "--quiet"}, scratch).exit_code, 0);
  auto document = nlohmann::ordered_json::parse(read_text(dir / "analysis.json"));
  auto& hypotheses = document["runs"][0]["sound"]["hypotheses"];
  nlohmann::ordered_json future = hypotheses[0];
  future["id"] = "H9";
  future["name"] = "a hypothesis from a later version";
  hypotheses.push_back(future);
  std::ofstream(dir / "analysis.json") << document.dump();
  const ProcessResult made = run_nrmlab({"report", dir.string(), "--no-figures"}, scratch);
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const std::string html = read_text(dir / "report.html");
  EXPECT_THAT(html, HasSubstr("this version of nrmlab draws no figure for H9"));
}

}  // namespace
}  // namespace nrmlab::testing
