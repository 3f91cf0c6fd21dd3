// The gnuplot backend against the real gnuplot: the files it writes, the pictures gnuplot
// draws from them, and texts that try to break out of the script.

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "report/gnuplot.hpp"
#include "test_support.hpp"
#include "util/error.hpp"
#include "util/subprocess.hpp"

namespace nrmlab::testing {
namespace {

namespace fs = std::filesystem;
using report::Figure;
using report::Panel;
using report::Series;
using report::SeriesStyle;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr double k_nan = std::numeric_limits<double>::quiet_NaN();

Series line(std::string name, int points, double slope) {
  Series series;
  series.name = std::move(name);
  for (int i = 0; i < points; ++i) {
    series.x.push_back(i);
    series.y.push_back(1.0 + slope * i + std::sin(i / 4.0));
  }
  return series;
}

Series band(std::string name, int points) {
  Series series = line(std::move(name), points, 0.01);
  series.style = SeriesStyle::band;
  for (const double y : series.y) {
    series.y_low.push_back(y - 0.3);
    series.y_high.push_back(y + 0.3);
  }
  return series;
}

// Two panels side by side: a timeline with condition spans, a band and a badge, and bars
// over categories.
Figure two_panels() {
  Figure figure;
  figure.id = "figure-1";
  figure.title = "Figure 1. Runtime timeline";
  figure.caption = "Step time along the run.";
  figure.provenance = {"study: demo", "runs: r000, r003"};

  Panel timeline;
  timeline.title = "Step time";
  timeline.x_label = "elapsed time (s)";
  timeline.y_label = "step time (ms)";
  timeline.series = {line("runtime", 80, 0.02), band("trend", 80)};
  timeline.series[0].y[30] = k_nan;
  timeline.spans = {{0, 40, "OFF-OFF"}, {40, 79, "ON-ON"}};
  timeline.badge = "drift: p = 0.003";

  Panel bars;
  bars.title = "Mean per condition";
  bars.x_label = "condition";
  bars.y_label = "step time (ms)";
  bars.x_categories = {"OFF-OFF", "ON-ON"};
  Series mean;
  mean.name = "mean";
  mean.style = SeriesStyle::bars;
  mean.x = {0, 1};
  mean.y = {1.5, 2.5};
  mean.colour = 5;
  bars.series = {mean};

  figure.panels = {timeline, bars};
  return figure;
}

Figure one_panel(Panel panel) {
  Figure figure;
  figure.id = "figure-s1";
  figure.title = "Figure S1";
  figure.panels = {std::move(panel)};
  return figure;
}

std::string read_binary(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::uint32_t big_endian(const std::string& bytes, std::size_t at) {
  std::uint32_t value = 0;
  for (std::size_t i = 0; i < 4; ++i)
    value = (value << 8) | static_cast<unsigned char>(bytes.at(at + i));
  return value;
}

struct PngSize {
  std::uint32_t width = 0;
  std::uint32_t height = 0;
};

// The 8-byte signature, then the IHDR chunk: length, "IHDR", width, height.
PngSize png_size(const fs::path& path) {
  const std::string png = read_binary(path);
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_EQ(png.substr(12, 4), "IHDR");
  return {big_endian(png, 16), big_endian(png, 20)};
}

// How gnuplot's svg terminal writes text: '&' and '<' escaped, the rest as it is.
std::string svg_escaped(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (c == '&')
      out += "&amp;";
    else if (c == '<')
      out += "&lt;";
    else
      out += c;
  }
  return out;
}

TEST(ReportGnuplot, ATwoPanelFigureWritesAllFiveFiles) {
  ScratchDir scratch;
  const Figure figure = two_panels();
  const report::FigureFiles files = report::write_figure(figure, scratch / "figures");

  EXPECT_EQ(files.data, scratch / "figures/figure-1.dat");
  EXPECT_EQ(files.script, scratch / "figures/figure-1.gp");
  EXPECT_EQ(files.png, scratch / "figures/figure-1.png");
  EXPECT_EQ(files.svg, scratch / "figures/figure-1.svg");
  EXPECT_EQ(files.caption, scratch / "figures/figure-1.caption.txt");

  // 7 x 4.5 in at 300 dpi.
  const PngSize size = png_size(files.png);
  EXPECT_EQ(size.width, 2100u);
  EXPECT_EQ(size.height, 1350u);

  const std::string svg = read_text(files.svg);
  EXPECT_THAT(svg, AllOf(HasSubstr("<svg"), HasSubstr("</svg>"), HasSubstr("Step time"),
                         HasSubstr("OFF-OFF"), HasSubstr("drift: p = 0.003"),
                         HasSubstr("elapsed time (s)")));

  EXPECT_EQ(read_text(files.script), report::gnuplot_script(figure));
  EXPECT_EQ(read_text(files.caption),
            "Figure 1. Runtime timeline\n\nStep time along the run.\n\n"
            "study: demo\nruns: r000, r003\n");

  // Three blocks (line, band, bars) separated by two blank lines; the gap stays a NaN.
  const std::string data = read_text(files.data);
  EXPECT_THAT(data, AllOf(HasSubstr("# index 0: panel 1, series 'runtime' (line); columns: x y\n"),
                          HasSubstr("\n\n\n# index 1: panel 1, series 'trend' (band); columns: x "
                                    "y y_low y_high\n"),
                          HasSubstr("\n\n\n# index 2: panel 2, series 'mean' (bars)"),
                          HasSubstr("\n30 NaN\n"), HasSubstr("\n1 2.5\n")));
  EXPECT_THAT(data, Not(HasSubstr("index 3")));
}

TEST(ReportGnuplot, TheScriptUsesThePaletteAndOnlyRelativeFileNames) {
  const std::string script = report::gnuplot_script(two_panels());
  // Series colours by position, or the colour a series names.
  EXPECT_THAT(script, HasSubstr("linecolor rgb '#0072B2' title 'runtime'"));
  EXPECT_THAT(script, HasSubstr("linecolor rgb '#E69F00' title 'trend'"));
  EXPECT_THAT(script, HasSubstr("linecolor rgb '#D55E00' title 'mean'"));
  EXPECT_THAT(script,
              AllOf(HasSubstr("data = 'figure-1.dat'"), HasSubstr("set output 'figure-1.png'"),
                    HasSubstr("set output 'figure-1.svg'")));
  EXPECT_THAT(script, Not(HasSubstr("'/")));
  EXPECT_THAT(script, Not(HasSubstr("cd ")));
  // Both terminals, the PNG at 300 dpi, one multiplot of two columns.
  EXPECT_THAT(script,
              AllOf(HasSubstr("set terminal pngcairo size 2100,1350 noenhanced"),
                    HasSubstr("set terminal svg size 504,324 fixed noenhanced"),
                    HasSubstr("set multiplot layout 1,2 title 'Figure 1. Runtime timeline'"),
                    HasSubstr("set xtics ('OFF-OFF' 0, 'ON-ON' 1)"),
                    HasSubstr("set label 'drift: p = 0.003' at graph 0.02,0.95"),
                    HasSubstr("fillstyle transparent solid 0.08"),
                    HasSubstr("using 1:3:4 with filledcurves")));
}

TEST(ReportGnuplot, TheFilesRedrawTheFigureAfterTheDirectoryMoves) {
  ScratchDir scratch;
  const report::FigureFiles files = report::write_figure(two_panels(), scratch / "first");
  fs::rename(scratch / "first", scratch / "moved");
  fs::remove(scratch / "moved/figure-1.png");
  fs::remove(scratch / "moved/figure-1.svg");

  const std::string cd = "cd '" + (scratch / "moved").string() + "'";
  const CommandOutput run = run_command({"gnuplot", "-e", cd, "figure-1.gp"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(png_size(scratch / "moved/figure-1.png").width, 2100u);
  EXPECT_THAT(read_text(scratch / "moved/figure-1.svg"), HasSubstr("Step time"));
}

TEST(ReportGnuplot, HostileTextIsDrawnLiterallyAndRunsNothing) {
  ScratchDir scratch;
  const std::string hostile =
      "a'); system('touch PWNED'); print('b \" `touch PWNED` $(touch PWNED) @data x_1^2 {c} & <d> "
      "\\";
  Figure figure = two_panels();
  figure.title = hostile + "\nsecond line\x01";
  figure.panels[0].title = hostile;
  figure.panels[0].series[0].name = hostile;
  figure.panels[0].spans[0].label = hostile;
  figure.panels[0].badge = hostile;
  figure.panels[1].x_categories[0] = hostile;
  figure.provenance = {hostile};

  const report::FigureFiles files = report::write_figure(figure, scratch / "figures");
  EXPECT_FALSE(fs::exists(scratch / "figures/PWNED"));
  EXPECT_FALSE(fs::exists("PWNED"));

  const std::string svg = read_text(files.svg);
  // (Not HasSubstr: a failure would print the whole SVG.)
  EXPECT_NE(svg.find(">" + svg_escaped(hostile + " second line ") + "<"), std::string::npos)
      << "the figure title is not in the SVG as written";
  EXPECT_NE(svg.find(">" + svg_escaped(hostile) + "<"), std::string::npos)
      << "the panel title, badge and key entry are not in the SVG as written";
  // Every line of the caption file is one line of the figure's text.
  EXPECT_EQ(read_text(files.caption),
            hostile + " second line \n\nStep time along the run.\n\n" + hostile + "\n");
}

TEST(ReportGnuplot, ControlCharactersAndBrokenUtf8BecomeOneLineOfValidText) {
  Figure figure = one_panel(Panel{});
  figure.title =
      "a\nb\rc\td\x7f"
      "e \xff f \xc3\xa9";
  EXPECT_THAT(report::gnuplot_script(figure), HasSubstr("title 'a b c d e ? f \xc3\xa9'\n"));
}

TEST(ReportGnuplot, BarsOverManyCategoriesAreSlantedShortenedAndStartAtZero) {
  ScratchDir scratch;
  Panel panel;
  panel.title = "Per allocator";
  panel.y_label = "peak RSS (MiB)";
  Series glibc;
  glibc.name = "glibc";
  glibc.style = SeriesStyle::bars;
  Series jemalloc = glibc;
  jemalloc.name = "jemalloc";
  for (int i = 0; i < 8; ++i) {
    panel.x_categories.push_back("condition " + std::to_string(i));
    glibc.x.push_back(i);
    glibc.y.push_back(10 + i);
    jemalloc.x.push_back(i);
    jemalloc.y.push_back(9 + i);
  }
  panel.x_categories[3] = "window_ms=2, recursive_evolve=true, allocator=jemalloc";
  panel.series = {glibc, jemalloc};
  const Figure figure = one_panel(panel);

  const std::string script = report::gnuplot_script(figure);
  EXPECT_THAT(script,
              AllOf(HasSubstr("'condition 0' 0, 'condition 1' 1"), HasSubstr("rotate by 30 right"),
                    HasSubstr("'window_ms=2, recursive_e...' 3"),
                    HasSubstr("set xrange [-0.5:7.5]"), HasSubstr("set yrange [0:*]"),
                    // Side by side: each 0.4 wide, centred 0.2 either side.
                    HasSubstr("using ($1 -0.2):2:(0.4) with boxes"),
                    HasSubstr("using ($1 +0.2):2:(0.4) with boxes")));
  const report::FigureFiles files = report::write_figure(figure, scratch.path());
  EXPECT_THAT(read_text(files.svg), HasSubstr("condition 7"));
}

TEST(ReportGnuplot, LogYAndErrorBarsAreDrawn) {
  ScratchDir scratch;
  Panel panel;
  panel.title = "Latency";
  panel.log_y = true;
  Series errors;
  errors.name = "allocation latency";
  errors.style = SeriesStyle::error_bars;
  errors.x = {1, 2, 3};
  errors.y = {10, 100, 1000};
  errors.y_low = {5, 50, 500};
  errors.y_high = {20, 200, 2000};
  panel.series = {errors};
  const Figure figure = one_panel(panel);

  EXPECT_THAT(
      report::gnuplot_script(figure),
      AllOf(HasSubstr("set logscale y\n"), HasSubstr("data index 0 using 1:2:3:4 with yerrorbars"),
            Not(HasSubstr("set yrange"))));
  const report::FigureFiles files = report::write_figure(figure, scratch.path());
  EXPECT_THAT(read_text(files.data), HasSubstr("\n2 100 50 200\n"));
  EXPECT_THAT(read_text(files.svg), HasSubstr("allocation latency"));
}

TEST(ReportGnuplot, AnEmptyPanelShowsItsReasonInAFrame) {
  ScratchDir scratch;
  Figure figure = two_panels();
  figure.panels[1].empty_reason = "no telemetry: run with --telemetry";
  const std::string script = report::gnuplot_script(figure);
  EXPECT_THAT(script, AllOf(HasSubstr("set border 15\n"),
                            HasSubstr("set label 'no telemetry: run with --telemetry' at graph "
                                      "0.5,0.5 center\n"),
                            HasSubstr("plot NaN notitle\n")));
  const report::FigureFiles files = report::write_figure(figure, scratch.path());
  // The empty panel's series gets no data block.
  EXPECT_THAT(read_text(files.data), Not(HasSubstr("'mean'")));
  EXPECT_THAT(read_text(files.svg), HasSubstr("no telemetry: run with --telemetry"));
}

TEST(ReportGnuplot, APanelWithoutAPointToPlaceIsDrawnEmpty) {
  ScratchDir scratch;
  Panel panel;
  panel.log_y = true;  // zero and negative values have no place on it
  Series series;
  series.name = "nothing";
  series.x = {0, 1, 2, 3};
  series.y = {k_nan, 0, -1, std::numeric_limits<double>::infinity()};
  panel.series = {series};
  const Figure figure = one_panel(panel);
  EXPECT_THAT(report::gnuplot_script(figure), HasSubstr("set label 'no data to draw'"));
  const report::FigureFiles files = report::write_figure(figure, scratch.path());
  EXPECT_THAT(read_text(files.svg), HasSubstr("no data to draw"));
}

TEST(ReportGnuplot, NumbersRoundTripAndNonFiniteOnesAreGaps) {
  ScratchDir scratch;
  Panel panel;
  Series series;
  series.name = "values";
  series.x = {0, 1, 2, 3};
  series.y = {0.1 + 0.2, 1e-300, std::numeric_limits<double>::infinity(), 12345678.9};
  panel.series = {series};
  const report::FigureFiles files = report::write_figure(one_panel(panel), scratch.path());
  EXPECT_THAT(read_text(files.data),
              AllOf(HasSubstr("\n0 0.30000000000000004\n"), HasSubstr("\n1 1e-300\n"),
                    HasSubstr("\n2 NaN\n"), HasSubstr("\n3 12345678.9\n")));
}

TEST(ReportGnuplot, AFourPanelGridIsTaller) {
  ScratchDir scratch;
  Figure figure = two_panels();
  figure.panels.push_back(figure.panels[0]);
  figure.panels.push_back(figure.panels[1]);
  const report::FigureFiles files = report::write_figure(figure, scratch.path());
  const PngSize size = png_size(files.png);
  EXPECT_EQ(size.width, 2100u);
  EXPECT_EQ(size.height, 1800u);  // two rows of 3 in
  EXPECT_THAT(read_text(files.script), HasSubstr("set multiplot layout 2,2"));
}

TEST(ReportGnuplot, AMalformedFigureIsRefused) {
  Figure figure = two_panels();
  figure.panels[0].series[1].y_high.pop_back();
  EXPECT_THAT([&] { report::gnuplot_script(figure); },
              ::testing::ThrowsMessage<Error>(
                  HasSubstr("figure figure-1, panel 1, series 'trend': y_low and y_high")));

  figure = two_panels();
  figure.id = "../escape";
  EXPECT_THROW(report::gnuplot_script(figure), Error);
  figure.id = "";
  EXPECT_THROW(report::gnuplot_script(figure), Error);
}

TEST(ReportGnuplot, AFigureWithoutPanelsIsOneEmptyFrame) {
  ScratchDir scratch;
  Figure figure = two_panels();
  figure.panels.clear();
  const report::FigureFiles files = report::write_figure(figure, scratch.path());
  EXPECT_THAT(read_text(files.script), AllOf(HasSubstr("set multiplot layout 1,1"),
                                             HasSubstr("set label 'nothing to draw'")));
  EXPECT_EQ(png_size(files.png).height, 1350u);
  EXPECT_THAT(read_text(files.svg), HasSubstr("nothing to draw"));
}

TEST(ReportGnuplot, AnUnwritableDirectoryThrowsNamingIt) {
  ScratchDir scratch;
  std::ofstream(scratch / "plain-file") << "not a directory";
  const fs::path dir = scratch / "plain-file/figures";
  EXPECT_THAT([&] { report::write_figure(two_panels(), dir); },
              ::testing::ThrowsMessage<Error>(HasSubstr(dir.string())));
}

TEST(ReportGnuplot, AFileGnuplotCannotWriteThrowsWithGnuplotsMessage) {
  ScratchDir scratch;
  fs::create_directory(scratch / "figure-1.png");  // where the picture should go
  EXPECT_THAT([&] { report::write_figure(two_panels(), scratch.path()); },
              ::testing::ThrowsMessage<Error>(AllOf(HasSubstr("figure-1.gp: gnuplot failed"),
                                                    HasSubstr("cannot open file"),
                                                    HasSubstr("figure-1.png"))));
}

TEST(ReportGnuplot, AMissingGnuplotSaysWhatToInstall) {
  ScratchDir scratch;
  const std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
  ::setenv("PATH", scratch.path().c_str(), 1);
  bool threw = false;
  try {
    report::write_figure(two_panels(), scratch / "figures");
  } catch (const Error& error) {
    threw = true;
    EXPECT_STREQ(error.what(), "gnuplot not found: install gnuplot-nox");
  }
  ::setenv("PATH", path.c_str(), 1);
  EXPECT_TRUE(threw);
}

}  // namespace
}  // namespace nrmlab::testing
