// The static half of a figure: gnuplot draws it as a 300 dpi PNG and an SVG, and the data
// and the script stay beside the pictures so a user can restyle the figure without nrmlab
// (`gnuplot ID.gp` in that directory redraws both).
//
// Every text of a Figure may come from a user (a study name, a condition label): the script
// puts each in a single-quoted gnuplot string, where nothing is expanded (no backquoted
// commands, no @macros), and draws it without enhanced-text markup, so it appears literally.
#pragma once

#include <filesystem>
#include <string>

#include "report/figure.hpp"

namespace nrmlab::report {

struct FigureFiles {
  std::filesystem::path data;     // DIR/ID.dat: one gnuplot data block per drawn series
  std::filesystem::path script;   // DIR/ID.gp
  std::filesystem::path png;      // DIR/ID.png, 300 dpi
  std::filesystem::path svg;      // DIR/ID.svg
  std::filesystem::path caption;  // DIR/ID.caption.txt: title, caption, provenance
};

// Writes the data, the script and the caption into `dir` (created if missing), then runs
// gnuplot there. Throws nrmlab::Error naming the file or carrying gnuplot's complaint when
// anything cannot be written or drawn, and when the figure is malformed (an id that is not
// a plain file stem, series whose columns differ in length). Panels with nothing to draw,
// and a figure without panels, become frames that say why.
FigureFiles write_figure(const Figure& figure, const std::filesystem::path& dir);

// The script write_figure writes: relative file names only, both terminals in one pass.
std::string gnuplot_script(const Figure& figure);

}  // namespace nrmlab::report
