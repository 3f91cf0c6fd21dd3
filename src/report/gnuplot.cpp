#include "report/gnuplot.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstddef>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "util/atomic_file.hpp"
#include "util/error.hpp"
#include "util/subprocess.hpp"

namespace nrmlab::report {
namespace {

namespace fs = std::filesystem;

// A figure is 7 in wide: 4.5 in tall with one row of panels, 3 in per row with more.
constexpr double k_width_in = 7.0;
constexpr double k_single_row_height_in = 4.5;
constexpr double k_row_height_in = 3.0;
constexpr double k_png_dpi = 300.0;
// The cairo and svg terminals measure text and lines in points at 72 per inch, so the SVG
// is laid out at 72 px per inch and the PNG scales its fonts, lines and points by 300/72:
// both then show the same layout.
constexpr double k_point_dpi = 72.0;
constexpr const char* k_font = "sans,8";
// At that size: how many numeric tic intervals, and how many characters of category names,
// fit in an inch of panel without crowding.
constexpr double k_tics_per_inch = 1.6;
constexpr double k_tic_characters_per_inch = 7.0;
constexpr std::size_t k_longest_category = 24;  // characters; longer names are cut
constexpr const char* k_span_fill = "#000000";
constexpr std::array<double, 2> k_span_opacity = {0.08, 0.03};  // alternating spans

// ---- text and numbers -------------------------------------------------------------------

// The length of the UTF-8 sequence starting at `at`, or 0 when the bytes there are not one.
std::size_t utf8_length(std::string_view text, std::size_t at) {
  const auto lead = static_cast<unsigned char>(text[at]);
  const std::size_t length = lead < 0x80                   ? 1
                             : lead >= 0xc2 && lead < 0xe0 ? 2
                             : lead >= 0xe0 && lead < 0xf0 ? 3
                             : lead >= 0xf0 && lead < 0xf5 ? 4
                                                           : 0;
  if (length == 0 || at + length > text.size()) return 0;
  for (std::size_t k = 1; k < length; ++k)
    if ((static_cast<unsigned char>(text[at + k]) & 0xc0) != 0x80) return 0;
  return length;
}

// One line of valid UTF-8. A newline would end a gnuplot command (and let the rest of a
// label run as one), and the SVG must stay well-formed XML: control characters become
// spaces and bytes that are not UTF-8 become '?'.
std::string one_line(std::string_view text) {
  std::string line;
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t length = utf8_length(text, at);
    if (length == 0) {
      line += '?';
      ++at;
      continue;
    }
    const auto byte = static_cast<unsigned char>(text[at]);
    if (length == 1 && (byte < 0x20 || byte == 0x7f))
      line += ' ';
    else
      line.append(text.substr(at, length));
    at += length;
  }
  return line;
}

// A gnuplot single-quoted string: nothing inside is expanded (no `command`, no @macro, no
// backslash escapes); a quote is written twice.
std::string single_quoted(std::string_view text) {
  std::string quoted = "'";
  for (const char c : text) {
    quoted += c;
    if (c == '\'') quoted += '\'';
  }
  return quoted + "'";
}

// A category name short enough to stand under its bar: a long one would squeeze the
// panel to nothing once slanted.
std::string shortened(const std::string& line) {
  std::size_t at = 0;
  for (std::size_t characters = 0; at < line.size(); ++characters) {
    if (characters == k_longest_category) return line.substr(0, at) + "...";
    at += utf8_length(line, at);  // `line` is valid UTF-8
  }
  return line;
}

// User text in a script: one line, quoted.
std::string gnuplot_text(std::string_view user_text) {
  return single_quoted(one_line(user_text));
}

// The shortest text that reads back as the same double; NaN (a gap to gnuplot) for
// anything not finite.
std::string number(double value) {
  return std::isfinite(value) ? fmt::format("{}", value) : "NaN";
}

// ---- checking the figure ----------------------------------------------------------------

std::string where(const Figure& figure, std::size_t panel, const Series& series) {
  return fmt::format("figure {}, panel {}, series {}", figure.id, panel + 1,
                     single_quoted(one_line(series.name)));
}

bool has_bounds(const Series& series) {
  return series.style == SeriesStyle::error_bars || series.style == SeriesStyle::band;
}

// The id names files written next to others: a plain stem, never a path.
void check_figure(const Figure& figure) {
  const bool plain_id = !figure.id.empty() && figure.id.front() != '.' &&
                        figure.id.find_first_not_of(
                            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                            "0123456789._-") == std::string::npos;
  if (!plain_id)
    throw Error(fmt::format("figure id {} is not a file stem (letters, digits, '.', '_', '-')",
                            single_quoted(one_line(figure.id))));
  for (std::size_t p = 0; p < figure.panels.size(); ++p) {
    for (const Series& series : figure.panels[p].series) {
      const std::size_t n = series.y.size();
      if (series.x.size() != n)
        throw Error(fmt::format("{}: {} x values but {} y values", where(figure, p, series),
                                series.x.size(), n));
      if (has_bounds(series) && (series.y_low.size() != n || series.y_high.size() != n))
        throw Error(fmt::format("{}: y_low and y_high need {} values each, not {} and {}",
                                where(figure, p, series), n, series.y_low.size(),
                                series.y_high.size()));
    }
  }
}

// ---- which series are drawn, and where their data is ------------------------------------

// gnuplot stops with "all points undefined" on a series without one point it can place, so
// such a series gets no data block and is not plotted.
bool drawable(const Series& series, bool log_y) {
  for (std::size_t i = 0; i < series.y.size(); ++i)
    if (std::isfinite(series.x[i]) && std::isfinite(series.y[i]) && (!log_y || series.y[i] > 0))
      return true;
  return false;
}

bool is_empty(const Panel& panel) {
  if (!panel.empty_reason.empty()) return true;
  for (const Series& series : panel.series)
    if (drawable(series, panel.log_y)) return false;
  return true;
}

// blocks[panel][series]: the data block (gnuplot's `index`) of each series, -1 when not drawn.
using BlockMap = std::vector<std::vector<int>>;

BlockMap assign_blocks(const Figure& figure) {
  BlockMap blocks;
  int next = 0;
  for (const Panel& panel : figure.panels) {
    const bool empty = is_empty(panel);
    std::vector<int>& panel_blocks = blocks.emplace_back();
    for (const Series& series : panel.series)
      panel_blocks.push_back(!empty && drawable(series, panel.log_y) ? next++ : -1);
  }
  return blocks;
}

std::string data_file_name(const Figure& figure) {
  return figure.id + ".dat";
}

// Blocks separated by two blank lines, in the order of assign_blocks. The comment above
// each names its series, for a reader restyling the figure by hand.
std::string data_text(const Figure& figure, const BlockMap& blocks) {
  std::string out = fmt::format("# {}: the data of {}.gp, one block per series (gnuplot `index`)\n",
                                data_file_name(figure), figure.id);
  for (std::size_t p = 0; p < figure.panels.size(); ++p) {
    const Panel& panel = figure.panels[p];
    for (std::size_t s = 0; s < panel.series.size(); ++s) {
      if (blocks[p][s] < 0) continue;
      const Series& series = panel.series[s];
      const bool bounds = has_bounds(series);
      if (blocks[p][s] > 0) out += "\n\n";
      out += fmt::format("# index {}: panel {}, series {} ({}); columns: x y{}\n", blocks[p][s],
                         p + 1, gnuplot_text(series.name), style_name(series.style),
                         bounds ? " y_low y_high" : "");
      for (std::size_t i = 0; i < series.y.size(); ++i) {
        out += number(series.x[i]) + ' ' + number(series.y[i]);
        if (bounds) out += ' ' + number(series.y_low[i]) + ' ' + number(series.y_high[i]);
        out += '\n';
      }
    }
  }
  return out;
}

// ---- the script -------------------------------------------------------------------------

struct Layout {
  int rows = 1;
  int columns = 1;
  double height_in = k_single_row_height_in;
  double panel_width_in() const { return k_width_in / columns; }
  double panel_height_in() const { return height_in / rows; }
};

Layout layout_of(const Figure& figure) {
  Layout layout;
  const int panels = static_cast<int>(figure.panels.size());
  layout.columns = panels > 1 ? 2 : 1;
  layout.rows = (panels + layout.columns - 1) / layout.columns;
  if (layout.rows > 1) layout.height_in = k_row_height_in * layout.rows;
  return layout;
}

std::string colour_of(const Series& series, std::size_t position) {
  const std::size_t index = series.colour >= 0 ? static_cast<std::size_t>(series.colour) : position;
  return single_quoted(k_palette[index % k_palette.size()]);
}

// The finite values a panel's axis must show.
struct Range {
  double low = HUGE_VAL;
  double high = -HUGE_VAL;
  void add(double value) {
    if (!std::isfinite(value)) return;
    low = std::min(low, value);
    high = std::max(high, value);
  }
};

// gnuplot spaces tics without regard to the width of their labels, which crowds a narrow
// panel. A step of 1, 2 or 5 times a power of ten giving at most about `intervals` does not;
// "" keeps gnuplot's choice when the range is a point or unknown.
std::string tic_step(const Range& range, double intervals) {
  if (!(range.high > range.low) || !std::isfinite(range.high - range.low)) return "";
  const double raw = (range.high - range.low) / intervals;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = 10 * magnitude;
  for (const double factor : {5.0, 2.0, 1.0})
    if (factor * magnitude >= raw) step = factor * magnitude;
  return fmt::format(" {:.6g}", step);
}

// Settings one panel may change and the next must not inherit.
std::string panel_defaults() {
  return "  unset label\n"
         "  unset object\n"
         "  unset xlabel\n"
         "  unset ylabel\n"
         "  unset logscale y\n"
         "  set autoscale xy\n"
         "  set offsets 0, 0, 0, 0\n"
         "  set border 3\n"
         "  set xtics nomirror autofreq norotate autojustify\n"
         "  set ytics nomirror autofreq\n"
         "  set key\n";
}

// Shaded spans of x behind the data, each labelled just above the frame.
std::string span_commands(const Panel& panel) {
  std::string out;
  for (std::size_t i = 0; i < panel.spans.size(); ++i) {
    const Span& span = panel.spans[i];
    if (!std::isfinite(span.x_begin) || !std::isfinite(span.x_end)) continue;
    out += fmt::format(
        "  set object rect from first {}, graph 0 to first {}, graph 1 behind fillcolor rgb {} "
        "fillstyle transparent solid {} noborder\n",
        number(span.x_begin), number(span.x_end), single_quoted(k_span_fill),
        number(k_span_opacity[i % k_span_opacity.size()]));
    if (!span.label.empty())
      out += fmt::format("  set label {} at first {}, graph 1 center offset 0,0.7 font ',7'\n",
                         gnuplot_text(span.label), number(span.x_begin / 2 + span.x_end / 2));
  }
  return out;
}

// The x tics: category names (slanted when they would not fit side by side) or numbers.
std::string x_tic_commands(const Panel& panel, const std::vector<int>& blocks,
                           const Layout& layout) {
  if (panel.x_categories.empty()) {
    Range range;
    for (std::size_t s = 0; s < panel.series.size(); ++s)
      if (blocks[s] >= 0)
        for (const double x : panel.series[s].x)
          range.add(x);
    const std::string step = tic_step(range, layout.panel_width_in() * k_tics_per_inch);
    return step.empty() ? "" : "  set xtics" + step + "\n";
  }
  std::string tics;
  std::size_t longest = 0;
  for (std::size_t i = 0; i < panel.x_categories.size(); ++i) {
    const std::string name = shortened(one_line(panel.x_categories[i]));
    tics += fmt::format("{}{} {}", i == 0 ? "" : ", ", single_quoted(name), i);
    longest = std::max(longest, name.size());
  }
  const bool slant = static_cast<double>(longest * panel.x_categories.size()) >
                     layout.panel_width_in() * k_tic_characters_per_inch;
  return fmt::format("  set xtics ({}){}\n  set xrange [-0.5:{}]\n", tics,
                     slant ? " rotate by 30 right" : "",
                     number(static_cast<double>(panel.x_categories.size()) - 0.5));
}

// The y axis: logarithmic, or linear with spaced tics, room at the top for the badge, and
// zero in the range when bars rise from it.
std::string y_axis_commands(const Panel& panel, const std::vector<int>& blocks,
                            const Layout& layout) {
  if (panel.log_y) return "  set logscale y\n";
  Range range;
  bool bars = false;
  for (std::size_t s = 0; s < panel.series.size(); ++s) {
    if (blocks[s] < 0) continue;
    const Series& series = panel.series[s];
    for (const auto* column : {&series.y, &series.y_low, &series.y_high})
      for (const double y : *column)
        range.add(y);
    bars = bars || series.style == SeriesStyle::bars;
  }
  std::string out;
  if (bars && range.low >= 0) {
    out += "  set yrange [0:*]\n";
    range.add(0);
  }
  if (!panel.badge.empty()) out += "  set offsets 0, 0, graph 0.12, 0\n";
  const std::string step = tic_step(range, layout.panel_height_in() * k_tics_per_inch);
  if (!step.empty()) out += "  set ytics" + step + "\n";
  return out;
}

// The plot clauses of one series. Bars of several series share each category side by side:
// `bar` is this series' place among them, `bars` their number.
std::string plot_clauses(const Series& series, int block, const std::string& colour,
                         std::size_t bar, std::size_t bars) {
  const std::string source = fmt::format("data index {}", block);
  const std::string title = "title " + gnuplot_text(series.name);
  switch (series.style) {
    case SeriesStyle::line:
      return fmt::format("{} using 1:2 with lines linewidth 1.5 linecolor rgb {} {}", source,
                         colour, title);
    case SeriesStyle::points:
      return fmt::format("{} using 1:2 with points pointtype 7 pointsize 0.5 linecolor rgb {} {}",
                         source, colour, title);
    case SeriesStyle::bars: {
      const double width = 0.8 / static_cast<double>(bars);
      const double offset = (static_cast<double>(bar) + 0.5) * width - 0.4;
      return fmt::format(
          "{} using ($1 {:+.6g}):2:({:.6g}) with boxes fillstyle solid 0.85 border rgb '#333333' "
          "linecolor rgb {} {}",
          source, offset, width, colour, title);
    }
    case SeriesStyle::error_bars:
      return fmt::format(
          "{} using 1:2:3:4 with yerrorbars pointtype 7 pointsize 0.5 linecolor rgb {} {}", source,
          colour, title);
    case SeriesStyle::band:
      return fmt::format(
          "{0} using 1:3:4 with filledcurves fillstyle transparent solid 0.2 noborder "
          "linecolor rgb {1} notitle, \\\n"
          "       {0} using 1:2 with lines linewidth 1.5 linecolor rgb {1} {2}",
          source, colour, title);
  }
  return "";
}

std::string plot_command(const Panel& panel, const std::vector<int>& blocks) {
  std::size_t bars = 0;
  for (std::size_t s = 0; s < panel.series.size(); ++s)
    if (blocks[s] >= 0 && panel.series[s].style == SeriesStyle::bars) ++bars;
  std::vector<std::string> clauses;
  std::size_t bar = 0;
  for (std::size_t s = 0; s < panel.series.size(); ++s) {
    if (blocks[s] < 0) continue;
    const Series& series = panel.series[s];
    clauses.push_back(plot_clauses(series, blocks[s], colour_of(series, s),
                                   series.style == SeriesStyle::bars ? bar++ : 0, bars));
  }
  return fmt::format("  plot {}\n", fmt::join(clauses, ", \\\n       "));
}

// A bare frame with the reason in its middle: a panel that has nothing to draw says why.
std::string empty_panel_commands(const Panel& panel) {
  const std::string reason = panel.empty_reason.empty() ? "no data to draw" : panel.empty_reason;
  return fmt::format(
      "  set border 15\n"
      "  unset xtics\n"
      "  unset ytics\n"
      "  set xrange [0:1]\n"
      "  set yrange [0:1]\n"
      "  set label {} at graph 0.5,0.5 center\n"
      "  plot NaN notitle\n",
      gnuplot_text(reason));
}

std::string panel_commands(const Panel& panel, std::size_t index, const std::vector<int>& blocks,
                           const Layout& layout) {
  std::string out = fmt::format("  # panel {}\n", index + 1) + panel_defaults();
  out += fmt::format("  set title {}\n", gnuplot_text(panel.title));
  if (!panel.badge.empty())
    out += fmt::format("  set label {} at graph 0.02,0.95 left front\n", gnuplot_text(panel.badge));
  if (is_empty(panel)) return out + empty_panel_commands(panel);
  out += fmt::format("  set xlabel {}\n  set ylabel {}\n", gnuplot_text(panel.x_label),
                     gnuplot_text(panel.y_label));
  return out + span_commands(panel) + x_tic_commands(panel, blocks, layout) +
         y_axis_commands(panel, blocks, layout) + plot_command(panel, blocks);
}

// Both pictures from one pass over the panels: the first time round the PNG, then the SVG.
std::string terminal_commands(const Figure& figure, const Layout& layout) {
  const double scale = k_png_dpi / k_point_dpi;
  return fmt::format(
      "  if (pass == 1) {{\n"
      "    set terminal pngcairo size {},{} noenhanced background '#ffffff' font '{}' "
      "fontscale {:.6g} linewidth {:.6g} pointscale {:.6g}\n"
      "    set output {}\n"
      "  }} else {{\n"
      "    set terminal svg size {},{} fixed noenhanced background '#ffffff' font '{}'\n"
      "    set output {}\n"
      "  }}\n",
      std::lround(k_width_in * k_png_dpi), std::lround(layout.height_in * k_png_dpi), k_font, scale,
      scale, scale, single_quoted(figure.id + ".png"), std::lround(k_width_in * k_point_dpi),
      std::lround(layout.height_in * k_point_dpi), k_font, single_quoted(figure.id + ".svg"));
}

std::string script_text(const Figure& figure, const BlockMap& blocks) {
  const Layout layout = layout_of(figure);
  std::string out = fmt::format(
      "# Written by nrmlab. `gnuplot {0}.gp` in this directory redraws {0}.png ({1} dpi) and\n"
      "# {0}.svg from {0}.dat; edit the settings below to restyle the figure.\n"
      "data = {2}\n"
      "set grid linecolor rgb '#dddddd' linewidth 0.5 back\n"
      "set key below horizontal samplen 2\n"
      "set tmargin 3.5\n"
      "set title offset 0,0.4\n"
      "do for [pass = 1:2] {{\n",
      figure.id, k_png_dpi, single_quoted(data_file_name(figure)));
  out += terminal_commands(figure, layout);
  out += fmt::format("  set multiplot layout {},{} title {}\n", layout.rows, layout.columns,
                     gnuplot_text(figure.title));
  for (std::size_t p = 0; p < figure.panels.size(); ++p)
    out += panel_commands(figure.panels[p], p, blocks[p], layout);
  out += "  unset multiplot\n  set output\n}\n";
  return out;
}

std::string caption_text(const Figure& figure) {
  std::string out = one_line(figure.title) + "\n\n" + one_line(figure.caption) + "\n";
  if (!figure.provenance.empty()) out += '\n';
  for (const std::string& line : figure.provenance)
    out += one_line(line) + '\n';
  return out;
}

// ---- drawing ----------------------------------------------------------------------------

std::string trimmed(std::string text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.pop_back();
  return text;
}

// Runs `gnuplot -e "cd 'DIR'" ID.gp`: no shell, and the script itself names only files in
// DIR. The directory is quoted exactly (a changed byte would name another directory), so a
// name gnuplot cannot take on one line is refused.
void run_gnuplot(const fs::path& dir, const FigureFiles& files) {
  const std::string directory = fs::absolute(dir).string();
  for (const char c : directory)
    if (static_cast<unsigned char>(c) < 0x20)
      throw Error(
          fmt::format("{}: gnuplot cannot work in a directory whose name holds a control "
                      "character",
                      directory));
  // A stale picture must not pass for a fresh one (a directory in its place stays, and
  // gnuplot will say it cannot write there).
  for (const fs::path& picture : {files.png, files.svg}) {
    std::error_code ignored;
    if (!fs::is_directory(fs::symlink_status(picture, ignored))) fs::remove(picture, ignored);
  }

  const CommandOutput run = run_command(
      {"gnuplot", "-e", "cd " + single_quoted(directory), files.script.filename().string()});
  if (run.exit_code == 127) throw Error("gnuplot not found: install gnuplot-nox");
  if (run.exit_code != 0)
    throw Error(fmt::format("{}: gnuplot failed (exit code {}) to draw {} and {}: {}",
                            files.script.string(), run.exit_code, files.png.filename().string(),
                            files.svg.filename().string(), trimmed(run.err)));
  for (const fs::path& picture : {files.png, files.svg}) {
    std::error_code error;
    if (fs::file_size(picture, error) == 0 || error)
      throw Error(
          fmt::format("{}: gnuplot did not draw it: {}", picture.string(), trimmed(run.err)));
  }
}

// A figure without panels (an analysis with nothing to show) is still drawn, as one empty
// frame, so that the report keeps its place and says so.
Figure with_a_panel(Figure figure) {
  Panel panel;
  panel.empty_reason = "nothing to draw";
  figure.panels.push_back(std::move(panel));
  return figure;
}

}  // namespace

std::string gnuplot_script(const Figure& figure) {
  check_figure(figure);
  if (figure.panels.empty()) return gnuplot_script(with_a_panel(figure));
  return script_text(figure, assign_blocks(figure));
}

FigureFiles write_figure(const Figure& figure, const fs::path& dir) {
  check_figure(figure);
  if (figure.panels.empty()) return write_figure(with_a_panel(figure), dir);
  std::error_code error;
  fs::create_directories(dir, error);
  if (error)
    throw Error(fmt::format("{}: cannot create the directory: {}", dir.string(), error.message()));

  const FigureFiles files{dir / data_file_name(figure), dir / (figure.id + ".gp"),
                          dir / (figure.id + ".png"), dir / (figure.id + ".svg"),
                          dir / (figure.id + ".caption.txt")};
  const BlockMap blocks = assign_blocks(figure);
  write_file_atomically(files.data, data_text(figure, blocks));
  write_file_atomically(files.script, script_text(figure, blocks));
  write_file_atomically(files.caption, caption_text(figure));
  run_gnuplot(dir, files);
  return files;
}

}  // namespace nrmlab::report
