// The predictor (study/prediction.hpp): the work it counts is the real run's, step by step,
// for every preset; each unit of work is charged once, by the unit its mode pays; the unit
// costs are cached per key and measured anew when the cache is unreadable; `nrmlab predict`
// as a user meets it. How close the predicted totals come to real runs is a benchmark
// (bench/predict_validation.sh), not a timed test.
#include <fstream>
#include <nlohmann/json.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "study/prediction.hpp"
#include "test_support.hpp"

namespace nrmlab {
namespace {

using ::testing::HasSubstr;
using testing::ScratchDir;
using testing::StepLog;

model::RunConfig small_run(model::Preset preset, const std::filesystem::path& dir) {
  model::RunConfig config = testing::quick_config(dir, 5);
  config.apply_preset(preset);
  if (preset == model::Preset::optimized_as_run) config.variant = model::Variant::as_run;
  config.params.max_agents = 7;
  config.overheads.window_ms = std::min<std::int64_t>(config.overheads.window_ms, 1);
  config.source = model::parse_source_spec("synthetic:3", model::ReplayGranularity::step, 3);
  return config;
}

void expect_same_work(const model::StepCounters& counted, const model::StepCounters& real,
                      const std::string& where) {
  for (const model::StepCounterField& field : model::k_step_counter_fields)
    EXPECT_EQ(counted.*field.member, real.*field.member) << where << ": " << field.name;
}

TEST(PredictionWork, IsTheRealRunsWorkStepByStepUnderEveryPresetAndPersistence) {
  using model::Persistence;
  using model::Preset;
  for (const Preset preset :
       {Preset::as_run, Preset::optimized_as_run, Preset::optimized_as_intended, Preset::clean})
    for (const Persistence persistence :
         {Persistence::connection_per_write, Persistence::commit_per_write,
          Persistence::transaction_per_step, Persistence::off}) {
      ScratchDir scratch;
      model::RunConfig config = small_run(preset, scratch.path());
      config.overheads.persistence = persistence;
      StepLog real;
      model::RunHooks hooks;
      hooks.observer = &real;
      model::run_experiment(config, hooks);
      model::RunConfig elsewhere = config;  // the count opens no database
      elsewhere.db_dir = scratch / "never";
      const study::RunWork counted = study::count_work(elsewhere);
      EXPECT_FALSE(std::filesystem::exists(elsewhere.db_dir));
      EXPECT_TRUE(counted.assumption.empty());
      const std::string what =
          fmt::format("{} / {}", model::preset_name(preset), model::persistence_name(persistence));
      ASSERT_EQ(counted.conditions.size(), 4u) << what;
      for (const study::ConditionWork& condition : counted.conditions) {
        const std::vector<model::StepCounters> steps = real.condition(condition.condition);
        ASSERT_EQ(condition.steps.size(), steps.size()) << what;
        for (std::size_t t = 0; t < steps.size(); ++t)
          expect_same_work(condition.steps[t], steps[t],
                           fmt::format("{}, {} step {}", what, condition.name, t));
      }
    }
}

TEST(PredictionWork, ALiveSourceIsAssumedConstantAtTheCurrentReadingsAndSaysSo) {
  ScratchDir scratch;
  model::RunConfig config = small_run(model::Preset::clean, scratch.path());
  config.source = model::parse_source_spec("live", model::ReplayGranularity::step, 1);
  const study::RunWork work = study::count_work(config);
  EXPECT_THAT(work.assumption, HasSubstr("live source's readings are assumed constant"));
  EXPECT_EQ(work.conditions.size(), 4u);
}

// Costs that are distinct powers of two, so a unit charged twice or by the wrong mode shows.
study::UnitCosts distinct_costs() {
  study::UnitCosts costs;
  double value = 1.0;
  for (const study::UnitInfo& info : study::k_units) {
    costs[info.unit] = {value, value / 2.0, value * 2.0, true};
    value *= 2.0;
  }
  return costs;
}

double unit(const study::UnitCosts& costs, study::Unit u) {
  return costs[u].seconds;
}

TEST(PredictionCost, ChargesEachUnitOfWorkOnceByTheUnitItsModePays) {
  using study::Unit;
  const study::UnitCosts costs = distinct_costs();
  model::StepCounters work;
  work.evolve_calls = 10;
  work.metric_samples = 3;
  work.resonance_pairs = 6;  // four agents
  work.db_rows = 9;          // three metrics rows (one per sample), six bridge rows
  work.db_transactions = 2;
  model::RunConfig config;
  config.overheads.window_ms = 100;

  const double compute_base = unit(costs, Unit::step) + 10 * unit(costs, Unit::evolve_call);
  config.overheads.persistence = model::Persistence::connection_per_write;
  study::SectionSeconds s = study::step_cost(config, work, costs);
  EXPECT_DOUBLE_EQ(s.window, 3 * (0.1 + unit(costs, Unit::window_overshoot)));
  EXPECT_DOUBLE_EQ(s.sampling, 3 * unit(costs, Unit::sample));
  EXPECT_DOUBLE_EQ(s.database, 3 * unit(costs, Unit::metrics_row_connection) +
                                   6 * unit(costs, Unit::bridge_row_connection));
  EXPECT_DOUBLE_EQ(s.compute, compute_base + 6 * unit(costs, Unit::pair_scored));

  config.overheads.persistence = model::Persistence::commit_per_write;
  EXPECT_DOUBLE_EQ(
      study::step_cost(config, work, costs).database,
      3 * unit(costs, Unit::metrics_row_commit) + 6 * unit(costs, Unit::bridge_row_commit));
  config.overheads.persistence = model::Persistence::transaction_per_step;
  EXPECT_DOUBLE_EQ(study::step_cost(config, work, costs).database,
                   9 * unit(costs, Unit::row_in_transaction) + 2 * unit(costs, Unit::transaction));

  config.overheads.persistence = model::Persistence::off;
  config.overheads.window_ms = 0;  // no window, no overshoot
  s = study::step_cost(config, work, costs);
  EXPECT_EQ(s.window, 0.0);
  EXPECT_EQ(s.database, 0.0);
  EXPECT_DOUBLE_EQ(s.compute, compute_base + 6 * unit(costs, Unit::pair_decided));
  // Every thread decides the rows only from parallel_from agents on.
  config.compute.threads = 2;
  config.compute.parallel_from = 4;
  EXPECT_DOUBLE_EQ(study::step_cost(config, work, costs).compute,
                   compute_base + 6 * unit(costs, Unit::pair_decided_parallel));
  config.compute.parallel_from = 5;
  EXPECT_DOUBLE_EQ(study::step_cost(config, work, costs).compute,
                   compute_base + 6 * unit(costs, Unit::pair_decided));
  EXPECT_DOUBLE_EQ(study::step_cost(config, work, costs, study::CostPick::high).compute,
                   2 * (compute_base + 6 * unit(costs, Unit::pair_decided)));
}

TEST(PredictionCost, TheTotalIsTheSumOfTheStepsAndTheJsonSeriesKeepsTheirMean) {
  const study::UnitCosts costs = distinct_costs();
  model::RunConfig config;
  config.overheads.persistence = model::Persistence::transaction_per_step;
  study::RunWork work;
  for (int c = 0; c < 2; ++c) {
    study::ConditionWork& condition = work.conditions.emplace_back();
    condition.name = c == 0 ? "OFF-OFF" : "ON-OFF";
    for (std::uint64_t t = 0; t < 2500; ++t) {
      model::StepCounters step;
      step.evolve_calls = t % 7;
      step.db_rows = t % 3;
      step.db_transactions = t % 2;
      condition.steps.push_back(step);
    }
  }
  const study::Prediction prediction = study::predict(config, work, costs);
  double sum = 0.0;
  for (const study::ConditionPrediction& c : prediction.conditions)
    for (const double step : c.step_s)
      sum += step;
  EXPECT_NEAR(prediction.total_s, sum, 1e-9 * sum);
  EXPECT_LT(prediction.low_s, prediction.total_s);
  EXPECT_GT(prediction.high_s, prediction.total_s);

  const nlohmann::ordered_json json = study::to_json(prediction, costs, 1000);
  EXPECT_EQ(json["schema"], "nrmlab.prediction/1");
  EXPECT_DOUBLE_EQ(json["total_s"].get<double>(), prediction.total_s);
  EXPECT_DOUBLE_EQ(json["interval_s"][0].get<double>(), prediction.low_s);
  const nlohmann::ordered_json& first = json["conditions"][0];
  EXPECT_EQ(first["step_stride"].get<std::size_t>(), 3u);
  const auto series = first["step_s"].get<std::vector<double>>();
  EXPECT_EQ(series.size(), 834u);
  EXPECT_EQ(first["work"]["evolve_calls"].get<std::uint64_t>(),
            prediction.conditions[0].totals.evolve_calls);
  EXPECT_DOUBLE_EQ(json["unit_costs"]["seconds"]["transaction"].get<double>(),
                   unit(costs, study::Unit::transaction));
}

TEST(PredictionCosts, AreReadFromTheCacheByKeyAndMeasuredAnewWhenItIsUnreadable) {
  ScratchDir scratch;
  // The run's directory does not exist yet: the calibration writes beside it.
  model::RunConfig config = small_run(model::Preset::clean, scratch / "not" / "yet" / "run");
  const std::filesystem::path cache = scratch / "cache";
  std::filesystem::create_directories(cache);
  // A hand-written entry for this run's key, and one for another machine.
  nlohmann::json units;
  for (const study::UnitInfo& info : study::k_units)
    units[std::string(info.name)] = {{"seconds", 3e-6}, {"low", 2e-6}, {"high", 4e-6}};
  const nlohmann::json entry = {
      {"measured_at", "2026-01-01T00:00:00Z"}, {"calibration_s", 9.0}, {"units", units}};
  std::ofstream(cache / "unit-costs.json") << nlohmann::json{
      {"format", 1}, {"entries", {{study::cache_key(config), entry}, {"elsewhere", entry}}}};
  const study::UnitCosts cached = study::unit_costs_for(config, cache, false);
  EXPECT_TRUE(cached.from_cache);
  EXPECT_EQ(cached.measured_at, "2026-01-01T00:00:00Z");
  EXPECT_EQ(cached[study::Unit::bridge_row_commit].seconds, 3e-6);

  // Unreadable: measured on this machine, stored, the scratch databases removed.
  std::ofstream(cache / "unit-costs.json") << "{ not json";
  const study::UnitCosts measured = study::unit_costs_for(config, cache, false);
  EXPECT_FALSE(measured.from_cache);
  using study::Unit;
  // A clean run writes one transaction per step: only that mode's units are measured.
  EXPECT_GT(measured[Unit::row_in_transaction].seconds, 0.0);
  EXPECT_GT(measured[Unit::transaction].seconds, measured[Unit::row_in_transaction].seconds);
  EXPECT_GT(measured[Unit::pair_scored].seconds, 0.0);
  EXPECT_FALSE(measured[Unit::bridge_row_connection].measured);
  EXPECT_FALSE(measured[Unit::metrics_row_commit].measured);
  for (const study::UnitInfo& info : study::k_units) {
    if (!measured[info.unit].measured) continue;
    EXPECT_LE(measured[info.unit].low, measured[info.unit].seconds) << info.name;
    EXPECT_GE(measured[info.unit].high, measured[info.unit].seconds) << info.name;
  }
  // A cache that cannot be written (its directory would be under a file): measured, not
  // cached, no error.
  std::ofstream(scratch / "a-file") << "x";
  const study::UnitCosts uncached =
      study::unit_costs_for(config, scratch / "a-file" / "cache", false);
  EXPECT_FALSE(uncached.from_cache);
  EXPECT_TRUE(uncached.cache_file.empty());
  EXPECT_GT(uncached[Unit::row_in_transaction].seconds, 0.0);
  const study::UnitCosts again = study::unit_costs_for(config, cache, false);
  EXPECT_TRUE(again.from_cache);
  EXPECT_EQ(again[Unit::row_in_transaction].seconds, measured[Unit::row_in_transaction].seconds);
  EXPECT_FALSE(again[Unit::bridge_row_connection].measured);
  for (const auto& item : std::filesystem::directory_iterator(scratch.path()))
    EXPECT_THAT(item.path().filename().string(), ::testing::Not(HasSubstr("calibration")));
}

TEST(PredictCommand, PrintsTheTableWritesTheJsonAndReusesTheMeasuredCosts) {
  ScratchDir scratch;
  const std::vector<std::string> args = {"predict",
                                         "--experiment",
                                         "c256",
                                         "--preset",
                                         "as-run",
                                         "--max-agents",
                                         "12",
                                         "--steps",
                                         "30",
                                         "--source",
                                         "synthetic:5",
                                         "--cache-dir",
                                         (scratch / "cache").string(),
                                         "--json",
                                         (scratch / "p.json").string()};
  const testing::ProcessResult first = testing::run_nrmlab(args, scratch);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_THAT(first.out, HasSubstr("measured now"));
  EXPECT_THAT(first.out, HasSubstr("exact for this source"));
  EXPECT_THAT(first.out, HasSubstr("ON-ON"));
  EXPECT_THAT(first.out, HasSubstr("connection-per-write"));
  const nlohmann::json json = nlohmann::json::parse(testing::read_text(scratch / "p.json"));
  double conditions = 0.0;
  for (const nlohmann::json& c : json["conditions"])
    conditions += c["total_s"].get<double>();
  EXPECT_NEAR(json["total_s"].get<double>(), conditions, 1e-9 * conditions);
  // As run, a 100 ms window per sample: the windows hold most of the time.
  EXPECT_GT(json["sections"]["window_s"].get<double>(), 0.5 * json["total_s"].get<double>());
  // A connection per row: a connection-per-write row costs more than a commit's worth of
  // evolve calls, and the other modes' units were not measured.
  const nlohmann::json& units = json["unit_costs"]["seconds"];
  EXPECT_GT(units["bridge_row_connection"].get<double>(), 100 * units["evolve_call"].get<double>());
  EXPECT_TRUE(units["row_in_transaction"].is_null());

  const testing::ProcessResult second = testing::run_nrmlab(args, scratch);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_THAT(second.out, HasSubstr("cached, measured"));

  const testing::ProcessResult bad = testing::run_nrmlab({"predict", "--max-agents", "0"}, scratch);
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_THAT(bad.err, HasSubstr("--max-agents"));
}

}  // namespace
}  // namespace nrmlab
