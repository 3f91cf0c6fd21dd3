// The planted-truth families of the calibration suite (issue 17 item 7). Every family is
// one engine-like baseline (below) with a few knobs turned, so two families differ only in
// what they plant.
//
// The baseline, in realistic magnitudes (a C256 step on the development VM): ~1 ms steps;
// a fixed 200 us plus Poisson(256) evolve calls at 2.5 us each (compute); one transaction
// a step with Poisson(40) rows, 60 us a commit and 3 us a row (database, on the CPU); 20 us
// sampling; 5 us recorder; run-queue delay ~1% of the step (log-normal, sd 0.5 on the log
// scale); Poisson(0.3) preemptions a step; multiplicative compute noise with standard
// deviation 5% (AR(1) where a family says so). Every hypothesis is testable on it: the
// memory table carries allocator statistics with stationary ratios, the side stream a
// persistent load average and other processes' CPU, the sensors a jittering CPU frequency,
// and the databases grow as rows are written. A null family must keep every one of those
// from reading as a cause.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "validate/calibration.hpp"

namespace nrmlab::validate {
namespace {

using calibration::ArNoise;
using calibration::ConditionPlan;
using calibration::MemoryReading;
using calibration::PlantedStep;
using calibration::Rng;
using calibration::RunPlan;
using calibration::SideContext;
using calibration::SystemReading;
using Shape = std::function<double(double x)>;  // a multiplier at fraction x of a condition

constexpr double k_fixed_ns = 200'000, k_evolve_ns = 2'500, k_evolves = 256;
constexpr double k_commit_ns = 60'000, k_row_ns = 3'000, k_rows = 40;
constexpr double k_nominal_khz = 2.8e6;
constexpr const char* k_condition_names[] = {"OFF-OFF", "ON-OFF", "OFF-ON", "ON-ON"};

double flat(double) {
  return 1.0;
}

// x1 at the start to x`end` at the end of the condition, linearly.
Shape ramp(double end) {
  return [end](double x) { return 1.0 + (end - 1.0) * x; };
}

// What a family changes from the baseline.
struct Knobs {
  std::size_t conditions = 4;
  std::size_t steps = 400;
  std::size_t min_steps = 0, max_steps = 0;  // > 0: each condition's length drawn in [min, max]
  double phi = 0.0, sd = 0.05;               // compute noise: AR(1) coefficient, marginal sd
  Shape work = flat;                         // evolve calls (and agents)
  Shape price = flat;                        // price of compute
  Shape db_price = flat;                     // price of a commit and a row
  Shape runq_share = [](double) { return 0.01; };
  Shape ratio = flat;              // rss / allocated, relative to the baseline 1.1
  Shape frequency;                 // CPU frequency relative to nominal; none: jitter only
  double level_shift = 0.0;        // > 0: compute price x(1 + this) from a random step
  double db_burst = 0.0;           // > 0: database price x(1 + this) for a fifth of the condition
  bool constant = false;           // every step exactly alike
  double preempt_per_ms = 0.0;     // > 0: Poisson(rate x step length) preemptions
  double blocked_share = 0.0;      // off the CPU outside sections (mean share)
  double fsync_ns = 0.0;           // mean fsync wait inside the database section
  double spike_probability = 0.0;  // heavy tails: this share of steps blocks ...
  double spike_median = 0.0;       // ... a log-normal time with this median (x step)
  std::string free_counter;        // a counter that grows tenfold and costs nothing
  std::string twin_counter;        // a counter growing exactly as the work (collinear)
  bool runq_recorded = true;
  bool load_follows_blocking = false;  // tasks in D state count in the load average
};

struct ConditionState {
  ArNoise noise;
  ArNoise frequency_noise{0.95, 0.02};  // a throttling CPU's frequency wanders
  double shift_at = 2.0;                // fraction of the condition where the level shift happens
  double burst_at = 2.0;                // ... and where the database's burst starts
};

// The CPU's frequency during a step (relative to nominal) and what its sensor reads (kHz,
// 100 MHz steps). Without throttling the frequency is nominal and the reading jitters by
// itself (cpufreq's instantaneous value); with it, steps run at the frequency read.
std::pair<double, double> cpu_frequency(const Knobs& k, ConditionState& state, double x, Rng& rng) {
  if (!k.frequency) {
    const double reading = k_nominal_khz * (1 + calibration::normal(rng, 0, 0.025));
    return {1.0, std::round(reading / 1e5) * 1e5};
  }
  const double relative =
      std::round(k.frequency(x) * (1 + state.frequency_noise.next(rng)) * k_nominal_khz / 1e5) *
      1e5 / k_nominal_khz;
  return {relative, relative * k_nominal_khz};
}

PlantedStep constant_step() {
  PlantedStep s;
  s.compute_ns = k_fixed_ns + k_evolves * k_evolve_ns;
  s.database_ns = k_commit_ns + k_rows * k_row_ns;
  s.sampling_ns = 20'000;
  s.recorder_ns = 5'000;
  s.runq_ns = 10'000;
  s.cpu_khz = k_nominal_khz;
  s.counters = {{"agents", 64},         {"evolve_calls", k_evolves}, {"metric_samples", 1},
                {"db_transactions", 1}, {"db_rows", k_rows},         {"resonance_pairs", 2016}};
  return s;
}

// The extra off-CPU time of a step: blocking, heavy-tail spikes.
void add_blocking(const Knobs& k, PlantedStep& s, Rng& rng) {
  const double base = s.wall_ns();
  if (k.blocked_share > 0)
    s.blocked_ns += base * k.blocked_share * std::exp(calibration::normal(rng, -0.125, 0.5));
  if (k.spike_probability > 0 && calibration::uniform(rng, 0, 1) < k.spike_probability)
    s.blocked_ns += base * k.spike_median * std::exp(calibration::normal(rng, 0, 0.5));
  if (k.fsync_ns > 0) {
    const double wait = k.fsync_ns * std::exp(calibration::normal(rng, -0.32, 0.8));
    s.database_ns += wait;
    s.database_blocked_ns += wait;
  }
}

PlantedStep engine_step(const Knobs& k, ConditionState& state, double x, Rng& rng) {
  if (k.constant) {
    PlantedStep s = constant_step();
    s.cpu_khz = cpu_frequency(k, state, x, rng).second;
    return s;
  }
  PlantedStep s;
  const double work = k.work(x);
  const double evolves = std::max(1.0, calibration::poisson(rng, k_evolves * work));
  const double rows = calibration::poisson(rng, k_rows);
  const auto [frequency, reading] = cpu_frequency(k, state, x, rng);
  s.cpu_khz = reading;
  double price = k.price(x) / frequency;
  if (x >= state.shift_at) price *= 1.0 + k.level_shift;
  const double noise = std::max(-0.8, state.noise.next(rng));
  s.compute_ns = (k_fixed_ns + evolves * k_evolve_ns) * price * (1.0 + noise);
  s.database_ns = (k_commit_ns + rows * k_row_ns) * k.db_price(x);
  if (x >= state.burst_at && x < state.burst_at + 0.2) s.database_ns *= 1.0 + k.db_burst;
  s.sampling_ns = 20'000 + calibration::normal(rng, 0, 1'000);
  s.recorder_ns = 5'000 + calibration::normal(rng, 0, 300);
  s.counters = {{"agents", std::round(64 * work)},
                {"evolve_calls", evolves},
                {"metric_samples", 1},
                {"db_transactions", 1},
                {"db_rows", rows},
                {"resonance_pairs", 2016}};
  if (!k.free_counter.empty())
    s.counters[k.free_counter] =
        std::round((200 + 1800 * x) * (1 + calibration::normal(rng, 0, 0.02)));
  if (!k.twin_counter.empty())
    s.counters[k.twin_counter] = std::max(1.0, calibration::poisson(rng, 2 * k_evolves * work));
  add_blocking(k, s, rng);
  const double on_cpu = s.wall_ns() - s.blocked_ns - s.database_blocked_ns;
  const double share = std::min(0.9, k.runq_share(x));
  s.runq_ns = on_cpu * share / (1 - share) * std::exp(calibration::normal(rng, -0.125, 0.5));
  s.preemptions = k.preempt_per_ms > 0
                      ? calibration::poisson(rng, k.preempt_per_ms * s.wall_ns() * 1e-6)
                      : calibration::poisson(rng, 0.3) + calibration::poisson(rng, s.runq_ns / 2e5);
  return s;
}

// Mean share of the last side interval's wall time spent waiting (run queue) or blocked.
std::pair<double, double> waiting_shares(const SideContext& at) {
  double wall = 0, runq = 0, blocked = 0;
  const std::size_t from = at.step_index + 1 >= 25 ? at.step_index + 1 - 25 : 0;
  for (std::size_t i = from; i <= at.step_index; ++i) {
    const PlantedStep& s = (*at.planted)[i];
    wall += s.wall_ns();
    runq += s.runq_ns;
    blocked += s.blocked_ns + s.database_blocked_ns;
  }
  return {wall > 0 ? runq / wall : 0.0, wall > 0 ? blocked / wall : 0.0};
}

// The side streams: persistent noise around the baseline, load from waiting tasks.
void add_side_streams(const Knobs& k, ConditionPlan& plan) {
  auto load_noise = std::make_shared<ArNoise>(0.9, 0.15);
  auto ratio_noise = std::make_shared<ArNoise>(0.9, 0.01);
  plan.system = [k, load_noise](const SideContext& at, Rng& rng) {
    const auto [runq, blocked] = waiting_shares(at);
    SystemReading r;
    r.load1 = std::max(0.0, 1.0 + load_noise->next(rng) + 4 * runq +
                                (k.load_follows_blocking ? 3 * blocked : 0.0));
    r.procs_running = 1 + calibration::poisson(rng, 0.3 + 4 * runq);
    r.other_cpu_ns =
        at.interval_ns * std::max(0.0, 0.3 + 2 * runq + calibration::normal(rng, 0, 0.05));
    r.cpu_percent = 100 * std::min(1.0, (1.0 + r.other_cpu_ns / at.interval_ns) / 2);
    return r;
  };
  plan.memory = [k, ratio_noise](const SideContext& at, Rng& rng) {
    const double x = at.steps > 1 ? static_cast<double>(at.step_index) / (at.steps - 1) : 0.0;
    MemoryReading m;
    m.allocated = 60e6 * (1 + calibration::normal(rng, 0, 0.005));
    m.active = m.allocated * (1.08 + ratio_noise->next(rng));
    m.resident = m.active * 1.02;
    m.mapped = m.resident * 1.1;
    // Fragmentation: the heap holds ever more resident memory per live byte.
    const double growth = k.ratio(x);
    m.resident *= growth;
    m.mapped *= growth;
    m.rss_bytes = m.allocated * 1.1 * growth + 8e6;
    return m;
  };
  plan.database_bytes = [](const SideContext& at) {
    double rows = 0;
    for (std::size_t i = 0; i <= at.step_index; ++i)
      rows += (*at.planted)[i].counters.at("db_rows");
    return 4096.0 * 8 + rows * 180.0;
  };
}

std::function<RunPlan(Rng&)> engine_like(Knobs k) {
  return [k](Rng& rng) {
    RunPlan plan;
    plan.runq_recorded = k.runq_recorded;
    for (std::size_t c = 0; c < k.conditions; ++c) {
      ConditionPlan condition;
      condition.name = k_condition_names[c % 4];
      condition.steps = k.max_steps > 0
                            ? static_cast<std::size_t>(std::uniform_int_distribution<std::size_t>(
                                  k.min_steps, k.max_steps)(rng))
                            : k.steps;
      auto state = std::make_shared<ConditionState>(ConditionState{ArNoise(k.phi, k.sd)});
      if (k.level_shift > 0) state->shift_at = calibration::uniform(rng, 0.3, 0.7);
      if (k.db_burst > 0) state->burst_at = calibration::uniform(rng, 0.05, 0.75);
      const double n = static_cast<double>(condition.steps);
      condition.step = [k, state, n](std::size_t i, Rng& r) {
        const double x = n > 1 ? static_cast<double>(i) / (n - 1) : 0.0;
        return engine_step(k, *state, x, r);
      };
      add_side_streams(k, condition);
      plan.conditions.push_back(std::move(condition));
    }
    return plan;
  };
}

// Checks of a null family: no hypothesis supported, no drift, each at most 5%.
std::vector<Check> null_checks() {
  return {{Quantity::h1, Rule::at_most_false_rate},
          {Quantity::h2, Rule::at_most_false_rate},
          {Quantity::h3, Rule::at_most_false_rate},
          {Quantity::h4, Rule::at_most_false_rate},
          {Quantity::h5, Rule::at_most_false_rate},
          {Quantity::drift_declared, Rule::at_most_false_rate}};
}

// Checks of a signal family: the expected hypothesis reported, the others false at most 5%.
std::vector<Check> signal_checks(Quantity expected) {
  std::vector<Check> checks;
  for (const Quantity q : {Quantity::h1, Quantity::h2, Quantity::h3, Quantity::h4, Quantity::h5})
    checks.push_back({q, q == expected ? Rule::reported : Rule::at_most_false_rate});
  checks.push_back({Quantity::drift_slower, Rule::reported});
  return checks;
}

std::string ar_name(double phi, std::size_t steps) {
  return fmt::format("null-ar{}-n{}", phi, steps);
}

void add_nulls(std::vector<CalibrationFamily>& out) {
  // Profiled (issue 19): no function may be called dearer where nothing changed.
  auto iid_checks = null_checks();
  iid_checks.push_back({Quantity::code_dearer, Rule::at_most_false_rate});
  out.push_back({"null-iid", "null", "independent noise (sd 5%), 4 conditions of 400 steps",
                 engine_like({}), iid_checks});
  for (const double phi : {0.5, 0.9, 0.95})
    for (const std::size_t steps : {100u, 400u, 3000u}) {
      Knobs k;
      k.phi = phi;
      k.sd = 0.10;  // persistent noise at the top of the realistic range: the hard case
      k.steps = steps;
      // 3000-step conditions: two of them keep the full table's time in bounds.
      k.conditions = steps > 1000 ? 2 : 4;
      out.push_back({ar_name(phi, steps), "null",
                     fmt::format("stationary AR(1) phi {} (sd 10%), {} conditions of {} steps", phi,
                                 k.conditions, steps),
                     engine_like(k), null_checks()});
    }
  Knobs heavy;
  heavy.spike_probability = 0.02;
  heavy.spike_median = 3.0;
  out.push_back({"null-heavy-tails", "null",
                 "2% of steps block off the CPU for a log-normal time (median 3 steps)",
                 engine_like(heavy), null_checks()});
  Knobs shift;
  shift.level_shift = 0.25;
  out.push_back({"null-level-shift", "null",
                 "compute price x1.25 from a random step (30-70% into each condition), no trend",
                 engine_like(shift), null_checks()});
  Knobs constant;
  constant.constant = true;
  out.push_back({"null-constant", "null",
                 "every step exactly alike (1 ms, same work); side streams and preemptions vary",
                 engine_like(constant), null_checks()});
  Knobs short_conditions;
  short_conditions.min_steps = 15;
  short_conditions.max_steps = 50;
  out.push_back({"null-short", "null", "independent noise, 4 conditions of 15-50 steps",
                 engine_like(short_conditions), null_checks()});
  Knobs old;
  old.runq_recorded = false;
  out.push_back({"null-no-runq", "null",
                 "independent noise; telemetry from before runq_ns (column NaN, no probe.runq)",
                 engine_like(old), null_checks()});
  Knobs blocking;
  blocking.fsync_ns = 400'000;
  blocking.load_follows_blocking = true;
  out.push_back({"blocking-io", "null",
                 "fsync-like waits off the CPU in the database section (mean 0.4 ms a step, "
                 "~30% of wall time), counted in the load average; stationary",
                 engine_like(blocking), null_checks()});
  // The real fsync case (nrmlab validate --case fsync) once read H3 in 23 of 690 runs: the
  // device's latency rose for a while in the late segment, then fell back.
  Knobs burst = blocking;
  burst.db_burst = 0.6;
  out.push_back({"db-burst", "null",
                 "as blocking-io, and the database costs 1.6x for a fifth of each condition "
                 "from a random point (5-75%), then as before: a passing burst, not "
                 "accumulation",
                 engine_like(burst), null_checks()});
}

void add_signals(std::vector<CalibrationFamily>& out) {
  Knobs work;
  work.steps = 1000;
  work.work = ramp(1.6);
  // Profiled: evolve_agents takes more time per step, none of it dearer per unit of work.
  auto work_checks = signal_checks(Quantity::h5);
  work_checks.push_back({Quantity::code_dearer, Rule::at_most_false_rate});
  out.push_back({"work-growth", "signal", "evolve calls x1.6 over each condition at a flat price",
                 engine_like(work), work_checks});
  Knobs dearer;
  dearer.steps = 1000;
  dearer.price = ramp(1.5);
  dearer.free_counter = "work.cache_entries";
  auto dearer_checks = signal_checks(Quantity::h5);
  dearer_checks[4].rule = Rule::never;
  // Profiled: evolve_agents (the compute) named first, dearer, with >= 80% of the change.
  dearer_checks.push_back({Quantity::code_first, Rule::at_least_power});
  out.push_back({"unit-cost-growth", "signal",
                 "compute price x1.5 at constant work; a counter (work.cache_entries) grows "
                 "tenfold and costs nothing",
                 engine_like(dearer), dearer_checks, "evolve_agents"});
  Knobs both;
  both.steps = 1000;
  both.work = ramp(1.4);
  both.price = ramp(1.4);
  out.push_back({"work-and-cost-growth", "signal", "evolve calls x1.4 and compute price x1.4",
                 engine_like(both), signal_checks(Quantity::h5)});
  Knobs runq;
  runq.steps = 1000;
  runq.runq_share = [](double x) { return 0.01 + 0.29 * x; };
  out.push_back({"runq-growth", "signal",
                 "run-queue delay grows from 1% to 30% of step time (preemptions, load and other "
                 "processes' CPU with it)",
                 engine_like(runq), signal_checks(Quantity::h1)});
  Knobs preempt;
  preempt.steps = 1000;
  preempt.work = ramp(1.4);
  preempt.sd = 0.10;
  preempt.blocked_share = 0.08;
  preempt.preempt_per_ms = 2.0;
  out.push_back({"preemptions-proportional", "signal",
                 "preemptions at 2 per ms of step (long steps collect more), 8% blocked off the "
                 "CPU, 1% run-queue delay; work x1.4",
                 engine_like(preempt), signal_checks(Quantity::h5)});
  Knobs db;
  db.steps = 1000;
  db.db_price = ramp(2.5);
  auto db_checks = signal_checks(Quantity::h3);
  db_checks.push_back({Quantity::code_first, Rule::at_least_power});
  out.push_back({"db-price-growth", "signal",
                 "the same database work (a commit, Poisson(40) rows) costs x2.5 by the end",
                 engine_like(db), db_checks, "commit_rows"});
  Knobs allocator;
  allocator.steps = 1000;
  allocator.ratio = ramp(1.5);
  allocator.price = ramp(1.3);
  out.push_back({"allocator-ratio-growth", "signal",
                 "rss/allocated x1.5 while the compute price grows x1.3", engine_like(allocator),
                 signal_checks(Quantity::h2)});
  Knobs thermal;
  thermal.steps = 1000;
  thermal.frequency = [](double x) { return 1.0 - 0.3 * x; };
  out.push_back({"thermal", "signal",
                 "CPU frequency falls 30% over each condition (sensors), compute time with it",
                 engine_like(thermal), signal_checks(Quantity::h4)});
  Knobs collinear;
  collinear.steps = 1000;
  collinear.work = ramp(1.6);
  collinear.twin_counter = "work.items";
  out.push_back({"collinear-counters", "signal",
                 "evolve calls x1.6 and work.items growing identically (free); only evolve "
                 "calls cost",
                 engine_like(collinear), signal_checks(Quantity::h5)});
}

void add_power(std::vector<CalibrationFamily>& out) {
  Knobs rise;
  rise.phi = 0.5;
  rise.sd = 0.08;
  rise.price = ramp(1.3);
  out.push_back(
      {"power-level-rise",
       "power",
       "step time x1.3 over 400-step conditions, AR(1) 0.5 noise (sd 8%)",
       engine_like(rise),
       {{Quantity::drift_slower, Rule::at_least_power}, {Quantity::h5, Rule::at_most_false_rate}}});
  Knobs doubling;
  doubling.phi = 0.5;
  doubling.sd = 0.08;
  doubling.price = ramp(2.0);
  doubling.free_counter = "clusters_found";
  out.push_back({"power-unit-cost-doubling",
                 "power",
                 "compute price x2 over 400-step conditions at constant work, AR(1) 0.5 noise "
                 "(sd 8%); clusters_found grows tenfold and costs nothing",
                 engine_like(doubling),
                 {{Quantity::drift_slower, Rule::at_least_power}, {Quantity::h5, Rule::never}}});
}

}  // namespace

const std::vector<CalibrationFamily>& calibration_families() {
  static const std::vector<CalibrationFamily> families = [] {
    std::vector<CalibrationFamily> out;
    add_nulls(out);
    add_signals(out);
    add_power(out);
    return out;
  }();
  return families;
}

}  // namespace nrmlab::validate
