#include "model/settings.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "model/metric_trace.hpp"
#include "util/error.hpp"
#include "util/parse.hpp"
#include "util/thread_pool.hpp"

namespace nrmlab::model {
namespace {

using Entry = SettingFor<RunConfig>;

constexpr double k_max_count = 1e8;
constexpr std::string_view k_model_group = "Model parameters (defaults are the original's)";
constexpr std::string_view k_defects_group =
    "The original's defects (on by default; off changes results)";

std::string join(const std::vector<std::string_view>& items) {
  std::string text;
  for (const auto item : items)
    text += (text.empty() ? "" : ", ") + std::string(item);
  return text;
}

Entry entry(std::string_view key, std::string_view flags, SettingType type,
            std::string_view lands_in, std::string_view help,
            void (*land)(RunConfig&, std::string_view)) {
  Entry result;
  result.setting.key = key;
  result.setting.flags = flags;
  result.setting.type = type;
  result.setting.lands_in = lands_in;
  result.setting.help = help;
  result.land = land;
  return result;
}

Entry closed(std::string_view key, std::string_view flags, std::vector<std::string_view> accepted,
             std::string default_text, std::string_view lands_in, std::string_view help,
             void (*land)(RunConfig&, std::string_view)) {
  Entry result = entry(key, flags, SettingType::text, lands_in, help, land);
  result.setting.accepted = std::move(accepted);
  result.setting.default_text = std::move(default_text);
  return result;
}

Entry ranged(Entry result, double low, double high) {
  result.setting.ranged = true;
  result.setting.low = low;
  result.setting.high = high;
  return result;
}

Entry for_runner(Entry result) {
  result.setting.study = StudyUse::runner;
  return result;
}

// The model parameters land in RunConfig::params; their defaults are ModelParams' own.
template <std::int64_t ModelParams::*Field>
Entry param_integer(std::string_view key, std::string_view flags, std::string_view lands_in,
                    double low, double high, std::string_view help) {
  Entry result = ranged(entry(key, flags, SettingType::integer, lands_in, help,
                              [](RunConfig& config, std::string_view value) {
                                config.params.*Field = *parse_number<std::int64_t>(value);
                              }),
                        low, high);
  result.setting.default_text = std::to_string(ModelParams{}.*Field);
  result.setting.group = k_model_group;
  return result;
}

template <double ModelParams::*Field>
Entry param_number(std::string_view key, std::string_view flags, std::string_view lands_in,
                   std::string_view help) {
  Entry result = entry(key, flags, SettingType::number, lands_in, help,
                       [](RunConfig& config, std::string_view value) {
                         config.params.*Field = *parse_number<double>(value);
                       });
  result.setting.default_text = fmt::format("{}", ModelParams{}.*Field);
  result.setting.group = k_model_group;
  return result;
}

template <bool ModelParams::*Field>
Entry defect(std::string_view key, std::string_view flags, std::string_view lands_in,
             std::string_view help) {
  Entry result = entry(
      key, flags, SettingType::toggle, lands_in, help,
      [](RunConfig& config, std::string_view value) { config.params.*Field = value == "on"; });
  result.setting.default_text = ModelParams{}.*Field ? "on" : "off";
  result.setting.group = k_defects_group;
  return result;
}

std::optional<std::string> check_sampling(std::string_view value) {
  if (parse_sampling_policy(value)) return std::nullopt;
  return "expected per-call, spawn-shared, per-step or every:K with K >= 1";
}

std::optional<std::string> check_recycle(std::string_view value) {
  if (parse_recycling(value)) return std::nullopt;
  return "expected never, condition or every:N with N >= 1";
}

std::optional<std::string> check_source(std::string_view value) {
  return source_spec_problem(value);
}

std::optional<std::string> check_isa(std::string_view value) {
  const auto isa = parse_isa(value);
  if (!isa) return std::nullopt;  // the vocabulary check says what is accepted
  if (const auto problem = isa_problem(*isa)) return std::string(*problem);
  return std::nullopt;
}

constexpr std::int64_t k_max_threads = 1024;

std::optional<std::string> check_threads(std::string_view value) {
  if (value == "auto") return std::nullopt;
  const auto threads = parse_number<std::int64_t>(value);
  if (threads && *threads >= 1 && *threads <= k_max_threads) return std::nullopt;
  return fmt::format("expected auto or an integer in [1, {}]", k_max_threads);
}

std::vector<std::string_view> experiment_names() {
  std::vector<std::string_view> names;
  for (int i = 0; i <= static_cast<int>(ExperimentId::c260); ++i)
    names.push_back(experiment_name(static_cast<ExperimentId>(i)));
  return names;
}

std::vector<std::string_view> preset_names() {
  std::vector<std::string_view> names;
  for (int i = 0; i <= static_cast<int>(Preset::clean); ++i)
    names.push_back(preset_name(static_cast<Preset>(i)));
  return names;
}

std::vector<std::string_view> persistence_names() {
  std::vector<std::string_view> names;
  for (int i = 0; i <= static_cast<int>(Persistence::off); ++i)
    names.push_back(persistence_name(static_cast<Persistence>(i)));
  return names;
}

// Where the run is, what it runs and how it pays for it.
std::vector<Entry> run_entries() {
  const RunConfig defaults;
  std::vector<Entry> list;
  Entry out = for_runner(entry("out", "--out", SettingType::text, "RunConfig::out_dir",
                               "Output directory (created if missing)",
                               [](RunConfig& c, std::string_view v) { c.out_dir = v; }));
  out.setting.required = true;
  list.push_back(std::move(out));
  list.push_back(closed(
      "experiment", "--experiment", experiment_names(),
      std::string(experiment_name(defaults.experiment)), "RunConfig::experiment", "Experiment",
      [](RunConfig& c, std::string_view v) { c.experiment = *parse_experiment(v); }));
  list.push_back(closed(
      "variant", "--variant", {"as-run", "as-intended"},
      std::string(variant_name(defaults.variant)), "RunConfig::variant",
      "as-run: what the original scripts executed (C259's H2 ran pooling; with preset "
      "optimized-as-run every experiment ran C256's mechanisms); as-intended: the named mechanisms",
      [](RunConfig& c, std::string_view v) { c.variant = *parse_variant(v); }));
  list.push_back(
      closed("preset", "--preset", preset_names(), std::string(preset_name(defaults.preset)),
             "RunConfig::preset and RunConfig::overheads", "Overhead preset",
             [](RunConfig& c, std::string_view v) { c.apply_preset(*parse_preset(v)); }));
  Entry sampling = entry(
      "sampling", "--sampling", SettingType::text, "RunConfig::overheads.sampling",
      "per-call | spawn-shared | per-step | every:K",
      [](RunConfig& c, std::string_view v) { c.overheads.sampling = *parse_sampling_policy(v); });
  sampling.setting.check = check_sampling;
  list.push_back(std::move(sampling));
  list.push_back(
      ranged(entry("window_ms", "--window-ms", SettingType::integer,
                   "RunConfig::overheads.window_ms", "Blocking sample window in ms (0..60000)",
                   [](RunConfig& c, std::string_view v) {
                     c.overheads.window_ms = *parse_number<std::int64_t>(v);
                   }),
             0, 60000));
  list.push_back(closed(
      "persistence", "--persistence", persistence_names(), "", "RunConfig::overheads.persistence",
      "How metrics.db and bridge.db are written",
      [](RunConfig& c, std::string_view v) { c.overheads.persistence = *parse_persistence(v); }));
  list.push_back(for_runner(entry("db_dir", "--db-dir", SettingType::text, "RunConfig::db_dir",
                                  "Directory of metrics.db and bridge.db (default: --out); "
                                  "existing databases are appended to, as the original did",
                                  [](RunConfig& c, std::string_view v) { c.db_dir = v; })));
  return list;
}

// Where the metric inputs come from, which conditions run and in how many processes.
void add_source_entries(std::vector<Entry>& list) {
  Entry source = entry("source", "--source", SettingType::text, "RunConfig::source",
                       "Metric source: live[:DISK_PATH] | replay:FILE | "
                       "synthetic[:SEED|const][:cpu=C,memory=M,disk=D,jitter=J]",
                       [](RunConfig& c, std::string_view v) {
                         // Resolved against the granularity and the seed once those have landed.
                         c.source = parse_source_spec(v, c.source.granularity, c.seed);
                       });
  source.setting.check = check_source;
  source.setting.default_text = "live";
  list.push_back(std::move(source));
  list.push_back(closed(
      "replay_granularity", "--replay-granularity", {"step", "call"}, "step",
      "RunConfig::source.granularity",
      "step: every call in step t gets step t's first recorded sample; call: "
      "the k-th call gets the k-th sample",
      [](RunConfig& c, std::string_view v) { c.source.granularity = *parse_granularity(v); }));
  list.push_back(for_runner(
      entry("record_trace", "--record-trace", SettingType::text, "RunConfig::record_trace",
            "Record every sample taken to this trace file",
            [](RunConfig& c, std::string_view v) { c.record_trace = std::filesystem::path(v); })));
  Entry seed = for_runner(
      entry("seed", "--seed", SettingType::unsigned_integer, "RunConfig::seed",
            "Seed (synthetic sources without their own)",
            [](RunConfig& c, std::string_view v) { c.seed = *parse_number<std::uint64_t>(v); }));
  seed.setting.default_text = "1";
  list.push_back(std::move(seed));
  Entry conditions =
      entry("conditions", "--condition", SettingType::names, "RunConfig::conditions",
            "Run only these conditions (repeatable or comma-separated): OFF-OFF, "
            "ON-OFF, OFF-ON, ON-ON",
            [](RunConfig& c, std::string_view v) {
              c.conditions.clear();
              std::size_t start = 0;
              while (start <= v.size()) {
                const std::size_t comma = std::min(v.find(',', start), v.size());
                c.conditions.push_back(parse_condition(v.substr(start, comma - start))->index);
                start = comma + 1;
              }
              // The original ran its conditions in one order; they share the
              // databases.
              std::sort(c.conditions.begin(), c.conditions.end());
            });
  conditions.setting.accepted.assign(k_condition_names.begin(), k_condition_names.end());
  list.push_back(std::move(conditions));
  Entry recycle = entry(
      "recycle", "--recycle", SettingType::text, "RunConfig::recycle",
      "Process recycling: never (the conditions back to back in one process, as the original), "
      "condition (each condition in a fresh process with a clean heap) or every:N (also a fresh "
      "process every N steps inside a condition, carrying the engine's state over). Results are "
      "unchanged; only cost can differ",
      [](RunConfig& c, std::string_view v) { c.recycle = v; });
  recycle.setting.check = check_recycle;
  recycle.setting.syntax = "never|condition|every:N";
  recycle.setting.default_text = RunConfig{}.recycle;
  list.push_back(std::move(recycle));
}

// How the engine computes: cost only, never results (every choice is bit-identical).
void add_compute_entries(std::vector<Entry>& list) {
  // Runner settings: a study decides them with the runs it starts side by side (a study file
  // cannot set them; studies/README.md lists the knobs it can).
  Entry isa = for_runner(
      closed("isa", "--isa", {"auto", "scalar", "sse2", "avx2", "avx512"}, "auto",
             "RunConfig::compute.isa",
             "Instruction set of the pair kernels: auto (the widest this CPU runs) or one forced; "
             "results are bit-identical",
             [](RunConfig& c, std::string_view v) { c.compute.isa = *parse_isa(v); }));
  isa.setting.check = check_isa;
  list.push_back(std::move(isa));
  Entry threads = for_runner(entry(
      "threads", "--threads", SettingType::text, "RunConfig::compute.threads",
      "Threads scoring a step's pairs: auto (the CPUs this process may use) or N; results are "
      "bit-identical for every N",
      [](RunConfig& c, std::string_view v) {
        c.compute.threads =
            v == "auto" ? usable_cores() : static_cast<std::size_t>(*parse_number<std::int64_t>(v));
      }));
  threads.setting.check = check_threads;
  threads.setting.syntax = "auto|N";
  threads.setting.default_text = "auto";
  list.push_back(std::move(threads));
}

void add_model_entries(std::vector<Entry>& list) {
  list.push_back(param_integer<&ModelParams::steps>("steps", "--steps,--cycles",
                                                    "RunConfig::params.steps", 1, k_max_count,
                                                    "Steps per condition"));
  list.push_back(param_integer<&ModelParams::max_agents>(
      "max_agents", "--max-agents", "RunConfig::params.max_agents", 1, 1e6, "Population cap"));
  list.push_back(param_integer<&ModelParams::max_depth>("max_depth", "--max-depth",
                                                        "RunConfig::params.max_depth", 0, 64,
                                                        "Deepest generation that exists"));
  list.push_back(param_number<&ModelParams::spawn_threshold>("spawn_threshold", "--spawn-threshold",
                                                             "RunConfig::params.spawn_threshold",
                                                             "Energy needed to spawn"));
  list.push_back(param_number<&ModelParams::spawn_cost>("spawn_cost", "--spawn-cost",
                                                        "RunConfig::params.spawn_cost",
                                                        "Energy a spawn costs the parent"));
  list.push_back(param_number<&ModelParams::death_threshold>("death_threshold", "--death-threshold",
                                                             "RunConfig::params.death_threshold",
                                                             "Agents below this energy die"));
  list.push_back(param_number<&ModelParams::energy_cap>(
      "energy_cap", "--energy-cap", "RunConfig::params.energy_cap", "Maximum energy"));
  list.push_back(param_integer<&ModelParams::throttle_cooldown>(
      "cooldown", "--cooldown", "RunConfig::params.throttle_cooldown", 0, k_max_count,
      "H4: steps between an agent's spawns"));
  list.push_back(param_number<&ModelParams::pooling_share>(
      "pooling_share", "--pooling-share", "RunConfig::params.pooling_share",
      "H1: share of the members' mean energy"));
  list.push_back(param_number<&ModelParams::h2_bonus_rate>(
      "h2_bonus", "--h2-bonus", "RunConfig::params.h2_bonus_rate", "H2: energy += rate * avail"));
  list.push_back(param_number<&ModelParams::h5_bonus_rate>("h5_bonus", "--h5-bonus",
                                                           "RunConfig::params.h5_bonus_rate",
                                                           "H5: energy += rate * avail * factor"));
  list.push_back(param_number<&ModelParams::h5_bonus_factor>(
      "h5_factor", "--h5-factor", "RunConfig::params.h5_bonus_factor", "H5: the factor"));
  list.push_back(param_number<&ModelParams::root_energy>(
      "root_energy", "--root-energy", "RunConfig::params.root_energy", "Energy of the root agent"));
  list.push_back(param_number<&ModelParams::decay>("decay", "--decay", "RunConfig::params.decay",
                                                   "Energy lost per evolve call"));
  list.push_back(param_number<&ModelParams::recharge_rate>(
      "recharge_rate", "--recharge-rate", "RunConfig::params.recharge_rate",
      "Energy gained per evolve call, times avail"));
  list.push_back(param_number<&ModelParams::resonance_threshold>(
      "resonance_threshold", "--resonance-threshold", "RunConfig::params.resonance_threshold",
      "Similarity that counts as resonant"));
  list.push_back(defect<&ModelParams::recursive_evolve>(
      "recursive_evolve", "--recursive-evolve", "RunConfig::params.recursive_evolve",
      "Evolve recurses into every child, dead ones included"));
  list.push_back(defect<&ModelParams::accumulating_clusters>(
      "accumulating_clusters", "--accumulating-clusters", "RunConfig::params.accumulating_clusters",
      "The cluster table is appended to and never cleared"));
  Entry float_sum = closed(
      "float_sum", "--float-sum", {"plain", "compensated"},
      std::string(float_sum_name(ModelParams{}.float_sum)), "RunConfig::params.float_sum",
      "How the sums the original made with Python's sum() add up: plain (Python up to 3.11) or "
      "compensated (Neumaier, Python 3.12+; the archive ran 3.13). Pooling results differ in "
      "the last bits",
      [](RunConfig& c, std::string_view v) { c.params.float_sum = *parse_float_sum(v); });
  float_sum.setting.group = k_model_group;
  list.push_back(std::move(float_sum));
}

std::vector<Entry> make_table() {
  std::vector<Entry> list = run_entries();
  add_source_entries(list);
  add_compute_entries(list);
  add_model_entries(list);
  return list;
}

std::optional<std::string> check_names(const Setting& setting, std::string_view value) {
  std::vector<std::string_view> seen;
  std::size_t start = 0;
  while (start <= value.size()) {
    const std::size_t comma = std::min(value.find(',', start), value.size());
    const std::string_view name = value.substr(start, comma - start);
    if (std::find(setting.accepted.begin(), setting.accepted.end(), name) == setting.accepted.end())
      return fmt::format("'{}': expected one of: {}", name, join(setting.accepted));
    if (std::find(seen.begin(), seen.end(), name) != seen.end())
      return fmt::format("'{}' is given twice", name);
    seen.push_back(name);
    start = comma + 1;
  }
  return std::nullopt;
}

std::optional<std::string> check_type(const Setting& setting, std::string_view value) {
  const auto expected = [&](const std::string& what) {
    return fmt::format("'{}': expected {}", value, what);
  };
  switch (setting.type) {
    case SettingType::toggle:
      if (value == "on" || value == "off") return std::nullopt;
      return expected("on or off");
    case SettingType::integer: {
      const auto number = parse_number<std::int64_t>(value);
      if (!number) return expected("an integer");
      if (setting.ranged && (static_cast<double>(*number) < setting.low ||
                             static_cast<double>(*number) > setting.high))
        return expected(fmt::format("an integer in [{}, {}]",
                                    static_cast<std::int64_t>(setting.low),
                                    static_cast<std::int64_t>(setting.high)));
      return std::nullopt;
    }
    case SettingType::unsigned_integer:
      if (parse_number<std::uint64_t>(value)) return std::nullopt;
      return expected("a non-negative integer");
    case SettingType::number: {
      const auto number = parse_number<double>(value);
      if (number && std::isfinite(*number)) return std::nullopt;
      return expected("a finite number");
    }
    case SettingType::names:
      return check_names(setting, value);
    case SettingType::text:
      break;
  }
  return std::nullopt;
}

}  // namespace

const std::vector<SettingFor<RunConfig>>& run_config_settings() {
  static const std::vector<Entry> k_table = make_table();
  return k_table;
}

std::optional<std::string> check_setting(const Setting& setting, std::string_view value) {
  if (auto problem = check_type(setting, value)) return problem;
  if (!setting.accepted.empty() && setting.type != SettingType::names &&
      std::find(setting.accepted.begin(), setting.accepted.end(), value) == setting.accepted.end())
    return fmt::format("'{}': expected one of: {}", value, join(setting.accepted));
  if (setting.check != nullptr)
    if (auto problem = setting.check(value)) return fmt::format("'{}': {}", value, *problem);
  return std::nullopt;
}

std::optional<std::string> value_or_default(const Setting& setting, const SettingValues& values) {
  for (const auto& [key, value] : values)
    if (key == setting.key) return value;
  if (setting.default_text.empty()) return std::nullopt;
  return setting.default_text;
}

void throw_bad_setting(const Setting& setting, std::string_view problem) {
  throw Error(fmt::format("{} {}", setting.flag(), problem));
}

RunConfig run_config_from(const SettingValues& values) {
  RunConfig config;
  land_settings(run_config_settings(), values, config);
  config.source = parse_source_spec(config.source.text, config.source.granularity, config.seed);
  if (config.db_dir.empty()) config.db_dir = config.out_dir;
  if (config.recycle != "never" && config.record_trace)
    throw Error(fmt::format("--recycle {} cannot record a trace (each process would start it anew)",
                            config.recycle));
  return config;
}

}  // namespace nrmlab::model
