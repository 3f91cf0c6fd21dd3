#include "cli/study_command.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>

#include "analysis/thresholds.hpp"
#include "cli/analyze_command.hpp"
#include "cli/commands.hpp"
#include "cli/interrupt.hpp"
#include "cli/progress.hpp"
#include "cli/report_command.hpp"
#include "study/launcher.hpp"
#include "study/local_backend.hpp"
#include "study/manifest.hpp"
#include "study/plan.hpp"
#include "study/prediction.hpp"
#include "study/slurm_backend.hpp"
#include "study/study_file.hpp"
#include "util/atomic_file.hpp"
#include "util/error.hpp"

namespace nrmlab::cli {
namespace {

namespace fs = std::filesystem;
using study::RunState;

std::string levels_text(const study::PlannedRun& run) {
  std::string text;
  for (const auto& [factor, level] : run.levels)
    text += fmt::format("{}{}={}", text.empty() ? "" : " ", factor, level);
  return text.empty() ? "-" : text;
}

// `predicted`: how many runs `nrmlab predict` estimated (the rest keep the rough estimate).
void print_plan(const study::StudyState& state, const fs::path& dir, std::size_t predicted) {
  const study::StudyPlan& plan = state.plan;
  fmt::print("study {}: {} runs = {} cells x {} replicates, order seed {}\n", plan.name,
             plan.runs.size(), plan.runs.size() / static_cast<std::size_t>(plan.replicates),
             plan.replicates, plan.order_seed);
  if (!plan.description.empty()) fmt::print("  {}\n", plan.description);
  fmt::print("output: {}\n\n{:>5}  {:<6} {:>4} {:>11}  {:<9} {:>9}  {}\n", dir.string(), "order",
             "run", "rep", "seed", "allocator", "estimate", "levels");
  double total = 0.0;
  double remaining = 0.0;
  for (std::size_t position = 0; position < plan.order.size(); ++position) {
    const study::PlannedRun& run = plan.runs[plan.order[position]];
    const RunState state_of_run = state.statuses[run.index].state;
    total += run.estimated_seconds;
    if (state_of_run != RunState::complete) remaining += run.estimated_seconds;
    fmt::print("{:>5}  {:<6} {:>4} {:>11}  {:<9} {:>9}  {}{}\n", position, run.id, run.replicate,
               run.seed, run.allocator, format_duration(run.estimated_seconds), levels_text(run),
               state_of_run == RunState::complete ? "  (complete)" : "");
  }
  const double parallel = static_cast<double>(plan.parallel);
  fmt::print("\nestimated duration: {} of runs, about {} with {} in parallel{}\n",
             format_duration(total), format_duration(remaining / parallel), plan.parallel,
             remaining < total ? fmt::format("; {} still to run", format_duration(remaining)) : "");
  if (predicted > 0)
    fmt::print(
        "({} of {} runs predicted as `nrmlab predict` does: each run's exact work, counted "
        "by the engine, times unit costs measured on this machine; a live source's "
        "readings assumed constant at the current ones; runs in parallel contend)\n",
        predicted, plan.runs.size());
  if (predicted < plan.runs.size())
    fmt::print(
        "({}a rough model of sleeps, database operations and pair checks at the population "
        "cap; the real time depends on the machine and the population dynamics)\n",
        predicted > 0 ? "the others: " : "");
  const study::TimeRequest request = study::slurm_time_request(plan);
  fmt::print("with --backend slurm, each task asks --time={} ({})\n", request.time, request.reason);
}

// The live line of the local backend, or one line per finished run when stderr is a log.
class StudyProgress {
 public:
  StudyProgress(std::string name, bool live, bool quiet)
      : m_name(std::move(name)), m_live(live), m_quiet(quiet) {}
  ~StudyProgress() { clear(); }

  void update(const study::LocalProgress& progress) {
    if (!m_live || m_quiet) return;
    std::string running;
    for (const std::string& id : progress.running)
      running += (running.empty() ? "" : ",") + id;
    fmt::print(stderr, "\r\033[Kstudy {}: {}/{} runs{}  running {}  elapsed {}  ETA {}", m_name,
               progress.done, progress.total,
               progress.failed > 0 ? fmt::format(" ({} failed)", progress.failed) : "",
               running.empty() ? "-" : running, format_duration(progress.elapsed),
               format_duration(progress.eta));
    std::fflush(stderr);
    m_shown = true;
  }

  void finished(const study::PlannedRun& run, const study::RunStatus& status) {
    const bool failed = status.state == RunState::failed;
    if (m_quiet && !failed) return;
    clear();
    if (failed) {
      fmt::print(stderr, "study {}: run {} ({}) failed: {}\n{}\n", m_name, run.id, levels_text(run),
                 status.signal != 0 ? fmt::format("signal {}", status.signal)
                                    : fmt::format("exit status {}", status.exit_code),
                 status.stderr_tail);
    } else if (!m_live) {
      fmt::print(stderr, "study {}: run {} {} in {:.1f}s\n", m_name, run.id,
                 study::run_state_name(status.state), status.duration());
    }
  }

  void clear() {
    if (!m_shown) return;
    fmt::print(stderr, "\r\033[K");
    std::fflush(stderr);
    m_shown = false;
  }

 private:
  std::string m_name;
  bool m_live;
  bool m_quiet;
  bool m_shown = false;
};

void print_outcome(const study::StudyState& state, const fs::path& dir) {
  const std::size_t complete = state.count(RunState::complete);
  const std::size_t failed = state.count(RunState::failed);
  const std::size_t other = state.plan.runs.size() - complete - failed;
  fmt::print("study {}: {} of {} runs complete", state.plan.name, complete, state.plan.runs.size());
  if (failed > 0) fmt::print(", {} failed", failed);
  if (other > 0) fmt::print(", {} not run", other);
  fmt::print("\nmanifest: {}\n", (dir / "manifest.json").string());
  std::size_t overlapping = 0;
  for (const study::RunStatus& status : state.statuses)
    overlapping += status.overlapping_runs > 0 ? 1 : 0;
  if (overlapping > 0)
    fmt::print(
        "note: {} runs ran at the same time as other runs of this study on the same host; "
        "their timings include that contention\n",
        overlapping);
}

// The analysis (with its ten-second summary), then the report; its path is the last line.
int analyse(const fs::path& dir, const study::StudyPlan& plan, bool quiet) {
  AnalyzeCommandOptions options;
  options.dir = dir.string();
  options.mode = "all";
  options.expected_hours = plan.expected_hours;
  if (plan.expected_hours > 0) options.milestone_hours = plan.milestone_hours;
  options.quiet = quiet;
  const int analysed = execute_analyze(options);
  ReportCommandOptions report;
  report.dir = dir.string();
  report.quiet = true;
  try {
    return std::max(analysed, execute_report(report));
  } catch (const std::exception& error) {
    // The runs and their analysis stand; only the report is missing.
    fmt::print(stderr, "nrmlab: warning: no report: {} (analysis.json is complete)\n",
               error.what());
    return 1;
  }
}

// A study directory to resume, or a new (or matching) one for a study file.
study::StudyState prepare(const StudyOptions& options, fs::path& dir) {
  const fs::path source(options.source);
  if (fs::is_directory(source)) {
    if (!options.out.empty() && fs::path(options.out) != source)
      throw Error("--out cannot move a study that is being resumed; give the study file instead");
    dir = source;
    study::StudyState state = study::read_manifest(dir);
    if (options.parallel > 0) state.plan.parallel = options.parallel;
    return state;
  }
  study::StudySpec spec = study::load_study(source);
  analysis::load_thresholds(source);  // pre-registered thresholds are checked before any run
  if (options.parallel > 0) spec.parallel = options.parallel;
  if (options.order_seed >= 0) spec.order_seed = static_cast<std::uint64_t>(options.order_seed);
  study::StudyPlan plan = study::expand(spec);
  dir = options.out.empty() ? fs::path("runs") / spec.name : fs::path(options.out);
  if (fs::exists(dir / "manifest.json")) {
    study::StudyState existing = study::read_manifest(dir);
    if (existing.plan.study_hash != plan.study_hash)
      throw Error(fmt::format(
          "{} holds study '{}' planned from a different file (hash {}, {} has {}); give another "
          "--out or remove the directory",
          dir.string(), existing.plan.name, existing.plan.study_hash, source.string(),
          plan.study_hash));
    existing.plan.parallel = plan.parallel;  // a resume may use more or fewer processes
    return existing;
  }
  if (options.plan_only) return study::collect_state(dir, std::move(plan));
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error(fmt::format("cannot create {}: {}", dir.string(), ec.message()));
  // The analysis reads the pre-registered thresholds from here.
  write_file_atomically(dir / "study.toml", spec.text);
  study::StudyState state = study::collect_state(dir, std::move(plan));
  study::write_manifest(dir, state);
  return state;
}

int run_here(const StudyOptions& options, const fs::path& dir, study::StudyState state) {
  const study::StudyLock lock(dir, 30.0, [&] {
    fmt::print(stderr, "study {}: waiting for the runs of an earlier runner to stop\n",
               state.plan.name);
  });
  for (const study::PlannedRun& run : state.plan.runs)
    study::allocator_library(run.allocator);  // a missing allocator stops us before any run
  const std::size_t already = state.count(RunState::complete);
  if (already > 0 && !options.quiet)
    fmt::print("study {}: resuming; {} of {} runs are complete and are skipped\n", state.plan.name,
               already, state.plan.runs.size());
  StudyProgress progress(state.plan.name, isatty(STDERR_FILENO) == 1, options.quiet);
  study::LocalOptions local;
  local.nrmlab_binary = own_binary();
  local.parallel = state.plan.parallel;
  local.lock_fd = lock.fd();
  local.stop = &install_interrupt_handlers();
  local.on_progress = [&](const study::LocalProgress& p) { progress.update(p); };
  local.on_finished = [&](const study::PlannedRun& run, const study::RunStatus& status) {
    progress.finished(run, status);
  };
  state = study::run_local(dir, std::move(state), local);
  progress.clear();
  print_outcome(state, dir);
  if (local.stop->load()) {
    fmt::print(stderr, "nrmlab: study interrupted; run the same command again to resume\n");
    return 130;
  }
  if (!options.skip_analysis && state.count(RunState::complete) > 0)
    analyse(dir, state.plan, options.quiet);
  return state.count(RunState::complete) == state.plan.runs.size() ? 0 : 1;
}

int submit_to_slurm(const StudyOptions& options, const fs::path& dir,
                    const study::StudyState& state) {
  const study::StudyLock lock(dir);
  const study::SlurmSubmission submission = study::submit_slurm(dir, state, own_binary());
  std::string arrays;
  for (const std::string& job : submission.array_jobs)
    arrays += (arrays.empty() ? "" : ", ") + job;
  fmt::print(
      "study {}: submitted {} task{} as array job{} {}; gather job {} runs the analysis and "
      "the report\n"
      "scripts: {}\nwatch: squeue -j {}\n",
      state.plan.name, submission.tasks, submission.tasks == 1 ? "" : "s",
      submission.array_jobs.size() == 1 ? "" : "s",
      arrays.empty() ? "(none: every run is complete)" : arrays, submission.gather_job,
      (dir / "slurm").string(), submission.gather_job);
  const study::TimeRequest request = study::slurm_time_request(state.plan);
  fmt::print("each task asks --time={} ({})\n", request.time, request.reason);
  if (!options.wait) return 0;
  std::vector<std::string> jobs = submission.array_jobs;
  jobs.push_back(submission.gather_job);
  study::wait_for_jobs(jobs, 1.0);
  const study::StudyState after = study::read_manifest(dir);
  print_outcome(after, dir);
  if (!fs::exists(dir / "analysis.json"))
    throw Error(
        fmt::format("the gather job wrote no analysis; see {}", (dir / "slurm" / "logs").string()));
  fmt::print("analysis: {}\n", (dir / "analysis.json").string());
  if (fs::exists(dir / "report.html")) fmt::print("report: {}\n", (dir / "report.html").string());
  return after.count(RunState::complete) == after.plan.runs.size() ? 0 : 1;
}

}  // namespace

CLI::App* add_study_command(CLI::App& app, StudyOptions& o) {
  CLI::App* command = app.add_subcommand(
      "study",
      "Run a study: the factorial design of a study file (TOML), every run its own `nrmlab run`\n"
      "process, replicated with distinct seeds, in a randomised order; then analyse it and\n"
      "write its report. Outputs: DIR/manifest.json (every run, its seed, command, hash and\n"
      "status), DIR/runs/<id>/, DIR/analysis.json, DIR/report.html and DIR/figures/. Running the "
      "same command again resumes: complete\n"
      "runs are skipped, incomplete and failed ones are redone.\n"
      "Examples:\n"
      "  nrmlab study studies/attribution.toml --plan      # the runs and a duration estimate\n"
      "  nrmlab study studies/attribution.toml             # run here, into runs/attribution\n"
      "  nrmlab study runs/attribution                     # resume a study directory\n"
      "  nrmlab study studies/paper-c256.toml --backend slurm --out /scratch/c256\n"
      "The study file format is documented in studies/README.md.");
  command->add_option("study", o.source, "Study file (TOML), or a study directory to resume")
      ->required();
  command->add_option("--out", o.out, "Study directory (default: runs/<study name>)");
  command->add_flag("--plan", o.plan_only,
                    "Print the expanded runs in execution order and an estimated duration; run "
                    "nothing");
  command
      ->add_option("--backend", o.backend,
                   "local: run here; slurm: submit a job array (one task per run) and a "
                   "dependent gather job with sbatch")
      ->check(CLI::IsMember({"local", "slurm"}))
      ->capture_default_str();
  command
      ->add_option("--parallel", o.parallel,
                   "Local runs at once (default: the study file's, normally 1 so runs do not "
                   "contend)")
      ->check(CLI::Range(1, 256));
  command
      ->add_option("--order-seed", o.order_seed,
                   "Seed of the randomised execution order (default: the study file's)")
      ->check(CLI::NonNegativeNumber);
  command->add_flag("--wait", o.wait, "slurm: wait for the jobs and print the outcome");
  command->add_flag("--no-analysis", o.skip_analysis,
                    "Do not analyse the study (nor write its report) after its runs");
  command->add_flag("--quiet,-q", o.quiet, "No progress line and no summary");
  return command;
}

CLI::App* add_study_task_command(CLI::App& app, StudyTaskOptions& o) {
  CLI::App* command = app.add_subcommand(
      "study-task",
      "Run one run of a planned study: the run at position INDEX of its execution order (what\n"
      "each Slurm array task does). A complete run is left alone, so a requeued task is safe.\n"
      "Example: nrmlab study-task runs/attribution --index 3");
  command->add_option("dir", o.dir, "Study directory (with manifest.json)")->required();
  command->add_option("--index", o.index, "Position in the execution order (from 0)")
      ->required()
      ->check(CLI::NonNegativeNumber);
  return command;
}

CLI::App* add_study_gather_command(CLI::App& app, StudyGatherOptions& o) {
  CLI::App* command = app.add_subcommand(
      "study-gather",
      "Collect the run statuses of a study into manifest.json, analyse it and write its report\n"
      "(what the Slurm gather job does after the array).\nExample: nrmlab study-gather "
      "runs/attribution");
  command->add_option("dir", o.dir, "Study directory (with manifest.json)")->required();
  command->add_flag("--quiet,-q", o.quiet, "Do not print the summary");
  return command;
}

int execute_study(const StudyOptions& options) {
  fs::path dir;
  study::StudyState state = prepare(options, dir);
  std::size_t predicted = 0;
  // The plan shows, and Slurm's --time comes from (unless the study file fixes it), each
  // run's predicted duration.
  if (options.plan_only || (options.backend == "slurm" && state.plan.slurm.time.empty())) {
    const bool talk = isatty(STDERR_FILENO) == 1;
    predicted =
        study::predict_plan(state.plan, study::default_cache_dir(), [&](std::string_view what) {
          if (talk) fmt::print(stderr, "\r\033[K{}", what);
        });
    if (talk) fmt::print(stderr, "\r\033[K");
  }
  if (options.plan_only) {
    print_plan(state, dir, predicted);
    return 0;
  }
  if (options.backend == "slurm") return submit_to_slurm(options, dir, state);
  return run_here(options, dir, state);
}

int execute_study_task(const StudyTaskOptions& options) {
  const fs::path dir(options.dir);
  // Only this run's status is read: a task of a large array must not read every run's.
  const study::StudyPlan plan = study::read_plan(dir);
  const auto position = static_cast<std::size_t>(options.index);
  if (position >= plan.order.size())
    throw Error(fmt::format("--index {}: study {} has runs 0..{}", options.index, plan.name,
                            plan.order.size() - 1));
  const study::PlannedRun& run = plan.runs[plan.order[position]];
  const auto previous = study::read_status(study::run_dir(dir, run));
  if (previous && previous->hash == run.hash && previous->state == RunState::complete) {
    fmt::print("study-task: run {} is already complete\n", run.id);
    return 0;
  }
  const study::Launcher launcher(own_binary(), dir,
                                 std::getenv("SLURM_JOB_ID") != nullptr ? "slurm" : "task");
  const study::RunStatus status = launcher.run_to_end(run, &install_interrupt_handlers());
  fmt::print("study-task: run {} {} in {:.1f}s\n", run.id, study::run_state_name(status.state),
             status.duration());
  if (status.state != RunState::complete && !status.stderr_tail.empty())
    fmt::print(stderr, "{}\n", status.stderr_tail);
  return status.state == RunState::complete ? 0 : 1;
}

int execute_study_gather(const StudyGatherOptions& options) {
  const fs::path dir(options.dir);
  const study::StudyState state = study::read_manifest(dir);
  study::write_manifest(dir, state);
  print_outcome(state, dir);
  if (state.count(RunState::complete) == 0) throw Error("no run of the study completed");
  analyse(dir, state.plan, options.quiet);
  return state.count(RunState::complete) == state.plan.runs.size() ? 0 : 1;
}

}  // namespace nrmlab::cli
