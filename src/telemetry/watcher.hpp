// `nrmlab watch`: records any program, in any language, into the run-directory format of
// a native run (telemetry.db with the same schema), so the analysis and the report work on
// it unchanged. The program runs as a child (see watched_program.hpp) or is attached to by
// pid; /proc is read at a fixed rate (process_probe.hpp); step boundaries come from marker
// lines on its stdout/stderr, the NRMLAB_STEP_FD pipe or the NRMLAB_STEP_SOCKET socket
// (step_markers.hpp), or else fixed time windows (step_timeline.hpp).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace nrmlab::telemetry {

struct WatchOptions {
  std::vector<std::string> argv;       // the program and its arguments (empty when attaching)
  pid_t pid = 0;                       // attach to this running process instead
  std::filesystem::path out_dir;       // the run directory (telemetry.db goes there)
  std::string step_regex;              // empty: `NRMLAB step=<n> [key=value ...]`
  std::int64_t period_ms = 100;        // /proc readings
  std::int64_t window_ms = 1000;       // steps when the program gives no marker ...
  std::int64_t grace_ms = 30'000;      // ... by then (imports and set-up come first)
  std::int64_t side_period_ms = 1000;  // machine-wide readings (load, other processes' CPU)
  bool include_children = false;       // count the program's descendants too
  // Stack samples per second of each thread's CPU time, on and off the CPU (profile/); 0: off.
  unsigned profile_hz = 99;
  // The profile's unit of time: the differential profile (which code got slower) compares
  // whole windows, three or more a quarter of the run, so a short run needs short windows.
  std::int64_t profile_window_ms = 1000;
  // Where the program's stdout and stderr go (empty: nrmlab's own, unchanged).
  std::filesystem::path stdout_file;
  std::filesystem::path stderr_file;
  // The signal that asked nrmlab to stop (0: none yet), forwarded once to the program, and
  // how many came: at the second, the program (and its process group) is killed.
  std::function<int()> stop_signal;
  std::function<int()> stop_count;
  std::function<void()> keep_handling_stops;     // called once the first stop is forwarded
  std::function<void(const std::string&)> warn;  // problems worth a line on stderr
};

struct WatchOutcome {
  int exit_code = 0;  // the program's exit status, or 128 + the signal that ended it
  std::string ended;  // "exited with status N", "killed by signal N (NAME)", ...
  std::int64_t steps = 0;
  std::int64_t markers = 0;
  std::int64_t malformed_markers = 0;
  std::string step_source;    // "markers" or "time windows"
  std::int64_t readings = 0;  // /proc readings of the program (the process table)
  double seconds = 0.0;       // how long the watch lasted
  // nrmlab's own CPU time over the watch (all its threads) per second of wall time: the share
  // of one core it used while watching (meta recorder_share).
  double self_share = 0.0;
  std::vector<std::string> notes;  // what the user should know (said on stderr too)
};

// Runs (or attaches to) the program until it ends, writing OUT/telemetry.db as it goes.
// Throws ProgramNotStarted (watched_program.hpp) when the program cannot be executed: the
// run directory then still holds a telemetry.db whose meta says why.
WatchOutcome watch(const WatchOptions& options);

}  // namespace nrmlab::telemetry
