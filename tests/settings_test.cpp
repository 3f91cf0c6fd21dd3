// The settings table (model/settings.hpp, telemetry/run_settings.hpp) is the one definition of
// a run's settings: these tests fail when a setting exists in one place only -- in the table
// but not `nrmlab run`, an option of `nrmlab run` that is in no table, a study knob that is no
// setting -- and check what the table builds.
#include "model/settings.hpp"

#include <fmt/format.h>

#include <cctype>
#include <map>
#include <set>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "study/knobs.hpp"
#include "study/plan.hpp"
#include "study/study_file.hpp"
#include "telemetry/instrumented_run.hpp"
#include "telemetry/run_settings.hpp"
#include "test_support.hpp"
#include "util/error.hpp"
#include "util/thread_pool.hpp"

namespace nrmlab::testing {
namespace {

using ::testing::AnyOf;
using ::testing::HasSubstr;

// The options `nrmlab run --help` lists, every alias of each.
std::set<std::string> help_options(const std::string& help) {
  std::set<std::string> options;
  // A line that, after its indentation, starts with '-': the option's names run up to the
  // first character that cannot be in one (no std::regex: GCC 12 warns inside <regex>
  // under ASan).
  const auto in_name = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == ',';
  };
  std::istringstream lines(help);
  for (std::string line; std::getline(lines, line);) {
    const std::size_t begin = line.find_first_not_of(" \t");
    if (begin == 0 || begin == std::string::npos || line[begin] != '-') continue;
    std::size_t end = begin;
    while (end < line.size() && in_name(line[end]))
      ++end;
    std::istringstream names(line.substr(begin, end - begin));
    for (std::string name; std::getline(names, name, ',');)
      if (name.starts_with("--")) options.insert(name);
  }
  return options;
}

std::vector<std::string> flags_of(const model::Setting& setting) {
  std::vector<std::string> flags;
  std::istringstream names{std::string(setting.flags)};
  for (std::string name; std::getline(names, name, ',');)
    flags.push_back(name);
  return flags;
}

TEST(Settings, EverySettingIsAnOptionOfNrmlabRunAndEveryOptionIsASetting) {
  ScratchDir scratch;
  const ProcessResult help = run_nrmlab({"run", "--help"}, scratch);
  ASSERT_EQ(help.exit_code, 0) << help.err;
  const std::set<std::string> options = help_options(help.out);
  ASSERT_GT(options.size(), 30u) << help.out;
  std::set<std::string> in_table;
  for (const model::Setting* setting : telemetry::run_settings())
    for (const std::string& flag : flags_of(*setting)) {
      EXPECT_TRUE(options.contains(flag)) << setting->key << ": " << flag << " is no option";
      EXPECT_TRUE(in_table.insert(flag).second) << flag << " is in the table twice";
    }
  // Presentation only: they define nothing about the run.
  const std::set<std::string> not_settings = {"--help", "--quiet"};
  for (const std::string& option : options)
    EXPECT_TRUE(in_table.contains(option) || not_settings.contains(option))
        << "nrmlab run " << option << " is in no settings table (model/settings.cpp or "
        << "telemetry/run_settings.cpp)";
}

// A valid value for every setting, fast to run: its default, else a fitting one.
std::map<std::string, std::string> runnable_values(const ScratchDir& scratch) {
  std::map<std::string, std::string> values = {
      {"out", (scratch / "out").string()},
      {"db_dir", (scratch / "db").string()},
      {"record_trace", (scratch / "inputs.trace").string()},
      {"source", "synthetic:const"},
      {"steps", "3"},
      {"max_agents", "4"},
      {"sampling", "per-step"},
      {"window_ms", "0"},
      {"persistence", "off"},
      {"telemetry", "off"},
  };
  for (const model::Setting* setting : telemetry::run_settings()) {
    const std::string key(setting->key);
    if (values.contains(key)) continue;
    if (!setting->default_text.empty())
      values[key] = setting->default_text;
    else if (!setting->accepted.empty())
      values[key] = std::string(setting->accepted.front());
    else
      ADD_FAILURE() << "give the test a valid value for the setting " << key;
  }
  return values;
}

TEST(Settings, NrmlabRunAcceptsEverySettingAndRecordsItInTheConfiguration) {
  ScratchDir scratch;
  const auto values = runnable_values(scratch);
  std::vector<std::string> args = {"run", "--quiet"};
  for (const model::Setting* setting : telemetry::run_settings()) {
    args.emplace_back(setting->flag());
    args.push_back(values.at(std::string(setting->key)));
  }
  const ProcessResult result = run_nrmlab(args, scratch);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto config = nlohmann::json::parse(read_text(scratch / "out/result.json"));
  EXPECT_THAT(config.dump(), HasSubstr("\"steps\":3"));
  EXPECT_THAT(config.dump(), HasSubstr("synthetic:const"));
}

// A value as a study file writes it.
std::string toml_value(const model::Setting& setting, const std::string& value) {
  switch (setting.type) {
    case model::SettingType::integer:
    case model::SettingType::unsigned_integer:
    case model::SettingType::number:
      return value;
    case model::SettingType::names:
      return fmt::format("[\"{}\"]", value);
    case model::SettingType::toggle:
    case model::SettingType::text:
      break;
  }
  return fmt::format("\"{}\"", value);
}

TEST(Settings, AStudyFileTakesEverySettingExceptTheRunnersAndPassesItToNrmlabRun) {
  ScratchDir scratch;
  const auto values = runnable_values(scratch);
  for (const model::Setting* setting : telemetry::run_settings()) {
    const std::string key(setting->key);
    const char* table = setting->study == model::StudyUse::telemetry_table ? "telemetry" : "run";
    const std::string text = fmt::format("[study]\nname = \"one\"\n[{}]\n{} = {}\n", table, key,
                                         toml_value(*setting, values.at(key)));
    if (setting->study == model::StudyUse::runner) {
      EXPECT_THROW(study::parse_study(text, "one.toml"), Error) << key;
      EXPECT_EQ(study::find_knob(key), nullptr) << key;
      continue;
    }
    const study::Knob* knob = study::find_knob(key);
    ASSERT_NE(knob, nullptr) << key << " is no study knob";
    EXPECT_EQ(knob->flag, setting->flag());
    const study::StudyPlan plan = study::expand(study::parse_study(text, "one.toml"));
    ASSERT_EQ(plan.runs.size(), 1u);
    const auto& arguments = plan.runs[0].arguments;
    const auto flag = std::find(arguments.begin(), arguments.end(), setting->flag());
    ASSERT_NE(flag, arguments.end()) << key << " does not reach nrmlab run";
    EXPECT_EQ(*std::next(flag), values.at(key));
  }
  // The only knobs that are no setting are the runner's own.
  for (const study::Knob& knob : study::knobs())
    if (telemetry::find_run_setting(knob.key) == nullptr) {
      EXPECT_EQ(knob.scope, study::KnobScope::runner) << knob.key;
      EXPECT_TRUE(knob.flag.empty()) << knob.key;
    }
}

TEST(Settings, EveryStudyKnobIsDocumentedForStudyAuthors) {
  const std::string readme =
      read_text(std::filesystem::path(NRMLAB_TEST_DATA) / "../../studies/README.md");
  for (const study::Knob& knob : study::knobs())
    EXPECT_THAT(readme, HasSubstr(fmt::format("`{}`", knob.key)))
        << "studies/README.md's knob table lacks " << knob.key;
}

TEST(Settings, TheTablesDefaultsAreTheConfigStructsDefaults) {
  const model::RunConfig built = model::run_config_from({});
  const model::RunConfig plain;
  EXPECT_EQ(model::to_json(built)["model"], model::to_json(plain)["model"]);
  const telemetry::RunRequest request = telemetry::run_request_from({});
  const telemetry::RecorderOptions defaults;
  EXPECT_EQ(request.telemetry.recorder.rusage_every, defaults.rusage_every);
  EXPECT_EQ(request.telemetry.recorder.batch_steps, defaults.batch_steps);
  EXPECT_EQ(request.telemetry.recorder.side_period_ms, defaults.side_period_ms);
  EXPECT_TRUE(request.telemetry.enabled);
  for (const model::Setting* setting : telemetry::run_settings()) {
    EXPECT_FALSE(setting->lands_in.empty()) << setting->key;
    if (!setting->default_text.empty()) {
      EXPECT_EQ(model::check_setting(*setting, setting->default_text), std::nullopt)
          << setting->key;
    }
  }
}

TEST(Settings, ABadValueNamesItsFlag) {
  const auto message = [](model::SettingValues values) {
    try {
      telemetry::run_request_from(values);
    } catch (const Error& error) {
      return std::string(error.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(message({{"conditions", "ON-ON,ON-ON"}}), "--condition 'ON-ON' is given twice");
  EXPECT_THAT(message({{"conditions", "ON-MAYBE"}}), HasSubstr("--condition 'ON-MAYBE'"));
  EXPECT_THAT(message({{"sampling", "sometimes"}}),
              HasSubstr("--sampling 'sometimes': expected per-call"));
  EXPECT_THAT(message({{"steps", "0"}}), HasSubstr("--steps '0': expected an integer in [1, "));
  EXPECT_THAT(message({{"batch_steps", "0"}}), HasSubstr("--batch-steps '0': batch size"));
  EXPECT_THAT(message({{"source", "sensors"}}), HasSubstr("--source 'sensors'"));
  EXPECT_THAT(message({{"recycle", "condition"}, {"record_trace", "x.trace"}}),
              HasSubstr("cannot record a trace"));
}

TEST(Settings, IsaAndThreadsChooseHowTheEngineComputes) {
  const auto config = [](model::SettingValues values) {
    values.emplace_back("out", "x");
    return model::run_config_from(values);
  };
  EXPECT_EQ(config({}).compute.isa, model::Isa::automatic);
  EXPECT_EQ(config({}).compute.threads, usable_cores());
  EXPECT_EQ(config({{"threads", "3"}}).compute.threads, 3u);
  EXPECT_EQ(config({{"isa", "scalar"}}).compute.isa, model::Isa::scalar);
  EXPECT_EQ(config({{"isa", "sse2"}}).compute.isa, model::Isa::sse2);
  const auto message = [&](model::SettingValues values) {
    try {
      config(std::move(values));
    } catch (const Error& error) {
      return std::string(error.what());
    }
    return std::string("accepted");
  };
  EXPECT_THAT(message({{"threads", "0"}}),
              HasSubstr("--threads '0': expected auto or an integer in [1, 1024]"));
  EXPECT_THAT(message({{"isa", "sse3"}}), HasSubstr("--isa 'sse3': expected one of: auto"));
  for (const model::Isa isa : {model::Isa::avx2, model::Isa::avx512}) {
    const std::string name(model::isa_name(isa));
    if (model::isa_supported(isa))
      EXPECT_EQ(config({{"isa", name}}).compute.isa, isa);
    else
      EXPECT_THAT(message({{"isa", name}}), HasSubstr("--isa '" + name + "': this CPU lacks"));
  }
}

TEST(Settings, AnInstrumentedRunRecordsTelemetryAndReportsIt) {
  ScratchDir scratch;
  const telemetry::RunRequest request =
      telemetry::run_request_from({{"out", scratch.path().string()},
                                   {"steps", "4"},
                                   {"max_agents", "3"},
                                   {"source", "synthetic:const"},
                                   {"persistence", "off"},
                                   {"conditions", "OFF-OFF,ON-ON"}});
  std::vector<std::string> warnings;
  const telemetry::InstrumentedResult run =
      telemetry::run_instrumented(request.config, request.config, request.telemetry, {},
                                  [&](const std::string& message) { warnings.push_back(message); });
  EXPECT_TRUE(run.result.complete);
  EXPECT_THAT(run.telemetry_line, HasSubstr("telemetry.db (8 steps;"));
  EXPECT_TRUE(std::filesystem::exists(scratch / "telemetry.db"));
  // The warnings a healthy run may give: the sanitizer build's malloc keeps no statistics,
  // and a machine (a container) may not permit stack sampling.
  for (const std::string& warning : warnings)
    EXPECT_THAT(warning, AnyOf(HasSubstr("no allocator statistics"), HasSubstr("no stack samples")))
        << warning;
}

}  // namespace
}  // namespace nrmlab::testing
