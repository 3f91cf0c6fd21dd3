// H4, thermal throttling: steps slow down as the CPU's frequency falls or it heats up.
#include "analysis/attribution.hpp"
#include "analysis/hypotheses/evidence.hpp"

namespace nrmlab::analysis {
namespace {

using namespace evidence;

Outcome thermal(const ConditionContext& ctx) {
  const Thresholds& t = ctx.thresholds;
  Outcome o;
  if (ctx.run.sensor_readings == 0) {
    o.reason = "this machine exposes no CPU frequency or temperature sensors";
    return o;
  }
  const ConditionData& c = ctx.condition;
  const Columns& sensors = c.sensors;
  const auto steps = c.steps["step"], wall = c.steps["wall_ns"], agents = c.steps["agents"];
  Aligned frequency, temperature;
  for (std::size_t r = 0; r < sensors.rows(); ++r) {
    const std::size_t i = step_index(steps, sensors["step"][r]);
    (sensors["is_frequency"][r] > 0 ? frequency : temperature)
        .add(sensors["value"][r], wall[i], steps[i], agents[i]);
  }
  Outcome by_frequency = correlate("CPU frequency", frequency, t, -1);
  Outcome by_temperature = correlate("CPU temperature", temperature, t, 1);
  Outcome& best =
      by_frequency.supported || !by_temperature.testable ? by_frequency : by_temperature;
  o = best;
  Outcome& other = &best == &by_frequency ? by_temperature : by_frequency;
  o.evidence.insert(o.evidence.end(), other.evidence.begin(), other.evidence.end());
  o.testable = by_frequency.testable || by_temperature.testable;
  if (!o.testable) o.reason = "sensors exist but their readings do not vary";
  // Throttling makes the same work cost more: without a dearer part of the change, a
  // correlation with the sensors is not what slowed the run.
  const SectionChange* step = find_section(ctx.attribution, "step");
  if (o.supported && !(step && step->dearer.ci_low > 0)) {
    o.supported = false;
    o.reason += ", but the same work does not cost more";
  }
  return o;
}

}  // namespace

extern const HypothesisSpec k_thermal_hypothesis{
    .id = "H4",
    .name = "thermal throttling",
    .effect_label = "partial Spearman r",
    .needs = "CPU frequency or temperature sensors (cpufreq, thermal zones, hwmon)",
    .condition_test = thermal,
    .panel = {.source = PanelSource::sensors,
              .y_label = "sensor reading",
              .empty_reason = "no sensor on this machine"},
    // No advice yet: what to change depends on the machine (cooling, governor, power cap).
};

}  // namespace nrmlab::analysis
