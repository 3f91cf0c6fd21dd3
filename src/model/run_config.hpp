// Everything that defines one `nrmlab run`: the experiment, the model parameters, the
// overhead knobs, the metric source and where outputs go. Serialized in full into
// result.json so a run can be understood (and repeated) from its output alone.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "model/experiment.hpp"
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
  // Process recycling: "never" (the conditions back to back in one process, as the
  // original) or "condition" (each condition in a fresh process; `nrmlab run` does it).
  std::string recycle = "never";

  // Selects a preset and the overheads it stands for (single knobs may then be overridden).
  void apply_preset(Preset chosen) {
    preset = chosen;
    overheads = overheads_for(chosen);
  }

  ExperimentDesign design() const {
    return design_for(experiment, variant, overheads.runs_as_c256);
  }
};

nlohmann::ordered_json to_json(const RunConfig& config);

}  // namespace nrmlab::model
