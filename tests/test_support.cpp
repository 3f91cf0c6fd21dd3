#include "test_support.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "util/sqlite.hpp"

extern char** environ;

namespace nrmlab::testing {

ScratchDir::ScratchDir() {
  namespace fs = std::filesystem;
  fs::path base = fs::exists("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
  std::random_device device;
  for (int attempt = 0; attempt < 100; ++attempt) {
    fs::path candidate =
        base / ("nrmlab-test-" + std::to_string(getpid()) + "-" + std::to_string(device()));
    if (fs::create_directory(candidate)) {
      m_path = candidate;
      return;
    }
  }
  throw std::runtime_error("cannot create a scratch directory");
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  std::filesystem::remove_all(m_path, ec);
}

pid_t start_process(const std::vector<std::string>& argv, const std::filesystem::path& out,
                    const std::filesystem::path& err) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char*> raw;
  for (const auto& arg : argv)
    raw.push_back(const_cast<char*>(arg.c_str()));
  raw.push_back(nullptr);
  pid_t pid = 0;
  const int status = posix_spawn(&pid, raw[0], &actions, nullptr, raw.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (status != 0) throw std::runtime_error("posix_spawn failed for " + argv[0]);
  return pid;
}

int wait_process(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

bool wait_for_file(const std::filesystem::path& path) {
  for (int attempt = 0; attempt < 3000; ++attempt) {
    if (std::filesystem::exists(path)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

nlohmann::json result_science(const std::filesystem::path& run_dir) {
  const nlohmann::json result = nlohmann::json::parse(read_text(run_dir / "result.json"));
  nlohmann::json science;
  for (const auto& [name, condition] : result["conditions"].items())
    science[name] = {condition["state_digest"], condition["population_history"],
                     condition["pattern_count_history"], condition["totals"]};
  return science;
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string run_meta(const std::filesystem::path& run, const std::string& key) {
  sqlite::Connection db(run / "telemetry.db");
  sqlite::Statement query(db, "SELECT value FROM meta WHERE key = ?");
  query.bind(1, key);
  return query.step() ? query.column_text(0) : std::string("(absent)");
}

std::int64_t run_query(const std::filesystem::path& run, const std::string& sql) {
  sqlite::Connection db(run / "telemetry.db");
  return sqlite::query_int(db, sql);
}

ProcessResult run_process(const std::vector<std::string>& argv, const ScratchDir& scratch) {
  static std::atomic<int> counter{0};
  const std::string stem = "process-" + std::to_string(counter++);
  const auto out = scratch / (stem + ".out");
  const auto err = scratch / (stem + ".err");
  ProcessResult result;
  result.exit_code = wait_process(start_process(argv, out, err));
  result.out = read_text(out);
  result.err = read_text(err);
  return result;
}

ProcessResult run_nrmlab(std::vector<std::string> args, const ScratchDir& scratch) {
  args.insert(args.begin(), NRMLAB_BINARY);
  return run_process(args, scratch);
}

std::vector<model::StepCounters> StepLog::condition(int index) const {
  std::vector<model::StepCounters> steps;
  for (const auto& record : records)
    if (record.condition == index) steps.push_back(record.counters);
  return steps;
}

model::RunConfig quick_config(const std::filesystem::path& out_dir, std::int64_t steps) {
  model::RunConfig config;
  config.apply_preset(model::Preset::clean);
  config.overheads.persistence = model::Persistence::off;
  config.params.steps = steps;
  config.source = model::parse_source_spec("synthetic:const", model::ReplayGranularity::step, 0);
  config.out_dir = out_dir;
  config.db_dir = out_dir;
  return config;
}

}  // namespace nrmlab::testing
