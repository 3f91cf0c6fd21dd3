// Which code got slower (issue 19), in the report's section "Where the time goes in the
// code": for the featured run's first comparison the analysis could make (analysis.json's
// code.comparisons, status "compared"), the differential flame graph of its late side
// against its early side (flame_graph.hpp), the share of each profile window's sampled time
// that its top functions (code.growth) took, drawn with uPlot like the figures, and a table
// of those functions' change per step.
//
// Why per step: a late side with more steps has more time in every function; dividing each
// side by its own steps compares what one step costs, which is what got slower.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "analysis/analysis_result.hpp"
#include "report/figure.hpp"
#include "report/flame_graph.hpp"
#include "telemetry/profile/profile_data.hpp"

namespace nrmlab::report {

// Functions drawn in the share chart: the largest shares of the change.
inline constexpr std::size_t k_growth_chart_functions = 5;

struct CodeGrowthView {
  analysis::CodeComparison comparison;       // the first compared one, else the first one
  std::vector<analysis::CodeGrowth> growth;  // its entries, largest share of the change first
  std::optional<FlameGraph> graph;           // differential; only when compared, with late time
  Figure share;                              // one panel: the share per window (compared only)
};

// The featured run's view; none when the analysis made no comparison (or the profile was not
// sampled). A comparison not made ("too few windows: ...") still gives a view, for its status.
std::optional<CodeGrowthView> featured_code_growth(const analysis::CodeProfile& code,
                                                   const telemetry::profile::ProfileData& profile);

// The self time of each of `growth`'s first `functions` entries (a function in one wait
// class, placed as the analysis places a stack's time: analysis::place_of) over each profile
// window's sampled time, one series per entry, over every window from the first to the last
// with counts (x: seconds since the start, window * window_ns; a window without time is a
// gap). Thinned to k_display_points.
std::vector<Series> function_share_series(const telemetry::profile::ProfileData& profile,
                                          const std::vector<analysis::CodeGrowth>& growth,
                                          std::size_t functions = k_growth_chart_functions);

// The part of the section: a line giving the comparison's status when not compared, else
// the differential graph (with its own search, reset and details), the share chart and the
// table. Empty without a view. Every text from the files is escaped.
std::string code_growth_html(const std::optional<CodeGrowthView>& view);

// The island's `code_growth`: {"graph": to_json(graph) or null, "share": the figure's JSON
// (html.hpp's to_json)}, or null without a compared view.
nlohmann::json code_growth_island(const std::optional<CodeGrowthView>& view);

}  // namespace nrmlab::report
