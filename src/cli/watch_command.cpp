#include "cli/watch_command.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>

#include "cli/analyze_command.hpp"
#include "cli/interrupt.hpp"
#include "cli/report_command.hpp"
#include "telemetry/profile/profiler.hpp"
#include "telemetry/watched_program.hpp"
#include "telemetry/watcher.hpp"
#include "util/error.hpp"

namespace nrmlab::cli {

namespace fs = std::filesystem;

std::string check_profile_option(const std::string& value) {
  try {
    telemetry::profile::parse_profile_rate(value);
    return {};
  } catch (const Error& error) {
    return error.what();
  }
}

namespace {

// The analysis and the report of a watched run. Everything nrmlab says goes to stderr:
// stdout is the program's alone (`nrmlab watch -q -- prog > out` leaves prog's output).
void analyse_watched_run(const fs::path& dir, const WatchCommandOptions& o,
                         const telemetry::WatchOutcome& outcome) {
  if (outcome.steps == 0) {
    // What there is instead: a run shorter than one window still has its /proc readings.
    fmt::print(stderr,
               "nrmlab: watch: no step to analyse: the program ran {:.2f} s, {}; telemetry.db "
               "holds its {} /proc readings (for steps: print a step marker, or watch again "
               "with a shorter --window-ms)\n",
               outcome.seconds,
               outcome.markers > 0 ? "and its markers made no whole step"
                                   : fmt::format("shorter than one --window-ms window ({} ms), "
                                                 "and printed no step marker",
                                                 o.window_ms),
               outcome.readings);
    return;
  }
  AnalyzeCommandOptions analyze;
  analyze.dir = dir.string();
  analyze.quiet = o.quiet;
  try {
    execute_analyze(analyze, stderr);
    ReportCommandOptions report;
    report.dir = dir.string();
    report.quiet = true;
    execute_report(report, stderr);
  } catch (const std::exception& error) {
    // The recording stands; only its diagnosis is missing.
    fmt::print(stderr, "nrmlab: warning: {} (telemetry.db is complete)\n", error.what());
  }
}

}  // namespace

CLI::App* add_watch_command(CLI::App& app, WatchCommandOptions& o) {
  CLI::App* command = app.add_subcommand(
      "watch",
      "Run any program (or attach to one) and diagnose its slowdown like a native run:\n"
      "OUT/telemetry.db (per-step time, CPU, context switches, faults, RSS, and the\n"
      "program's /proc readings 10 times a second), then OUT/analysis.json and OUT/report.html.\n"
      "Steps: the program prints one line per step, `NRMLAB step=<n> [key=value ...]` (keys\n"
      "become work counters, e.g. `NRMLAB step=12 particles=5000`), on stdout or stderr, or\n"
      "writes it to the pipe whose number is in $NRMLAB_STEP_FD or the datagram socket in\n"
      "$NRMLAB_STEP_SOCKET (precise timing, output untouched). Without markers, fixed time\n"
      "windows stand in for steps. Its output passes through unchanged (nrmlab's own lines,\n"
      "the summary and the paths, go to stderr: stdout is the program's alone); Ctrl-C and\n"
      "SIGTERM are forwarded; nrmlab exits with the program's exit status.\n"
      "Examples:\n"
      "  nrmlab watch -- python3 sim.py --steps 5000\n"
      "  nrmlab watch --out runs/sim --step-regex '^iteration ([0-9]+)' -- ./sim input.cfg\n"
      "  nrmlab watch --pid 4242 --window-ms 5000");
  // After `--`, everything is the program's (its own options included).
  command->add_option("program", o.program, "The program and its arguments, after --");
  command->add_option("--out", o.out, "Run directory (default: runs/watch-PROGRAM-TIME-PID)");
  command->add_option("--pid", o.pid, "Attach to this running process instead of starting one")
      ->check(CLI::PositiveNumber);
  command->add_option("--step-regex", o.step_regex,
                      "A line matching this (ECMAScript) regex ends a step; its first group, if "
                      "any, is the step number; key=value pairs after the match are counters");
  command->add_option("--hz", o.hz, "/proc readings per second")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1000}))
      ->capture_default_str();
  command->add_option("--window-ms", o.window_ms, "Step length when the program gives no marker")
      ->check(CLI::Range(std::int64_t{10}, std::int64_t{3'600'000}))
      ->capture_default_str();
  command->add_flag("--children", o.children,
                    "Count the program's descendants too, and follow the processes it leaves "
                    "running when it exits (a daemon) until they end");
  command
      ->add_option("--profile", o.profile,
                   "Stack samples per second of each thread's CPU time, on and off the CPU "
                   "(where the time goes in the code: OUT/analysis.json code, the report's "
                   "flame graph, `nrmlab export --format folded`), or off")
      ->type_name(std::string(telemetry::profile::k_profile_syntax))
      ->check(check_profile_option)
      ->capture_default_str();
  command
      ->add_option("--profile-window-ms", o.profile_window_ms,
                   "The stack samples' unit of time. Which code got slower is found by "
                   "comparing windows, at least 3 in each quarter of the run: for a run under "
                   "about 15 s, shorter windows (e.g. 100)")
      ->check(CLI::Range(std::int64_t{10}, std::int64_t{60'000}))
      ->capture_default_str();
  command->add_option("--stdout", o.stdout_file, "Write the program's stdout to this file");
  command->add_option("--stderr", o.stderr_file, "Write the program's stderr to this file");
  command->add_flag("--no-analysis", o.no_analysis, "Record only (no analysis, no report)");
  command->add_flag("--quiet,-q", o.quiet, "No summary (the paths are still printed, on stderr)");
  return command;
}

int execute_watch(const WatchCommandOptions& o) {
  const std::vector<std::string>& program = o.program;
  if (o.pid != 0 && !program.empty())
    throw Error("watch: give either --pid or a program to run, not both");
  if (o.pid == 0 && program.empty())
    throw Error(
        "watch: no program to run (nrmlab watch [options] -- PROGRAM ARGS..., or --pid PID)");
  telemetry::WatchOptions options;
  options.argv = program;
  options.pid = o.pid;
  const std::string name =
      o.pid != 0 ? fmt::format("pid{}", o.pid) : fs::path(program.front()).filename().string();
  options.out_dir =
      !o.out.empty()
          ? fs::path(o.out)
          : fs::path("runs") / fmt::format("watch-{}-{:%Y%m%d-%H%M%S}-{}", name,
                                           fmt::localtime(std::time(nullptr)), ::getpid());
  options.step_regex = o.step_regex;
  options.period_ms = std::max<std::int64_t>(1, 1000 / o.hz);
  options.window_ms = o.window_ms;
  options.include_children = o.children;
  options.profile_hz = telemetry::profile::parse_profile_rate(o.profile);
  options.profile_window_ms = o.profile_window_ms;
  options.stdout_file = o.stdout_file;
  options.stderr_file = o.stderr_file;
  install_interrupt_handlers();
  options.stop_signal = [] { return stop_signal(); };
  options.stop_count = [] { return stop_count(); };
  options.keep_handling_stops = [] { keep_handling_stops(); };
  options.warn = [](const std::string& what) { fmt::print(stderr, "nrmlab: watch: {}\n", what); };

  telemetry::WatchOutcome outcome;
  try {
    outcome = telemetry::watch(options);
  } catch (const telemetry::ProgramNotStarted& error) {
    fmt::print(stderr, "nrmlab: {}\nrun directory: {} (telemetry.db says why)\n", error.what(),
               options.out_dir.string());
    return error.exit_code();
  }
  for (const std::string& note : outcome.notes)
    fmt::print(stderr, "nrmlab: watch: {}\n", note);
  fmt::print(stderr,
             "nrmlab: watch: {} {}; {} steps ({}); nrmlab used {:.1f}% of a core while watching\n",
             name, outcome.ended, outcome.steps, outcome.step_source, 100 * outcome.self_share);
  if (!o.no_analysis) analyse_watched_run(options.out_dir, o, outcome);
  fmt::print(stderr, "telemetry: {}\n", (options.out_dir / "telemetry.db").string());
  return outcome.exit_code;
}

}  // namespace nrmlab::cli
