#include "cli/run_output.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>

#include "util/error.hpp"

namespace nrmlab::cli {

namespace fs = std::filesystem;

void prepare_output_dir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    throw Error(fmt::format("cannot create output directory {}: {}", dir.string(), ec.message()));
  const fs::path probe = dir / ".nrmlab-write-probe";
  std::FILE* file = std::fopen(probe.c_str(), "w");
  if (file == nullptr)
    throw Error(
        fmt::format("output directory {} is not writable: {}", dir.string(), std::strerror(errno)));
  std::fclose(file);
  fs::remove(probe, ec);
}

void print_summary(std::FILE* out, const model::ExperimentResult& result) {
  const model::ExperimentDesign& design = result.design;
  fmt::print(out, "{} ({}): A = {}, B = {}\n", model::experiment_name(design.id),
             model::variant_name(design.variant), model::mechanism_label(design.factor_a),
             model::mechanism_label(design.factor_b));
  fmt::print(out, "{} steps per condition, preset {}, source {}\n\n", result.config.params.steps,
             model::preset_name(result.config.preset), result.config.source.text);
  fmt::print(out, "{:<9} {:>6} {:>10} {:>6} {:>5} {:>12} {:>12}\n", "condition", "steps",
             "mean pop", "final", "max", "evolve/step", "runtime (s)");
  for (const auto& c : result.conditions) {
    const double evolve_per_step =
        c.steps_completed > 0
            ? static_cast<double>(c.totals.evolve_calls) / static_cast<double>(c.steps_completed)
            : 0.0;
    fmt::print(out, "{:<9} {:>6} {:>10.3f} {:>6} {:>5} {:>12.1f} {:>12.3f}\n", c.name,
               c.steps_completed, c.mean_population, c.final_population, c.max_population,
               evolve_per_step, c.runtime_seconds);
  }
  if (result.synergy) {
    const model::Synergy& s = *result.synergy;
    fmt::print(out, "\neffect A {:+.3f}  effect B {:+.3f}  additive {:.3f}  synergy {:+.3f}  ",
               s.effect_a, s.effect_b, s.additive, s.synergy);
    fmt::print(out, "fold change {}  -> {}\n",
               s.fold_change ? fmt::format("{:.3f}", *s.fold_change) : std::string("n/a"),
               s.classification);
  } else {
    fmt::print(out, "\nno synergy analysis: it needs all four conditions, completed\n");
  }
}

}  // namespace nrmlab::cli
