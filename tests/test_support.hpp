// Shared helpers for the test suite: scratch directories, running the nrmlab binary as a
// child process, and small configurations that run fast.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model/experiment_runner.hpp"
#include "model/step_counters.hpp"

namespace nrmlab::testing {

// A fresh directory, removed with everything in it when the object goes out of scope.
// Prefers /dev/shm (no fsync cost for the faithful databases), else the system temp dir.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return m_path; }
  std::filesystem::path operator/(const std::string& name) const { return m_path / name; }

 private:
  std::filesystem::path m_path;
};

struct ProcessResult {
  int exit_code = -1;  // 128 + signal when killed by one
  std::string out;
  std::string err;
};

// Runs argv (argv[0] is a path, no shell) with stdin from /dev/null; stdout and stderr are
// captured through files in `scratch`.
ProcessResult run_process(const std::vector<std::string>& argv, const ScratchDir& scratch);
// Starts argv without waiting; stdout/stderr go to files `scratch/<name>.out|err`.
pid_t start_process(const std::vector<std::string>& argv, const std::filesystem::path& out,
                    const std::filesystem::path& err);
int wait_process(pid_t pid);
// Waits (up to 30 s) until `path` exists; false on time-out.
bool wait_for_file(const std::filesystem::path& path);

ProcessResult run_nrmlab(std::vector<std::string> args, const ScratchDir& scratch);

std::string read_text(const std::filesystem::path& path);

// RUN/telemetry.db's meta value for `key`, or "(absent)".
std::string run_meta(const std::filesystem::path& run, const std::string& key);
// The integer answer of one query on RUN/telemetry.db.
std::int64_t run_query(const std::filesystem::path& run, const std::string& sql);

// What a run computed, never how long it took: per condition of RUN_DIR/result.json, the
// state digest, the population and pattern-count trajectories and the work totals.
nlohmann::json result_science(const std::filesystem::path& run_dir);

// Records every step of a run.
class StepLog final : public model::StepObserver {
 public:
  void on_step(const model::StepRecord& record) override { records.push_back(record); }
  std::vector<model::StepCounters> condition(int index) const;
  std::vector<model::StepRecord> records;
};

// A clean-preset configuration with persistence off and a constant synthetic source.
model::RunConfig quick_config(const std::filesystem::path& out_dir, std::int64_t steps = 40);

}  // namespace nrmlab::testing
