// The uPlot charting library and the d3-flame-graph library, embedded at build time so
// report.html needs no network. cmake/report_assets.cmake generates the definitions
// (build/.../generated/report_assets.cpp) from node_modules (`npm ci` in the repository root
// installs them; package-lock.json pins the versions).
#pragma once

#include <string_view>

namespace nrmlab::report {

extern const std::string_view k_uplot_js;       // node_modules/uplot/dist/uPlot.iife.min.js
extern const std::string_view k_uplot_css;      // node_modules/uplot/dist/uPlot.min.css
extern const std::string_view k_uplot_version;  // node_modules/uplot/package.json "version"
// The d3 modules d3-flame-graph needs (each extends the global `d3`) and then
// d3-flamegraph.umd.min.js (the global `flamegraph`), concatenated in that order. The library
// injects its own small stylesheet.
extern const std::string_view k_flame_graph_js;
extern const std::string_view k_flame_graph_version;  // node_modules/d3-flame-graph "version"

}  // namespace nrmlab::report
