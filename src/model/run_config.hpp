// Everything that defines one `nrmlab run`: the experiment, the model parameters, the
// overhead knobs, the metric source and where outputs go. Serialized in full into
// result.json so a run can be understood (and repeated) from its output alone.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <vector>

#include "model/experiment.hpp"
#include "model/isa.hpp"
#include "model/overheads.hpp"
#include "model/params.hpp"
#include "model/source_spec.hpp"

namespace nrmlab::model {

struct RunConfig {
  ExperimentId experiment = ExperimentId::c256;
  Variant variant = Variant::as_intended;
  Preset preset = Preset::clean;
  ModelParams params;
  Overheads overheads = overheads_for(Preset::clean);
  SourceSpec source;
  std::vector<int> conditions = {0, 1, 2, 3};  // canonical indices, run in this order
  std::filesystem::path out_dir;
  std::filesystem::path db_dir;  // the faithful databases; defaults to out_dir
  std::optional<std::filesystem::path> record_trace;
  std::uint64_t seed = 0;
  // Process recycling, as parse_recycling reads it; study::run_recycled does the recycling.
  std::string recycle = "never";
  // How the pairs are scored (instruction set, threads): cost only, never results.
  ComputeOptions compute;

  // Selects a preset and the overheads it stands for (single knobs may then be overridden).
  void apply_preset(Preset chosen) {
    preset = chosen;
    overheads = overheads_for(chosen);
  }

  ExperimentDesign design() const {
    return design_for(experiment, variant, overheads.runs_as_c256);
  }
};

// When a run starts fresh processes: never (the conditions back to back in one process, as
// the original), at every condition, or also every N steps inside a condition.
struct Recycling {
  enum class Kind { never, condition, every_steps };
  Kind kind = Kind::never;
  std::int64_t steps = 0;  // every_steps: the steps one process runs
};
// Reads "never", "condition" or "every:N" (N >= 1); nullopt for anything else.
std::optional<Recycling> parse_recycling(std::string_view text);

nlohmann::ordered_json to_json(const RunConfig& config);

}  // namespace nrmlab::model
