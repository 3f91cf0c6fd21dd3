// One experiment (or one process's part of it) run in this process with its telemetry wired
// in: the recorder, its meta (the configuration and its hash, the seed, which process ran
// which condition), the files it tracks, and the line that reports it. `nrmlab run` is this
// plus argument parsing, a progress line and printing.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "model/experiment_runner.hpp"
#include "telemetry/profile/profiler.hpp"
#include "telemetry/recorder.hpp"
#include "telemetry/run_settings.hpp"

namespace nrmlab::telemetry {

using Warn = std::function<void(const std::string& message)>;

// The recorder of one process of a run, or null when telemetry is off or cannot be set up
// (telemetry is an observer: losing it must not cost the run; `warn` hears why). `described`
// is the whole run as asked for; `running` are the conditions this process runs, each
// recorded as meta process.<condition> (process.<condition>@<step> for a stretch resumed at
// `first_step`) with this process's pid.
std::unique_ptr<Recorder> make_recorder(const TelemetrySettings& telemetry,
                                        const model::RunConfig& described,
                                        const std::vector<int>& running, std::int64_t first_step,
                                        const Warn& warn);

// The stack sampler of this process at `hz` (telemetry/profile), writing through `recorder`
// and leaving its threads out; null when hz is 0 (the meta then says "off") -- and also a
// sampler that found sampling unavailable, whose meta says why (`warn` hears it too).
// `appending`: the database holds an earlier process's samples (ids continue after them).
// `window_ns`: the profile's window (shorter for the validation's short runs).
std::unique_ptr<profile::Profiler> start_profiler(
    unsigned hz, Recorder& recorder, bool appending, const Warn& warn,
    std::int64_t window_ns = profile::k_default_window_ns);

struct InstrumentedResult {
  model::ExperimentResult result;
  std::string telemetry_line;  // "telemetry: PATH (N steps; ...)"; empty without telemetry
};

// Runs `config` in this process. `described` is the run as the user asked for it; it differs
// from `config` when a recycled run executes one condition per process. The recorder sees
// every step before `hooks.observer` (e.g. a progress line) and every sample event; the
// other hooks pass through. Throws what model::run_experiment throws, after the recorder has
// kept every recorded step.
InstrumentedResult run_instrumented(const model::RunConfig& config,
                                    const model::RunConfig& described,
                                    const TelemetrySettings& telemetry, model::RunHooks hooks,
                                    const Warn& warn);

}  // namespace nrmlab::telemetry
