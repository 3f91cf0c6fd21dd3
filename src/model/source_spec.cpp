#include "model/source_spec.hpp"

#include <fmt/format.h>

#include "model/live_source.hpp"
#include "util/error.hpp"
#include "util/parse.hpp"

namespace nrmlab::model {
namespace {

constexpr std::string_view k_forms =
    "expected live[:DISK_PATH], replay:FILE or synthetic[:SEED|const][:cpu=C,memory=M,disk=D,"
    "jitter=J]";

[[noreturn]] void bad_spec(std::string_view text, std::string_view why) {
  throw Error(fmt::format("--source '{}': {}; {}", text, why, k_forms));
}

void apply_synthetic_option(std::string_view text, std::string_view option,
                            SyntheticParams& params) {
  const auto equals = option.find('=');
  if (equals == std::string_view::npos)
    bad_spec(text, fmt::format("'{}' is not key=value", option));
  const std::string_view key = option.substr(0, equals);
  const auto value = parse_number<double>(option.substr(equals + 1));
  if (!value || *value < 0.0 || *value > 100.0)
    bad_spec(text, fmt::format("'{}' needs a number in [0, 100]", option));
  if (key == "cpu")
    params.cpu_percent = *value;
  else if (key == "memory")
    params.memory_percent = *value;
  else if (key == "disk")
    params.disk_percent = *value;
  else if (key == "jitter")
    params.jitter = *value;
  else
    bad_spec(text, fmt::format("unknown key '{}' (cpu, memory, disk, jitter)", key));
}

SyntheticParams parse_synthetic(std::string_view text, std::string_view rest, std::uint64_t seed) {
  SyntheticParams params;
  params.seed = seed;
  if (rest.empty()) return params;
  const auto colon = rest.find(':');
  const std::string_view seed_part = rest.substr(0, colon);
  if (seed_part == "const") {
    params.seed = 0;
    params.jitter = 0.0;
  } else if (!seed_part.empty()) {
    const auto parsed = parse_number<std::uint64_t>(seed_part);
    if (!parsed) bad_spec(text, fmt::format("'{}' is neither a seed nor 'const'", seed_part));
    params.seed = *parsed;
  }
  if (colon == std::string_view::npos) return params;
  std::string_view options = rest.substr(colon + 1);
  while (!options.empty()) {
    const auto comma = options.find(',');
    apply_synthetic_option(text, options.substr(0, comma), params);
    if (comma == std::string_view::npos) break;
    options.remove_prefix(comma + 1);
  }
  return params;
}

}  // namespace

SourceSpec parse_source_spec(std::string_view text, ReplayGranularity granularity,
                             std::uint64_t seed) {
  SourceSpec spec;
  spec.text = std::string(text);
  spec.granularity = granularity;
  const auto colon = text.find(':');
  const std::string_view kind = text.substr(0, colon);
  const std::string_view rest = colon == std::string_view::npos ? "" : text.substr(colon + 1);
  if (kind == "live") {
    spec.kind = SourceSpec::Kind::live;
    if (!rest.empty()) spec.path = std::string(rest);
  } else if (kind == "replay") {
    spec.kind = SourceSpec::Kind::replay;
    if (rest.empty()) bad_spec(text, "replay needs a trace file");
    spec.path = std::string(rest);
  } else if (kind == "synthetic") {
    spec.kind = SourceSpec::Kind::synthetic;
    spec.synthetic = parse_synthetic(text, rest, seed);
  } else {
    bad_spec(text, fmt::format("unknown source kind '{}'", kind));
  }
  return spec;
}

std::optional<std::string> source_spec_problem(std::string_view text) {
  try {
    parse_source_spec(text, ReplayGranularity::step, 0);
    return std::nullopt;
  } catch (const Error& error) {
    const std::string prefix = fmt::format("--source '{}': ", text);
    std::string message = error.what();
    if (message.starts_with(prefix)) message.erase(0, prefix.size());
    return message;
  }
}

std::unique_ptr<MetricSource> make_source(const SourceSpec& spec, std::int64_t steps) {
  switch (spec.kind) {
    case SourceSpec::Kind::live:
      return std::make_unique<LiveSource>(spec.path);
    case SourceSpec::Kind::replay:
      return std::make_unique<ReplaySource>(
          std::make_shared<const MetricTrace>(MetricTrace::load(spec.path)), spec.granularity,
          steps);
    case SourceSpec::Kind::synthetic:
      return std::make_unique<SyntheticSource>(spec.synthetic);
  }
  throw Error("unknown metric source kind");
}

}  // namespace nrmlab::model
