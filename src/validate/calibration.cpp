#include "validate/calibration.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/math/distributions/binomial.hpp>
#include <chrono>
#include <cmath>
#include <mutex>
#include <thread>

#include "analysis/code_growth.hpp"
#include "analysis/sound_mode.hpp"
#include "analysis/verdict.hpp"
#include "util/atomic_file.hpp"
#include "util/error.hpp"
#include "util/hash.hpp"
#include "validate/verdict.hpp"

namespace nrmlab::validate {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr std::array<std::string_view, 5> k_hypotheses = {"H1", "H2", "H3", "H4", "H5"};

bool per_condition(Quantity q) {
  return q == Quantity::drift_declared || q == Quantity::drift_slower ||
         q == Quantity::code_first || q == Quantity::code_dearer;
}

std::size_t count_of(Quantity q, const CalibrationOutcome& o) {
  switch (q) {
    case Quantity::drift_declared:
      return o.slower + o.faster;
    case Quantity::drift_slower:
      return o.slower;
    case Quantity::code_first:
      return o.code_first;
    case Quantity::code_dearer:
      return o.code_dearer;
    default:
      return o.supported[static_cast<std::size_t>(q)] ? 1 : 0;
  }
}

std::vector<const CalibrationFamily*> selected_families(const std::vector<std::string>& names) {
  std::vector<const CalibrationFamily*> out;
  for (const CalibrationFamily& f : calibration_families())
    if (names.empty() || std::find(names.begin(), names.end(), f.name) != names.end())
      out.push_back(&f);
  for (const std::string& name : names)
    if (std::none_of(out.begin(), out.end(), [&](const auto* f) { return f->name == name; }))
      throw Error(fmt::format("--family: no calibration family '{}' (known: {})", name,
                              fmt::join(calibration_family_names(), ", ")));
  return out;
}

// One run: generate, analyse, read the outcome. An analysis that throws is recorded, not
// propagated: it is a finding about the analysis, and counts against every check.
CalibrationOutcome run_one(const CalibrationFamily& family, const CalibrationOptions& options,
                           std::size_t index, double& seconds) {
  auto rng = run_rng(options.seed, family.name, index);
  const auto plan = family.plan(rng);
  const auto run = calibration::build_run(plan, rng, fmt::format("{}-{}", family.name, index));
  const auto start = Clock::now();
  CalibrationOutcome outcome;
  try {
    const analysis::SoundAnalysis sound = analysis::analyse_sound(run, options.thresholds);
    outcome = calibration_outcome(sound);
    if (family.profiled()) {
      analysis::CodeProfile code;
      analysis::add_code_growth(run, sound, calibration::synthetic_profile(run, rng),
                                options.thresholds, code);
      add_code_outcome(code, family.dearer_function, outcome);
    }
  } catch (const std::exception& error) {
    outcome.error = error.what();
    outcome.conditions = run.conditions.size();
  }
  seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return outcome;
}

FamilyResult tally(const CalibrationFamily& family, const std::vector<CalibrationOutcome>& runs) {
  FamilyResult r;
  r.name = family.name;
  r.kind = family.kind;
  r.planted = family.planted;
  r.runs = runs.size();
  r.profiled = family.profiled();
  for (const CalibrationOutcome& o : runs) {
    r.conditions += o.conditions;
    r.slower += o.slower;
    r.faster += o.faster;
    r.code_first += o.code_first;
    r.code_dearer += o.code_dearer;
    for (std::size_t h = 0; h < 5; ++h)
      r.supported[h] += o.supported[h];
    if (!o.error.empty() && r.errors++ == 0) r.first_error = o.error;
  }
  for (const Check& check : family.checks) {
    std::size_t count = 0;
    for (const CalibrationOutcome& o : runs)
      count += o.error.empty() ? count_of(check.quantity, o)
               : check.rule == Rule::at_least_power
                   ? 0
                   : (per_condition(check.quantity) ? o.conditions : 1);
    const std::size_t trials = per_condition(check.quantity) ? r.conditions : r.runs;
    r.checks.push_back(judge(check, count, trials));
    r.passed = r.passed && r.checks.back().passed;
  }
  return r;
}

// Runs of every selected family on `threads` workers; each run's slot is fixed by its
// index, so the result does not depend on which worker ran it.
struct Work {
  std::vector<const CalibrationFamily*> families;
  std::vector<std::vector<CalibrationOutcome>> outcomes;
  std::vector<std::vector<double>> seconds;
  std::atomic<std::size_t> next{0};
  std::vector<std::size_t> done;
  std::mutex progress;
  bool stopped = false;
};

void worker(Work& work, const CalibrationOptions& options) {
  const std::size_t total = work.families.size() * options.runs;
  for (std::size_t job = work.next++; job < total; job = work.next++) {
    if (options.stop && options.stop->load()) {
      std::lock_guard lock(work.progress);
      work.stopped = true;
      return;
    }
    const std::size_t f = job / options.runs, run = job % options.runs;
    const CalibrationFamily& family = *work.families[f];
    work.outcomes[f][run] = run_one(family, options, run, work.seconds[f][run]);
    std::lock_guard lock(work.progress);
    ++work.done[f];
    if (options.on_run) options.on_run(family.name, work.done[f], options.runs);
  }
}

std::string rate_text(std::size_t count, std::size_t trials) {
  return trials ? fmt::format("{:.1f}%",
                              100.0 * static_cast<double>(count) / static_cast<double>(trials))
                : "-";
}

}  // namespace

bool CalibrationFamily::profiled() const {
  return std::any_of(checks.begin(), checks.end(), [](const Check& c) {
    return c.quantity == Quantity::code_first || c.quantity == Quantity::code_dearer;
  });
}

std::vector<std::string> calibration_family_names() {
  std::vector<std::string> names;
  for (const CalibrationFamily& f : calibration_families())
    names.push_back(f.name);
  return names;
}

calibration::Rng run_rng(std::uint64_t seed, std::string_view family, std::size_t run) {
  Fnv1a hash;
  hash.add(family);
  std::seed_seq sequence{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32),
                         static_cast<std::uint32_t>(hash.value()),
                         static_cast<std::uint32_t>(hash.value() >> 32),
                         static_cast<std::uint32_t>(run)};
  return calibration::Rng(sequence);
}

CalibrationOutcome calibration_outcome(const analysis::SoundAnalysis& sound) {
  CalibrationOutcome o;
  for (const analysis::Hypothesis& h : sound.hypotheses)
    for (std::size_t i = 0; i < k_hypotheses.size(); ++i)
      if (h.id == k_hypotheses[i]) o.supported[i] = analysis::is_supported(h.verdict);
  o.conditions = sound.drift.size();
  for (const analysis::Drift& d : sound.drift) {
    o.slower += d.direction == analysis::DriftDirection::slower;
    o.faster += d.direction == analysis::DriftDirection::faster;
  }
  return o;
}

void add_code_outcome(const analysis::CodeProfile& code, const std::string& dearer_function,
                      CalibrationOutcome& outcome) {
  for (const analysis::CodeComparison& c : code.comparisons) {
    const bool dearer =
        std::any_of(code.growth.begin(), code.growth.end(), [&](const analysis::CodeGrowth& g) {
          return g.condition == c.condition && g.change == analysis::CodeChange::dearer;
        });
    outcome.code_dearer += dearer ? 1 : 0;
    outcome.code_first +=
        names_dearer_first(first_growth(code, c.condition), dearer_function) ? 1 : 0;
  }
}

double binomial_upper_tail(std::size_t k, std::size_t n, double p) {
  if (k == 0) return 1.0;
  if (k > n) return 0.0;
  const boost::math::binomial_distribution<double> d(static_cast<double>(n), p);
  return boost::math::cdf(boost::math::complement(d, static_cast<double>(k - 1)));
}

double binomial_lower_tail(std::size_t k, std::size_t n, double p) {
  if (k >= n) return 1.0;
  const boost::math::binomial_distribution<double> d(static_cast<double>(n), p);
  return boost::math::cdf(d, static_cast<double>(k));
}

CheckResult judge(const Check& check, std::size_t count, std::size_t trials) {
  CheckResult r{check, count, trials, std::nan(""), true};
  switch (check.rule) {
    case Rule::at_most_false_rate:
      r.p = binomial_upper_tail(count, trials, k_false_rate);
      r.passed = r.p >= k_rule_p;
      break;
    case Rule::at_least_power:
      r.p = binomial_lower_tail(count, trials, k_power_rate);
      r.passed = trials > 0 && r.p >= k_rule_p;
      break;
    case Rule::never:
      r.passed = count == 0;
      break;
    case Rule::reported:
      break;
  }
  return r;
}

std::string_view to_string(Quantity q) {
  switch (q) {
    case Quantity::drift_declared:
      return "drift declared";
    case Quantity::drift_slower:
      return "drift slower";
    case Quantity::code_first:
      return "code first";
    case Quantity::code_dearer:
      return "code dearer";
    default:
      return k_hypotheses[static_cast<std::size_t>(q)];
  }
}

std::string_view to_string(Rule rule) {
  switch (rule) {
    case Rule::at_most_false_rate:
      return "at most 5%";
    case Rule::at_least_power:
      return "at least 90%";
    case Rule::never:
      return "never";
    case Rule::reported:
      return "reported";
  }
  return "?";
}

std::string describe(const Check& check) {
  const std::string what(to_string(check.quantity));
  std::string subject = per_condition(check.quantity) ? what : what + " supported";
  // "code first": the family's function named first, dearer, with >= 80% of the change.
  if (check.quantity == Quantity::code_first) subject = "planted function named first dearer";
  if (check.quantity == Quantity::code_dearer) subject = "a function called dearer";
  switch (check.rule) {
    case Rule::at_most_false_rate:
      return subject + " <= 5%";
    case Rule::at_least_power:
      return subject + " >= 90%";
    case Rule::never:
      return subject + " never";
    case Rule::reported:
      return subject + " (expected)";
  }
  return subject;
}

CalibrationReport run_calibration(const CalibrationOptions& options) {
  const auto start = Clock::now();
  Work work;
  work.families = selected_families(options.families);
  for (std::size_t f = 0; f < work.families.size(); ++f) {
    work.outcomes.emplace_back(options.runs);
    work.seconds.emplace_back(options.runs, 0.0);
  }
  work.done.assign(work.families.size(), 0);
  const unsigned threads =
      std::max(1u, options.threads ? options.threads : std::thread::hardware_concurrency());
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t)
    pool.emplace_back([&] { worker(work, options); });
  worker(work, options);
  for (std::thread& t : pool)
    t.join();

  CalibrationReport report;
  report.seed = options.seed;
  report.runs = options.runs;
  report.interrupted = work.stopped;
  for (std::size_t f = 0; f < work.families.size(); ++f) {
    // An interrupted calibration tallies only the runs that ended (a prefix per family is
    // not guaranteed, so it is not a reproducible table: the command says so).
    std::vector<CalibrationOutcome> ended;
    double seconds = 0.0;
    for (std::size_t r = 0; r < options.runs; ++r)
      if (work.outcomes[f][r].conditions > 0) {
        ended.push_back(work.outcomes[f][r]);
        seconds += work.seconds[f][r];
      }
    FamilyResult result = tally(*work.families[f], ended);
    result.seconds = seconds;
    report.passed = report.passed && result.passed;
    report.families.push_back(std::move(result));
  }
  report.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return report;
}

std::vector<std::string> calibration_table(const CalibrationReport& report) {
  std::vector<std::string> lines;
  lines.push_back(fmt::format(
      "{:<26} {:<6} {:>4}  {:>5} {:>5} {:>5} {:>5} {:>5}  {:>6} {:>6} {:>7}  {}", "family", "kind",
      "runs", "H1", "H2", "H3", "H4", "H5", "slower", "faster", "dearer", "rule"));
  for (const FamilyResult& f : report.families) {
    std::vector<std::string> failed;
    for (const CheckResult& c : f.checks)
      if (!c.passed)
        failed.push_back(fmt::format("{} ({})", describe(c.check), rate_text(c.count, c.trials)));
    if (f.errors) failed.push_back(fmt::format("{} analysis errors", f.errors));
    const auto cell = [&](std::size_t count) { return fmt::format("{:>5}", count); };
    lines.push_back(fmt::format(
        "{:<26} {:<6} {:>4}  {} {} {} {} {}  {:>6} {:>6} {:>7}  {}", f.name, f.kind, f.runs,
        cell(f.supported[0]), cell(f.supported[1]), cell(f.supported[2]), cell(f.supported[3]),
        cell(f.supported[4]), fmt::format("{}/{}", f.slower, f.conditions),
        fmt::format("{}", f.faster),
        f.profiled ? fmt::format("{}/{}", f.code_dearer, f.conditions) : std::string("-"),
        f.passed ? std::string("pass") : "FAIL: " + fmt::format("{}", fmt::join(failed, "; "))));
  }
  return lines;
}

nlohmann::ordered_json calibration_json(const CalibrationReport& report) {
  nlohmann::ordered_json families = nlohmann::ordered_json::array();
  for (const FamilyResult& f : report.families) {
    nlohmann::ordered_json supported;
    for (std::size_t h = 0; h < 5; ++h)
      supported[std::string(k_hypotheses[h])] = f.supported[h];
    nlohmann::ordered_json checks = nlohmann::ordered_json::array();
    for (const CheckResult& c : f.checks)
      checks.push_back({{"quantity", to_string(c.check.quantity)},
                        {"rule", to_string(c.check.rule)},
                        {"count", c.count},
                        {"trials", c.trials},
                        {"p", std::isfinite(c.p) ? nlohmann::ordered_json(c.p) : nullptr},
                        {"passed", c.passed}});
    families.push_back(
        {{"name", f.name},
         {"kind", f.kind},
         {"planted", f.planted},
         {"runs", f.runs},
         {"conditions", f.conditions},
         {"supported", supported},
         {"drift_slower", f.slower},
         {"drift_faster", f.faster},
         {"code_first", f.profiled ? nlohmann::ordered_json(f.code_first) : nullptr},
         {"code_dearer", f.profiled ? nlohmann::ordered_json(f.code_dearer) : nullptr},
         {"errors", f.errors},
         {"first_error", f.first_error},
         {"checks", checks},
         {"passed", f.passed},
         {"analysis_seconds", f.seconds}});
  }
  return {
      {"schema", k_calibration_schema},
      {"seed", report.seed},
      {"runs", report.runs},
      {"rule", {{"false_rate", k_false_rate}, {"power_rate", k_power_rate}, {"tail_p", k_rule_p}}},
      {"interrupted", report.interrupted},
      {"passed", report.passed},
      {"seconds", report.seconds},
      {"families", families}};
}

std::string calibration_markdown(const CalibrationReport& report) {
  std::string md = fmt::format(
      "# Calibration: error rates on planted telemetry\n\n"
      "`nrmlab validate --calibrate --runs {} --seed {}` ({} families, {:.0f} s). Counts are "
      "runs with the hypothesis *supported* (of `runs`) and conditions whose drift was "
      "declared slower / faster (of all conditions); `dearer`: conditions where the "
      "differential profile (a synthetic stack profile of the run, one function per part of "
      "the step) called some function dearer per unit of work, `-` for a family not "
      "profiled. A check fails when its count is "
      "improbable (binomial tail p < {}) at {:.0f}% (false outcomes) or {:.0f}% (hits); "
      "`never` fails on any occurrence.\n\n"
      "| family | kind | runs | H1 | H2 | H3 | H4 | H5 | slower | faster | dearer | checks | "
      "result |\n"
      "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
      report.runs, report.seed, report.families.size(), report.seconds, k_rule_p,
      100 * k_false_rate, 100 * k_power_rate);
  for (const FamilyResult& f : report.families) {
    std::vector<std::string> checks;
    for (const CheckResult& c : f.checks)
      checks.push_back(fmt::format("{}{}: {}{}", c.passed ? "" : "**", describe(c.check),
                                   rate_text(c.count, c.trials), c.passed ? "" : "**"));
    md += fmt::format("| `{}` | {} | {} | {} | {} | {} | {} | {} | {}/{} | {} | {} | {} | {} |\n",
                      f.name, f.kind, f.runs, f.supported[0], f.supported[1], f.supported[2],
                      f.supported[3], f.supported[4], f.slower, f.conditions, f.faster,
                      f.profiled ? fmt::format("{}/{}", f.code_dearer, f.conditions) : "-",
                      fmt::join(checks, "; "), f.passed ? "pass" : "**FAIL**");
  }
  md += "\n## What each family plants\n\n";
  for (const FamilyResult& f : report.families)
    md += fmt::format("* `{}`: {}\n", f.name, f.planted);
  return md;
}

void write_calibration(const CalibrationReport& report, const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error(fmt::format("--out: cannot create {}: {}", dir.string(), ec.message()));
  write_file_atomically(dir / "calibration.json", calibration_json(report).dump(2) + "\n");
  write_file_atomically(dir / "calibration.md", calibration_markdown(report));
}

}  // namespace nrmlab::validate
