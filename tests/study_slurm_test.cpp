// The Slurm backend against a real single-node cluster (Debian's slurm-wlm and munge) that
// the test starts itself with tests/slurm/cluster.sh: submit a small study, wait, and check
// that the gathered results equal a local run of the same study. No fake sbatch.
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_support.hpp"

namespace nrmlab::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using Json = nlohmann::json;

const fs::path k_cluster_script = fs::path(NRMLAB_TEST_DATA).parent_path() / "slurm/cluster.sh";

// Starts the cluster and stops it on every way out of the test.
class SlurmCluster {
 public:
  SlurmCluster(const ScratchDir& scratch, fs::path state)
      : m_scratch(scratch), m_state(std::move(state)) {
    fs::create_directories(m_state);
    const ProcessResult started =
        run_process({"/bin/bash", k_cluster_script.string(), "start", m_state.string()}, m_scratch);
    m_started = true;
    if (started.exit_code != 0) throw std::runtime_error("cluster did not start:\n" + started.err);
    const std::string prefix = "export SLURM_CONF=";
    const std::size_t at = started.out.find(prefix);
    if (at == std::string::npos) throw std::runtime_error("no SLURM_CONF in:\n" + started.out);
    const std::string conf =
        started.out.substr(at + prefix.size(), started.out.find('\n', at) - at - prefix.size());
    ::setenv("SLURM_CONF", conf.c_str(), 1);
  }
  SlurmCluster(const SlurmCluster&) = delete;
  SlurmCluster& operator=(const SlurmCluster&) = delete;
  ~SlurmCluster() {
    if (m_started)
      run_process({"/bin/bash", k_cluster_script.string(), "stop", m_state.string()}, m_scratch);
    ::unsetenv("SLURM_CONF");
  }

 private:
  const ScratchDir& m_scratch;
  fs::path m_state;
  bool m_started = false;
};

TEST(StudySlurm, ARealClusterGathersTheSameResultsAsALocalRun) {
  if (::geteuid() != 0) GTEST_SKIP() << "starting slurmctld, slurmd and munged needs root";
  ScratchDir scratch;
  // MaxArraySize 4 < 8 runs: the study must be split into two arrays.
  ::setenv("SLURM_TEST_MAX_ARRAY_SIZE", "4", 1);
  const SlurmCluster cluster(scratch, scratch / "cluster");
  ::unsetenv("SLURM_TEST_MAX_ARRAY_SIZE");

  const fs::path file = scratch / "tiny.toml";
  std::ofstream(file) << R"([study]
name = "tiny"
replicates = 2
seed = 9

[run]
source = "synthetic"
steps = 25
max_agents = 10
persistence = "off"
conditions = ["OFF-OFF", "ON-ON"]

[telemetry]
side_period_ms = 0
pss_period_ms = 0

[factors]
sampling = ["per-call", "per-step"]
recursive_evolve = ["on", "off"]

[slurm]
time = "00:10:00"
throttle = 2
)";
  const fs::path on_slurm = scratch / "slurm";
  const auto submitted = run_nrmlab(
      {"study", file.string(), "--backend", "slurm", "--out", on_slurm.string(), "--wait"},
      scratch);
  ASSERT_EQ(submitted.exit_code, 0) << submitted.out << submitted.err;
  EXPECT_THAT(submitted.out, HasSubstr("submitted 8 tasks as array jobs"));
  EXPECT_THAT(submitted.out, HasSubstr("8 of 8 runs complete"));
  EXPECT_THAT(read_text(on_slurm / "slurm/task.sh"), HasSubstr("#SBATCH --time=00:10:00"));
  EXPECT_THAT(submitted.out,
              HasSubstr("each task asks --time=00:10:00 ([slurm] time in the study file)"));

  const fs::path here = scratch / "local";
  const auto local = run_nrmlab({"study", file.string(), "--out", here.string()}, scratch);
  ASSERT_EQ(local.exit_code, 0) << local.err;

  const Json a = Json::parse(read_text(on_slurm / "manifest.json"));
  const Json b = Json::parse(read_text(here / "manifest.json"));
  EXPECT_EQ(a["order"], b["order"]);
  ASSERT_EQ(a["runs"].size(), 8u);
  for (std::size_t i = 0; i < 8; ++i) {
    const Json& run = a["runs"][i];
    EXPECT_EQ(run["arguments"], b["runs"][i]["arguments"]);
    EXPECT_EQ(run["hash"], b["runs"][i]["hash"]);
    EXPECT_EQ(run["status"]["state"], "complete");
    EXPECT_EQ(run["status"]["backend"], "slurm");
    const std::string id = run["id"];
    EXPECT_EQ(result_science(on_slurm / "runs" / id), result_science(here / "runs" / id)) << id;
  }
  // The gather job analysed the study like the local runner did.
  const Json analysed = Json::parse(read_text(on_slurm / "analysis.json"));
  EXPECT_EQ(analysed["runs"].size(), 8u);
  const Json local_analysis = Json::parse(read_text(here / "analysis.json"));
  ASSERT_EQ(analysed["study"]["interventions"].size(), 2u);
  for (std::size_t i = 0; i < 2; ++i)
    EXPECT_EQ(analysed["study"]["interventions"][i]["factor"],
              local_analysis["study"]["interventions"][i]["factor"]);

  // Resubmitting after losing one run's status runs just that one task.
  const std::string lost = a["order"][5];
  fs::remove(on_slurm / "runs" / lost / "status.json");
  const auto resumed = run_nrmlab(
      {"study", file.string(), "--backend", "slurm", "--out", on_slurm.string(), "--wait"},
      scratch);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
  EXPECT_THAT(resumed.out, HasSubstr("submitted 1 task as array job "));
  EXPECT_EQ(result_science(on_slurm / "runs" / lost), result_science(here / "runs" / lost));
}

}  // namespace
}  // namespace nrmlab::testing
