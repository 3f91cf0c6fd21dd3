// report.html: one self-contained page (inline CSS, the embedded uPlot library, the data as
// a JSON island) that opens offline. Everything that came from a user or a file (study
// names, descriptions, command lines, paths, factor levels) is escaped on the way in.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "report/figure.hpp"
#include "report/report_input.hpp"

namespace nrmlab::report {

// Text for HTML content and attribute values.
std::string escape_html(std::string_view text);
// JSON that is safe inside <script type="application/json">: no '<', '>' or '&' survive
// (they become \u003c ...), so no string can close the script element or open a comment.
std::string json_for_script(const nlohmann::json& value);

nlohmann::json to_json(const Figure& figure);

// The verdict in plain words: a few sentences a reader can act on.
std::vector<std::string> plain_verdict(const ReportInput& input);

std::string render_html(const ReportInput& input, const std::vector<Figure>& figures);

}  // namespace nrmlab::report
