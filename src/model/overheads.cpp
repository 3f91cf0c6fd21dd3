#include "model/overheads.hpp"

#include <array>

#include "util/parse.hpp"

namespace nrmlab::model {
namespace {

constexpr std::array<std::string_view, 4> k_persistence_names = {
    "connection-per-write", "commit-per-write", "transaction-per-step", "off"};
constexpr std::array<std::string_view, 4> k_preset_names = {"as-run", "optimized-as-run",
                                                            "optimized-as-intended", "clean"};

template <typename Enum, std::size_t N>
std::optional<Enum> parse_enum(const std::array<std::string_view, N>& names,
                               std::string_view text) {
  for (std::size_t i = 0; i < N; ++i)
    if (names[i] == text) return static_cast<Enum>(i);
  return std::nullopt;
}

}  // namespace

Overheads overheads_for(Preset preset) {
  Overheads overheads;  // defaults are the original's: per call, 100 ms, connection per write
  switch (preset) {
    case Preset::as_run:
      break;
    case Preset::optimized_as_run:
      overheads.sampling.kind = SamplingPolicy::Kind::spawn_shared;
      overheads.runs_as_c256 = true;
      break;
    case Preset::optimized_as_intended:
      overheads.sampling.kind = SamplingPolicy::Kind::per_step;
      break;
    case Preset::clean:
      overheads.sampling.kind = SamplingPolicy::Kind::per_step;
      overheads.window_ms = 0;
      overheads.persistence = Persistence::transaction_per_step;
      break;
  }
  return overheads;
}

std::string sampling_policy_name(const SamplingPolicy& policy) {
  switch (policy.kind) {
    case SamplingPolicy::Kind::per_call:
      return "per-call";
    case SamplingPolicy::Kind::spawn_shared:
      return "spawn-shared";
    case SamplingPolicy::Kind::per_step:
      return "per-step";
    case SamplingPolicy::Kind::every_k:
      return "every:" + std::to_string(policy.k);
  }
  return "?";
}

std::optional<SamplingPolicy> parse_sampling_policy(std::string_view text) {
  using Kind = SamplingPolicy::Kind;
  if (text == "per-call") return SamplingPolicy{Kind::per_call, 1};
  if (text == "spawn-shared") return SamplingPolicy{Kind::spawn_shared, 1};
  if (text == "per-step") return SamplingPolicy{Kind::per_step, 1};
  constexpr std::string_view prefix = "every:";
  if (text.starts_with(prefix)) {
    auto k = parse_number<std::int64_t>(text.substr(prefix.size()));
    if (k && *k >= 1) return SamplingPolicy{Kind::every_k, *k};
  }
  return std::nullopt;
}

std::string_view persistence_name(Persistence persistence) {
  return k_persistence_names[static_cast<std::size_t>(persistence)];
}

std::optional<Persistence> parse_persistence(std::string_view text) {
  return parse_enum<Persistence>(k_persistence_names, text);
}

std::string_view preset_name(Preset preset) {
  return k_preset_names[static_cast<std::size_t>(preset)];
}

std::optional<Preset> parse_preset(std::string_view text) {
  return parse_enum<Preset>(k_preset_names, text);
}

}  // namespace nrmlab::model
