# Embeds uPlot and d3-flame-graph into nrmlab so report.html is one self-contained file (no
# network).
#
# Included by the root CMakeLists.txt: reads node_modules/uplot, node_modules/d3-flame-graph
# and the d3 modules it needs (installed by `npm ci` in the repository root;
# package-lock.json pins every version), generates
# ${CMAKE_BINARY_DIR}/generated/report_assets.cpp, which defines the variables declared in
# src/report/assets.hpp, and sets NRMLAB_REPORT_ASSET_SOURCES to it.
#
# The files are embedded as byte arrays (0x.., lists), so no content can end a string
# literal early, and the string_views are constinit (no static initialization order
# problem). Generation happens at configure time and the inputs are configure
# dependencies: when npm ci replaces uPlot, the next build re-runs CMake, which rewrites
# the file (only when its content changed, so an unchanged uPlot recompiles nothing).

set(NRMLAB_UPLOT_DIR ${CMAKE_SOURCE_DIR}/node_modules/uplot)
set(NRMLAB_UPLOT_INPUTS
  ${NRMLAB_UPLOT_DIR}/dist/uPlot.iife.min.js
  ${NRMLAB_UPLOT_DIR}/dist/uPlot.min.css
  ${NRMLAB_UPLOT_DIR}/package.json)

# The flame graph: d3-flame-graph's UMD build reads the d3 modules from the global `d3`,
# which each module's UMD build extends, so they are concatenated in dependency order
# (every module after those it needs) and the flame graph last. npm installs them beside
# d3-flame-graph (its dependencies, pinned by package-lock.json).
set(NRMLAB_FLAME_DIR ${CMAKE_SOURCE_DIR}/node_modules/d3-flame-graph)
set(NRMLAB_D3_MODULES d3-array d3-color d3-interpolate d3-format d3-time d3-time-format
                      d3-scale d3-dispatch d3-timer d3-ease d3-selection d3-transition
                      d3-hierarchy)
set(NRMLAB_FLAME_SCRIPTS)
foreach(module IN LISTS NRMLAB_D3_MODULES)
  list(APPEND NRMLAB_FLAME_SCRIPTS ${CMAKE_SOURCE_DIR}/node_modules/${module}/dist/${module}.min.js)
endforeach()
list(APPEND NRMLAB_FLAME_SCRIPTS ${NRMLAB_FLAME_DIR}/dist/d3-flamegraph.umd.min.js)
set(NRMLAB_FLAME_INPUTS ${NRMLAB_FLAME_SCRIPTS} ${NRMLAB_FLAME_DIR}/package.json)

# "0x2f,0x2a,..." for a file, 16 bytes a line. A byte >= 0x80 is written char(0x..) so it
# is no narrowing error where char is signed (C++20 defines the conversion modulo 256).
function(nrmlab_report_asset_bytes path out_bytes out_size)
  file(READ "${path}" hex HEX)
  string(LENGTH "${hex}" length)
  math(EXPR size "${length} / 2")
  if(size EQUAL 0)
    message(FATAL_ERROR "report assets: ${path} is empty; run `npm ci` in the repository root")
  endif()
  string(REPEAT "[0-9a-f]" 32 line)
  string(REGEX REPLACE "(${line})" "\\1\n    " hex "${hex}")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(REGEX REPLACE "0x([89a-f][0-9a-f])," "char(0x\\1)," bytes "${bytes}")
  set(${out_bytes} "${bytes}" PARENT_SCOPE)
  set(${out_size} ${size} PARENT_SCOPE)
endfunction()

# The "version" of the package.json at `path`, checked to be a plain version string.
function(nrmlab_report_asset_version path out_version)
  file(READ ${path} package_json)
  string(JSON version ERROR_VARIABLE json_error GET "${package_json}" version)
  if(json_error OR NOT version MATCHES "^[0-9A-Za-z.+-]+$")
    message(FATAL_ERROR "report assets: no usable version in ${path} (${json_error}); run "
                        "`npm ci` in the repository root")
  endif()
  set(${out_version} ${version} PARENT_SCOPE)
endfunction()

# The flame graph's scripts as one file (build/.../generated/flame_graph.js): a comment
# naming each package, its version and licence, then its minified build.
function(nrmlab_concatenate_flame_scripts output)
  set(content "")
  foreach(script IN LISTS NRMLAB_FLAME_SCRIPTS)
    get_filename_component(dist ${script} DIRECTORY)
    get_filename_component(package ${dist} DIRECTORY)
    get_filename_component(name ${package} NAME)
    file(READ ${package}/package.json package_json)
    string(JSON license ERROR_VARIABLE json_error GET "${package_json}" license)
    nrmlab_report_asset_version(${package}/package.json version)
    file(READ ${script} body)
    string(APPEND content "/* ${name} ${version} (${license}) */\n${body}\n;\n")
  endforeach()
  file(WRITE ${output} "${content}")
endfunction()

function(nrmlab_generate_report_assets output)
  foreach(input IN LISTS NRMLAB_UPLOT_INPUTS NRMLAB_FLAME_INPUTS)
    if(NOT EXISTS ${input})
      message(FATAL_ERROR "a report asset is missing: run `npm ci` in the repository root "
                          "(make run and make test do it). Not found: ${input}")
    endif()
  endforeach()
  nrmlab_report_asset_version(${NRMLAB_UPLOT_DIR}/package.json version)
  nrmlab_report_asset_version(${NRMLAB_FLAME_DIR}/package.json flame_version)
  nrmlab_report_asset_bytes(${NRMLAB_UPLOT_DIR}/dist/uPlot.iife.min.js js_bytes js_size)
  nrmlab_report_asset_bytes(${NRMLAB_UPLOT_DIR}/dist/uPlot.min.css css_bytes css_size)
  set(flame_js ${CMAKE_BINARY_DIR}/generated/flame_graph.js)
  nrmlab_concatenate_flame_scripts(${flame_js})
  nrmlab_report_asset_bytes(${flame_js} flame_bytes flame_size)
  set(content "// Generated by cmake/report_assets.cmake from node_modules/uplot ${version} and
// node_modules/d3-flame-graph ${flame_version} (with its d3 modules). Do not edit.
#include \"report/assets.hpp\"

namespace nrmlab::report {
namespace {

// uPlot.iife.min.js, ${js_size} bytes and a terminating NUL
constexpr char k_uplot_js_bytes[] = {
    ${js_bytes}0x00};

// uPlot.min.css, ${css_size} bytes and a terminating NUL
constexpr char k_uplot_css_bytes[] = {
    ${css_bytes}0x00};

// d3 modules and d3-flamegraph.umd.min.js, ${flame_size} bytes and a terminating NUL
constexpr char k_flame_graph_js_bytes[] = {
    ${flame_bytes}0x00};

}  // namespace

constinit const std::string_view k_uplot_js{k_uplot_js_bytes, sizeof k_uplot_js_bytes - 1};
constinit const std::string_view k_uplot_css{k_uplot_css_bytes, sizeof k_uplot_css_bytes - 1};
constinit const std::string_view k_uplot_version{\"${version}\"};
constinit const std::string_view k_flame_graph_js{k_flame_graph_js_bytes,
                                                  sizeof k_flame_graph_js_bytes - 1};
constinit const std::string_view k_flame_graph_version{\"${flame_version}\"};

static_assert(sizeof k_uplot_js_bytes == ${js_size} + 1);
static_assert(sizeof k_uplot_css_bytes == ${css_size} + 1);
static_assert(sizeof k_flame_graph_js_bytes == ${flame_size} + 1);

}  // namespace nrmlab::report
")
  if(EXISTS ${output})
    file(READ ${output} old)
  endif()
  if(NOT "${old}" STREQUAL "${content}")
    file(WRITE ${output} "${content}")
    message(STATUS "report assets: embedded uPlot ${version} (${js_size} + ${css_size} bytes), "
                   "d3-flame-graph ${flame_version} with d3 (${flame_size} bytes)")
  endif()
endfunction()

set(NRMLAB_REPORT_ASSETS_CPP ${CMAKE_BINARY_DIR}/generated/report_assets.cpp)
nrmlab_generate_report_assets(${NRMLAB_REPORT_ASSETS_CPP})
set_property(DIRECTORY ${CMAKE_SOURCE_DIR} APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
             ${NRMLAB_UPLOT_INPUTS} ${NRMLAB_FLAME_INPUTS})
set(NRMLAB_REPORT_ASSET_SOURCES ${NRMLAB_REPORT_ASSETS_CPP})
