#include "synthetic_telemetry.hpp"

#include <cmath>
#include <nlohmann/json.hpp>

#include "telemetry/telemetry_store.hpp"

namespace nrmlab::testing {

std::int64_t noise(std::mt19937_64& rng, double sd) {
  return static_cast<std::int64_t>(std::llround(std::normal_distribution<double>(0.0, sd)(rng)));
}

void write_synthetic_run(const std::filesystem::path& dir, const SyntheticRun& run) {
  std::filesystem::create_directories(dir);
  std::filesystem::remove(dir / "telemetry.db");
  telemetry::TelemetryStore store(dir / "telemetry.db");
  std::mt19937_64 rng(run.rng_seed);

  telemetry::Batch head;
  const nlohmann::json configuration = {
      {"experiment", "c256"},
      {"variant", "as-intended"},
      {"preset", run.preset},
      {"model", {{"steps", run.conditions.empty() ? 0 : run.conditions.front().steps}}},
      {"overheads", {{"sampling", run.preset == "clean" ? "per-step" : "per-call"}}},
      {"source", {{"spec", run.source}}},
      {"seed", run.seed},
      {"out_dir", dir.string()}};
  head.meta = {{"schema", "nrmlab.telemetry/1"},
               {"experiment", "c256"},
               {"allocator", run.allocator},
               {"source", run.source},
               {"seed", std::to_string(run.seed)},
               {"configuration", configuration.dump()},
               {"complete", "true"},
               {"outcome", "complete"}};
  head.meta.insert(head.meta.end(), run.extra_meta.begin(), run.extra_meta.end());
  for (const auto& c : run.conditions)
    head.conditions.emplace_back(c.index, c.name);
  store.write(head);

  std::int64_t t_ns = 0;
  for (const auto& c : run.conditions) {
    telemetry::Batch batch;
    std::int64_t switches_since = 0, wait_since = 0;
    for (std::int64_t step = 1; step <= c.steps; ++step) {
      telemetry::StepRow row;
      row.condition = c.index;
      row.step = step;
      row.t_ns = t_ns;
      row.wall_ns = row.cpu_ns = 1'000'000;
      row.counters.agents_alive = 1;
      row.counters.evolve_calls = 1;
      if (c.step) c.step(step, row, rng);
      if (c.switches) switches_since += c.switches(step, rng);
      if (c.runq) wait_since += c.runq(step, row);
      if (step % c.usage_every == 0) {
        row.usage_steps = c.usage_every;
        row.involuntary_switches = switches_since;
        if (c.runq) row.runq_ns = wait_since;
        wait_since = 0;
        row.voluntary_switches = 0;
        row.minor_faults = row.major_faults = 0;
        row.user_ns = row.cpu_ns;
        row.system_ns = 0;
        switches_since = 0;
      }
      t_ns += row.wall_ns;
      if (c.memory && step % c.memory_every == 0) {
        telemetry::MemoryRow memory;
        memory.condition = c.index;
        memory.step = step;
        memory.t_ns = t_ns;
        c.memory(step, memory);
        batch.memory.push_back(memory);
      }
      if (step % c.system_every == 0) {
        telemetry::SystemRow system;
        system.t_ns = t_ns;
        system.condition = c.index;
        system.step = step;
        system.sample.cpu_percent = 50.0;
        system.sample.memory_percent = 40.0;
        system.sample.load1 = 1.0;
        system.sample.other_cpu_ns = 0;
        if (c.system) c.system(step, system, rng);
        batch.system.push_back(system);
        if (c.database_bytes)
          batch.files.push_back({t_ns, c.index, step, {"metrics.db", c.database_bytes(step)}});
        if (run.cpu_frequency_khz)
          batch.sensors.push_back(
              {t_ns, c.index, step, {"cpufreq_khz", "cpu0", run.cpu_frequency_khz(step)}});
      }
      batch.steps.push_back(row);
    }
    store.write(batch);
  }
}

}  // namespace nrmlab::testing
