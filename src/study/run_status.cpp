#include "study/run_status.hpp"

#include <fmt/format.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>

#include "util/atomic_file.hpp"

namespace nrmlab::study {
namespace {

constexpr std::string_view k_status_schema = "nrmlab.run-status/1";

std::optional<RunState> parse_state(std::string_view name) {
  for (const RunState state :
       {RunState::planned, RunState::complete, RunState::failed, RunState::interrupted})
    if (run_state_name(state) == name) return state;
  return std::nullopt;
}

}  // namespace

std::string_view run_state_name(RunState state) {
  switch (state) {
    case RunState::planned:
      return "planned";
    case RunState::complete:
      return "complete";
    case RunState::failed:
      return "failed";
    case RunState::interrupted:
      return "interrupted";
  }
  return "planned";
}

std::optional<RunStatus> read_status(const std::filesystem::path& run_dir) {
  std::ifstream in(run_dir / "status.json");
  if (!in) return std::nullopt;
  // A status that cannot be read counts as absent: the run is simply done again.
  const nlohmann::json json = nlohmann::json::parse(in, nullptr, false);
  if (json.is_discarded() || !json.is_object() || json.value("schema", "") != k_status_schema)
    return std::nullopt;
  const auto state = parse_state(json.value("state", ""));
  if (!state) return std::nullopt;
  RunStatus status;
  status.state = *state;
  status.hash = json.value("hash", "");
  status.exit_code = json.value("exit_code", -1);
  status.signal = json.value("signal", 0);
  status.started = json.value("started", 0.0);
  status.finished = json.value("finished", 0.0);
  status.host = json.value("host", "");
  status.backend = json.value("backend", "");
  status.stderr_tail = json.value("stderr_tail", "");
  return status;
}

nlohmann::ordered_json to_json(const RunStatus& status) {
  nlohmann::ordered_json json;
  json["state"] = run_state_name(status.state);
  if (status.state == RunState::planned) return json;
  json["hash"] = status.hash;
  json["exit_code"] = status.exit_code;
  json["signal"] = status.signal;
  json["started"] = status.started;
  json["finished"] = status.finished;
  json["started_at"] = utc_text(status.started);
  json["duration_s"] = status.duration();
  json["host"] = status.host;
  json["backend"] = status.backend;
  json["stderr_tail"] = status.stderr_tail;
  return json;
}

void write_status(const std::filesystem::path& run_dir, const RunStatus& status) {
  nlohmann::ordered_json json = {{"schema", k_status_schema}};
  json.update(to_json(status));
  write_file_atomically(run_dir / "status.json", json.dump(1) + "\n");
}

std::string utc_text(double unix_seconds) {
  const auto seconds = static_cast<std::time_t>(unix_seconds);
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &parts);
  return text;
}

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace nrmlab::study
