// The report's code section (issue 18): the flame graph's tree built from known stacks,
// its cap, its JSON, the section's HTML with and without samples, and a report of a real
// run whose telemetry.db holds stack samples; the differential graph of a late side against
// an early one, the top functions' share per window and their part of the page (issue 19).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <numeric>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "report/assets.hpp"
#include "report/code_growth_section.hpp"
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

// 900 call paths of 6 frames with long (template-like) names; `count` adds each path's
// counts given its leaf stack and its index.
ProfileData large_profile(const std::function<void(ProfileData&, std::int64_t, int)>& count) {
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
    count(data, parent, path);
  }
  return data;
}

// Each path 0.11% of the time: 3,711 nodes above the 0.1% cap, but too many bytes, so the
// cap doubles to 0.2%.
TEST(ReportFlameGraph, ALargeProfileStaysWithinItsByteBudget) {
  const ProfileData data = large_profile([](ProfileData& d, std::int64_t leaf, int) {
    d.counts.push_back({0, leaf, WaitClass::on_cpu, 1, k_ms});
  });
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

// A real run of 30 steps, not sampled itself (so that the samples put in are known).
fs::path unsampled_run(const ScratchDir& scratch) {
  const fs::path dir = scratch / "run";
  const auto made = run_nrmlab({"run", "--steps", "30", "--source", "synthetic", "--profile", "off",
                                "--out", dir.string(), "-q"},
                               scratch);
  EXPECT_EQ(made.exit_code, 0) << made.err;
  return dir;
}

// A real run (not sampled itself, so that the samples are known), analysed, whose
// telemetry.db gets the C256-like samples: the page carries the graph's data and the
// library, and only then.
TEST(ReportFlameGraph, AReportOfASampledRunEmbedsTheGraphAndTheLibrary) {
  ScratchDir scratch;
  const fs::path dir = unsampled_run(scratch);
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

// ---- the differential graph and the share per window (issue 19) ------------------------

// Early: windows 0-2 over 10 steps; late: windows 3-5 over 20 steps; window 7 is in neither
// side (and window 6 has no counts). Per side (ms): grows 30 -> 120 (3 -> 6 ms per step),
// shrinks 60 -> 40 (6 -> 2), late_only sleeps 0 -> 20 (0 -> 1), early_only 10 -> 0.
ProfileData two_sided_profile() {
  ProfileData data;
  data.status = "sampled";
  data.window_ns = 1'000'000'000;
  data.frames = {{1, "main", "prog", 0},
                 {2, "grows", "prog", 0x401000},
                 {3, "shrinks", "prog", 0x401100},
                 {4, "late_only", "prog", 0x401200},
                 {5, "early_only", "prog", 0x401300}};
  data.stacks = {{1, 0, 1}, {2, 1, 2}, {3, 1, 3}, {4, 1, 4}, {5, 1, 5}};
  const auto count = [&](std::int64_t window, std::int64_t stack, WaitClass wait, std::int64_t ms) {
    data.counts.push_back({window, stack, wait, ms, ms * k_ms});
  };
  for (std::int64_t w = 0; w < 3; ++w) {
    count(w, 2, WaitClass::on_cpu, 10);
    count(w, 3, WaitClass::on_cpu, 20);
  }
  count(0, 5, WaitClass::on_cpu, 10);
  for (std::int64_t w = 3; w < 6; ++w)
    count(w, 2, WaitClass::on_cpu, 40);
  count(3, 3, WaitClass::on_cpu, 20);
  count(4, 3, WaitClass::on_cpu, 20);
  count(5, 4, WaitClass::sleep, 20);
  count(7, 2, WaitClass::on_cpu, 5);
  return data;
}

constexpr report::FlameSides k_two_sides{{0, 2}, {3, 5}, 10.0, 20.0};

TEST(ReportFlameGraph, TheDifferentialGraphIsTheLateSideWithEachNodesChangePerStep) {
  const FlameGraph graph = report::build_differential_flame_graph(two_sided_profile(), k_two_sides);
  ASSERT_TRUE(graph.sides.has_value());
  // The late side only: window 7 (in neither side) is left out.
  EXPECT_EQ(graph.root.total_ns, 180 * k_ms);
  EXPECT_EQ(graph.root.base_ns, 100 * k_ms);
  const FlameNode& main = child(graph.root, "main");
  EXPECT_EQ(names(main), (std::vector<std::string>{"grows", "shrinks", "late_only"}))
      << "a function that ran only early has no width";
  // Change per step, in late ns: late - early * late_steps / early_steps.
  EXPECT_DOUBLE_EQ(report::flame_delta_ns(child(main, "grows"), k_two_sides), 60.0 * k_ms);
  EXPECT_DOUBLE_EQ(report::flame_delta_ns(child(main, "shrinks"), k_two_sides), -80.0 * k_ms);
  const FlameNode& late_only = child(main, "late_only");
  EXPECT_EQ(late_only.base_ns, 0);
  EXPECT_DOUBLE_EQ(report::flame_delta_ns(late_only, k_two_sides),
                   static_cast<double>(late_only.total_ns))
      << "only late: the change is the whole width (the library's 'new' colour)";
  EXPECT_EQ(child(late_only, "[sleep]").total_ns, 20 * k_ms) << "waits end in their pseudo-frame";
  // The early-only function's time is in its caller's base, hence in the caller's change.
  EXPECT_EQ(main.base_ns, 100 * k_ms);
  EXPECT_DOUBLE_EQ(report::flame_delta_ns(main, k_two_sides), -20.0 * k_ms);
  EXPECT_EQ(graph.folded_nodes, 0u) << "a node without late time is not counted as folded";
  expect_consistent(graph.root);

  const nlohmann::json json = report::to_json(graph);
  EXPECT_EQ(json["differential"]["early_steps"], 10.0);
  EXPECT_EQ(json["differential"]["late_first_window"], 3);
  EXPECT_EQ(json["differential"]["early_total_ns"], 100 * k_ms);
  const nlohmann::json& grows = json["root"]["c"][0]["c"][0];
  EXPECT_EQ(grows["n"], "grows");
  EXPECT_EQ(grows["v"], 120 * k_ms);
  EXPECT_EQ(grows["b"], 30 * k_ms);
  EXPECT_EQ(grows["d"], 60 * k_ms);
  EXPECT_EQ(json["root"]["c"][0]["c"][1]["d"], -80 * k_ms);
  // The whole run's graph has no sides and no per-node change.
  const nlohmann::json whole = report::to_json(report::build_flame_graph(two_sided_profile()));
  EXPECT_TRUE(whole["differential"].is_null());
  EXPECT_FALSE(whole["root"].contains("d"));
  EXPECT_EQ(whole["total_ns"], 285 * k_ms);
}

TEST(ReportFlameGraph, AFunctionOnlyEarlyIsKeptWithoutWidthOnlyWhenNothingFolds) {
  // With no threshold at all, no node is kept for lack of time either: every drawn box has
  // width. The early-only function is still absent, its time still in main's base.
  const FlameGraph graph =
      report::build_differential_flame_graph(two_sided_profile(), k_two_sides, 0.0);
  EXPECT_EQ(names(child(graph.root, "main")),
            (std::vector<std::string>{"grows", "shrinks", "late_only"}));
  EXPECT_EQ(graph.nodes, count_nodes(graph.root));
}

TEST(ReportFlameGraph, ALargeDifferentialProfileStaysWithinItsByteBudget) {
  ProfileData data = large_profile([](ProfileData& d, std::int64_t leaf, int path) {
    d.counts.push_back({1, leaf, WaitClass::on_cpu, 1, k_ms});
    d.counts.push_back({4, leaf, WaitClass::on_cpu, 1, (path % 2 == 0 ? 2 : 1) * k_ms});
  });
  std::sort(data.counts.begin(), data.counts.end(),
            [](const auto& a, const auto& b) { return a.window < b.window; });
  const FlameGraph graph = report::build_differential_flame_graph(data, k_two_sides);
  EXPECT_GT(graph.min_share, report::k_flame_min_share) << "the budget raised the threshold";
  EXPECT_LT(report::to_json(graph).dump().size(), report::k_flame_max_bytes);
  EXPECT_EQ(graph.root.total_ns, 1350 * k_ms);
  EXPECT_EQ(graph.root.base_ns, 900 * k_ms);
  expect_consistent(graph.root);
}

// The analysis' view of the two-sided run: grows is the change, shrinks offsets a part.
analysis::CodeProfile two_sided_code(const std::string& status) {
  analysis::CodeProfile code = c256_like_code();
  analysis::CodeComparison c;
  c.condition = "c<1>";
  c.segments = "quarters";
  c.status = status;
  c.early_first_window = 0;
  c.early_last_window = 2;
  c.late_first_window = 3;
  c.late_last_window = 5;
  c.early_steps = 10;
  c.late_steps = 20;
  c.step_ms_early = 9.0;
  c.step_ms_late = 9.0;
  code.comparisons = {c};
  const auto entry = [](std::string condition, std::string function, double early, double late) {
    analysis::CodeGrowth g;
    g.condition = std::move(condition);
    g.function = std::move(function);
    g.module = "prog";
    g.wait_class = "on_cpu";
    g.self_per_step_early = early;
    g.self_per_step_late = late;
    return g;
  };
  analysis::CodeGrowth shrinks = entry("c<1>", "shrinks", 0.006, 0.002);
  shrinks.share_of_change = -0.5;
  shrinks.change = analysis::CodeChange::cheaper;
  analysis::CodeGrowth grows = entry("c<1>", "grows", 0.003, 0.006);
  grows.share_of_change = 1.2;
  grows.interval = {0.9, 1.5};
  grows.per_unit_ratio = 2.0;
  grows.per_unit_ratio_ci_low = 1.8;
  grows.per_unit_ratio_ci_high = 2.2;
  grows.change = analysis::CodeChange::dearer;
  analysis::CodeGrowth other = entry("other", "early_only", 0.001, 0.0);
  other.share_of_change = 5.0;
  code.growth = {shrinks, grows, other};
  return code;
}

TEST(ReportFlameGraph, TheSharePerWindowFollowsEachFunctionsSelfTime) {
  const analysis::CodeProfile code = two_sided_code("compared");
  const auto view = report::featured_code_growth(code, two_sided_profile());
  ASSERT_TRUE(view.has_value());
  // Its own condition's entries only, largest share of the change first.
  ASSERT_EQ(view->growth.size(), 2u);
  EXPECT_EQ(view->growth[0].function, "grows");
  const std::vector<report::Series> series =
      report::function_share_series(two_sided_profile(), view->growth);
  ASSERT_EQ(series.size(), 2u);
  EXPECT_EQ(series[0].name, "grows (on_cpu)");
  // Windows 0 to 7, one point each, at window * 1 s.
  EXPECT_EQ(series[0].x, (std::vector<double>{0, 1, 2, 3, 4, 5, 6, 7}));
  const std::vector<double> grows = {25, 100.0 / 3, 100.0 / 3, 200.0 / 3, 200.0 / 3, 200.0 / 3};
  const std::vector<double> shrinks = {50, 200.0 / 3, 200.0 / 3, 100.0 / 3, 100.0 / 3, 0};
  for (std::size_t w = 0; w < grows.size(); ++w) {
    EXPECT_NEAR(series[0].y[w], grows[w], 1e-9) << "window " << w;
    EXPECT_NEAR(series[1].y[w], shrinks[w], 1e-9) << "window " << w;
  }
  EXPECT_TRUE(std::isnan(series[0].y[6])) << "a window without samples is a gap";
  EXPECT_DOUBLE_EQ(series[0].y[7], 100.0);
  // An entry in another wait class is another series: none of grows' time is sleep.
  analysis::CodeGrowth asleep = view->growth[0];
  asleep.wait_class = "sleep";
  const auto sleeping = report::function_share_series(two_sided_profile(), {asleep});
  EXPECT_DOUBLE_EQ(sleeping.at(0).y[3], 0.0);
  // At most `functions` series.
  EXPECT_EQ(report::function_share_series(two_sided_profile(), view->growth, 1).size(), 1u);
  // The chart's spans are the two sides.
  const report::Panel& panel = view->share.panels.at(0);
  ASSERT_EQ(panel.spans.size(), 2u);
  EXPECT_DOUBLE_EQ(panel.spans[1].x_begin, 3.0);
  EXPECT_DOUBLE_EQ(panel.spans[1].x_end, 6.0);
}

TEST(ReportFlameGraph, TheSectionShowsTheDifferentialGraphOnlyForACompletedComparison) {
  const ProfileData profile = two_sided_profile();
  const auto view = report::featured_code_growth(two_sided_code("compared"), profile);
  ASSERT_TRUE(view.has_value());
  ASSERT_TRUE(view->graph.has_value());
  const std::string html = report::code_growth_html(view);
  EXPECT_THAT(html, HasSubstr("<div id=\"flame-diff-graph\" class=\"flame\">"));
  EXPECT_THAT(html, HasSubstr("id=\"flame-diff-search\""));
  EXPECT_THAT(html, HasSubstr("data-island=\"code_growth\""));
  EXPECT_THAT(html, HasSubstr("Condition c&lt;1&gt;, quarters"));
  // The table: early -> late per step, the share of the change with its interval, the ratio.
  EXPECT_THAT(html, HasSubstr("<td class=\"mono\">grows</td><td>prog</td><td>on_cpu</td><td "
                              "class=\"num\">3 ms &rarr; 6 ms</td><td class=\"num\">120% [90%, "
                              "150%]</td><td class=\"num\">2 [1.8, 2.2]</td><td>dearer</td>"));
  EXPECT_THAT(html, HasSubstr("<td>cheaper</td>"));
  const nlohmann::json island = report::code_growth_island(view);
  EXPECT_EQ(island["graph"]["root"]["v"], 180 * k_ms);
  EXPECT_EQ(island["share"]["panels"][0]["series"].size(), 2u);

  // Not compared: one line with the status, nothing to draw.
  const auto few = report::featured_code_growth(
      two_sided_code("too few windows: 2 early, 3 late (at least 3 each)"), profile);
  ASSERT_TRUE(few.has_value());
  EXPECT_FALSE(few->graph.has_value());
  const std::string line = report::code_growth_html(few);
  EXPECT_THAT(line, HasSubstr("not compared (too few windows: 2 early, 3 late"));
  EXPECT_THAT(line, Not(HasSubstr("flame-diff")));
  EXPECT_THAT(line, Not(HasSubstr("class=\"chart\"")));
  EXPECT_EQ(report::code_growth_island(few), nullptr);
  // No comparison at all, or no samples: nothing.
  EXPECT_FALSE(report::featured_code_growth(c256_like_code(), profile).has_value());
  EXPECT_FALSE(report::featured_code_growth(two_sided_code("compared"), ProfileData{}));
  EXPECT_EQ(report::code_growth_html(std::nullopt), "");
}

// A real run's report with the two-sided samples and analysis put in: the page carries the
// differential graph, its data and the share chart only when the comparison was made.
TEST(ReportFlameGraph, AReportEmbedsTheDifferentialGraphOnlyWhenCompared) {
  ScratchDir scratch;
  const fs::path dir = unsampled_run(scratch);
  ASSERT_EQ(run_nrmlab({"analyze", dir.string(), "--quiet"}, scratch).exit_code, 0);
  report::ReportInput input = report::load_report_input(dir);
  input.featured_profile = two_sided_profile();
  input.runs[input.featured].analysis.code = two_sided_code("compared");
  const std::vector<report::Figure> figures = report::build_figures(input);
  const std::string page = report::render_html(input, figures);
  EXPECT_THAT(page, HasSubstr("id=\"flame-diff-graph\""));
  EXPECT_THAT(page, HasSubstr("<div class=\"chart\" id=\"code-share-0\""));
  const std::size_t begin = page.find("id=\"nrmlab-data\">") + 17;
  const nlohmann::json island =
      nlohmann::json::parse(page.substr(begin, page.find("</script>", begin) - begin));
  EXPECT_EQ(island["code_growth"]["graph"]["differential"]["late_steps"], 20.0);
  EXPECT_EQ(island["figures"].size(), 6u) << "the share chart is not one of the figures";

  input.runs[input.featured].analysis.code = two_sided_code("too few windows: 1 early");
  const std::string plain = report::render_html(input, figures);
  EXPECT_THAT(plain, Not(HasSubstr("id=\"flame-diff-graph\"")));
  EXPECT_THAT(plain, Not(HasSubstr("code-share-0")));
  EXPECT_THAT(plain, HasSubstr("not compared (too few windows: 1 early)"));
  EXPECT_THAT(plain, HasSubstr("id=\"flame-graph\"")) << "the whole run's graph stays";
  // The differential graph adds its data, never a second copy of the library.
  EXPECT_EQ(page.find(report::k_flame_graph_js), page.rfind(report::k_flame_graph_js));
  EXPECT_LT(page.size() - plain.size(), report::k_flame_max_bytes + 20'000);
}

}  // namespace
}  // namespace nrmlab
