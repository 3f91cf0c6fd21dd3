// Golden outputs: what a user reads -- analysis.json, the ten-second summary and the
// report's text -- for three recorded runs (a native run, a small study analysed at a 90%
// confidence level, and a `watch` of a Python program), analysed and reported afresh by
// this build and compared with the files committed in tests/data/golden/expected/.
//
// The inputs are fixed telemetry (tests/data/golden/{native,study,watch}), so everything
// the analysis computes is deterministic; only what names this build or this machine is
// masked (the version, the commit, the scratch directory). Numbers are compared with a
// relative tolerance of 1e-9, since optimisation levels may round the last digit
// differently. A change that is meant to change what users see regenerates the files:
//
//   NRMLAB_UPDATE_GOLDEN=1 build/release/tests/nrmlab_tests --gtest_filter='Golden*'
//
// and the diff of tests/data/golden/expected/ in the commit shows exactly what changed.
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include <gtest/gtest.h>

#include "test_support.hpp"

namespace nrmlab::testing {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

const fs::path k_golden = fs::path(NRMLAB_TEST_DATA) / "golden";

bool updating() {
  const char* value = std::getenv("NRMLAB_UPDATE_GOLDEN");
  return value && std::string(value) == "1";
}

// Every occurrence of `from` in `text` replaced.
std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  if (from.empty()) return text;
  for (std::size_t at = text.find(from); at != std::string::npos;
       at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

// What names this build or this scratch directory.
std::string mask(std::string text, const fs::path& dir) {
  text = replace_all(std::move(text), dir.string(), "<DIR>");
  // "nrmlab 0.1.0 (commit 2190b659baa5-dirty)" -> "nrmlab <VERSION>" (no std::regex: GCC 12
  // warns inside <regex> under ASan).
  const std::string open = " (commit ";
  for (std::size_t at = text.find("nrmlab "); at != std::string::npos;
       at = text.find("nrmlab ", at + 1)) {
    std::size_t version = at + 7;
    while (version < text.size() &&
           (std::isdigit(static_cast<unsigned char>(text[version])) || text[version] == '.'))
      ++version;
    if (version == at + 7 || text.compare(version, open.size(), open) != 0) continue;
    const std::size_t close = text.find(')', version + open.size());
    if (close == std::string::npos) continue;
    text.replace(at, close + 1 - at, "nrmlab <VERSION>");
  }
  return text;
}

Json masked_analysis(const fs::path& dir) {
  Json json = Json::parse(mask(read_text(dir / "analysis.json"), dir));
  for (const char* key : {"nrmlab_version", "nrmlab_commit"})
    json[key] = "<MASKED>";
  for (Json& run : json["runs"])
    if (run["provenance"].is_object())
      for (const char* key : {"nrmlab_version", "nrmlab_commit"})
        if (run["provenance"].contains(key)) run["provenance"][key] = "<MASKED>";
  return json;
}

// The words of the interactive charts, which the page's script draws from its data
// island: each panel's axes and series names.
std::string chart_text(const std::string& html) {
  const std::string open = "<script type=\"application/json\" id=\"nrmlab-data\">";
  const std::size_t begin = html.find(open);
  if (begin == std::string::npos) return "no data island\n";
  const std::size_t end = html.find("</script>", begin);
  const Json island = Json::parse(html.substr(begin + open.size(), end - begin - open.size()));
  std::string text;
  for (const Json& figure : island["figures"])
    for (const Json& panel : figure["panels"]) {
      text += figure["id"].get<std::string>() + " | " + panel["title"].get<std::string>() +
              " | x: " + panel["x_label"].get<std::string>() +
              " | y: " + panel["y_label"].get<std::string>() + " | series:";
      for (const Json& series : panel["series"])
        text += " [" + series["name"].get<std::string>() + "]";
      text += "\n";
    }
  return text;
}

// The text a reader sees in report.html: no scripts or styles (the embedded library and
// the data island), tags as line breaks, blank lines dropped; then the charts' words.
std::string report_text(const fs::path& dir) {
  std::string html = read_text(dir / "report.html");
  const std::string charts = chart_text(html);
  for (const char* element : {"script", "style"}) {
    const std::string open = std::string("<") + element, close = std::string("</") + element + ">";
    for (std::size_t at = html.find(open); at != std::string::npos; at = html.find(open, at)) {
      const std::size_t end = html.find(close, at);
      html.erase(at, end == std::string::npos ? std::string::npos : end + close.size() - at);
    }
  }
  std::string text, line;
  bool in_tag = false;
  const auto flush = [&] {
    const auto first = line.find_first_not_of(" \t\n");
    if (first != std::string::npos) text += line.substr(first) + "\n";
    line.clear();
  };
  for (const char c : html) {
    if (c == '<') {
      in_tag = true;
      flush();
    } else if (c == '>') {
      in_tag = false;
    } else if (!in_tag) {
      line += c == '\n' ? ' ' : c;
    }
  }
  flush();
  return mask(text + "---- charts\n" + charts, dir);
}

// Differences between two JSON documents, one line each with its path; numbers agree to
// a relative 1e-9.
void diff(const Json& want, const Json& got, const std::string& path,
          std::vector<std::string>& out) {
  if (out.size() > 40) return;
  if (want.is_number() && got.is_number()) {
    const double a = want.get<double>(), b = got.get<double>();
    if (!(a == b || std::abs(a - b) <= 1e-9 * std::max(std::abs(a), std::abs(b))))
      out.push_back(path + ": " + want.dump() + " != " + got.dump());
    return;
  }
  if (want.type() != got.type() || want.size() != got.size() ||
      (!want.is_structured() && want != got)) {
    out.push_back(path + ": " + want.dump().substr(0, 200) + " != " + got.dump().substr(0, 200));
    return;
  }
  if (want.is_array())
    for (std::size_t i = 0; i < want.size(); ++i)
      diff(want[i], got[i], path + "/" + std::to_string(i), out);
  if (want.is_object())
    for (const auto& [key, value] : want.items()) {
      if (!got.contains(key)) {
        out.push_back(path + "/" + key + ": missing");
        continue;
      }
      diff(value, got[key], path + "/" + key, out);
    }
}

void check_text(const fs::path& expected, const std::string& got) {
  if (updating()) {
    std::ofstream(expected) << got;
    return;
  }
  ASSERT_TRUE(fs::exists(expected)) << expected << " missing: run with NRMLAB_UPDATE_GOLDEN=1";
  std::istringstream want_lines(read_text(expected)), got_lines(got);
  std::string want_line, got_line;
  for (std::size_t line = 1;; ++line) {
    const bool more_wanted = static_cast<bool>(std::getline(want_lines, want_line));
    const bool more_got = static_cast<bool>(std::getline(got_lines, got_line));
    if (!more_wanted && !more_got) return;
    if (!more_wanted || !more_got || want_line != got_line) {
      ADD_FAILURE() << expected.string() << ":" << line
                    << ": differs\n  golden: " << (more_wanted ? want_line : "<end>")
                    << "\n  now:    " << (more_got ? got_line : "<end>");
      return;
    }
  }
}

// Copies a fixture, analyses and reports it, and compares what a user would read.
void check_golden(const std::string& name) {
  ScratchDir scratch;
  const fs::path dir = scratch / name;
  fs::copy(k_golden / name, dir, fs::copy_options::recursive);
  const ProcessResult analysed = run_nrmlab({"analyze", dir.string()}, scratch);
  ASSERT_EQ(analysed.exit_code, 0) << analysed.err;
  const ProcessResult reported = run_nrmlab({"report", dir.string(), "--no-figures"}, scratch);
  ASSERT_EQ(reported.exit_code, 0) << reported.err;

  const fs::path expected = k_golden / "expected" / name;
  fs::create_directories(expected);
  check_text(expected / "summary.txt", mask(analysed.out, dir));
  check_text(expected / "report.txt", report_text(dir));
  const Json analysis = masked_analysis(dir);
  if (updating()) {
    std::ofstream(expected / "analysis.json") << analysis.dump(1) << "\n";
    return;
  }
  std::vector<std::string> differences;
  diff(Json::parse(read_text(expected / "analysis.json")), analysis, "", differences);
  EXPECT_TRUE(differences.empty()) << [&] {
    std::ostringstream lines;
    for (const std::string& d : differences)
      lines << d << "\n";
    return lines.str();
  }();
}

TEST(Golden, NativeRun) {
  check_golden("native");
}
TEST(Golden, SmallStudyAtNinetyPercent) {
  check_golden("study");
}
TEST(Golden, WatchedProgram) {
  check_golden("watch");
}

}  // namespace
}  // namespace nrmlab::testing
