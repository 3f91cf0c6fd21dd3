// A figure as data. The report draws each one twice from the same Figure: statically with
// gnuplot (PNG at 300 dpi, SVG, and the data and script beside them so a user can restyle
// it without nrmlab) and interactively with uPlot in report.html.
#pragma once

#include <array>
#include <string>
#include <vector>

namespace nrmlab::report {

// Okabe-Ito: distinguishable with every common colour-vision deficiency. Series take
// colours in this order unless they name one.
inline constexpr std::array<const char*, 8> k_palette = {
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"};

enum class SeriesStyle {
  line,
  points,
  bars,        // x are category indices 0..n-1 (Panel::x_categories)
  error_bars,  // points with [y_low, y_high]
  band,        // a line with a shaded [y_low, y_high] around it
};

// The style's name in data files and the report's JSON island.
inline const char* style_name(SeriesStyle style) {
  switch (style) {
    case SeriesStyle::line:
      return "line";
    case SeriesStyle::points:
      return "points";
    case SeriesStyle::bars:
      return "bars";
    case SeriesStyle::error_bars:
      return "error_bars";
    case SeriesStyle::band:
      return "band";
  }
  return "line";
}

struct Series {
  std::string name;  // the legend entry
  SeriesStyle style = SeriesStyle::line;
  std::vector<double> x;  // NaN in x or y: a gap
  std::vector<double> y;
  std::vector<double> y_low;   // error_bars and band only; same length as y
  std::vector<double> y_high;  // error_bars and band only; same length as y
  int colour = -1;             // index into k_palette; -1: the series' position
};

// A shaded span of x, labelled at its top: the conditions of a run along its time axis.
struct Span {
  double x_begin = 0.0;
  double x_end = 0.0;
  std::string label;
};

struct Panel {
  std::string title;
  std::string x_label;  // with its unit, e.g. "elapsed time (s)"
  std::string y_label;  // with its unit
  bool log_y = false;
  std::vector<Series> series;
  std::vector<Span> spans;
  std::vector<std::string> x_categories;  // names of x = 0, 1, ... for bar panels
  std::string badge;                      // drawn in the panel's corner: a verdict, a p-value
  std::string empty_reason;               // set when there is nothing to draw, and why
};

struct Figure {
  std::string id;     // file stem and HTML anchor: "figure-1", ..., "figure-s2"
  std::string title;  // "Figure 1. Runtime timeline"
  std::vector<Panel> panels;
  std::string caption;                  // what the figure shows, in a sentence or three
  std::vector<std::string> provenance;  // "study: NAME", "runs: r000, r003", "nrmlab: COMMIT"
};

}  // namespace nrmlab::report
