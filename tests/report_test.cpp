// The report stage: escaping, downsampling, and reports of a real study and a real run
// (made by the nrmlab binary), including markup in every user-supplied text.
#include "report/report.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "report/downsample.hpp"
#include "report/figures.hpp"
#include "report/html.hpp"
#include "test_support.hpp"
#include "util/error.hpp"

namespace nrmlab {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::read_text;
using testing::run_nrmlab;
using testing::ScratchDir;

TEST(ReportEscaping, HtmlTextLosesEveryMarkupCharacter) {
  EXPECT_EQ(report::escape_html("<img src=x onerror=\"a('b')\"> & co"),
            "&lt;img src=x onerror=&quot;a(&#39;b&#39;)&quot;&gt; &amp; co");
}

TEST(ReportEscaping, TheJsonIslandCannotCloseItsScriptAndReadsBackTheSame) {
  const nlohmann::json value = {{"name", "</script><script>alert(1)</script><!-- & -->"},
                                {"n", 1.5}};
  const std::string text = report::json_for_script(value);
  EXPECT_EQ(text.find('<'), std::string::npos);
  EXPECT_EQ(text.find('>'), std::string::npos);
  EXPECT_EQ(text.find('&'), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(text), value);
}

TEST(Downsampling, ShortSeriesAreKeptWhole) {
  const std::vector<double> x = {0, 1, 2, 3}, y = {5, 6, 7, 8};
  EXPECT_EQ(report::lttb_indices(x, y, 10), (std::vector<std::size_t>{0, 1, 2, 3}));
}

TEST(Downsampling, LttbKeepsTheEndsTheBudgetAndEverySpike) {
  const std::size_t n = 100'000;
  std::vector<double> x(n), y(n);
  for (std::size_t i = 0; i < n; ++i) {
    x[i] = static_cast<double>(i);
    y[i] = std::sin(static_cast<double>(i) / 5000.0);
  }
  const std::vector<std::size_t> spikes = {12'345, 67'890};
  for (const std::size_t s : spikes)
    y[s] = 50.0;
  const auto kept = report::lttb_indices(x, y, 500);
  ASSERT_EQ(kept.size(), 500u);
  EXPECT_EQ(kept.front(), 0u);
  EXPECT_EQ(kept.back(), n - 1);
  EXPECT_TRUE(std::is_sorted(kept.begin(), kept.end()));
  EXPECT_EQ(std::adjacent_find(kept.begin(), kept.end()), kept.end()) << "no index twice";
  for (const std::size_t s : spikes)
    EXPECT_NE(std::find(kept.begin(), kept.end(), s), kept.end()) << "spike at " << s << " lost";
  // A stride would have missed both spikes: they are not multiples of n / 500.
  EXPECT_NE(spikes[0] % (n / 500), 0u);
}

TEST(Downsampling, GapsAreNeverChosenOverRealPoints) {
  std::vector<double> x(1000), y(1000);
  for (std::size_t i = 0; i < x.size(); ++i) {
    x[i] = static_cast<double>(i);
    y[i] = i % 3 == 0 ? std::nan("") : static_cast<double>(i % 7);
  }
  for (const std::size_t i : report::lttb_indices(x, y, 50))
    if (i != 0 && i != x.size() - 1) {
      EXPECT_FALSE(std::isnan(y[i])) << i;
    }
}

// A small study whose description, factor labels and directory carry markup.
constexpr const char* k_hostile_study = R"([study]
name = "hostile"
description = "<img src=x onerror=\"window.__nrmlab_xss=1\"> </script><script>window.__nrmlab_xss=2</script>"
replicates = 2
[run]
source = "synthetic"
steps = 30
max_agents = 6
[factors]
store = [{label = "<b id=\"nrmlab-injected\">off</b>", persistence = "off"},
               {label = "txn & 'quotes'", persistence = "transaction-per-step"}]
)";

fs::path make_study(const ScratchDir& scratch) {
  const fs::path file = scratch / "hostile.toml";
  std::ofstream(file) << k_hostile_study;
  const fs::path dir = scratch / "out <b id=\"nrmlab-injected\">dir</b>";
  const auto result = run_nrmlab({"study", file.string(), "--out", dir.string(), "-q"}, scratch);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("report: " + (dir / "report.html").string()));
  return dir;
}

TEST(Report, AStudyGetsSixFiguresAndOnePageWithNothingUserSuppliedLeftRaw) {
  ScratchDir scratch;
  const fs::path dir = make_study(scratch);
  const std::string page = read_text(dir / "report.html");
  ASSERT_FALSE(page.empty());
  // The markup appears only escaped: as text in the page, as \u003c in the island.
  EXPECT_THAT(page, Not(HasSubstr("<img src=x")));
  EXPECT_THAT(page, Not(HasSubstr("<b id=\"nrmlab-injected\"")));
  EXPECT_THAT(page, Not(HasSubstr("window.__nrmlab_xss=2</script>")));
  EXPECT_THAT(page, HasSubstr("&lt;img src=x onerror=&quot;window.__nrmlab_xss=1&quot;&gt;"));
  // Exactly the page's own scripts: the island, uPlot and the report's, and d3-flame-graph
  // when the featured run was stack-sampled.
  std::size_t scripts = 0;
  for (std::size_t at = page.find("<script"); at != std::string::npos;
       at = page.find("<script", at + 1))
    scripts += page[at + 7] == ' ' || page[at + 7] == '>' ? 1 : 0;
  const bool flame_graph = page.find("id=\"flame-graph\"") != std::string::npos;
  EXPECT_EQ(scripts, flame_graph ? 4u : 3u);
  // No network: nothing is fetched from anywhere.
  EXPECT_THAT(page, Not(HasSubstr("src=\"http")));
  EXPECT_THAT(page, Not(HasSubstr("href=\"http")));

  // The island is the archive: it parses and holds every figure and every run.
  const std::string open = "<script type=\"application/json\" id=\"nrmlab-data\">";
  const std::size_t begin = page.find(open) + open.size();
  const nlohmann::json island =
      nlohmann::json::parse(page.substr(begin, page.find("</script>", begin) - begin));
  EXPECT_EQ(island["schema"], "nrmlab.report/1");
  EXPECT_EQ(island["runs"].size(), 4u);
  ASSERT_EQ(island["figures"].size(), 6u);
  EXPECT_THAT(island["description"].get<std::string>(), HasSubstr("<img src=x"));

  for (const char* id :
       {"figure-1", "figure-2", "figure-3", "figure-4", "figure-s1", "figure-s2"}) {
    for (const char* extension : {".png", ".svg", ".gp", ".dat", ".caption.txt"})
      EXPECT_GT(fs::file_size(dir / "figures" / (std::string(id) + extension)), 0u)
          << id << extension;
    EXPECT_THAT(page, HasSubstr(std::string("id=\"") + id + "\""));
    EXPECT_THAT(read_text(dir / "figures" / (std::string(id) + ".caption.txt")),
                HasSubstr("study: hostile"));
  }
  EXPECT_GT(fs::file_size(dir / "figures/data/steps.csv"), 0u);
}

TEST(Report, FiguresAreComputedFromTheData) {
  ScratchDir scratch;
  const fs::path dir = make_study(scratch);
  const report::ReportInput input = report::load_report_input(dir, "r001");
  EXPECT_EQ(input.runs[input.featured].id, "r001");
  EXPECT_TRUE(input.is_study);
  const auto figures = report::build_figures(input);
  // Figure 1: one series of points per condition with as many points as the run had steps,
  // and a drift fit for each.
  const report::Panel& timeline = figures[0].panels[0];
  std::size_t points = 0, fits = 0;
  for (const auto& series : timeline.series) {
    if (series.style == report::SeriesStyle::points) points += series.y.size();
    if (series.style == report::SeriesStyle::band) ++fits;
  }
  EXPECT_EQ(points, 4u * 30u);  // four conditions of 30 steps
  EXPECT_EQ(fits, 4u);
  EXPECT_EQ(timeline.spans.size(), 4u);
  // Figure 2: a panel per hypothesis of the analysis, each with its computed verdict.
  const auto& hypotheses = input.runs[input.featured].analysis.sound.hypotheses;
  ASSERT_EQ(figures[1].panels.size(), hypotheses.size());
  for (std::size_t i = 0; i < hypotheses.size(); ++i)
    EXPECT_THAT(figures[1].panels[i].badge,
                ::testing::StartsWith(std::string(to_string(hypotheses[i].verdict))));
  // Figure 3: the persistence intervention, with both levels.
  ASSERT_FALSE(figures[2].panels.empty());
  EXPECT_EQ(figures[2].panels[0].title, "persistence");
  EXPECT_EQ(figures[2].panels[0].x_categories.size(), 2u);
  // S1: every run once.
  std::size_t bars = 0;
  for (const auto& series : figures[4].panels[0].series)
    for (const double x : series.x)
      bars += std::isnan(x) ? 1 : 0;
  EXPECT_EQ(bars, 4u);

  EXPECT_THROW(report::load_report_input(dir, "r999"), Error);
}

// A run long enough to be thinned, analysed with an expectation (paper mode's V and A).
TEST(Report, LongSeriesAreThinnedPerConditionAndTheExpectationIsDrawn) {
  ScratchDir scratch;
  const fs::path dir = scratch / "long";
  ASSERT_EQ(run_nrmlab(
                {"run", "--steps", "3000", "--condition", "OFF-OFF,ON-OFF", "--source", "synthetic",
                 "--persistence", "off", "--max-agents", "5", "--out", dir.string(), "-q"},
                scratch)
                .exit_code,
            0);
  ASSERT_EQ(run_nrmlab(
                {"analyze", dir.string(), "--mode", "all", "--expected-hours", "0.0001", "--quiet"},
                scratch)
                .exit_code,
            0);
  const report::ReportInput input = report::load_report_input(dir);
  const auto figures = report::build_figures(input);
  // Figure 4's lines over 6,000 steps: thinned to the budget, the condition boundary kept.
  for (const report::Series& series : figures[3].panels[0].series) {
    EXPECT_LE(series.x.size(), report::k_display_points + 1) << series.name;
    EXPECT_GT(series.x.size(), report::k_display_points / 2) << series.name;
    EXPECT_EQ(
        std::count_if(series.x.begin(), series.x.end(), [](double x) { return std::isnan(x); }), 1)
        << series.name << ": one break, between the two conditions";
    ASSERT_FALSE(series.x.empty());
    EXPECT_EQ(series.x.front(), 0.0);
    EXPECT_EQ(series.x.back(), 5999.0);
  }
  // Figure 1: the expectation beside the observed cumulative time, and V in its badge.
  const report::Panel& cumulative = figures[0].panels[1];
  ASSERT_EQ(cumulative.series.size(), 2u);
  EXPECT_THAT(cumulative.series[1].name, HasSubstr("expected"));
  EXPECT_THAT(cumulative.badge, ::testing::StartsWith("V = "));
  const std::string page = report::render_html(input, figures);
  EXPECT_THAT(page, HasSubstr("against E = 0.0001 h"));
  EXPECT_THAT(page, Not(HasSubstr("Paper mode did not run")));
}

TEST(Report, ASoundOnlyAnalysisSaysPaperModeDidNotRun) {
  ScratchDir scratch;
  const fs::path dir = scratch / "sound";
  ASSERT_EQ(
      run_nrmlab({"run", "--steps", "40", "--source", "synthetic", "--out", dir.string(), "-q"},
                 scratch)
          .exit_code,
      0);
  ASSERT_EQ(run_nrmlab({"analyze", dir.string(), "--quiet"}, scratch).exit_code, 0);
  const report::ReportInput input = report::load_report_input(dir);
  const std::string page = report::render_html(input, report::build_figures(input));
  EXPECT_THAT(page, HasSubstr("Paper mode did not run for this analysis"));
  EXPECT_THAT(page, HasSubstr("known flaws</h3>"));
  EXPECT_THAT(page, Not(HasSubstr("against E =")));
}

TEST(Report, ASingleRunHasAReportToo) {
  ScratchDir scratch;
  const fs::path dir = scratch / "single";
  ASSERT_EQ(
      run_nrmlab({"run", "--steps", "40", "--source", "synthetic", "--out", dir.string()}, scratch)
          .exit_code,
      0);
  const auto missing = run_nrmlab({"report", dir.string()}, scratch);
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("run `nrmlab analyze"));
  ASSERT_EQ(run_nrmlab({"analyze", dir.string(), "--mode", "all", "--quiet"}, scratch).exit_code,
            0);
  const auto made = run_nrmlab({"report", dir.string()}, scratch);
  ASSERT_EQ(made.exit_code, 0) << made.err;
  EXPECT_THAT(made.out, HasSubstr("report: " + (dir / "report.html").string()));
  EXPECT_THAT(made.out, HasSubstr("verdict  "));
  EXPECT_TRUE(fs::exists(dir / "figures/figure-s2.svg"));
  const std::string page = read_text(dir / "report.html");
  EXPECT_THAT(page, HasSubstr("single run"));
  // Every section, and a chart for every figure.
  for (const char* section : {"verdict", "time", "drift", "hypotheses", "interventions", "work",
                              "paper", "study", "provenance"})
    EXPECT_THAT(page, HasSubstr(std::string("<h2 id=\"") + section + "\"")) << section;
  for (const char* chart :
       {"figure-1-0", "figure-2-0", "figure-3-0", "figure-4-0", "figure-s1-0", "figure-s2-0"})
    EXPECT_THAT(page, HasSubstr(std::string("class=\"chart\" id=\"") + chart + "\"")) << chart;
  EXPECT_THAT(page, HasSubstr("A single run has no interventions"));
}

}  // namespace
}  // namespace nrmlab
