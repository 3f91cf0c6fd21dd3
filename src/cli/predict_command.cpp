#include "cli/predict_command.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

#include "cli/progress.hpp"
#include "model/experiment.hpp"
#include "model/overheads.hpp"
#include "study/prediction.hpp"
#include "util/atomic_file.hpp"

namespace nrmlab::cli {
namespace {

std::string share(double part, double whole) {
  return whole > 0.0 ? fmt::format("{:.1f}%", 100.0 * part / whole) : "-";
}

void print_prediction(const model::RunConfig& config, const study::RunWork& work,
                      const study::Prediction& prediction, const study::UnitCosts& costs) {
  fmt::print("prediction: {} ({}), {} steps per condition, preset {}, source {}\n",
             model::experiment_name(config.experiment), model::variant_name(config.variant),
             config.params.steps, model::preset_name(config.preset), config.source.text);
  fmt::print("work: counted by the engine in {:.2f} s ({})\n", work.counting_seconds,
             work.assumption.empty() ? "exact for this source" : work.assumption);
  fmt::print("unit costs: {} ({})\n\n",
             costs.from_cache ? fmt::format("cached, measured {}", costs.measured_at)
                              : fmt::format("measured now in {:.1f} s", costs.calibration_seconds),
             costs.cache_file.empty()
                 ? std::string("not cached")
                 : costs.cache_file.string() + "; --recalibrate measures again");
  fmt::print("{:<10} {:>7} {:>12} {:>10} {:>13} {:>12} {:>11}  {:>9} {:>9}\n", "condition", "steps",
             "evolve calls", "samples", "pairs checked", "db rows", "predicted", "first step",
             "last step");
  for (const study::ConditionPrediction& c : prediction.conditions)
    fmt::print("{:<10} {:>7} {:>12} {:>10} {:>13} {:>12} {:>11}  {:>9} {:>9}\n", c.name, c.steps,
               c.totals.evolve_calls, c.totals.metric_samples, c.totals.resonance_pairs,
               c.totals.db_rows, format_duration(c.sections.total()),
               c.step_s.empty() ? "-" : format_duration(c.step_s.front()),
               c.step_s.empty() ? "-" : format_duration(c.step_s.back()));
  const study::SectionSeconds& s = prediction.sections;
  fmt::print("\ntotal: {} (interval {} .. {}, from the unit costs' ranges)\n",
             format_duration(prediction.total_s), format_duration(prediction.low_s),
             format_duration(prediction.high_s));
  fmt::print(
      "where the time goes: sample windows {}, sampling {}, databases {} ({}), model "
      "compute {}\n",
      share(s.window, s.total()), share(s.sampling, s.total()), share(s.database, s.total()),
      model::persistence_name(config.overheads.persistence), share(s.compute, s.total()));
}

}  // namespace

CLI::App* add_predict_command(CLI::App& app, PredictOptions& o) {
  CLI::App* predict = app.add_subcommand(
      "predict",
      "Predict how long `nrmlab run` with the same options takes on this machine, and where "
      "its time goes, without running it.\n\n"
      "The engine counts the run's exact work (evolve calls, samples, pairs checked, database "
      "rows and transactions, step by step) with its overheads stubbed -- a fraction of a "
      "second for C256 -- and multiplies it by unit costs measured on this machine by short "
      "runs (2-5 s the first time; cached per machine, build, --threads, --isa, source kind, "
      "persistence, sampling and the databases' file system; --out, when given, says where "
      "the databases would go).\n\n"
      "Example: nrmlab predict --experiment c256 --preset as-run --source synthetic:7\n"
      "A live source's readings cannot be known ahead: they are assumed constant at the "
      "machine's current ones, and the output says so.");
  add_run_settings(*predict, o.run, true);
  predict->get_option("--out")->description(
      "Where the run would write: its databases' file system sets their unit costs (nothing "
      "is created there)");
  predict->add_option("--json", o.json,
                      "Also write the prediction as JSON: total_s, interval_s, sections, "
                      "conditions (work and step-time series), unit_costs (docs/formats.md)");
  predict->add_option("--cache-dir", o.cache_dir,
                      "Where the unit costs are cached (default: $NRMLAB_CACHE_DIR, else "
                      "$XDG_CACHE_HOME/nrmlab, else ~/.cache/nrmlab)");
  predict->add_flag("--recalibrate", o.recalibrate,
                    "Measure the unit costs again (after the machine changed, or to see "
                    "their spread)");
  predict->add_flag("--quiet,-q", o.run.quiet, "No calibration progress on the terminal");
  return predict;
}

int execute_predict(const PredictOptions& options) {
  const model::RunConfig config = run_config_from(options.run);
  const bool talk = !options.run.quiet && isatty(STDERR_FILENO) == 1;
  const study::UnitCosts costs = study::unit_costs_for(
      config, options.cache_dir.empty() ? study::default_cache_dir() : options.cache_dir,
      options.recalibrate, [&](std::string_view what) {
        if (talk) fmt::print(stderr, "\r\033[K{}", what);
      });
  if (talk) fmt::print(stderr, "\r\033[K");
  const study::RunWork work = study::count_work(config);
  const study::Prediction prediction = study::predict(config, work, costs);
  print_prediction(config, work, prediction, costs);
  if (!options.json.empty()) {
    write_file_atomically(options.json, study::to_json(prediction, costs).dump(1) + "\n");
    fmt::print("json: {}\n", options.json.string());
  }
  return 0;
}

}  // namespace nrmlab::cli
