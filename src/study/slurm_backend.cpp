#include "study/slurm_backend.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <sstream>
#include <thread>

#include "util/atomic_file.hpp"
#include "util/error.hpp"
#include "util/parse.hpp"
#include "util/subprocess.hpp"

namespace nrmlab::study {
namespace {

namespace fs = std::filesystem;

// Single-quoted for bash: the only character that needs care inside '...' is ' itself.
std::string shell_quoted(std::string_view text) {
  std::string result = "'";
  for (const char c : text)
    result += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return result + "'";
}

std::string range_spec(const std::vector<std::size_t>& indices) {
  std::string spec;
  for (std::size_t i = 0; i < indices.size();) {
    std::size_t j = i;
    while (j + 1 < indices.size() && indices[j + 1] == indices[j] + 1)
      ++j;
    spec += spec.empty() ? "" : ",";
    spec += j == i ? fmt::format("{}", indices[i]) : fmt::format("{}-{}", indices[i], indices[j]);
    i = j + 1;
  }
  return spec;
}

std::string directives(const StudyPlan& plan, std::string_view job_name, const fs::path& log) {
  const SlurmOptions& slurm = plan.slurm;
  std::string text =
      fmt::format("#SBATCH --job-name={}\n#SBATCH --output={}\n", job_name, log.string());
  text += fmt::format("#SBATCH --time={}\n#SBATCH --cpus-per-task={}\n",
                      slurm_time_request(plan).time, slurm.cpus_per_task);
  if (!slurm.mem.empty()) text += fmt::format("#SBATCH --mem={}\n", slurm.mem);
  if (!slurm.partition.empty()) text += fmt::format("#SBATCH --partition={}\n", slurm.partition);
  if (!slurm.account.empty()) text += fmt::format("#SBATCH --account={}\n", slurm.account);
  if (!slurm.qos.empty()) text += fmt::format("#SBATCH --qos={}\n", slurm.qos);
  for (const std::string& extra : slurm.extra_args)
    text += fmt::format("#SBATCH {}\n", extra);
  return text;
}

std::string submit(const std::vector<std::string>& argv) {
  const CommandOutput output = run_command(argv);
  if (output.exit_code != 0) {
    std::string command;
    for (const std::string& argument : argv)
      command += (command.empty() ? "" : " ") + argument;
    throw Error(fmt::format("{} failed (exit {}): {}", command, output.exit_code,
                            output.err.empty() ? output.out : output.err));
  }
  // --parsable prints "JOBID" or "JOBID;CLUSTER".
  std::string id = output.out.substr(0, output.out.find_first_of(";\n"));
  if (id.empty() || !parse_number<std::uint64_t>(id))
    throw Error(fmt::format("sbatch printed no job id: '{}'", output.out));
  return id;
}

}  // namespace

std::vector<ArrayChunk> plan_arrays(const std::vector<std::size_t>& positions,
                                    std::int64_t max_array_size, std::int64_t throttle) {
  if (max_array_size < 1) throw Error("MaxArraySize must be at least 1");
  const auto size = static_cast<std::size_t>(max_array_size);
  std::vector<ArrayChunk> chunks;
  for (const std::size_t position : positions) {
    const std::size_t offset = position / size * size;  // task ids stay < MaxArraySize
    if (chunks.empty() || chunks.back().offset != offset) chunks.push_back({offset, {}, {}});
    chunks.back().indices.push_back(position - offset);
  }
  for (ArrayChunk& chunk : chunks) {
    chunk.spec = range_spec(chunk.indices);
    if (throttle > 0) chunk.spec += fmt::format("%{}", throttle);
  }
  return chunks;
}

std::int64_t cluster_max_array_size() {
  const CommandOutput output = run_command({"scontrol", "show", "config"});
  if (output.exit_code != 0)
    throw Error(fmt::format("scontrol show config failed: {}",
                            output.err.empty() ? output.out : output.err));
  std::istringstream lines(output.out);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("MaxArraySize", 0) != 0) continue;
    const std::size_t equals = line.find('=');
    std::string value = equals == std::string::npos ? "" : line.substr(equals + 1);
    value.erase(0, value.find_first_not_of(' '));
    value.erase(value.find_last_not_of(" \r") + 1);
    if (const auto number = parse_number<std::int64_t>(value); number && *number > 0)
      return *number;
  }
  throw Error("scontrol show config reports no MaxArraySize");
}

TimeRequest slurm_time_request(const StudyPlan& plan) {
  if (!plan.slurm.time.empty()) return {plan.slurm.time, "[slurm] time in the study file"};
  constexpr double k_margin = 1.5;
  constexpr double k_extra_s = 600.0;  // start-up, the analysis of a long run, a slow node
  double longest = 0.0;
  std::string which = "-";
  for (const PlannedRun& run : plan.runs)
    if (run.estimated_seconds > longest) {
      longest = run.estimated_seconds;
      which = run.id;
    }
  const auto minutes =
      static_cast<std::int64_t>(std::ceil((longest * k_margin + k_extra_s) / 60.0));
  const std::int64_t days = minutes / 1440;
  const std::string time =
      days > 0 ? fmt::format("{}-{:02}:{:02}:00", days, minutes % 1440 / 60, minutes % 60)
               : fmt::format("{:02}:{:02}:00", minutes / 60, minutes % 60);
  return {time, fmt::format("the longest run's estimate ({}: {:.0f} s) x {} + {:.0f} min; "
                            "[slurm] time in the study file overrides it",
                            which, longest, k_margin, k_extra_s / 60.0)};
}

SlurmSubmission submit_slurm(const fs::path& study_dir, const StudyState& state,
                             const fs::path& nrmlab_binary) {
  const StudyPlan& plan = state.plan;
  const fs::path dir = fs::absolute(study_dir);
  const fs::path scripts = dir / "slurm";
  fs::create_directories(scripts / "logs");

  std::vector<std::size_t> positions;
  for (std::size_t position = 0; position < plan.order.size(); ++position)
    if (state.statuses[plan.order[position]].state != RunState::complete)
      positions.push_back(position);

  const std::int64_t max_array_size =
      plan.slurm.max_array_size ? *plan.slurm.max_array_size : cluster_max_array_size();
  const std::vector<ArrayChunk> chunks =
      plan_arrays(positions, max_array_size, plan.slurm.throttle);

  const std::string name = "nrmlab-" + plan.name;
  const fs::path task_script = scripts / "task.sh";
  write_file_atomically(
      task_script,
      fmt::format("#!/bin/bash\n"
                  "# One run of study '{}': its position in the execution order is the array\n"
                  "# task id plus the offset given as the first argument.\n"
                  "{}"
                  "set -eu\n"
                  "exec {} study-task {} --index $((SLURM_ARRAY_TASK_ID + ${{1:?offset}}))\n",
                  plan.name, directives(plan, name, scripts / "logs" / "task-%A_%a.out"),
                  shell_quoted(nrmlab_binary.string()), shell_quoted(dir.string())));
  const fs::path gather_script = scripts / "gather.sh";
  write_file_atomically(
      gather_script,
      fmt::format("#!/bin/bash\n"
                  "# Collects the statuses into manifest.json and analyses the study.\n"
                  "{}"
                  "set -eu\n"
                  "exec {} study-gather {}\n",
                  directives(plan, name + "-gather", scripts / "logs" / "gather-%j.out"),
                  shell_quoted(nrmlab_binary.string()), shell_quoted(dir.string())));

  SlurmSubmission submission;
  for (const ArrayChunk& chunk : chunks) {
    submission.array_jobs.push_back(submit({"sbatch", "--parsable", "--array=" + chunk.spec,
                                            task_script.string(), std::to_string(chunk.offset)}));
    submission.tasks += chunk.indices.size();
  }
  std::vector<std::string> gather = {"sbatch", "--parsable"};
  if (!submission.array_jobs.empty()) {
    std::string dependency = "--dependency=afterany";
    for (const std::string& job : submission.array_jobs)
      dependency += ":" + job;
    gather.push_back(dependency);
  }
  gather.push_back(gather_script.string());
  submission.gather_job = submit(gather);
  return submission;
}

void wait_for_jobs(const std::vector<std::string>& jobs, double poll_seconds) {
  std::string list;
  for (const std::string& job : jobs)
    list += (list.empty() ? "" : ",") + job;
  int failures = 0;
  for (;;) {
    // squeue prints nothing for jobs that have ended, and fails with "Invalid job id" once
    // it has forgotten them; any other failure (the controller is unreachable) is retried.
    const CommandOutput output = run_command({"squeue", "-h", "-o", "%i", "-j", list});
    if (output.exit_code == 0 && output.out.find_first_not_of(" \n") == std::string::npos) return;
    if (output.exit_code != 0) {
      if (output.err.find("Invalid job id") != std::string::npos) return;
      if (++failures >= 60)
        throw Error(
            fmt::format("squeue keeps failing: {}", output.err.empty() ? output.out : output.err));
    } else {
      failures = 0;
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(poll_seconds));
  }
}

}  // namespace nrmlab::study
