#include "analysis/paper_mode.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "analysis/stats/correlation.hpp"
#include "analysis/stats/ols.hpp"
#include "analysis/windows.hpp"
#include "util/numeric.hpp"

namespace nrmlab::analysis {
namespace {

// For each step, the latest value of a side series sampled at or before that step (the
// first sample stands in before it); NaN when the condition has no sample at all.
void latest_at_or_before(std::span<const double> steps, std::span<const double> sample_steps,
                         std::span<const double> values, double scale, std::vector<double>& out,
                         double when_empty) {
  std::size_t r = 0;
  for (const double step : steps) {
    while (r + 1 < sample_steps.size() && sample_steps[r + 1] <= step)
      ++r;
    out.push_back(sample_steps.empty() ? when_empty : values[r] * scale);
  }
}

struct Pairs {
  std::vector<double> x, y;
};
Pairs finite(std::span<const double> x, std::span<const double> y) {
  Pairs p;
  finite_pairs(x, y, p.x, p.y);
  return p;
}

nlohmann::ordered_json number(double value) {
  return std::isfinite(value) ? nlohmann::ordered_json(value) : nlohmann::ordered_json(nullptr);
}

PaperHypothesis spearman_test(const std::string& id, const std::string& what,
                              std::span<const double> x, std::span<const double> runtime,
                              const Thresholds& t) {
  const Pairs p = finite(x, runtime);
  const auto c = p.x.size() >= 3 ? stats::spearman(p.x, p.y) : stats::Correlation{k_nan, k_nan, 0};
  PaperHypothesis h;
  h.id = id;
  h.test = fmt::format("Spearman({}, runtime)", what);
  h.rule = fmt::format("p < {}", t.paper_alpha);
  h.statistics = {{"rho", number(c.r)}, {"p", number(c.p)}, {"n", c.n}};
  h.score = std::abs(c.r);
  h.significant = c.p < t.paper_alpha;
  return h;
}

PaperHypothesis contention_test(const PaperSeries& s, const Thresholds& t) {
  const Pairs cpu = finite(s.cpu_percent, s.runtime);
  const Pairs memory = finite(s.memory_percent, s.runtime);
  const auto rc =
      cpu.x.size() >= 3 ? stats::spearman(cpu.x, cpu.y) : stats::Correlation{k_nan, k_nan, 0};
  const auto rm = memory.x.size() >= 3 ? stats::spearman(memory.x, memory.y)
                                       : stats::Correlation{k_nan, k_nan, 0};
  PaperHypothesis h;
  h.id = "H1";
  h.test = "Spearman(cpu_percent, runtime) and Spearman(memory_percent, runtime)";
  h.rule = fmt::format("p_cpu < {0} or p_mem < {0}", t.paper_alpha);
  h.statistics = {{"rho_cpu", number(rc.r)},
                  {"p_cpu", number(rc.p)},
                  {"rho_mem", number(rm.r)},
                  {"p_mem", number(rm.p)},
                  {"n", rc.n}};
  // The larger of the two |rho| that exist; NaN only when neither does.
  if (std::isfinite(rc.r) && std::isfinite(rm.r))
    h.score = std::max(std::abs(rc.r), std::abs(rm.r));
  else
    h.score = std::isfinite(rc.r) ? std::abs(rc.r) : std::abs(rm.r);
  h.significant = rc.p < t.paper_alpha || rm.p < t.paper_alpha;
  return h;
}

PaperHypothesis linear_test(const std::string& id, const std::string& what,
                            std::span<const double> x, std::span<const double> runtime,
                            double min_r_squared) {
  PaperHypothesis h;
  h.id = id;
  h.test = fmt::format("linear OLS runtime ~ {}", what);
  h.rule = fmt::format("R^2 > {} and slope > 0", min_r_squared);
  const Pairs p = finite(x, runtime);
  try {
    const auto fit = stats::linear_fit(p.x, p.y);
    h.statistics = {{"r_squared", number(fit.r_squared)},
                    {"intercept", number(fit.coefficients[0])},
                    {"slope", number(fit.coefficients[1])},
                    {"slope_p", number(fit.p[1])},
                    {"n", fit.n}};
    h.score = fit.r_squared;
    h.significant = fit.r_squared > min_r_squared && fit.coefficients[1] > 0;
  } catch (const std::invalid_argument& error) {  // constant x: no line to fit
    h.statistics = {{"r_squared", nullptr}, {"note", error.what()}, {"n", p.x.size()}};
    h.score = k_nan;
  }
  return h;
}

PaperHypothesis quadratic_test(const PaperSeries& s, const Thresholds& t) {
  PaperHypothesis h;
  h.id = "H2";
  h.test = "degree-2 polynomial OLS runtime ~ cumulative_cycles (x centred and scaled)";
  h.rule = fmt::format("R^2 > {} and x^2 coefficient > 0", t.paper_h2_r_squared);
  const Pairs p = finite(s.cumulative_cycles, s.runtime);
  try {
    const auto q = stats::quadratic_fit(p.x, p.y);
    const auto& c = q.fit.coefficients;
    h.statistics = {{"r_squared", number(q.fit.r_squared)},
                    {"coefficients_scaled", c},
                    {"x2_coefficient_p", number(q.fit.p[2])},
                    {"x_mean", q.x_mean},
                    {"x_scale", q.x_scale},
                    {"n", q.fit.n}};
    h.score = q.fit.r_squared;
    h.significant = q.fit.r_squared > t.paper_h2_r_squared && c[2] > 0;
  } catch (const std::invalid_argument& error) {
    h.statistics = {{"r_squared", nullptr}, {"note", error.what()}, {"n", p.x.size()}};
    h.score = k_nan;
  }
  return h;
}

void finish(PaperHypothesis& h, const std::string& mechanism, const Thresholds& t) {
  h.testable = std::isfinite(h.score);
  if (!h.testable) {
    h.score = k_nan;
    h.significant = false;
  }
  h.tier = paper_tier(h.score, t);
  h.verdict = !h.testable ? "UNTESTABLE" : h.significant ? "SIGNIFICANT" : "NOT SIGNIFICANT";
  h.interpretation =
      !h.testable
          ? fmt::format("{}: untestable (a constant series has no correlation or fit)", mechanism)
      : h.significant
          ? fmt::format("{}: the paper's rule holds ({}, score {:.3f}); a correlation, not a cause",
                        mechanism, h.tier, h.score)
          : fmt::format("{}: the paper's rule does not hold ({}, score {:.3f})", mechanism, h.tier,
                        h.score);
}

}  // namespace

std::string paper_tier(double score, const Thresholds& t) {
  if (!std::isfinite(score)) return "untestable";
  return score >= t.paper_tier1 ? "Tier 1" : score >= t.paper_tier2 ? "Tier 2" : "Tier 3";
}

PaperSeries paper_series(const RunData& run) {
  PaperSeries s;
  double index = 0;
  for (const auto& c : run.conditions) {
    const auto steps = c.steps["step"];
    for (const double wall : c.steps["wall_ns"])
      s.runtime.push_back(wall * 1e-9);
    for (const double count : c.steps["pattern_count"])
      s.pattern_count.push_back(count);
    for (std::size_t i = 0; i < steps.size(); ++i)
      s.cumulative_cycles.push_back(index++);
    latest_at_or_before(steps, c.system["step"], c.system["cpu_percent"], 1.0, s.cpu_percent,
                        k_nan);
    latest_at_or_before(steps, c.system["step"], c.system["memory_percent"], 1.0, s.memory_percent,
                        k_nan);
    // No database files (persistence off) is a size of 0, as the original's file would be.
    latest_at_or_before(steps, c.files["step"], c.files["database_bytes"], 1.0 / (1024.0 * 1024.0),
                        s.db_size_mb, 0.0);
  }
  return s;
}

PaperAnalysis analyse_paper(const RunData& run, const Thresholds& t,
                            const VarianceOptions& variance) {
  const PaperSeries s = paper_series(run);
  PaperAnalysis paper;
  paper.steps = s.runtime.size();
  paper.phase_1a.push_back(contention_test(s, t));
  paper.phase_1a.push_back(quadratic_test(s, t));
  paper.phase_1a.push_back(
      linear_test("H3", "db_size_mb", s.db_size_mb, s.runtime, t.paper_h3_r_squared));
  auto h4 =
      spearman_test("H4", "cpu_percent (stands in for temperature)", s.cpu_percent, s.runtime, t);
  paper.phase_1a.push_back(std::move(h4));
  paper.phase_1a.push_back(
      linear_test("H5", "pattern_count", s.pattern_count, s.runtime, t.paper_h5_r_squared));
  const char* const k_mechanisms[] = {"system resource contention", "memory fragmentation",
                                      "I/O accumulation", "thermal throttling",
                                      "emergent complexity"};
  for (std::size_t i = 0; i < paper.phase_1a.size(); ++i)
    finish(paper.phase_1a[i], k_mechanisms[i], t);

  std::vector<const PaperHypothesis*> ranked;
  std::string untestable;
  for (const auto& h : paper.phase_1a) {
    if (h.testable)
      ranked.push_back(&h);
    else
      untestable += (untestable.empty() ? "" : ", ") + h.id;
  }
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const auto* a, const auto* b) { return a->score > b->score; });
  for (const auto* h : ranked)
    paper.tier_ranking +=
        fmt::format("{}{} ({:.3f})", paper.tier_ranking.empty() ? "" : " > ", h->id, h->score);
  if (!untestable.empty())
    paper.tier_ranking += (paper.tier_ranking.empty() ? "" : "; ") + ("untestable: " + untestable);

  if (variance.expected_hours > 0) {
    paper.has_variance = true;
    VarianceCharacterisation& v = paper.variance;
    const double e = variance.expected_hours;
    v.expected_hours = e;
    v.observed_hours = sum_of(s.runtime) / 3600.0;
    v.variance_percent = (v.observed_hours - e) / e * 100.0;
    v.acceleration_percent_per_hour = v.variance_percent / e;
    for (const double at : variance.milestone_hours) {
      const double vm = (at - e) / e * 100.0;
      v.milestones.push_back(
          {{"hours", at}, {"variance_percent", vm}, {"acceleration_percent_per_hour", vm / e}});
    }
    v.note =
        "V = (T - E)/E and A = V/E are linear in T by construction: a growing A says nothing "
        "about acceleration (study.md section 2).";
  }
  return paper;
}

}  // namespace nrmlab::analysis
