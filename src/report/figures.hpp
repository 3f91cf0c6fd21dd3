// The six figures the study planned (study.md section 5), built from a report's input as
// data (figure.hpp); gnuplot and the HTML draw them.
#pragma once

#include <cstddef>
#include <vector>

#include "report/figure.hpp"
#include "report/report_input.hpp"

namespace nrmlab::report {

// Points per drawn series: enough for a 2000-pixel-wide figure, small enough that a
// 10^6-step run gives a report of a few megabytes.
inline constexpr std::size_t k_display_points = 2000;

// Thins a series to k_display_points with LTTB on (x, y); bands and error bars keep the same
// points. A NaN x is a break (a condition boundary): each stretch between breaks is thinned
// on its own, with a share of the budget, and the breaks stay.
Series thin(Series series);

// Figures 1-4, S1, S2, in that order.
std::vector<Figure> build_figures(const ReportInput& input);

Figure runtime_timeline(const ReportInput& input);         // 1
Figure hypothesis_results(const ReportInput& input);       // 2
Figure optimization_impact(const ReportInput& input);      // 3
Figure work_and_cost(const ReportInput& input);            // 4
Figure study_timeline(const ReportInput& input);           // S1
Figure priors_against_evidence(const ReportInput& input);  // S2

}  // namespace nrmlab::report
