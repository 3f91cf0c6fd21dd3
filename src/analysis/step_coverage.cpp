#include "analysis/step_coverage.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "analysis/stats/descriptive.hpp"
#include "analysis/stats/mann_kendall.hpp"

namespace nrmlab::analysis {
namespace {

double meta_seconds(const RunData& run, const std::string& key) {
  const std::string text = run.meta_value(key);
  if (text.empty()) return k_not_recorded;
  try {
    return std::stod(text) * 1e-9;
  } catch (const std::exception&) {
    return k_not_recorded;  // a meta value this version cannot read is an unknown figure
  }
}

// Per-window columns worth following when no step is marked: the work a program does shows
// as CPU time, syscalls and bytes moved, and waiting (for a lock, a disk) as voluntary
// switches. A sum of columns is one proxy (reads and writes are both syscalls).
struct ProxySpec {
  const char* what;
  std::vector<const char*> columns;
  double scale;
};

const std::vector<ProxySpec>& proxy_specs() {
  static const std::vector<ProxySpec> k_specs = {
      {"CPU time (s)", {"cpu_ns"}, 1e-9},
      {"read/write syscalls", {"io_syscr", "io_syscw"}, 1.0},
      {"bytes read (MB)", {"io_rchar"}, 1e-6},
      {"bytes written (MB)", {"io_wchar"}, 1e-6},
      {"voluntary context switches (waits)", {"voluntary_switches"}, 1.0},
  };
  return k_specs;
}

// The proxy's series over the condition's windows; empty when any column is absent or any
// window lacks a value (a partial series would be a wrong trend).
std::vector<double> proxy_series(const Columns& steps, const ProxySpec& spec) {
  std::vector<double> series(steps.rows(), 0.0);
  for (const char* column : spec.columns) {
    if (!steps.has(column)) return {};
    const auto values = steps[column];
    for (std::size_t i = 0; i < values.size(); ++i)
      series[i] += values[i] * spec.scale;
  }
  if (std::any_of(series.begin(), series.end(), [](double v) { return !std::isfinite(v); }))
    return {};
  return series;
}

WindowProxy describe_proxy(const ProxySpec& spec, const std::vector<double>& series) {
  WindowProxy proxy;
  proxy.what = spec.what;
  for (const char* column : spec.columns) {
    if (!proxy.column.empty()) proxy.column += '+';
    proxy.column += column;
  }
  const std::size_t quarter = std::max<std::size_t>(1, series.size() / 4);
  const std::span<const double> all(series);
  proxy.first_quarter = stats::mean(all.first(quarter));
  proxy.last_quarter = stats::mean(all.last(quarter));
  if (proxy.first_quarter > 0) proxy.ratio = proxy.last_quarter / proxy.first_quarter;
  if (series.size() >= 3) proxy.p = stats::mann_kendall_corrected(series).p;
  return proxy;
}

}  // namespace

std::string watched_program(const RunData& run) {
  try {
    const auto command = nlohmann::json::parse(run.meta_value("watch.command", "[]"));
    if (command.is_array() && !command.empty() && command.front().is_string())
      return std::filesystem::path(command.front().get<std::string>()).filename().string();
  } catch (const nlohmann::json::exception&) {
    // "pid 4242" (attached), or no watch at all: no program name
  }
  return {};
}

StepCoverage step_coverage(const RunData& run) {
  StepCoverage c;
  if (!is_foreign(parse_step_source(run.meta_value("step_source", "engine")))) return c;
  double steps_ns = 0.0;
  for (const ConditionData& condition : run.conditions)
    for (const double wall : condition.steps["wall_ns"])
      steps_ns += wall;
  c.steps_seconds = steps_ns * 1e-9;
  c.startup_seconds = run.startup_ns * 1e-9;
  c.program_seconds = meta_seconds(run, "watch.duration_ns");
  c.tail_seconds = meta_seconds(run, "steps.tail_ns");
  if (c.program_seconds > 0) c.share = std::min(1.0, c.steps_seconds / c.program_seconds);
  return c;
}

std::vector<WindowProxy> window_proxies(const RunData& run) {
  std::vector<WindowProxy> proxies;
  if (parse_step_source(run.meta_value("step_source", "engine")) != StepSource::time_windows)
    return proxies;
  for (const ConditionData& condition : run.conditions)
    for (const ProxySpec& spec : proxy_specs())
      if (const auto series = proxy_series(condition.steps, spec); series.size() >= 2)
        proxies.push_back(describe_proxy(spec, series));
  return proxies;
}

std::string marker_example(std::string_view program) {
  const auto starts = [&](std::string_view prefix) { return program.rfind(prefix, 0) == 0; };
  if (starts("python") || starts("pypy")) return R"(print(f"NRMLAB step={step}", flush=True))";
  if (program == "sh" || program == "bash" || program == "dash" || program == "zsh" ||
      program == "ksh")
    return R"(echo "NRMLAB step=$step")";
  if (program == "Rscript" || program == "R")
    return R"(cat(sprintf("NRMLAB step=%d\n", step)); flush(stdout()))";
  if (starts("julia")) return R"(println("NRMLAB step=$step"); flush(stdout))";
  if (program == "node" || program == "deno" || program == "bun")
    return "console.log(`NRMLAB step=${step}`)";
  if (program == "java") return R"(System.out.println("NRMLAB step=" + step);)";
  if (program == "perl") return R"($| = 1; print "NRMLAB step=$step\n";)";
  if (program == "ruby") return R"($stdout.sync = true; puts "NRMLAB step=#{step}")";
  return R"(printf("NRMLAB step=%ld\n", step); fflush(stdout);)";
}

}  // namespace nrmlab::analysis
