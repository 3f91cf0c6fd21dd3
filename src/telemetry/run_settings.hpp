// The telemetry's settings (whether a run records telemetry, and the recorder's cadences) and
// the one list of every setting of a run: the model's table (model/settings.hpp) with these
// added. `nrmlab run` and the study files are generated from that list.
#pragma once

#include <string_view>
#include <vector>

#include "model/settings.hpp"
#include "telemetry/recorder.hpp"

namespace nrmlab::telemetry {

struct TelemetrySettings {
  bool enabled = true;
  RecorderOptions recorder;  // the cadences; the database path is the run's to choose
  // Stack samples per second of each thread's CPU time (profile/profiler.hpp); 0: off.
  unsigned profile_hz = 99;
};

// The settings the telemetry reads, in `nrmlab run --help` order.
const std::vector<model::SettingFor<TelemetrySettings>>& telemetry_settings();

// Every setting of a run, in `nrmlab run --help` order: the model's run settings, the
// telemetry's, then the model parameters.
const std::vector<const model::Setting*>& run_settings();
const model::Setting* find_run_setting(std::string_view key);

// Everything one `nrmlab run` needs to know.
struct RunRequest {
  model::RunConfig config;
  TelemetrySettings telemetry;
};

// Lands every setting (given, else its default) and checks them together. Throws
// nrmlab::Error naming the flag and the value. The model parameters are checked as a whole
// when the experiment starts (model::validate).
RunRequest run_request_from(const model::SettingValues& values);

}  // namespace nrmlab::telemetry
