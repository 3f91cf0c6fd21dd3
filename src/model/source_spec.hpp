// Parses the `--source` argument and builds the metric source it names.
//   live[:DISK_PATH]                    the machine (disk_percent of DISK_PATH, default /)
//   replay:FILE                         a recorded trace (granularity chosen separately)
//   synthetic[:SEED|const][:k=v,...]    deterministic; keys cpu, memory, disk (centres, %)
//                                       and jitter (+- range, %); `const` = seed 0, jitter 0
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "model/metric_source.hpp"
#include "model/metric_trace.hpp"
#include "model/synthetic_source.hpp"

namespace nrmlab::model {

struct SourceSpec {
  enum class Kind { live, replay, synthetic };
  Kind kind = Kind::live;
  std::filesystem::path path = "/";  // the trace (replay) or the disk path (live)
  ReplayGranularity granularity = ReplayGranularity::step;
  SyntheticParams synthetic;
  std::string text;  // as the user gave it
};

// `seed` is the run's seed, used by `synthetic` when the spec names none. Throws
// nrmlab::Error with the accepted forms on a malformed spec.
SourceSpec parse_source_spec(std::string_view text, ReplayGranularity granularity,
                             std::uint64_t seed);

// What is wrong with a spec ("'x' is not key=value; expected live[:DISK_PATH], ..."), or
// nothing; the message parse_source_spec would throw, without its "--source 'TEXT': " prefix.
std::optional<std::string> source_spec_problem(std::string_view text);

// Opens the source; a replay trace is loaded and checked against `steps` here.
std::unique_ptr<MetricSource> make_source(const SourceSpec& spec, std::int64_t steps);

}  // namespace nrmlab::model
