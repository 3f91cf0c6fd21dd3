// Study files, plan expansion, seeds, execution order, manifests and Slurm array splitting,
// in-process.
#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "study/manifest.hpp"
#include "study/plan.hpp"
#include "study/slurm_backend.hpp"
#include "study/study_file.hpp"
#include "test_support.hpp"
#include "util/error.hpp"

namespace nrmlab::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr const char* k_study = R"([study]
name = "demo"
replicates = 3
seed = 11

[run]
source = "synthetic"
steps = 40
conditions = ["OFF-OFF", "ON-ON"]

[telemetry]
side_period_ms = 0

[factors]
window_ms = [0, 2]
recursive_evolve = [true, false]
allocator = ["system", "jemalloc", "mimalloc"]
)";

study::StudyPlan plan_of(const std::string& text) {
  return study::expand(study::parse_study(text, "demo.toml"));
}

std::string argument_after(const study::PlannedRun& run, std::string_view flag) {
  const auto found = std::find(run.arguments.begin(), run.arguments.end(), flag);
  return found == run.arguments.end() || found + 1 == run.arguments.end() ? "" : *(found + 1);
}

TEST(StudyPlan, ExpandsTheFullFactorialTimesReplicates) {
  const study::StudyPlan plan = plan_of(k_study);
  ASSERT_EQ(plan.runs.size(), 2u * 2u * 3u * 3u);
  EXPECT_THAT(plan.factors, ElementsAre("window_ms", "recursive_evolve", "allocator"));
  // Every cell appears once per replicate, with the factors in the file's order.
  std::set<std::string> cells;
  for (const auto& run : plan.runs) {
    ASSERT_EQ(run.levels.size(), 3u);
    EXPECT_EQ(run.levels[0].first, "window_ms");
    cells.insert(fmt::format("{}|{}|{}|{}", run.replicate, run.levels[0].second,
                             run.levels[1].second, run.levels[2].second));
    EXPECT_EQ(run.allocator, run.levels[2].second);
    EXPECT_EQ(argument_after(run, "--window-ms"), run.levels[0].second);
    EXPECT_EQ(argument_after(run, "--recursive-evolve"), run.levels[1].second);
    EXPECT_EQ(argument_after(run, "--steps"), "40");
    EXPECT_EQ(argument_after(run, "--condition"), "OFF-OFF,ON-ON");
    EXPECT_EQ(argument_after(run, "--side-period-ms"), "0");
    EXPECT_EQ(argument_after(run, "--seed"), std::to_string(run.seed));
  }
  EXPECT_EQ(cells.size(), plan.runs.size());
  EXPECT_EQ(plan.runs.front().id, "r000");
  EXPECT_EQ(plan.runs.back().id, "r035");
  // The first factor varies slowest.
  EXPECT_EQ(plan.runs[0].levels[0].second, "0");
  EXPECT_EQ(plan.runs[6].levels[0].second, "2");
  EXPECT_EQ(plan.runs[1].levels[2].second, "jemalloc");
}

TEST(StudyPlan, SeedsAreSharedWithinAReplicateAndDistinctAcrossReplicates) {
  const study::StudyPlan plan = plan_of(k_study);
  std::set<std::uint64_t> seeds;
  for (const auto& run : plan.runs) {
    EXPECT_EQ(run.seed, plan.runs[static_cast<std::size_t>(run.replicate) * 12].seed);
    seeds.insert(run.seed);
  }
  EXPECT_EQ(seeds.size(), 3u);
  // Same file, same plan: seeds, hashes and order do not depend on the machine or the run.
  const study::StudyPlan again = plan_of(k_study);
  for (std::size_t i = 0; i < plan.runs.size(); ++i) {
    EXPECT_EQ(again.runs[i].seed, plan.runs[i].seed);
    EXPECT_EQ(again.runs[i].hash, plan.runs[i].hash);
  }
  EXPECT_EQ(again.order, plan.order);
  // Another study seed gives other seeds.
  std::string other = k_study;
  other.replace(other.find("seed = 11"), 9, "seed = 12");
  EXPECT_NE(plan_of(other).runs[0].seed, plan.runs[0].seed);
}

TEST(StudyPlan, HashesTellRunsApart) {
  const study::StudyPlan plan = plan_of(k_study);
  std::set<std::string> hashes;
  for (const auto& run : plan.runs)
    hashes.insert(run.hash);
  EXPECT_EQ(hashes.size(), plan.runs.size());
}

TEST(StudyPlan, ACompoundFactorSetsSeveralKnobsPerLevel) {
  const study::StudyPlan plan = plan_of(R"([study]
name = "paper"
[run]
variant = "as-run"
[factors]
implementation = [
  { label = "unoptimized", experiment = "c256", preset = "as-run" },
  { experiment = "c257", preset = "optimized-as-run" },
]
allocator = ["system", "jemalloc"]
)");
  ASSERT_EQ(plan.runs.size(), 4u);
  EXPECT_EQ(plan.runs[0].levels[0],
            (std::pair<std::string, std::string>{"implementation", "unoptimized"}));
  EXPECT_EQ(argument_after(plan.runs[0], "--experiment"), "c256");
  EXPECT_EQ(argument_after(plan.runs[0], "--preset"), "as-run");
  // Without a label, the level is named by its settings.
  EXPECT_EQ(plan.runs[2].levels[0].second, "experiment=c257,preset=optimized-as-run");
  EXPECT_EQ(argument_after(plan.runs[2], "--preset"), "optimized-as-run");
  EXPECT_EQ(argument_after(plan.runs[3], "--variant"), "as-run");
  EXPECT_EQ(plan.runs[3].allocator, "jemalloc");
}

TEST(StudyFiles, TheShippedStudiesPlanAsDocumented) {
  const std::filesystem::path studies = std::filesystem::path(NRMLAB_TEST_DATA) / "../../studies";
  const auto plan = [&](const char* name) {
    return study::expand(study::load_study(studies / name));
  };
  const auto total = [](const study::StudyPlan& p) {
    double seconds = 0.0;
    for (const auto& run : p.runs)
      seconds += run.estimated_seconds;
    return seconds;
  };
  const study::StudyPlan paper = plan("paper-c256.toml");
  ASSERT_EQ(paper.runs.size(), 5u);
  EXPECT_EQ(argument_after(paper.runs[0], "--preset"), "as-run");
  EXPECT_EQ(argument_after(paper.runs[0], "--steps"), "3000");
  EXPECT_GT(total(paper), 2 * 86400.0);  // days, as the original
  const study::StudyPlan attribution = plan("attribution.toml");
  EXPECT_EQ(attribution.runs.size(), 192u);
  EXPECT_EQ(attribution.factors.size(), 6u);
  EXPECT_LT(total(attribution), 5 * 60.0);  // `make run` on a 2-core machine
  const study::StudyPlan scale = plan("scale.toml");
  EXPECT_EQ(scale.factors, std::vector<std::string>{"max_agents"});
}

TEST(StudyPlan, OrderIsASeededPermutation) {
  for (const std::size_t count : {0u, 1u, 2u, 7u, 100u}) {
    const auto order = study::shuffled_order(count, 5);
    std::vector<std::size_t> sorted = order;
    std::sort(sorted.begin(), sorted.end());
    for (std::size_t i = 0; i < count; ++i)
      ASSERT_EQ(sorted[i], i);
    EXPECT_EQ(study::shuffled_order(count, 5), order);
  }
  EXPECT_NE(study::shuffled_order(100, 5), study::shuffled_order(100, 6));
  // Every position is reachable: over many seeds, element 0 lands everywhere among 5.
  std::set<std::size_t> positions;
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    const auto order = study::shuffled_order(5, seed);
    positions.insert(
        static_cast<std::size_t>(std::find(order.begin(), order.end(), 0u) - order.begin()));
  }
  EXPECT_EQ(positions.size(), 5u);
}

TEST(StudyPlan, EstimatesFollowTheOverheads) {
  using Settings = std::vector<std::pair<std::string, std::string>>;
  const double clean = study::estimate_seconds({{"persistence", "off"}});
  const double sleepy = study::estimate_seconds({{"persistence", "off"}, {"window_ms", "10"}});
  const double as_run = study::estimate_seconds(Settings{{"preset", "as-run"}});
  EXPECT_GT(sleepy, clean * 10);
  // The original at full size took days.
  EXPECT_GT(as_run, 86400.0);
  EXPECT_LT(clean, 60.0);
}

TEST(StudyPlan, EstimatesPoolOnlyWhereTheExperimentsMechanismsPool) {
  using Settings = std::vector<std::pair<std::string, std::string>>;
  const auto estimate = [](std::string experiment, Settings more = {}) {
    more.emplace_back("experiment", std::move(experiment));
    more.emplace_back("persistence", "commit-per-write");  // a database row per pair checked
    return study::estimate_seconds(more);
  };
  // C256 and C257 pool under factor A (ON-OFF, ON-ON); C258 (H2 x H4) and C260 (H4 x H5)
  // never pool, so each of their four conditions costs what C256's OFF-OFF costs.
  const double c256 = estimate("c256");
  const double c256_without_pooling = estimate("c256", {{"conditions", "OFF-OFF,OFF-ON"}});
  const double start = 0.05;  // the fixed cost of one run
  EXPECT_GT(c256, 10 * c256_without_pooling);
  EXPECT_DOUBLE_EQ(estimate("c257"), c256);
  EXPECT_NEAR(estimate("c258") - start, 2 * (c256_without_pooling - start), 1e-9 * c256);
  EXPECT_DOUBLE_EQ(estimate("c260"), estimate("c258"));
  // C259's H2 factor ran the pooling code as run, not as intended.
  EXPECT_DOUBLE_EQ(estimate("c259", {{"variant", "as-intended"}}), estimate("c258"));
  EXPECT_DOUBLE_EQ(estimate("c259", {{"variant", "as-run"}}), c256);
  // The optimized-as-run preset ran C256's mechanisms for every experiment (as run only).
  const Settings clone = {{"preset", "optimized-as-run"}, {"variant", "as-run"}};
  EXPECT_DOUBLE_EQ(estimate("c258", clone), estimate("c256", clone));
  EXPECT_LT(estimate("c258", {{"preset", "optimized-as-run"}}), estimate("c256", clone));
}

struct BadStudy {
  const char* text;
  const char* message;
};

class MalformedStudy : public ::testing::TestWithParam<BadStudy> {};

TEST_P(MalformedStudy, IsRejectedWithFileLineAndWhatWasExpected) {
  try {
    study::expand(study::parse_study(GetParam().text, "bad.toml"));
    FAIL() << "accepted:\n" << GetParam().text;
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr(GetParam().message)) << GetParam().text;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, MalformedStudy,
    ::testing::Values(
        BadStudy{"[study]\nname = \"x\"\n[run]\nstepz = 3\n",
                 "bad.toml:4: unknown key 'stepz' in [run] (accepted: experiment, variant"},
        BadStudy{"[study]\nname = \"x\"\n[run]\nsteps = \"ten\"\n",
                 "bad.toml:4: steps: expected an integer in [1, 100000000]"},
        BadStudy{"[study]\nname = \"x\"\n[run]\npersistence = \"sometimes\"\n",
                 "bad.toml:4: persistence = 'sometimes': expected one of: connection-per-write, "
                 "commit-per-write, transaction-per-step, off"},
        BadStudy{"[study]\nname = \"x\"\n[factors]\nsampling = [\"per-step\", \"every:0\"]\n",
                 "bad.toml:4: sampling = 'every:0': expected"},
        BadStudy{"[study]\nname = \"x\"\n[factors]\nallocator = [\"tcmalloc\"]\n",
                 "expected one of: system, jemalloc, mimalloc"},
        BadStudy{"[study]\nname = \"x\"\n[factors]\nsteps = []\n",
                 "bad.toml:4: factor 'steps' must be an array of levels"},
        BadStudy{"[study]\nname = \"x\"\n[factors]\nsteps = [10, 20, 10]\n",
                 "factor 'steps' lists level '10' twice"},
        BadStudy{"[study]\nname = \"x\"\n[run]\nsteps = 10\n[factors]\nsteps = [10, 20]\n",
                 "bad.toml:6: 'steps' is both fixed (line 4) and a factor"},
        BadStudy{"[study]\nname = \"x\"\n[run]\nrusage_every = 2\n",
                 "bad.toml:4: 'rusage_every' belongs in [telemetry]"},
        BadStudy{"[study]\nname = \"x\"\n[run]\nseed = 2\n",
                 "[study] seed derives one seed per replicate"},
        BadStudy{"[study]\nname = \"x\"\n[run]\nout = \"elsewhere\"\n",
                 "'out' is decided by the study runner"},
        BadStudy{"[study]\nname = \"x\"\nreplicates = 3\n[run]\nsource = \"synthetic:7\"\n",
                 "source 'synthetic:7' fixes its own seed, so all 3 replicates would be identical"},
        BadStudy{"[study]\nname = \"x\"\n[run]\nsource = \"replay:no-such.trace\"\n",
                 "bad.toml:4: source 'replay:no-such.trace': no trace file"},
        BadStudy{"[study]\nname = \"x\"\n[run]\nconditions = [\"OFF-OFF\", \"OFF-OFF\"]\n",
                 "conditions = 'OFF-OFF,OFF-OFF': expected an array of distinct names"},
        BadStudy{"[study]\nname = \"x\"\n[run]\nrecursive_evolve = \"maybe\"\n",
                 "expected on, off, true or false"},
        BadStudy{"[study]\nname = \"x\"\n[studdy]\n", "bad.toml:3: unknown table [studdy]"},
        BadStudy{"[run]\nsteps = 3\n", "needs a [study] table"},
        BadStudy{"[study]\nname = \"has space\"\n", "bad.toml:2: name must be"},
        BadStudy{"[study]\nname = \"x\"\nreplicates = 0\n",
                 "bad.toml:3: replicates must be an integer in [1, 10000]"},
        BadStudy{"[study]\nname = \"x\"\nmilestone_hours = [1]\n",
                 "milestone_hours needs expected_hours"},
        BadStudy{"[study]\nname = \"x\"\n[slurm]\nnodes = 3\n",
                 "bad.toml:4: unknown key 'nodes' in [slurm]"},
        BadStudy{"[study]\nname = \"x\"\n[run]\nsteps = [1\n", "bad.toml:4:"},
        BadStudy{"[study]\nname = \"x\"\n[factors]\nspeed = [1, 2]\n",
                 "bad.toml:4: unknown key 'speed' in [factors]"},
        BadStudy{"[study]\nname = \"x\"\n[factors]\nspeed = [{label = \"a\"}]\n",
                 "bad.toml:4: a factor level must set at least one knob"},
        BadStudy{"[study]\nname = \"x\"\n[factors]\nspeed = [{steps = 5}, 3]\n",
                 "factor 'speed' is not a knob, so its levels must be tables"},
        BadStudy{"[study]\nname = \"x\"\n[factors]\nsteps = [5, 6]\nb = [{steps = 7}]\n",
                 "bad.toml:5: 'steps' is varied by two factors (lines 4 and 5)"},
        // Each value is fine alone; the model rejects the combination.
        BadStudy{"[study]\nname = \"x\"\n[factors]\ndecay = [0.01, -0.5]\n",
                 "bad.toml: run r001 (replicate 0, decay=-0.5) is impossible: decay must be a "
                 "finite non-negative number"}));

TEST(StudyFile, ReplayTracesAreFoundBesideTheStudyFile) {
  ScratchDir scratch;
  std::filesystem::create_directories(scratch / "sub");
  { std::ofstream(scratch / "sub/inputs.trace") << "x"; }
  const auto spec =
      study::parse_study("[study]\nname = \"x\"\n[run]\nsource = \"replay:inputs.trace\"\n",
                         scratch / "sub/study.toml");
  ASSERT_NE(spec.find_fixed("source"), nullptr);
  EXPECT_EQ(spec.find_fixed("source")->value,
            "replay:" + (scratch / "sub/inputs.trace").lexically_normal().string());
}

TEST(StudyManifest, RoundTripsThePlanAndReadsRunStatuses) {
  ScratchDir scratch;
  const study::StudyPlan plan = plan_of(k_study);
  study::StudyState state = study::collect_state(scratch.path(), plan);
  EXPECT_EQ(state.count(study::RunState::planned), plan.runs.size());
  study::write_manifest(scratch.path(), state);

  // A status appears for one run; another has a status from a different plan (stale hash).
  const auto& done = plan.runs[plan.order[0]];
  std::filesystem::create_directories(study::run_dir(scratch.path(), done));
  study::RunStatus status;
  status.state = study::RunState::complete;
  status.hash = done.hash;
  status.exit_code = 0;
  status.started = 100;
  status.finished = 102.5;
  status.host = "h";
  study::write_status(study::run_dir(scratch.path(), done), status);
  const auto& stale = plan.runs[plan.order[1]];
  std::filesystem::create_directories(study::run_dir(scratch.path(), stale));
  status.hash = "0000000000000000";
  study::write_status(study::run_dir(scratch.path(), stale), status);

  // A third run overlapped the first in time on the same host.
  const auto& other = plan.runs[plan.order[2]];
  std::filesystem::create_directories(study::run_dir(scratch.path(), other));
  status.hash = other.hash;
  status.started = 102.0;
  status.finished = 110.0;
  study::write_status(study::run_dir(scratch.path(), other), status);

  const study::StudyState read = study::read_manifest(scratch.path());
  ASSERT_EQ(read.plan.runs.size(), plan.runs.size());
  EXPECT_EQ(read.plan.order, plan.order);
  EXPECT_EQ(read.plan.factors, plan.factors);
  for (std::size_t i = 0; i < plan.runs.size(); ++i) {
    EXPECT_EQ(read.plan.runs[i].arguments, plan.runs[i].arguments);
    EXPECT_EQ(read.plan.runs[i].levels, plan.runs[i].levels);
    EXPECT_EQ(read.plan.runs[i].hash, plan.runs[i].hash);
  }
  EXPECT_EQ(read.count(study::RunState::complete), 2u);
  EXPECT_EQ(read.statuses[done.index].duration(), 2.5);
  EXPECT_EQ(read.statuses[done.index].overlapping_runs, 1);
  EXPECT_EQ(read.statuses[other.index].overlapping_runs, 1);
  EXPECT_EQ(study::read_plan(scratch.path()).runs.size(), plan.runs.size());
  EXPECT_EQ(read.statuses[stale.index].state, study::RunState::planned);
}

TEST(StudyManifest, MissingOrForeignManifestsAreClearErrors) {
  ScratchDir scratch;
  EXPECT_THAT([&] { study::read_manifest(scratch.path()); },
              ::testing::ThrowsMessage<Error>(HasSubstr("no manifest")));
  { std::ofstream(scratch / "manifest.json") << R"({"schema": "other/1"})"; }
  EXPECT_THAT([&] { study::read_manifest(scratch.path()); },
              ::testing::ThrowsMessage<Error>(HasSubstr("not an nrmlab manifest")));
}

TEST(SlurmArrays, SplitBelowMaxArraySizeWithOffsets) {
  std::vector<std::size_t> positions(10);
  for (std::size_t i = 0; i < positions.size(); ++i)
    positions[i] = i;
  const auto chunks = study::plan_arrays(positions, 4, 2);
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_EQ(chunks[0].offset, 0u);
  EXPECT_EQ(chunks[0].spec, "0-3%2");
  EXPECT_EQ(chunks[1].offset, 4u);
  EXPECT_EQ(chunks[1].spec, "0-3%2");
  EXPECT_EQ(chunks[2].offset, 8u);
  EXPECT_EQ(chunks[2].spec, "0-1%2");
  // Only the pending runs of a resumed study, without a throttle.
  const auto pending = study::plan_arrays({1, 2, 3, 5, 9}, 1000, 0);
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].spec, "1-3,5,9");
  EXPECT_TRUE(study::plan_arrays({}, 10, 0).empty());
}

// Slurm's --time: the study file's when given, else from the longest run's estimate with a
// stated margin, rounded up to whole minutes, in Slurm's own forms.
TEST(StudySlurmTime, ComesFromTheLongestRunsEstimateUnlessTheStudyFileGivesIt) {
  study::StudyPlan plan;
  plan.runs.resize(2);
  plan.runs[0].id = "r000";
  plan.runs[0].estimated_seconds = 100;
  plan.runs[1].id = "r001";
  plan.runs[1].estimated_seconds = 1000;  // x 1.5 + 10 min = 35 min
  study::TimeRequest request = study::slurm_time_request(plan);
  EXPECT_EQ(request.time, "00:35:00");
  EXPECT_THAT(request.reason, HasSubstr("r001"));
  plan.runs[1].estimated_seconds = 1001;  // 35.025 min: rounded up
  EXPECT_EQ(study::slurm_time_request(plan).time, "00:36:00");
  plan.runs[0].estimated_seconds = 86400;  // 2,170 min
  EXPECT_EQ(study::slurm_time_request(plan).time, "1-12:10:00");
  plan.slurm.time = "02:00:00";
  request = study::slurm_time_request(plan);
  EXPECT_EQ(request.time, "02:00:00");
  EXPECT_THAT(request.reason, HasSubstr("study file"));
}

}  // namespace
}  // namespace nrmlab::testing
