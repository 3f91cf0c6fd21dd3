// nrmlab: run a long simulation, measure every step, and say why it slows down.
#include <fmt/format.h>

#include <csignal>

#include "cli/analyze_command.hpp"
#include "cli/commands.hpp"
#include "cli/compare_command.hpp"
#include "cli/export_command.hpp"
#include "cli/predict_command.hpp"
#include "cli/report_command.hpp"
#include "cli/run_command.hpp"
#include "cli/study_command.hpp"
#include "cli/validate_command.hpp"
#include "cli/watch_command.hpp"
#include "util/error.hpp"

int main(int argc, char** argv) {
  // A file-size limit (ulimit -f) should surface as a write error with a message, not kill us.
  std::signal(SIGXFSZ, SIG_IGN);
  CLI::App app{"nrmlab: a laboratory for long-running simulations that get slower"};
  app.require_subcommand(1);
  nrmlab::cli::RunOptions run_options;
  CLI::App* run = nrmlab::cli::add_run_command(app, run_options);
  nrmlab::cli::PredictOptions predict_options;
  CLI::App* predict = nrmlab::cli::add_predict_command(app, predict_options);
  nrmlab::cli::ExportOptions export_options;
  CLI::App* export_ = nrmlab::cli::add_export_command(app, export_options);
  nrmlab::cli::AnalyzeCommandOptions analyze_options;
  CLI::App* analyze = nrmlab::cli::add_analyze_command(app, analyze_options);
  nrmlab::cli::CompareCommandOptions compare_options;
  CLI::App* compare = nrmlab::cli::add_compare_command(app, compare_options);
  nrmlab::cli::ReportCommandOptions report_options;
  CLI::App* report = nrmlab::cli::add_report_command(app, report_options);
  nrmlab::cli::WatchCommandOptions watch_options;
  CLI::App* watch = nrmlab::cli::add_watch_command(app, watch_options);
  nrmlab::cli::StudyOptions study_options;
  CLI::App* study = nrmlab::cli::add_study_command(app, study_options);
  nrmlab::cli::StudyTaskOptions task_options;
  CLI::App* task = nrmlab::cli::add_study_task_command(app, task_options);
  nrmlab::cli::StudyGatherOptions gather_options;
  CLI::App* gather = nrmlab::cli::add_study_gather_command(app, gather_options);
  nrmlab::cli::ValidateCommandOptions validate_options;
  CLI::App* validate = nrmlab::cli::add_validate_command(app, validate_options);
  nrmlab::cli::WorkloadCommandOptions workload_options;
  CLI::App* workload = nrmlab::cli::add_validate_workload_command(app, workload_options);
  if (argc > 1 && argv[1][0] != '-' && !nrmlab::cli::is_command(app, argv[1])) {
    fmt::print(stderr, "nrmlab: unknown command '{}' (commands: {}; see nrmlab --help)\n", argv[1],
               nrmlab::cli::command_names(app));
    return 2;
  }
  CLI11_PARSE(app, argc, argv);
  try {
    if (run->parsed()) return nrmlab::cli::execute_run(run_options);
    if (predict->parsed()) return nrmlab::cli::execute_predict(predict_options);
    if (export_->parsed()) return nrmlab::cli::execute_export(export_options);
    if (analyze->parsed()) return nrmlab::cli::execute_analyze(analyze_options);
    if (compare->parsed()) return nrmlab::cli::execute_compare(compare_options);
    if (report->parsed()) return nrmlab::cli::execute_report(report_options);
    if (watch->parsed()) return nrmlab::cli::execute_watch(watch_options);
    if (study->parsed()) return nrmlab::cli::execute_study(study_options);
    if (task->parsed()) return nrmlab::cli::execute_study_task(task_options);
    if (gather->parsed()) return nrmlab::cli::execute_study_gather(gather_options);
    if (validate->parsed()) return nrmlab::cli::execute_validate(validate_options);
    if (workload->parsed()) return nrmlab::cli::execute_validate_workload(workload_options);
  } catch (const std::exception& error) {
    fmt::print(stderr, "nrmlab: error: {}\n", error.what());
    return 1;
  }
  return 0;
}
