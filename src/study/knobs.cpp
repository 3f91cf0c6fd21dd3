#include "study/knobs.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "model/experiment.hpp"
#include "model/overheads.hpp"
#include "model/run_config.hpp"
#include "model/source_spec.hpp"
#include "util/error.hpp"
#include "util/parse.hpp"

namespace nrmlab::study {
namespace {

using model::ModelParams;
using telemetry::RecorderOptions;

constexpr double k_max_count = 1e8;

Knob base(std::string_view key, KnobType type, std::string_view flag, std::string_view help) {
  Knob knob;
  knob.key = key;
  knob.type = type;
  knob.flag = flag;
  knob.help = help;
  return knob;
}

Knob text(std::string_view key, std::string_view flag, std::vector<std::string_view> accepted,
          std::string_view help) {
  Knob knob = base(key, KnobType::text, flag, help);
  knob.accepted = std::move(accepted);
  return knob;
}

Knob toggle(std::string_view key, std::string_view flag, std::string_view help) {
  return base(key, KnobType::toggle, flag, help);
}

Knob integer(std::string_view key, std::string_view flag, double low, double high,
             std::string_view help) {
  Knob knob = base(key, KnobType::integer, flag, help);
  knob.low = low;
  knob.high = high;
  return knob;
}

Knob model_integer(std::string_view key, std::string_view flag, std::int64_t ModelParams::*field,
                   double low, double high, std::string_view help) {
  Knob knob = integer(key, flag, low, high, help);
  knob.model_integer = field;
  return knob;
}

Knob model_number(std::string_view key, std::string_view flag, double ModelParams::*field,
                  std::string_view help) {
  Knob knob = base(key, KnobType::number, flag, help);
  knob.model_number = field;
  return knob;
}

Knob cadence(std::string_view key, std::string_view flag, std::int64_t RecorderOptions::*field,
             double low, std::string_view help) {
  Knob knob = integer(key, flag, low, k_max_count, help);
  knob.scope = KnobScope::telemetry;
  knob.cadence = field;
  return knob;
}

Knob names(std::string_view key, std::string_view flag, std::vector<std::string_view> accepted,
           std::string_view help) {
  Knob knob = text(key, flag, std::move(accepted), help);
  knob.type = KnobType::names;
  return knob;
}

Knob runner(std::string_view key, std::vector<std::string_view> accepted, std::string_view help) {
  Knob knob = text(key, "", std::move(accepted), help);
  knob.scope = KnobScope::runner;
  return knob;
}

std::vector<Knob> make_knobs() {
  std::vector<Knob> list = {
      text("experiment", "--experiment", {"c256", "c257", "c258", "c259", "c260"},
           "which experiment's mechanisms the four conditions combine"),
      text("variant", "--variant", {"as-run", "as-intended"},
           "what the original scripts executed, or the named mechanisms"),
      text("preset", "--preset", {"as-run", "optimized-as-run", "optimized-as-intended", "clean"},
           "overhead preset; sampling, window_ms and persistence override it"),
      text("sampling", "--sampling", {}, "per-call | spawn-shared | per-step | every:K"),
      integer("window_ms", "--window-ms", 0, 60000, "blocking sample window in ms"),
      text("persistence", "--persistence",
           {"connection-per-write", "commit-per-write", "transaction-per-step", "off"},
           "how metrics.db and bridge.db are written"),
      text("source", "--source", {},
           "live[:DISK_PATH] | replay:FILE | synthetic[:const][:cpu=C,memory=M,disk=D,jitter=J]"),
      text("replay_granularity", "--replay-granularity", {"step", "call"},
           "how a replay trace is handed out"),
      text("recycle", "--recycle", {},
           "never | condition | every:N (a fresh process per condition, or also every N steps)"),
      names("conditions", "--condition", {"OFF-OFF", "ON-OFF", "OFF-ON", "ON-ON"},
            "the conditions to run (default: all four)"),
      toggle("recursive_evolve", "--recursive-evolve",
             "defect: evolve recurses into dead children"),
      toggle("accumulating_clusters", "--accumulating-clusters",
             "defect: the cluster table is never cleared"),
      model_integer("steps", "--steps", &ModelParams::steps, 1, k_max_count, "steps per condition"),
      model_integer("max_agents", "--max-agents", &ModelParams::max_agents, 1, 1e6,
                    "population cap"),
      model_integer("max_depth", "--max-depth", &ModelParams::max_depth, 0, 64,
                    "deepest generation"),
      model_integer("cooldown", "--cooldown", &ModelParams::throttle_cooldown, 0, k_max_count,
                    "steps between an agent's spawns"),
      model_number("spawn_threshold", "--spawn-threshold", &ModelParams::spawn_threshold,
                   "energy needed to spawn"),
      model_number("spawn_cost", "--spawn-cost", &ModelParams::spawn_cost, "energy a spawn costs"),
      model_number("death_threshold", "--death-threshold", &ModelParams::death_threshold,
                   "agents below this energy die"),
      model_number("energy_cap", "--energy-cap", &ModelParams::energy_cap, "maximum energy"),
      model_number("pooling_share", "--pooling-share", &ModelParams::pooling_share,
                   "H1: share of the members' mean energy"),
      model_number("h2_bonus", "--h2-bonus", &ModelParams::h2_bonus_rate, "H2 bonus rate"),
      model_number("h5_bonus", "--h5-bonus", &ModelParams::h5_bonus_rate, "H5 bonus rate"),
      model_number("h5_factor", "--h5-factor", &ModelParams::h5_bonus_factor, "H5 bonus factor"),
      model_number("root_energy", "--root-energy", &ModelParams::root_energy,
                   "energy of the root agent"),
      model_number("decay", "--decay", &ModelParams::decay, "energy lost per evolve call"),
      model_number("recharge_rate", "--recharge-rate", &ModelParams::recharge_rate,
                   "energy gained per evolve call, times avail"),
      model_number("resonance_threshold", "--resonance-threshold",
                   &ModelParams::resonance_threshold, "similarity that counts as resonant"),
      cadence("rusage_every", "--rusage-every", &RecorderOptions::rusage_every, 1,
              "steps between getrusage readings"),
      cadence("memory_every", "--memory-every", &RecorderOptions::memory_every, 0,
              "steps between RSS and allocator readings (0: off)"),
      cadence("pss_period_ms", "--pss-period-ms", &RecorderOptions::pss_period_ms, 0,
              "period of PSS readings (0: off)"),
      cadence("alloc_probe_every", "--alloc-probe-every", &RecorderOptions::alloc_probe_every, 0,
              "steps between allocation-latency probes (0: off)"),
      cadence("side_period_ms", "--side-period-ms", &RecorderOptions::side_period_ms, 0,
              "period of the machine-wide side streams (0: off)"),
      cadence("batch_steps", "--batch-steps", &RecorderOptions::batch_steps, 1,
              "steps per telemetry write"),
      runner("allocator", {"system", "jemalloc", "mimalloc"},
             "malloc of the run's process (jemalloc and mimalloc are preloaded)"),
  };
  return list;
}

std::string join(const std::vector<std::string_view>& items) {
  std::string text;
  for (const auto item : items)
    text += (text.empty() ? "" : ", ") + std::string(item);
  return text;
}

bool accepted(const Knob& knob, std::string_view value) {
  for (const auto name : knob.accepted)
    if (name == value) return true;
  return false;
}

}  // namespace

const std::vector<Knob>& knobs() {
  static const std::vector<Knob> k_knobs = make_knobs();
  return k_knobs;
}

const Knob* find_knob(std::string_view key) {
  for (const Knob& knob : knobs())
    if (knob.key == key) return &knob;
  return nullptr;
}

std::string knob_keys(KnobScope scope) {
  std::vector<std::string_view> keys;
  for (const Knob& knob : knobs())
    if (knob.scope == scope || (scope == KnobScope::run && knob.scope == KnobScope::runner))
      keys.push_back(knob.key);
  return join(keys);
}

std::string describe_expected(const Knob& knob) {
  switch (knob.type) {
    case KnobType::toggle:
      return "on, off, true or false";
    case KnobType::integer:
      return fmt::format("an integer in [{}, {}]", static_cast<std::int64_t>(knob.low),
                         static_cast<std::int64_t>(knob.high));
    case KnobType::number:
      return "a finite number";
    case KnobType::names:
      return fmt::format("an array of distinct names from: {}", join(knob.accepted));
    case KnobType::text:
      break;
  }
  if (!knob.accepted.empty()) return fmt::format("one of: {}", join(knob.accepted));
  return std::string(knob.help);
}

std::optional<std::string> check_value(const Knob& knob, std::string_view value) {
  const auto expected = [&] {
    return fmt::format("{} = '{}': expected {}", knob.key, value, describe_expected(knob));
  };
  switch (knob.type) {
    case KnobType::toggle:
      if (value != "on" && value != "off") return expected();
      return std::nullopt;
    case KnobType::integer: {
      const auto number = parse_number<std::int64_t>(value);
      if (!number || static_cast<double>(*number) < knob.low ||
          static_cast<double>(*number) > knob.high)
        return expected();
      return std::nullopt;
    }
    case KnobType::number: {
      const auto number = parse_number<double>(value);
      if (!number || !std::isfinite(*number)) return expected();
      return std::nullopt;
    }
    case KnobType::names: {
      std::vector<std::string_view> seen;
      std::size_t start = 0;
      while (start <= value.size()) {
        const std::size_t comma = std::min(value.find(',', start), value.size());
        const std::string_view name = value.substr(start, comma - start);
        if (!accepted(knob, name) || std::find(seen.begin(), seen.end(), name) != seen.end())
          return expected();
        seen.push_back(name);
        start = comma + 1;
      }
      return std::nullopt;
    }
    case KnobType::text:
      break;
  }
  if (!knob.accepted.empty()) {
    if (!accepted(knob, value)) return expected();
    return std::nullopt;
  }
  if (knob.key == "sampling" && !model::parse_sampling_policy(value)) return expected();
  if (knob.key == "recycle" && !model::parse_recycling(value)) return expected();
  if (knob.key == "source") {
    try {
      model::parse_source_spec(value, model::ReplayGranularity::step, 0);
    } catch (const Error& error) {
      return fmt::format("source = '{}': {}", value, error.what());
    }
  }
  return std::nullopt;
}

}  // namespace nrmlab::study
