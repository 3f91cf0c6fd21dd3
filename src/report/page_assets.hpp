// The report page's own stylesheet and script (uPlot itself comes from report/assets.hpp).
#pragma once

#include <string_view>

namespace nrmlab::report {

extern const std::string_view k_report_css;
// Reads the JSON island, draws one uPlot chart per `.chart` element, and sets
// window.nrmlabCharts, window.nrmlabReady and window.nrmlabReadyAt (for the browser test).
extern const std::string_view k_report_js;

}  // namespace nrmlab::report
