// `nrmlab study FILE|DIR`: plan, run (here or on Slurm), resume and analyse a study.
// `nrmlab study-task DIR --index K`: run the K-th run of a planned study (a Slurm array task).
// `nrmlab study-gather DIR`: refresh the manifest and analyse (the Slurm gather job).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

namespace nrmlab::cli {

struct StudyOptions {
  std::string source;  // a study file, or a study directory to resume
  std::string out;     // default: runs/<study name>
  bool plan_only = false;
  std::string backend = "local";
  std::int64_t parallel = 0;  // 0: the study file's
  std::int64_t order_seed = -1;
  bool wait = false;
  bool skip_analysis = false;
  bool quiet = false;
};

struct StudyTaskOptions {
  std::string dir;
  std::int64_t index = -1;
};

struct StudyGatherOptions {
  std::string dir;
  bool quiet = false;
};

CLI::App* add_study_command(CLI::App& app, StudyOptions& options);
CLI::App* add_study_task_command(CLI::App& app, StudyTaskOptions& options);
CLI::App* add_study_gather_command(CLI::App& app, StudyGatherOptions& options);

// Exit status: 0 every run complete (and analysed), 1 some run failed, 130 interrupted.
int execute_study(const StudyOptions& options);
int execute_study_task(const StudyTaskOptions& options);
int execute_study_gather(const StudyGatherOptions& options);

}  // namespace nrmlab::cli
