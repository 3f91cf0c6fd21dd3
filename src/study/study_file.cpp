#include "study/study_file.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "model/source_spec.hpp"
#include "study/knobs.hpp"
#include "util/error.hpp"
#include "util/hash.hpp"

namespace nrmlab::study {
namespace {

namespace fs = std::filesystem;

constexpr std::array<std::string_view, 6> k_table_names = {"study",   "run",        "telemetry",
                                                           "factors", "thresholds", "slurm"};

class Reader {
 public:
  Reader(std::string name, fs::path base) : m_name(std::move(name)), m_base(std::move(base)) {}

  const std::string& name() const { return m_name; }

  [[noreturn]] void fail(const toml::node& node, std::string_view what) const {
    throw input_error(m_name, node.source().begin.line, what);
  }

  const toml::table& table(const toml::node& node, std::string_view name) const {
    const toml::table* table = node.as_table();
    if (table == nullptr) fail(node, fmt::format("[{}] must be a table", name));
    return *table;
  }

  std::string string(const toml::node& node, std::string_view key) const {
    const auto value = node.value<std::string>();
    if (!node.is_string() || !value) fail(node, fmt::format("{} must be a string", key));
    return *value;
  }

  std::int64_t integer(const toml::node& node, std::string_view key, std::int64_t low,
                       std::int64_t high) const {
    const auto value = node.value<std::int64_t>();
    if (!node.is_integer() || !value || *value < low || *value > high)
      fail(node, fmt::format("{} must be an integer in [{}, {}]", key, low, high));
    return *value;
  }

  double number(const toml::node& node, std::string_view key) const {
    const auto value = node.value<double>();
    if (!(node.is_integer() || node.is_floating_point()) || !value || !std::isfinite(*value) ||
        *value <= 0.0)
      fail(node, fmt::format("{} must be a positive number", key));
    return *value;
  }

  // One value of a knob, in canonical text.
  std::string knob_value(const Knob& knob, const toml::node& node) const {
    std::string text;
    switch (knob.type) {
      case KnobType::toggle:
        if (node.is_boolean())
          text = *node.value<bool>() ? "on" : "off";
        else if (node.is_string())
          text = *node.value<std::string>();
        else
          fail(node, fmt::format("{}: expected {}", knob.key, describe_expected(knob)));
        break;
      case KnobType::integer:
      case KnobType::unsigned_integer:
        if (!node.is_integer())
          fail(node, fmt::format("{}: expected {}", knob.key, describe_expected(knob)));
        text = std::to_string(*node.value<std::int64_t>());
        break;
      case KnobType::number:
        if (!node.is_integer() && !node.is_floating_point())
          fail(node, fmt::format("{}: expected {}", knob.key, describe_expected(knob)));
        text = fmt::format("{}", *node.value<double>());
        break;
      case KnobType::names: {
        const toml::array* names = node.as_array();
        if (names == nullptr || names->empty())
          fail(node, fmt::format("{}: expected {}", knob.key, describe_expected(knob)));
        for (const toml::node& name : *names) {
          if (!name.is_string())
            fail(name, fmt::format("{}: expected {}", knob.key, describe_expected(knob)));
          if (!text.empty()) text += ',';
          text += *name.value<std::string>();
        }
        break;
      }
      case KnobType::text:
        if (!node.is_string())
          fail(node, fmt::format("{}: expected a string, {}", knob.key, describe_expected(knob)));
        text = *node.value<std::string>();
        break;
    }
    if (const auto problem = check_value(knob, text)) fail(node, *problem);
    if (knob.key == "source") text = anchor_replay_path(node, text);
    return text;
  }

 private:
  // A replay trace named relative to the study file is found beside it, wherever the
  // runner is started from; the plan records the absolute path.
  std::string anchor_replay_path(const toml::node& node, const std::string& text) const {
    constexpr std::string_view k_prefix = "replay:";
    if (text.rfind(k_prefix, 0) != 0) return text;
    fs::path path = text.substr(k_prefix.size());
    if (path.is_relative()) path = m_base / path;
    std::error_code ec;
    if (!fs::is_regular_file(path, ec))
      fail(node, fmt::format("source '{}': no trace file {}", text, path.string()));
    return std::string(k_prefix) + path.lexically_normal().string();
  }

  std::string m_name;
  fs::path m_base;
};

bool valid_name(std::string_view name) {
  return !name.empty() && name.size() <= 100 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

void read_study_table(const Reader& reader, const toml::table& table, StudySpec& spec) {
  bool order_seed_given = false;
  for (const auto& [key, node] : table) {
    const std::string_view name = key.str();
    if (name == "name") {
      spec.name = reader.string(node, "name");
      if (!valid_name(spec.name))
        reader.fail(node, "name must be 1-100 letters, digits, '-', '_' or '.'");
    } else if (name == "description") {
      spec.description = reader.string(node, "description");
    } else if (name == "replicates") {
      spec.replicates = reader.integer(node, "replicates", 1, 10000);
    } else if (name == "seed") {
      spec.seed = static_cast<std::uint64_t>(reader.integer(node, "seed", 0, INT64_MAX));
    } else if (name == "order_seed") {
      spec.order_seed =
          static_cast<std::uint64_t>(reader.integer(node, "order_seed", 0, INT64_MAX));
      order_seed_given = true;
    } else if (name == "parallel") {
      spec.parallel = reader.integer(node, "parallel", 1, 256);
    } else if (name == "expected_hours") {
      spec.expected_hours = reader.number(node, "expected_hours");
    } else if (name == "milestone_hours") {
      const toml::array* hours = node.as_array();
      if (hours == nullptr) reader.fail(node, "milestone_hours must be an array of hours");
      for (const toml::node& hour : *hours)
        spec.milestone_hours.push_back(reader.number(hour, "milestone_hours"));
    } else {
      reader.fail(node, fmt::format("unknown key '{}' in [study] (accepted: name, description, "
                                    "replicates, seed, order_seed, parallel, expected_hours, "
                                    "milestone_hours)",
                                    name));
    }
  }
  if (spec.name.empty()) reader.fail(table, "[study] needs a name");
  if (!order_seed_given) spec.order_seed = spec.seed;
  if (!spec.milestone_hours.empty() && !spec.expected_hours)
    reader.fail(table, "milestone_hours needs expected_hours (V and A are relative to it)");
}

const Knob& knob_in(const Reader& reader, const toml::node& node, std::string_view key,
                    std::string_view table) {
  const Knob* knob = find_knob(key);
  const bool telemetry_table = table == "telemetry";
  if (knob != nullptr && table != "factors" &&
      (knob->scope == KnobScope::telemetry) != telemetry_table)
    reader.fail(node, fmt::format("'{}' belongs in [{}]", key,
                                  knob->scope == KnobScope::telemetry ? "telemetry" : "run"));
  if (knob != nullptr) return *knob;
  if (key == "seed")
    reader.fail(node, "run seeds are not set per run: [study] seed derives one seed per replicate");
  if (decided_by_runner(key))
    reader.fail(node, fmt::format("'{}' is decided by the study runner", key));
  const std::string accepted =
      table == "factors" ? knob_keys(KnobScope::run) + ", " + knob_keys(KnobScope::telemetry)
      : telemetry_table  ? knob_keys(KnobScope::telemetry)
                         : knob_keys(KnobScope::run);
  reader.fail(node, fmt::format("unknown key '{}' in [{}] (accepted: {})", key, table, accepted));
}

void read_fixed(const Reader& reader, const toml::table& table, std::string_view name,
                StudySpec& spec) {
  for (const auto& [key, node] : table) {
    const Knob& knob = knob_in(reader, node, key.str(), name);
    spec.fixed.push_back(
        {std::string(key.str()), reader.knob_value(knob, node), node.source().begin.line});
  }
}

// A level of a factor that sets several knobs at once: an inline table.
std::vector<std::pair<std::string, std::string>> read_bundle(const Reader& reader,
                                                             const toml::node& level,
                                                             std::string_view factor,
                                                             std::string& label) {
  const toml::table* table = level.as_table();
  if (table == nullptr || table->empty())
    reader.fail(level,
                fmt::format("factor '{}' is not a knob, so its levels must be tables of "
                            "knob settings, e.g. {{label = \"fast\", sampling = "
                            "\"per-step\"}} (knobs: {}, {})",
                            factor, knob_keys(KnobScope::run), knob_keys(KnobScope::telemetry)));
  std::vector<std::pair<std::string, std::string>> settings;
  std::string joined;
  for (const auto& [key, node] : *table) {
    if (key.str() == "label") {
      label = reader.string(node, "label");
      continue;
    }
    const Knob& knob = knob_in(reader, node, key.str(), "factors");
    settings.emplace_back(std::string(key.str()), reader.knob_value(knob, node));
    joined += fmt::format("{}{}={}", joined.empty() ? "" : ",", key.str(), settings.back().second);
  }
  if (settings.empty()) reader.fail(level, "a factor level must set at least one knob");
  if (label.empty()) label = joined;
  return settings;
}

void read_factors(const Reader& reader, const toml::table& table, StudySpec& spec) {
  for (const auto& [key, node] : table) {
    const toml::array* levels = node.as_array();
    const bool compound = find_knob(key.str()) == nullptr && levels != nullptr &&
                          !levels->empty() && levels->front().is_table();
    const Knob* knob = compound ? nullptr : &knob_in(reader, node, key.str(), "factors");
    if (levels == nullptr || levels->empty())
      reader.fail(node, fmt::format("factor '{}' must be an array of levels, each {}", key.str(),
                                    describe_expected(*knob)));
    Factor factor{std::string(key.str()), {}, {}, node.source().begin.line};
    for (const toml::node& level : *levels) {
      std::string value;
      if (compound) {
        factor.settings.push_back(read_bundle(reader, level, key.str(), value));
      } else {
        value = reader.knob_value(*knob, level);
        factor.settings.push_back({{factor.key, value}});
      }
      if (std::find(factor.levels.begin(), factor.levels.end(), value) != factor.levels.end())
        reader.fail(level, fmt::format("factor '{}' lists level '{}' twice", key.str(), value));
      factor.levels.push_back(std::move(value));
    }
    spec.factors.push_back(std::move(factor));
  }
  // toml++ iterates keys by name; the design lists factors as the file does.
  std::sort(spec.factors.begin(), spec.factors.end(),
            [](const Factor& a, const Factor& b) { return a.line < b.line; });
  // A knob is fixed or varied by one factor, never both.
  std::map<std::string, std::size_t> varied;
  for (const Factor& factor : spec.factors)
    for (const auto& level : factor.settings)
      for (const auto& [knob, value] : level) {
        if (const Setting* fixed = spec.find_fixed(knob))
          throw input_error(
              reader.name(), factor.line,
              fmt::format("'{}' is both fixed (line {}) and a factor", knob, fixed->line));
        const auto [at, fresh] = varied.emplace(knob, factor.line);
        if (!fresh && at->second != factor.line)
          throw input_error(reader.name(), factor.line,
                            fmt::format("'{}' is varied by two factors (lines {} and {})", knob,
                                        at->second, factor.line));
      }
}

void read_slurm(const Reader& reader, const toml::table& table, SlurmOptions& slurm) {
  for (const auto& [key, node] : table) {
    const std::string_view name = key.str();
    if (name == "partition") {
      slurm.partition = reader.string(node, name);
    } else if (name == "time") {
      slurm.time = reader.string(node, name);
    } else if (name == "cpus_per_task") {
      slurm.cpus_per_task = reader.integer(node, name, 1, 4096);
    } else if (name == "mem") {
      slurm.mem = reader.string(node, name);
    } else if (name == "account") {
      slurm.account = reader.string(node, name);
    } else if (name == "qos") {
      slurm.qos = reader.string(node, name);
    } else if (name == "throttle") {
      slurm.throttle = reader.integer(node, name, 0, 1'000'000);
    } else if (name == "max_array_size") {
      slurm.max_array_size = reader.integer(node, name, 1, 4'000'000);
    } else if (name == "extra_args") {
      const toml::array* args = node.as_array();
      if (args == nullptr) reader.fail(node, "extra_args must be an array of strings");
      for (const toml::node& arg : *args)
        slurm.extra_args.push_back(reader.string(arg, "extra_args"));
    } else {
      reader.fail(node, fmt::format("unknown key '{}' in [slurm] (accepted: partition, time, "
                                    "cpus_per_task, mem, account, qos, throttle, "
                                    "max_array_size, extra_args)",
                                    name));
    }
  }
}

// A synthetic source that names its own seed gives every replicate the same inputs.
void check_replicates_differ(const Reader& reader, const toml::node& where, const StudySpec& spec) {
  if (spec.replicates < 2) return;
  std::vector<std::string> sources;
  if (const Setting* fixed = spec.find_fixed("source")) sources.push_back(fixed->value);
  for (const Factor& factor : spec.factors)
    for (const auto& level : factor.settings)
      for (const auto& [knob, value] : level)
        if (knob == "source") sources.push_back(value);
  for (const std::string& source : sources) {
    const auto a = model::parse_source_spec(source, model::ReplayGranularity::step, 1);
    const auto b = model::parse_source_spec(source, model::ReplayGranularity::step, 2);
    if (a.kind == model::SourceSpec::Kind::synthetic && a.synthetic.seed == b.synthetic.seed)
      reader.fail(where, fmt::format("source '{}' fixes its own seed, so all {} replicates would "
                                     "be identical; write 'synthetic' (or "
                                     "'synthetic:cpu=...') and [study] seed derives one per "
                                     "replicate",
                                     source, spec.replicates));
  }
}

}  // namespace

const Setting* StudySpec::find_fixed(std::string_view key) const {
  for (const Setting& setting : fixed)
    if (setting.key == key) return &setting;
  return nullptr;
}

StudySpec parse_study(std::string text, const fs::path& file) {
  const std::string name = file.string();
  toml::table document;
  try {
    document = toml::parse(text, name);
  } catch (const toml::parse_error& error) {
    throw input_error(name, error.source().begin.line, error.description());
  }
  std::error_code ec;
  const fs::path base = fs::absolute(file, ec).parent_path();
  const Reader reader(name, base);

  StudySpec spec;
  spec.file = file;
  Fnv1a hash;
  hash.add(text);
  spec.hash = fmt::format("{:016x}", hash.value());
  spec.text = std::move(text);

  const toml::node* study = document.get("study");
  if (study == nullptr)
    throw input_error(name, 1, "a study file needs a [study] table with a name");
  for (const auto& [key, node] : document)
    if (std::find(k_table_names.begin(), k_table_names.end(), key.str()) == k_table_names.end())
      reader.fail(node, fmt::format("unknown table [{}] (accepted: {})", key.str(),
                                    fmt::join(k_table_names, ", ")));
  read_study_table(reader, reader.table(*study, "study"), spec);
  if (const toml::node* run = document.get("run"))
    read_fixed(reader, reader.table(*run, "run"), "run", spec);
  if (const toml::node* telemetry = document.get("telemetry"))
    read_fixed(reader, reader.table(*telemetry, "telemetry"), "telemetry", spec);
  if (const toml::node* factors = document.get("factors"))
    read_factors(reader, reader.table(*factors, "factors"), spec);
  if (const toml::node* slurm = document.get("slurm"))
    read_slurm(reader, reader.table(*slurm, "slurm"), spec.slurm);
  if (const toml::node* thresholds = document.get("thresholds"))
    reader.table(*thresholds, "thresholds");  // its keys are the analysis stage's to check
  check_replicates_differ(reader, *study, spec);
  return spec;
}

StudySpec load_study(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(fmt::format("cannot read study file {}", file.string()));
  std::ostringstream text;
  text << in.rdbuf();
  return parse_study(std::move(text).str(), file);
}

}  // namespace nrmlab::study
