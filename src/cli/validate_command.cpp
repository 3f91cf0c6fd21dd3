#include "cli/validate_command.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "cli/commands.hpp"
#include "cli/interrupt.hpp"
#include "cli/watch_command.hpp"
#include "telemetry/profile/profiler.hpp"
#include "util/error.hpp"
#include "validate/calibration.hpp"
#include "validate/validator.hpp"
#include "validate/workload_run.hpp"

namespace nrmlab::cli {

namespace fs = std::filesystem;

// ---- --calibrate: the calibration suite (validate/calibration.hpp) ----------------------
namespace {

void add_calibrate_options(CLI::App& command, ValidateCommandOptions& o) {
  command.add_flag("--calibrate", o.calibrate,
                   "Instead of the cases: the calibration suite. Synthetic telemetry with\n"
                   "planted truth (null, signal and power families), analysed in memory;\n"
                   "prints the family x outcome table, writes OUT/calibration.json and\n"
                   "calibration.md, exits 1 when a family fails its error-rate rule.\n"
                   "The default seed reproduces bench/results/calibration-*.md");
  command.add_option("--runs", o.runs, "--calibrate: runs per family")
      ->check(CLI::Range(std::size_t{1}, std::size_t{100'000}))
      ->capture_default_str();
  command
      .add_option("--family", o.families,
                  "--calibrate: only these families (repeatable or comma-separated)")
      ->delimiter(',')
      ->check(CLI::IsMember(validate::calibration_family_names()));
}

int execute_calibrate(const ValidateCommandOptions& o) {
  validate::CalibrationOptions options;
  options.runs = o.runs;
  options.families = o.families;
  options.seed = o.seed;
  options.stop = &install_interrupt_handlers();
  const bool terminal = isatty(fileno(stderr)) != 0;
  if (terminal && !o.quiet)
    options.on_run = [](const std::string& family, std::size_t done, std::size_t runs) {
      fmt::print(stderr, "\r\033[K{} {}/{}", family, done, runs);
      std::fflush(stderr);
    };
  const validate::CalibrationReport report = validate::run_calibration(options);
  if (terminal && !o.quiet) fmt::print(stderr, "\r\033[K");
  for (const std::string& line : validate::calibration_table(report))
    fmt::print("{}\n", line);
  validate::write_calibration(report, o.out);
  fmt::print("\ncalibration: {} ({:.0f} s)\n", (fs::path(o.out) / "calibration.json").string(),
             report.seconds);
  if (report.interrupted) {
    fmt::print(stderr, "nrmlab: calibration interrupted; the table covers the runs that ended\n");
    return 130;
  }
  if (!report.passed) {
    fmt::print(stderr, "nrmlab: a calibration family failed its error-rate rule (marked FAIL)\n");
    return 1;
  }
  return 0;
}

}  // namespace

// ---- the planted-cause cases -------------------------------------------------------------

CLI::App* add_validate_command(CLI::App& app, ValidateCommandOptions& o) {
  CLI::App* command = app.add_subcommand(
      "validate",
      "Prove the diagnosis on causes planted on purpose. Each case is a workload with one\n"
      "known cause of slowdown, run as several replicates (different seeds, one process\n"
      "each) under the same recorder and analysis as any run:\n"
      "  none           the same computation every step: no hypothesis may be supported\n"
      "  growth         H5: work per step grows, each unit costs the same\n"
      "  dearer         the same items, each dearer through a hidden history: `dearer`\n"
      "                 (a slowdown with no tested mechanism), never H5\n"
      "  store          H3: unbatched writes whose cost grows with the store's size\n"
      "  fsync          a journal that waits for the device every step: off-CPU, not H1\n"
      "  waits          C256's own waits: a timed sleep and a synced one-row SQLite commit\n"
      "                 every step: off-CPU, not H1, and the stack samples must find both\n"
      "                 waits at their call sites\n"
      "  code-dearer    two functions a step at constant work, one getting dearer: `dearer`,\n"
      "                 and the differential profile must name it first (>= 80% of the\n"
      "                 slowdown), dearer per unit of work\n"
      "  code-more-work the same two, the work growing: H5, and no function called dearer\n"
      "  contention     H1: two CPU-bound competitors per core for the middle half\n"
      "  fragmentation  H2: interleaved allocations scatter a long-lived list; confirmed only\n"
      "                 when jemalloc or mimalloc halves the slowdown and neither matches it\n"
      "  blocking       the original's blocking sampler (NRM engine): off-CPU time dominates\n"
      "  thermal        H4 without sensors: not testable\n"
      "Prints the confusion matrix (planted cause x verdict), writes OUT/validation.json and\n"
      "every run under OUT/runs/, and exits 1 when any verdict is wrong. A run that waited\n"
      "for a CPU more than 10% of its wall time (other programs took its core) is run again,\n"
      "up to 3 times, then counts as `disturbed` (wrong); a busy machine that leaves the run\n"
      "a core is fine. (Telemetry without run-queue wait falls back to the machine: other\n"
      "processes using more than 0.3 cores.) The short version (3 replicates, about 45 s)\n"
      "runs in `make test`; --full runs 10 replicates of longer runs.\n"
      "Examples:\n"
      "  nrmlab validate\n"
      "  nrmlab validate --full --out runs/validate-full\n"
      "  nrmlab validate --case fragmentation --replicates 5");
  command->add_flag("--full", o.full, "10 replicates of 600 steps (default: 3 of 300)");
  command->add_option("--out", o.out, "Output directory (its runs/ is replaced)")
      ->capture_default_str();
  command->add_option("--replicates", o.replicates, "Replicates per case (overrides the mode)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1000}));
  command->add_option("--steps", o.steps, "Steps per run (overrides the mode)")
      ->check(CLI::Range(std::int64_t{60}, std::int64_t{1'000'000}));
  command->add_option("--seed", o.seed, "Seed of the first replicate (replicate r: seed + r)")
      ->capture_default_str();
  command->add_option("--case", o.cases, "Run only these cases (repeatable or comma-separated)")
      ->delimiter(',')
      ->check(CLI::IsMember(validate::case_ids()));
  command
      ->add_option("--telemetry-budget", o.telemetry_budget,
                   "The recorded runs' telemetry budget, a share of wall time in [0, 1] "
                   "(default: the recorder's, as `nrmlab run --telemetry-budget`; the watch "
                   "cases have no recorder): to measure what a budget does to the verdicts")
      ->check(CLI::Range(0.0, 1.0));
  command->add_flag("--quiet,-q", o.quiet, "No line per run (the matrix is still printed)");
  add_calibrate_options(*command, o);
  return command;
}

int execute_validate(const ValidateCommandOptions& o) {
  if (o.calibrate) return execute_calibrate(o);
  validate::ValidateOptions options;
  options.full = o.full;
  options.out = o.out;
  options.nrmlab_binary = own_binary();
  options.replicates = o.replicates;
  options.steps = o.steps;
  options.seed = o.seed;
  options.cases = o.cases;
  options.telemetry_budget = o.telemetry_budget;
  options.stop = &install_interrupt_handlers();
  if (!o.quiet)
    options.on_run = [](const validate::ValidationRun& run, std::size_t done, std::size_t total) {
      const std::string outcome = run.intervention ? "intervention"
                                  : run.correct    ? "right"
                                                : fmt::format("WRONG (expected {})", run.expected);
      fmt::print("[{:>{}}/{}] {:<24} {:<16} {:<28} {:5.1f} s  {}\n", done,
                 std::to_string(total).size(), total, run.id, run.verdict, outcome, run.seconds,
                 run.error.empty() ? run.reason : run.error);
      std::fflush(stdout);
    };
  const validate::ValidationReport report = validate::run_validation(options);
  fmt::print("\n");
  for (const std::string& line : validate::confusion_table(report))
    fmt::print("{}\n", line);
  fmt::print("\nvalidation: {}\n", (fs::path(o.out) / "validation.json").string());
  if (report.interrupted) {
    fmt::print(stderr, "nrmlab: validation interrupted; the matrix covers the runs that ended\n");
    return 130;
  }
  if (report.wrong > 0) {
    fmt::print(stderr, "nrmlab: {} wrong verdict{} (see {})\n", report.wrong,
               report.wrong == 1 ? "" : "s",
               o.quiet ? (fs::path(o.out) / "validation.json").string() : "the lines marked WRONG");
    return 1;
  }
  fmt::print("every verdict right ({} cases x {} replicates)\n", report.cases.size(),
             report.replicates);
  return 0;
}

CLI::App* add_validate_workload_command(CLI::App& app, WorkloadCommandOptions& o) {
  CLI::App* command = app.add_subcommand(
      "validate-workload",
      "Run one planted-cause workload in this process (nrmlab validate's child)");
  command->group("");  // internal: not listed in --help
  command->add_option("--workload", o.workload, "The workload")
      ->required()
      ->check(CLI::IsMember(validate::workload_names()));
  command->add_option("--seed", o.seed, "Seed")->capture_default_str();
  command->add_option("--steps", o.steps, "Steps")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{100'000'000}))
      ->capture_default_str();
  command->add_option("--out", o.out, "Run directory (required unless --as-program)");
  command
      ->add_option("--as-program", o.as_program,
                   "Run as a program for `nrmlab watch` to observe, without telemetry: "
                   "'markers' prints NRMLAB step=N lines, 'bare' none")
      ->check(CLI::IsMember({"markers", "bare"}));
  command->add_option("--work-scale", o.work_scale, "Multiplies the units of stable and growth")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{10'000}))
      ->capture_default_str();
  command->add_option("--profile", o.profile, "Stack samples per second, or off")
      ->type_name(std::string(telemetry::profile::k_profile_syntax))
      ->check(check_profile_option)
      ->capture_default_str();
  command->add_option("--profile-window-ms", o.profile_window_ms, "The profile's window")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{3'600'000}))
      ->capture_default_str();
  command->add_option("--telemetry-budget", o.telemetry_budget, "The recorder's telemetry budget")
      ->check(CLI::Range(0.0, 1.0));
  command->add_flag("--quiet,-q", o.quiet, "Print nothing on success");
  return command;
}

int execute_validate_workload(const WorkloadCommandOptions& o) {
  validate::WorkloadOptions options;
  options.kind = *validate::parse_workload(o.workload);
  options.seed = o.seed;
  options.steps = o.steps;
  options.dir = o.out;
  options.profile_hz = telemetry::profile::parse_profile_rate(o.profile);
  options.profile_window_ms = o.profile_window_ms;
  options.work_scale = o.work_scale;
  options.budget_share = o.telemetry_budget;
  if (!o.as_program.empty()) {
    options.dir = o.out.empty() ? fs::current_path() : fs::path(o.out);
    const std::int64_t done = validate::run_workload_as_program(options, o.as_program == "markers",
                                                                install_interrupt_handlers());
    return done == o.steps ? 0 : 130;
  }
  if (o.out.empty()) throw Error("validate-workload: --out is required (unless --as-program)");
  std::error_code ec;
  fs::create_directories(options.dir, ec);
  if (ec) throw Error(fmt::format("cannot create {}: {}", o.out, ec.message()));
  const validate::WorkloadRunResult result =
      validate::run_workload(options, install_interrupt_handlers());
  if (!o.quiet)
    fmt::print("{}: {} steps, checksum {}\ntelemetry: {}\n", o.workload, result.steps,
               result.checksum, (options.dir / "telemetry.db").string());
  return result.complete ? 0 : 130;
}

}  // namespace nrmlab::cli
