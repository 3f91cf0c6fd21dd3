// The report's code section (issue 18): the flame graph's tree built from known stacks,
// its cap, its JSON, the section's HTML with and without samples, and a report of a real
// run whose telemetry.db holds stack samples.
#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <numeric>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "report/assets.hpp"
#include "report/code_section.hpp"
#include "report/figures.hpp"
#include "report/flame_graph.hpp"
#include "report/html.hpp"
#include "report/report.hpp"
#include "report/report_input.hpp"
#include "telemetry/profile/profile_data.hpp"
#include "telemetry/profile/profile_export.hpp"
#include "telemetry/telemetry_store.hpp"
#include "test_support.hpp"
#include "util/error.hpp"

namespace nrmlab {
namespace {

namespace fs = std::filesystem;
using report::FlameGraph;
using report::FlameNode;
using telemetry::profile::ProfileData;
using telemetry::profile::WaitClass;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::run_nrmlab;
using testing::ScratchDir;

constexpr std::int64_t k_ms = 1'000'000;

// Like the seed's C256 program: a step that sleeps in cpu_percent, syncs in commit_row and
// computes a little (with a callee too small to draw), plus a frame without a symbol and
// a sample without a stack. Total: 1100.5 ms.
telemetry::Batch c256_like_batch() {
  telemetry::Batch batch;
  batch.profile_frames = {{1, "main", "prog", 0},
                          {2, "run_step", "prog", 0x401000},
                          {3, "cpu_percent", "prog", 0x401100},
                          {4, "clock_nanosleep", "libc.so.6", 0},
                          {5, "commit_row", "prog", 0x401200},
                          {6, "fdatasync", "libc.so.6", 0},
                          {7, "compute", "prog", 0x401300},
                          {8, "tiny", "prog", 0},
                          {9, "", "libfoo.so", 0x7f0000001234}};
  batch.profile_stacks = {{1, 0, 1}, {2, 1, 2}, {3, 2, 3}, {4, 3, 4}, {5, 2, 5},
                          {6, 5, 6}, {7, 2, 7}, {8, 7, 8}, {9, 1, 9}};
  batch.profile_counts = {{0, 4, "sleep", 9, 900 * k_ms}, {1, 4, "sleep", 1, 100 * k_ms},
                          {0, 6, "disk", 5, 50 * k_ms},   {1, 7, "on_cpu", 4, 40 * k_ms},
                          {1, 8, "on_cpu", 1, k_ms / 2},  {0, 4, "run_queue", 1, 5 * k_ms},
                          {0, 0, "other", 1, 2 * k_ms},   {1, 9, "on_cpu", 1, 3 * k_ms}};
  batch.meta = {{"profile.status", "sampled"},
                {"profile.hz", "100"},
                {"profile.window_ns", "1000000000"},
                {"profile.off_cpu", "context switches (perf)"}};
  return batch;
}

// The same as ProfileData, without a database.
ProfileData c256_like_profile() {
  const telemetry::Batch batch = c256_like_batch();
  ProfileData data;
  data.status = "sampled";
  data.frames = batch.profile_frames;
  data.stacks = batch.profile_stacks;
  for (const telemetry::ProfileCountRow& row : batch.profile_counts)
    data.counts.push_back({row.window, row.stack, *telemetry::profile::wait_class_named(row.wait),
                           row.samples, row.weight_ns});
  return data;
}

std::int64_t wait_ns(const FlameNode& node, WaitClass wait) {
  return node.wait_ns[static_cast<std::size_t>(wait)];
}

const FlameNode& child(const FlameNode& node, const std::string& function) {
  for (const FlameNode& c : node.children)
    if (c.function == function) return c;
  throw Error("no child " + function + " under " + node.function);
}

std::vector<std::string> names(const FlameNode& node) {
  std::vector<std::string> out;
  for (const FlameNode& c : node.children)
    out.push_back(c.function);
  return out;
}

// Every node's wait classes add up to its total, and its children and folded time fit in it.
void expect_consistent(const FlameNode& node) {
  EXPECT_EQ(std::accumulate(node.wait_ns.begin(), node.wait_ns.end(), std::int64_t{0}),
            node.total_ns)
      << node.function;
  std::int64_t inside = node.folded_ns;
  for (const FlameNode& c : node.children) {
    inside += c.total_ns;
    expect_consistent(c);
  }
  EXPECT_LE(inside, node.total_ns) << node.function;
}

std::size_t count_nodes(const FlameNode& node) {
  std::size_t n = 1;
  for (const FlameNode& c : node.children)
    n += count_nodes(c);
  return n;
}

TEST(ReportFlameGraph, TotalsPerNodeAndWaitClassFollowTheStacks) {
  const FlameGraph graph = report::build_flame_graph(c256_like_profile());
  const FlameNode& root = graph.root;
  EXPECT_EQ(root.function, "all");
  EXPECT_EQ(root.total_ns, 1100 * k_ms + k_ms / 2);
  EXPECT_EQ(wait_ns(root, WaitClass::on_cpu), 43 * k_ms + k_ms / 2);
  EXPECT_EQ(wait_ns(root, WaitClass::sleep), 1000 * k_ms);
  EXPECT_EQ(wait_ns(root, WaitClass::disk), 50 * k_ms);
  EXPECT_EQ(wait_ns(root, WaitClass::run_queue), 5 * k_ms);
  EXPECT_EQ(wait_ns(root, WaitClass::other), 2 * k_ms);
  EXPECT_EQ(root.dominant_wait(), WaitClass::sleep);

  const FlameNode& main = child(root, "main");
  EXPECT_EQ(main.module, "prog");
  EXPECT_EQ(main.total_ns, 1098 * k_ms + k_ms / 2);
  const FlameNode& step = child(main, "run_step");
  EXPECT_EQ(step.total_ns, 1095 * k_ms + k_ms / 2);
  // The call path to the sleep, ending in the wait's pseudo-frames.
  const FlameNode& sleep_call = child(child(step, "cpu_percent"), "clock_nanosleep");
  EXPECT_EQ(sleep_call.module, "libc.so.6");
  EXPECT_EQ(sleep_call.total_ns, 1005 * k_ms);
  EXPECT_EQ(child(sleep_call, "[sleep]").total_ns, 1000 * k_ms);
  EXPECT_EQ(wait_ns(child(sleep_call, "[sleep]"), WaitClass::sleep), 1000 * k_ms);
  EXPECT_EQ(child(sleep_call, "[run_queue]").total_ns, 5 * k_ms);
  EXPECT_EQ(child(child(child(step, "commit_row"), "fdatasync"), "[disk]").total_ns, 50 * k_ms);
  // On-CPU stacks end in the function itself; a frame without a symbol is named by its
  // module, as the exports name it; a sample without a stack hangs from "[no stack]".
  EXPECT_TRUE(child(step, "compute").children.empty());
  EXPECT_EQ(child(main, "[libfoo.so]").module, "libfoo.so");
  EXPECT_EQ(child(main, "[libfoo.so]").total_ns, 3 * k_ms);
  EXPECT_EQ(child(child(root, "[no stack]"), "[other]").total_ns, 2 * k_ms);
  expect_consistent(root);
}

TEST(ReportFlameGraph, ChildrenAreSortedLargestFirst) {
  const FlameGraph graph = report::build_flame_graph(c256_like_profile());
  EXPECT_EQ(names(graph.root), (std::vector<std::string>{"main", "[no stack]"}));
  const FlameNode& step = child(child(graph.root, "main"), "run_step");
  EXPECT_EQ(names(step), (std::vector<std::string>{"cpu_percent", "commit_row", "compute"}));
  EXPECT_EQ(names(child(child(step, "cpu_percent"), "clock_nanosleep")),
            (std::vector<std::string>{"[sleep]", "[run_queue]"}));
}

TEST(ReportFlameGraph, TheCapFoldsSmallFramesIntoTheirCallersAndSaysHowMuch) {
  // tiny holds 0.5 ms of 1100.5 ms: under 0.1%.
  const FlameGraph capped = report::build_flame_graph(c256_like_profile());
  const FlameNode& compute = child(child(child(capped.root, "main"), "run_step"), "compute");
  EXPECT_TRUE(compute.children.empty());
  EXPECT_EQ(compute.total_ns, 40 * k_ms + k_ms / 2) << "folded time stays in the caller";
  EXPECT_EQ(compute.folded_ns, k_ms / 2);
  EXPECT_EQ(capped.folded_nodes, 1u);
  EXPECT_EQ(capped.folded_ns, k_ms / 2);
  EXPECT_EQ(capped.nodes, 14u);
  EXPECT_EQ(capped.nodes, count_nodes(capped.root));
  EXPECT_DOUBLE_EQ(capped.min_share, report::k_flame_min_share);

  const FlameGraph whole = report::build_flame_graph(c256_like_profile(), 0.0);
  EXPECT_EQ(whole.nodes, 15u);
  EXPECT_EQ(whole.folded_nodes, 0u);
  EXPECT_EQ(names(child(child(child(whole.root, "main"), "run_step"), "compute")),
            (std::vector<std::string>{"tiny"}));
}

TEST(ReportFlameGraph, TooManyNodesRaiseTheThresholdUntilTheTreeFits) {
  const FlameGraph graph = report::build_flame_graph(c256_like_profile(), 0.001, 8);
  EXPECT_LE(graph.nodes, 8u);
  EXPECT_EQ(graph.nodes, count_nodes(graph.root));
  EXPECT_EQ(graph.nodes + graph.folded_nodes, 15u) << "every node is drawn or folded";
  // 0.1% doubled until the 50 ms commit_row and the 40.5 ms compute fold: 6.4%.
  EXPECT_DOUBLE_EQ(graph.min_share, 0.064);
  EXPECT_EQ(graph.nodes, 6u);
  EXPECT_EQ(graph.root.total_ns, 1100 * k_ms + k_ms / 2);
  EXPECT_EQ(graph.folded_ns, (50 + 40 + 5 + 3 + 2) * k_ms + k_ms / 2);
  expect_consistent(graph.root);
}

// 900 call paths of 6 frames with long (template-like) names, each path 0.11% of the
// time: 3,711 nodes above the 0.1% cap, but too many bytes, so the cap doubles to 0.2%.
TEST(ReportFlameGraph, ALargeProfileStaysWithinItsByteBudget) {
  ProfileData data;
  data.status = "sampled";
  const std::string long_name = "std::vector<std::map<std::string, " + std::string(450, 'T') + ">>";
  for (int path = 0; path < 900; ++path) {
    std::int64_t parent = 0;
    for (int depth = 0; depth < 6; ++depth) {
      const auto id = static_cast<std::int64_t>(data.frames.size()) + 1;
      // The first two levels are shared (10 and 100 distinct functions), the rest not.
      const int group = depth == 0 ? path % 10 : depth == 1 ? path % 100 : path;
      data.frames.push_back(
          {id, fmt::format("{}::f{}_{}", long_name, depth, group), "libbig.so", 0});
      data.stacks.push_back({id, parent, id});
      parent = id;
    }
    data.counts.push_back({0, parent, WaitClass::on_cpu, 1, k_ms});
  }
  const FlameGraph whole = report::build_flame_graph(data, report::k_flame_min_share,
                                                     report::k_flame_max_nodes, SIZE_MAX);
  EXPECT_EQ(whole.nodes, 1u + 10 + 100 + 900 * 4) << "without a byte budget";
  const FlameGraph graph = report::build_flame_graph(data);
  EXPECT_DOUBLE_EQ(graph.min_share, 2 * report::k_flame_min_share);
  EXPECT_EQ(graph.nodes, 1u + 10 + 100);
  EXPECT_EQ(graph.folded_nodes, 900u * 4);
  EXPECT_EQ(graph.folded_ns, 900 * k_ms);
  EXPECT_EQ(graph.root.total_ns, 900 * k_ms);
  const nlohmann::json json = report::to_json(graph);
  EXPECT_LT(json.dump().size(), report::k_flame_max_bytes);
  expect_consistent(graph.root);
  // A name longer than k_flame_name_chars is cut in the JSON.
  const std::string name = json["root"]["c"][0]["n"].get<std::string>();
  EXPECT_EQ(name.size(), report::k_flame_name_chars);
  EXPECT_EQ(name.substr(name.size() - 3), "...");
}

TEST(ReportFlameGraph, AStoredWaitFrameIsNotRepeated) {
  ProfileData data;
  data.status = "sampled";
  data.frames = {{1, "main", "prog", 0}, {2, "[sleep]", "", 0}};
  data.stacks = {{1, 0, 1}, {2, 1, 2}};
  data.counts = {{0, 2, WaitClass::sleep, 1, 10 * k_ms}};
  const FlameGraph graph = report::build_flame_graph(data);
  EXPECT_TRUE(child(child(graph.root, "main"), "[sleep]").children.empty());
  EXPECT_EQ(telemetry::profile::wait_frame_name(WaitClass::page_fault), "[page_fault]");
}

TEST(ReportFlameGraph, ACountOfAStackNotStoredIsAnError) {
  ProfileData data = c256_like_profile();
  data.counts.push_back({0, 42, WaitClass::on_cpu, 1, k_ms});
  EXPECT_THROW(report::build_flame_graph(data), Error);
}

TEST(ReportFlameGraph, TheJsonUsesTheLibrarysKeysAndOnlyTheWaitsWithTime) {
  const nlohmann::json json = report::to_json(report::build_flame_graph(c256_like_profile()));
  EXPECT_EQ(json["total_ns"], 1100 * k_ms + k_ms / 2);
  EXPECT_EQ(json["nodes"], 14);
  EXPECT_EQ(json["folded_nodes"], 1);
  EXPECT_EQ(json["wait_classes"].size(), 8u);
  const nlohmann::json& root = json["root"];
  EXPECT_EQ(root["n"], "all");
  EXPECT_EQ(root["v"], 1100 * k_ms + k_ms / 2);
  const nlohmann::json& main = root["c"][0];
  EXPECT_EQ(main["n"], "main");
  EXPECT_EQ(main["m"], "prog");
  const nlohmann::json& compute = main["c"][0]["c"][2];
  EXPECT_EQ(compute["n"], "compute");
  EXPECT_EQ(compute["w"], (nlohmann::json{{"on_cpu", 40 * k_ms + k_ms / 2}}));
  EXPECT_EQ(compute["f"], k_ms / 2);
  EXPECT_FALSE(compute.contains("c"));
  EXPECT_FALSE(main.contains("f"));
}

TEST(ReportFlameGraph, AProfileReadBackFromTelemetryDbGivesTheSameTree) {
  ScratchDir scratch;
  const fs::path db = scratch / "telemetry.db";
  {
    telemetry::TelemetryStore store(db);
    store.write(c256_like_batch());
  }
  const ProfileData data = telemetry::profile::read_profile(db);
  ASSERT_TRUE(data.sampled());
  const FlameGraph from_db = report::build_flame_graph(data);
  const FlameGraph by_hand = report::build_flame_graph(c256_like_profile());
  EXPECT_EQ(report::to_json(from_db), report::to_json(by_hand));
}

TEST(ReportFlameGraph, UnavailableSamplingShowsWhyAndTheSettingAndNoGraph) {
  analysis::CodeProfile code;
  code.status = "unavailable: perf_event_open: EACCES <paranoid>";
  code.enable_hint = "sysctl kernel.perf_event_paranoid=1";
  ProfileData profile;
  profile.status = code.status;
  const auto graph = report::featured_flame_graph(profile);
  EXPECT_FALSE(graph.has_value());
  const std::string html = report::code_section_html(code, profile, graph);
  EXPECT_THAT(html, HasSubstr("<h2 id=\"code\">Where the time goes in the code</h2>"));
  EXPECT_THAT(html, HasSubstr("stack sampling unavailable: perf_event_open: EACCES "
                              "&lt;paranoid&gt; -- enable with: sysctl "
                              "kernel.perf_event_paranoid=1"));
  EXPECT_THAT(html, Not(HasSubstr("flame-graph")));
  EXPECT_THAT(html, Not(HasSubstr("<table")));
  EXPECT_EQ(report::code_section_island(graph), nullptr);
}

analysis::CodeProfile c256_like_code() {
  analysis::CodeProfile code;
  code.status = "sampled";
  code.off_cpu = "context switches (perf)";
  code.sampled_seconds = 1.1005;
  code.profiler_cpu_share = 0.004;
  code.waits = {{"sleep", 1.0, 0.9087}, {"disk", 0.05, 0.0454}, {"on_cpu", 0.0435, 0.0395}};
  code.time = {
      {"clock_nanosleep", "libc.so.6", "sleep", "cpu_percent", "prog", "", 1.0, 0.9087, 0.1},
      {"fdatasync", "libc.so.6", "disk", "commit_row", "prog", "", 0.05, 0.0454, 0.005},
      {"operator<<", "prog", "on_cpu", "", "", "", 0.04, 0.0363, std::nan("")}};
  return code;
}

TEST(ReportFlameGraph, ASampledRunShowsItsWaitsItsFunctionsAndTheGraph) {
  const ProfileData profile = c256_like_profile();
  const auto graph = report::featured_flame_graph(profile);
  ASSERT_TRUE(graph.has_value());
  const std::string html = report::code_section_html(c256_like_code(), profile, graph);
  EXPECT_THAT(html, HasSubstr("1.1 s of thread time sampled"));
  EXPECT_THAT(html, HasSubstr("context switches (perf)"));
  EXPECT_THAT(html, HasSubstr("0.4% of a CPU"));
  // The waits, largest first, with their colour.
  EXPECT_THAT(html, HasSubstr("<tr><td>sleep</td><td class=\"num\">1</td><td><span "
                              "class=\"bar\" style=\"width:90.9%;background:#56B4E9\">"));
  // The top-N table: function, module, wait class, call site, seconds, share, s/step.
  EXPECT_THAT(html, HasSubstr("<tr><td class=\"num\">1</td><td class=\"mono\">clock_nanosleep"
                              "</td><td>libc.so.6</td>"));
  EXPECT_THAT(html, HasSubstr("sleep</td><td class=\"mono\">cpu_percent <span "
                              "class=\"muted\">(prog)</span></td><td class=\"num\">1</td><td "
                              "class=\"num\">90.9%</td><td class=\"num\">0.1</td></tr>"));
  EXPECT_THAT(html, HasSubstr("<td class=\"mono\">fdatasync</td>"));
  EXPECT_THAT(html, HasSubstr("<td class=\"mono\">operator&lt;&lt;</td>"));
  EXPECT_THAT(html, HasSubstr("<td class=\"num\">n/a</td></tr>"));
  // The graph's element, its controls, its legend (only the classes with time) and the cap.
  EXPECT_THAT(html, HasSubstr("<div id=\"flame-graph\" class=\"flame\">"));
  EXPECT_THAT(html, HasSubstr("id=\"flame-search\""));
  EXPECT_THAT(html, HasSubstr("background:#E69F00\"></span>on_cpu"));
  EXPECT_THAT(html, Not(HasSubstr("</span>lock")));
  EXPECT_THAT(html, HasSubstr("1 frame is under 0.1% of the time (0.0005 s, 0.0%) folded"));

  const nlohmann::json island = report::code_section_island(graph);
  EXPECT_EQ(island["colours"]["sleep"], "#56B4E9");
  EXPECT_EQ(island["root"]["n"], "all");
}

TEST(ReportFlameGraph, AnAnalysisFromBeforeSamplingStillGetsTheGraph) {
  const ProfileData profile = c256_like_profile();
  const std::string html = report::code_section_html(analysis::CodeProfile{}, profile,
                                                     report::featured_flame_graph(profile));
  EXPECT_THAT(html, HasSubstr("stack sampling: 1.1 s of thread time sampled"));
  EXPECT_THAT(html, HasSubstr("The analysis predates stack sampling"));
  EXPECT_THAT(html, HasSubstr("id=\"flame-graph\""));
  const std::string none =
      report::code_section_html(analysis::CodeProfile{}, ProfileData{}, std::nullopt);
  EXPECT_THAT(none, HasSubstr("stack sampling not recorded"));
}

// A real run (not sampled itself, so that the samples are known), analysed, whose
// telemetry.db gets the C256-like samples: the page carries the graph's data and the
// library, and only then.
TEST(ReportFlameGraph, AReportOfASampledRunEmbedsTheGraphAndTheLibrary) {
  ScratchDir scratch;
  const fs::path dir = scratch / "run";
  ASSERT_EQ(run_nrmlab({"run", "--steps", "30", "--source", "synthetic", "--profile", "off",
                        "--out", dir.string(), "-q"},
                       scratch)
                .exit_code,
            0);
  ASSERT_EQ(telemetry::profile::read_profile(dir / "telemetry.db").status, "off");
  {
    telemetry::TelemetryStore store(dir / "telemetry.db");
    store.write(c256_like_batch());
  }
  ASSERT_EQ(run_nrmlab({"analyze", dir.string(), "--quiet"}, scratch).exit_code, 0);
  report::ReportInput input = report::load_report_input(dir);
  ASSERT_TRUE(input.featured_profile.sampled()) << input.featured_profile.status;
  const std::vector<report::Figure> figures = report::build_figures(input);
  const std::string page = report::render_html(input, figures);
  EXPECT_THAT(page, HasSubstr("<a href=\"#code\">"));
  EXPECT_THAT(page, HasSubstr("<h2 id=\"code\">"));
  EXPECT_THAT(page, HasSubstr("id=\"flame-graph\""));
  EXPECT_NE(page.find(report::k_flame_graph_js), std::string::npos);
  const std::size_t begin = page.find("id=\"nrmlab-data\">") + 17;
  const nlohmann::json island =
      nlohmann::json::parse(page.substr(begin, page.find("</script>", begin) - begin));
  EXPECT_GT(island["flame_graph"]["total_ns"].get<std::int64_t>(), 0);

  // The same run as if it had not been sampled: no graph, no library.
  input.featured_profile = ProfileData{};
  const std::string plain = report::render_html(input, figures);
  EXPECT_EQ(plain.find(report::k_flame_graph_js), std::string::npos);
  EXPECT_THAT(plain, Not(HasSubstr("id=\"flame-graph\"")));
  // The graph and its library cost a few hundred KB at most.
  EXPECT_LT(page.size() - plain.size(), 300'000u);
}

}  // namespace
}  // namespace nrmlab
