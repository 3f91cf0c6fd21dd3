// The uPlot charting library, embedded at build time so report.html needs no network.
// cmake/report_assets.cmake generates the definitions (build/.../generated/report_assets.cpp)
// from node_modules/uplot (`npm ci` in the repository root installs it; package-lock.json
// pins the version).
#pragma once

#include <string_view>

namespace nrmlab::report {

extern const std::string_view k_uplot_js;       // node_modules/uplot/dist/uPlot.iife.min.js
extern const std::string_view k_uplot_css;      // node_modules/uplot/dist/uPlot.min.css
extern const std::string_view k_uplot_version;  // node_modules/uplot/package.json "version"

}  // namespace nrmlab::report
