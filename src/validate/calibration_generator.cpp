#include "validate/calibration_generator.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <tuple>

#include "model/step_counters.hpp"
#include "telemetry/schema.hpp"
#include "util/numeric.hpp"

namespace nrmlab::validate::calibration {
namespace {

// The columns of a table the analysis reads (what telemetry_reader.cpp selects), so a
// column the registry gains later is present here too (NaN unless a family plants it).
std::vector<std::string> analysed_columns(std::string_view table) {
  std::vector<std::string> names;
  for (const telemetry::ColumnSpec& column : telemetry::telemetry_table(table).columns)
    if (column.use != telemetry::AnalysisUse::unread) names.emplace_back(column.name);
  return names;
}

// A row under construction: values by column name, NaN for what is not set.
class RowBuilder {
 public:
  explicit RowBuilder(const std::vector<std::string>& names) : m_names(names) {
    for (std::size_t i = 0; i < names.size(); ++i)
      m_index.emplace(names[i], i);
    m_values.assign(names.size(), k_nan);
  }
  void set(const std::string& name, double value) {
    if (const auto it = m_index.find(name); it != m_index.end()) m_values[it->second] = value;
  }
  void clear() { std::fill(m_values.begin(), m_values.end(), k_nan); }
  const std::vector<double>& values() const { return m_values; }

 private:
  const std::vector<std::string>& m_names;
  std::map<std::string, std::size_t> m_index;
  std::vector<double> m_values;
};

// Telemetry holds integer nanoseconds and counts.
double whole(double value) {
  return std::isfinite(value) ? std::round(value) : value;
}

std::vector<std::string> step_columns(const std::vector<std::vector<PlantedStep>>& planted) {
  std::vector<std::string> names = analysed_columns("steps");
  std::erase(names, "condition");  // the reader keys conditions by it instead
  // The run-queue column (contract with the telemetry stage): last in the steps table.
  if (std::find(names.begin(), names.end(), "runq_ns") == names.end())
    names.emplace_back("runq_ns");
  std::set<std::string> work;
  for (const auto& steps : planted)
    for (const PlantedStep& s : steps)
      for (const auto& [name, value] : s.counters)
        if (name.starts_with("work.")) work.insert(name);
  names.insert(names.end(), work.begin(), work.end());
  return names;
}

struct Cursor {
  double t_ns = 0.0;  // when the next step begins, since the run began
};

// The steps table of one condition, with getrusage figures every k_usage_every steps.
analysis::Columns steps_table(const std::vector<PlantedStep>& planted,
                              const std::vector<std::string>& names, bool runq_recorded,
                              std::vector<double>& starts, Cursor& cursor) {
  analysis::Columns columns(names);
  columns.reserve(planted.size());
  RowBuilder row(columns.names());
  double switches = 0.0, runq = 0.0;
  for (std::size_t i = 0; i < planted.size(); ++i) {
    const PlantedStep& s = planted[i];
    const double wall = whole(s.wall_ns());
    row.clear();
    row.set("step", static_cast<double>(i + 1));
    row.set("t_ns", cursor.t_ns);
    row.set("wall_ns", wall);
    row.set("cpu_ns", std::min(wall, whole(s.cpu_ns())));
    row.set("sampling_ns", whole(s.sampling_ns));
    row.set("window_ns", whole(s.window_ns));
    row.set("database_ns", whole(s.database_ns));
    row.set("recorder_ns", whole(s.recorder_ns));
    row.set("compute_ns", wall - whole(s.sampling_ns) - whole(s.window_ns) - whole(s.database_ns) -
                              whole(s.recorder_ns));
    for (const auto& [name, value] : s.counters)
      row.set(name, whole(value));
    switches += s.preemptions;
    runq += s.runq_ns;
    const bool reading = (i + 1) % static_cast<std::size_t>(k_usage_every) == 0;
    row.set("usage_steps", reading ? static_cast<double>(k_usage_every) : 0.0);
    if (reading) {
      row.set("involuntary_switches", whole(switches));
      if (runq_recorded) row.set("runq_ns", whole(runq));
      switches = runq = 0.0;
    }
    columns.append_row(row.values());
    starts.push_back(cursor.t_ns);
    cursor.t_ns += wall;
  }
  return columns;
}

// Counters a step does not name are 0 (the engine counts every one, every step); work.<name>
// stays NaN where a step does not name it, as the reader leaves it.
void zero_unset_counters(std::vector<PlantedStep>& planted) {
  for (PlantedStep& s : planted)
    for (const model::StepCounterField& field : model::k_step_counter_fields)
      s.counters.try_emplace(std::string(field.name), 0.0);
}

void add_memory_row(analysis::ConditionData& c, const ConditionPlan& plan, const SideContext& at,
                    double t_ns, Rng& rng) {
  MemoryReading m;
  m.rss_bytes = 64e6;
  if (plan.memory) m = plan.memory(at, rng);
  RowBuilder row(c.memory.names());
  row.set("condition", c.index);
  row.set("step", static_cast<double>(at.step_index + 1));
  row.set("t_ns", t_ns);
  row.set("rss_bytes", whole(m.rss_bytes));
  row.set("allocated", whole(m.allocated));
  row.set("active", whole(m.active));
  row.set("resident", whole(m.resident));
  row.set("mapped", whole(m.mapped));
  row.set("rss_per_allocated", whole(m.rss_bytes) / whole(m.allocated));
  row.set("resident_per_active", whole(m.resident) / whole(m.active));
  row.set("active_per_allocated", whole(m.active) / whole(m.allocated));
  c.memory.append_row(row.values());
}

void add_side_rows(analysis::ConditionData& c, const ConditionPlan& plan, const SideContext& at,
                   double t_ns, Rng& rng, std::size_t& sensor_readings) {
  SystemReading s;
  if (plan.system) s = plan.system(at, rng);
  RowBuilder row(c.system.names());
  const double step = static_cast<double>(at.step_index + 1);
  row.set("t_ns", t_ns);
  row.set("unix_time", 1.8e9 + t_ns * 1e-9);
  row.set("condition", c.index);
  row.set("step", step);
  row.set("cpu_percent", s.cpu_percent);
  row.set("memory_percent", s.memory_percent);
  row.set("load1", s.load1);
  row.set("load5", s.load1);
  row.set("load15", s.load1);
  row.set("procs_running", s.procs_running);
  row.set("other_cpu_ns", whole(s.other_cpu_ns));
  c.system.append_row(row.values());
  if (plan.database_bytes) {
    const double values[] = {t_ns, step, whole(plan.database_bytes(at))};
    c.files.append_row(values);
  }
  if (const double khz = (*at.planted)[at.step_index].cpu_khz; std::isfinite(khz)) {
    const double values[] = {t_ns, step, 1.0, whole(khz)};
    c.sensors.append_row(values);
    ++sensor_readings;
  }
}

}  // namespace

double PlantedStep::wall_ns() const {
  return compute_ns + blocked_ns + database_ns + sampling_ns + window_ns + recorder_ns + runq_ns;
}

double PlantedStep::cpu_ns() const {
  return wall_ns() - blocked_ns - database_blocked_ns - window_ns - runq_ns;
}

analysis::RunData build_run(const RunPlan& plan, Rng& rng, const std::string& id) {
  analysis::RunData run;
  run.id = id;
  run.dir = id;
  run.meta = {
      {"schema", "nrmlab.telemetry/1"},    {"experiment", "calibration"}, {"allocator", "glibc"},
      {"source", "synthetic:calibration"}, {"complete", "true"},          {"outcome", "complete"}};
  if (plan.runq_recorded) run.meta["probe.runq"] = "schedstat";
  // Steps first, every condition in run order, so the random stream's use does not depend
  // on which side streams a family has.
  std::vector<std::vector<PlantedStep>> planted;
  for (const ConditionPlan& c : plan.conditions) {
    auto& steps = planted.emplace_back();
    steps.reserve(c.steps);
    for (std::size_t i = 0; i < c.steps; ++i)
      steps.push_back(c.step(i, rng));
  }
  for (auto& steps : planted)
    zero_unset_counters(steps);
  const auto names = step_columns(planted);
  const auto memory_names = analysed_columns("memory");
  const auto system_names = analysed_columns("system");
  Cursor cursor;
  for (std::size_t ci = 0; ci < plan.conditions.size(); ++ci) {
    const ConditionPlan& p = plan.conditions[ci];
    analysis::ConditionData c;
    c.index = static_cast<int>(ci);
    c.name = p.name;
    std::vector<double> starts;
    c.steps = steps_table(planted[ci], names, plan.runq_recorded, starts, cursor);
    c.memory = analysis::Columns(memory_names);
    c.system = analysis::Columns(system_names);
    c.files = analysis::Columns({"t_ns", "step", "database_bytes"});
    c.sensors = analysis::Columns({"t_ns", "step", "is_frequency", "value"});
    const auto wall = c.steps["wall_ns"];
    double since_side = 0.0;
    for (std::size_t i = 0; i < p.steps; ++i) {
      since_side += wall[i];
      const double end_ns = starts[i] + wall[i];
      const SideContext at{i, p.steps, &planted[ci], since_side};
      if ((i + 1) % static_cast<std::size_t>(k_memory_every) == 0)
        add_memory_row(c, p, at, end_ns, rng);
      if ((i + 1) % static_cast<std::size_t>(k_system_every) == 0) {
        add_side_rows(c, p, at, end_ns, rng, run.sensor_readings);
        since_side = 0.0;
      }
    }
    run.conditions.push_back(std::move(c));
  }
  return run;
}

namespace {

// The parts of a step a synthetic profile walks through: function, steps column, wait.
struct StepPart {
  const char* function;
  const char* column;
  telemetry::profile::WaitClass wait;
};
constexpr StepPart k_step_parts[] = {
    {"evolve_agents", "compute_ns", telemetry::profile::WaitClass::on_cpu},
    {"commit_rows", "database_ns", telemetry::profile::WaitClass::on_cpu},
    {"sample_metrics", "sampling_ns", telemetry::profile::WaitClass::on_cpu},
    {"sample_metrics", "window_ns", telemetry::profile::WaitClass::sleep},
    {"record_step", "recorder_ns", telemetry::profile::WaitClass::on_cpu},
};

}  // namespace

telemetry::profile::ProfileData synthetic_profile(const analysis::RunData& run, Rng& rng,
                                                  std::int64_t window_ns, double period_ns) {
  using telemetry::profile::ProfileData;
  ProfileData data;
  data.status = "sampled";
  data.window_ns = window_ns;
  data.period_ns = static_cast<std::int64_t>(period_ns);
  data.frames.push_back({1, "main", "engine", 0});
  data.stacks.push_back({1, 0, 1});
  std::map<std::string, std::int64_t> stack_of;  // function -> stack id
  for (const StepPart& part : k_step_parts)
    if (stack_of.emplace(part.function, 0).second) {
      const auto id = static_cast<std::int64_t>(data.frames.size()) + 1;
      data.frames.push_back({id, part.function, "engine", 0});
      data.stacks.push_back({id, 1, id});
      stack_of[part.function] = id;
    }
  // (window, stack, wait) -> samples; a map keeps the counts ordered as ProfileData's are.
  std::map<std::tuple<std::int64_t, std::int64_t, int>, std::int64_t> samples;
  double next = std::uniform_real_distribution<double>(0.0, period_ns)(rng);
  for (const analysis::ConditionData& c : run.conditions) {
    const auto t = c.steps["t_ns"];
    for (std::size_t i = 0; i < c.steps.rows(); ++i) {
      double begin = t[i];
      for (const StepPart& part : k_step_parts) {
        const double length = c.steps.has(part.column) ? c.steps[part.column][i] : 0.0;
        const double end = begin + (std::isfinite(length) ? std::max(0.0, length) : 0.0);
        for (next = std::max(next, begin); next < end; next += period_ns)
          ++samples[{static_cast<std::int64_t>(next) / window_ns, stack_of[part.function],
                     static_cast<int>(part.wait)}];
        begin = end;
      }
    }
  }
  for (const auto& [key, n] : samples) {
    const auto& [window, stack, wait] = key;
    data.counts.push_back({window, stack, static_cast<telemetry::profile::WaitClass>(wait), n,
                           static_cast<std::int64_t>(static_cast<double>(n) * period_ns)});
  }
  return data;
}

double ArNoise::next(Rng& rng) {
  const double innovation = std::normal_distribution<double>(0.0, 1.0)(rng);
  if (!m_started) {
    m_started = true;
    m_value = m_sd * innovation;
  } else {
    m_value = m_phi * m_value + m_sd * std::sqrt(1.0 - m_phi * m_phi) * innovation;
  }
  return m_value;
}

double normal(Rng& rng, double mean, double sd) {
  return std::normal_distribution<double>(mean, sd)(rng);
}

double poisson(Rng& rng, double mean) {
  return mean > 0 ? static_cast<double>(std::poisson_distribution<std::int64_t>(mean)(rng)) : 0.0;
}

double uniform(Rng& rng, double low, double high) {
  return std::uniform_real_distribution<double>(low, high)(rng);
}

}  // namespace nrmlab::validate::calibration
