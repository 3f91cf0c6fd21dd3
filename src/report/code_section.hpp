// The report's section "Where the time goes in the code" (issue 18), for the featured run:
// the status of stack sampling (and, when it did not sample, the setting that would enable
// it), the time on the CPU against each wait, the functions that hold the time (the
// analysis' code.time) and the flame graph of the whole run (flame_graph.hpp; the page
// draws it with d3-flame-graph, whose script the page embeds only when there is a graph).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "analysis/analysis_result.hpp"
#include "report/flame_graph.hpp"
#include "telemetry/profile/profile_data.hpp"

namespace nrmlab::report {

// One colour per wait class (Okabe-Ito, grey for "other"): the flame graph, its legend and
// the waits' bars. On the CPU is orange, like a classic flame graph.
std::string_view wait_colour(telemetry::profile::WaitClass wait);
// The colour of a wait class named as in analysis.json ("sleep"); grey for a name unknown.
std::string_view wait_colour(std::string_view wait_class);

// The featured run's flame graph, when its profile was sampled and holds time.
std::optional<FlameGraph> featured_flame_graph(const telemetry::profile::ProfileData& profile);

// The section, heading included. `code` is the analysis' (analysis.json, which may predate
// stack sampling: then the status comes from `profile`); `graph` is
// featured_flame_graph(profile). Every text from the files is escaped.
std::string code_section_html(const analysis::CodeProfile& code,
                              const telemetry::profile::ProfileData& profile,
                              const std::optional<FlameGraph>& graph);

// What the page's script draws the graph from: to_json(graph) and "colours" (wait class ->
// colour). Null without a graph.
nlohmann::json code_section_island(const std::optional<FlameGraph>& graph);

}  // namespace nrmlab::report
