#include "telemetry/watcher.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>

#include "telemetry/allocator.hpp"
#include "telemetry/probes.hpp"
#include "telemetry/process_probe.hpp"
#include "telemetry/provenance.hpp"
#include "telemetry/step_markers.hpp"
#include "telemetry/step_timeline.hpp"
#include "telemetry/telemetry_store.hpp"
#include "telemetry/watched_program.hpp"
#include "util/error.hpp"
#include "util/unique_fd.hpp"

namespace nrmlab::telemetry {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t k_ms = 1'000'000;
// After the program exits, how long its output may stay open (held by processes it
// started) before nrmlab stops reading.
constexpr std::int64_t k_drain_ns = 2'000 * k_ms;
constexpr std::size_t k_max_read_per_turn = 1 << 20;  // keep readings on time under a flood

void write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // a closed reader (| head) must not stop the watch
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

UniqueFd open_sink(const fs::path& file, int fallback) {
  if (file.empty()) return UniqueFd(::dup(fallback));
  UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd.valid())
    throw Error(fmt::format("cannot write {}: {}", file.string(), std::strerror(errno)));
  return fd;
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) return fmt::format("exited with status {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return fmt::format("killed by signal {} ({}){}", WTERMSIG(status), strsignal(WTERMSIG(status)),
                       WCOREDUMP(status) ? ", core dumped" : "");
  return "ended";
}

MetaEntries watch_meta(const WatchOptions& o, const MarkerParser& parser) {
  nlohmann::ordered_json configuration = {
      {"command", o.argv},          {"pid", o.pid},
      {"period_ms", o.period_ms},   {"window_ms", o.window_ms},
      {"steps", parser.describe()}, {"include_children", o.include_children},
  };
  return {{"experiment", "external"},
          {"source", "watch"},
          {"configuration", configuration.dump()},
          {"watch.command",
           o.pid != 0 ? fmt::format("pid {}", o.pid) : configuration["command"].dump()},
          {"cadence.process_period_ms", std::to_string(o.period_ms)},
          {"cadence.side_period_ms", std::to_string(o.side_period_ms)},
          {"complete", "false"},
          {"outcome", "running"}};
}

// One source of bytes: a pipe of the program's output or its step channel.
struct Channel {
  int fd = -1;
  int sink = -1;  // where the bytes are passed on (-1: nowhere, a step channel)
  bool datagrams = false;
  LineSplitter lines;
  bool open = true;
};

}  // namespace

WatchOutcome watch(const WatchOptions& o) {
  fs::create_directories(o.out_dir);
  const fs::path db_path = o.out_dir / "telemetry.db";
  std::error_code ignored;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"})
    fs::remove(db_path.string() + suffix, ignored);
  const MarkerParser parser(o.step_regex);  // a bad regex is refused before anything starts
  const auto warn = [&](const std::string& what) {
    if (o.warn) o.warn(what);
  };

  BatchWriter writer(db_path);
  SystemSampler system;
  const auto allocator = detect_allocator();
  Batch first;
  first.meta = collect_provenance(*allocator, system);
  first.meta.emplace_back("schema", k_telemetry_schema_version);
  for (auto& entry : watch_meta(o, parser))
    first.meta.push_back(std::move(entry));
  first.conditions.emplace_back(0, "program");

  WatchOutcome outcome;
  const bool attached = o.pid != 0;
  const std::int64_t origin = monotonic_ns();
  StartedProgram program;
  pid_t pid = o.pid;
  if (!attached) {
    // A Unix socket path has at most 107 bytes; deep run directories go without one.
    const fs::path socket = fs::absolute(o.out_dir) / "step.sock";
    const bool offer_socket = socket.string().size() < 100;
    if (!offer_socket)
      outcome.notes.push_back(
          "NRMLAB_STEP_SOCKET is not offered: the run directory's path is "
          "too long for a Unix socket");
    try {
      program = start_program(o.argv, offer_socket ? socket : fs::path());
    } catch (const ProgramNotStarted& error) {
      first.meta.emplace_back("complete", "true");
      first.meta.emplace_back("outcome", std::string("not started: ") + error.what());
      first.meta.emplace_back("exit_code", std::to_string(error.exit_code()));
      writer.submit(std::move(first));
      writer.close();
      throw;
    }
    pid = program.pid;
    first.meta.emplace_back("process.program", std::to_string(pid));
  } else if (::kill(pid, 0) != 0 && errno == ESRCH) {
    throw Error(fmt::format("--pid {}: no such process", pid));
  }
  writer.submit(std::move(first));

  ::signal(SIGPIPE, SIG_IGN);  // a reader of our stdout that goes away must not end the watch
  UniqueFd out_sink = attached ? UniqueFd() : open_sink(o.stdout_file, STDOUT_FILENO);
  UniqueFd err_sink = attached ? UniqueFd() : open_sink(o.stderr_file, STDERR_FILENO);
  std::vector<Channel> channels;
  if (!attached) {
    channels.push_back({program.stdout_fd.get(), out_sink.get(), false, {}, true});
    channels.push_back({program.stderr_fd.get(), err_sink.get(), false, {}, true});
    channels.push_back({program.step_fd.get(), -1, false, {}, true});
    if (program.step_socket.valid())
      channels.push_back({program.step_socket.get(), -1, true, {}, true});
  }

  ProcessProbe probe(pid, o.include_children);
  StepTimeline timeline(origin, o.window_ms * k_ms);
  StepMarker marker;  // reused: parsing a marker then allocates nothing
  const auto on_line = [&](std::string_view line, bool truncated) {
    MarkerResult result = parser.parse(line, marker);
    // A line cut at 64 KiB may end inside a number: a marker there cannot be trusted.
    if (truncated && result.kind == MarkerKind::marker) {
      result.kind = MarkerKind::malformed;
      result.problem = "the line is longer than 64 KiB";
    }
    if (result.kind == MarkerKind::marker) {
      timeline.add_marker(monotonic_ns(), std::move(marker));
    } else if (result.kind == MarkerKind::malformed) {
      if (++outcome.malformed_markers <= 3)
        warn(
            fmt::format("malformed step marker ignored: {} (line: {:.120})", result.problem, line));
    }
  };

  Batch batch;
  std::int64_t next_probe = origin;
  std::int64_t next_side = origin;
  std::int64_t last_flush = origin;
  std::optional<std::int64_t> ended_at;
  int wait_status = 0;
  bool forwarded = false;
  std::vector<char> buffer(65536);
  for (;;) {
    std::int64_t now = monotonic_ns();
    if (now >= next_probe) {
      if (const auto sample = probe.sample()) {
        timeline.add_sample(*sample);
        batch.process.push_back({0, timeline.step_in_progress(), sample->t_ns - origin, *sample});
      } else if (attached && !ended_at) {
        ended_at = now;  // the process we attached to is gone
      }
      next_probe = std::max(next_probe + o.period_ms * k_ms, now);
    }
    if (now >= next_side) {
      SystemRow row;
      row.t_ns = now - origin;
      row.step = timeline.step_in_progress();
      row.sample = system.sample_system();
      batch.system.push_back(row);
      next_side = std::max(next_side + o.side_period_ms * k_ms, now);
    }
    timeline.take_ready(batch);
    if (now - last_flush >= 1'000 * k_ms) {
      writer.submit(std::move(batch));
      batch = Batch{};
      last_flush = now;
    }
    if (!attached && !ended_at && ::waitpid(pid, &wait_status, WNOHANG) == pid) ended_at = now;
    if (!forwarded && o.stop_signal && o.stop_signal() != 0) {
      forwarded = true;
      if (attached) {
        ended_at = now;  // stop watching; the process is not ours to signal
        outcome.notes.push_back(fmt::format("stopped watching process {}; it goes on", pid));
      } else {
        ::kill(-pid, o.stop_signal());
      }
    }
    const bool output_open = std::any_of(channels.begin(), channels.end(),
                                         [](const Channel& c) { return c.open && !c.datagrams; });
    if (ended_at && (!output_open || now - *ended_at > k_drain_ns)) {
      if (output_open)
        outcome.notes.push_back(
            "the program exited, but processes it started still hold its "
            "output; they are not watched");
      break;
    }

    std::vector<pollfd> polled;
    for (const Channel& c : channels)
      if (c.open) polled.push_back({c.fd, POLLIN, 0});
    const std::int64_t wake = std::min(next_probe, next_side);
    const int timeout = static_cast<int>(std::clamp<std::int64_t>((wake - now) / k_ms, 0, 100));
    if (::poll(polled.data(), polled.size(), ended_at ? std::min(timeout, 20) : timeout) < 0 &&
        errno != EINTR)
      throw Error(fmt::format("watch: poll: {}", std::strerror(errno)));
    for (Channel& c : channels) {
      if (!c.open) continue;
      std::size_t taken = 0;
      while (taken < k_max_read_per_turn) {
        const ssize_t n = c.datagrams ? ::recv(c.fd, buffer.data(), buffer.size(), 0)
                                      : ::read(c.fd, buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) break;  // EAGAIN: nothing more now
        if (n == 0) {
          if (!c.datagrams) {
            c.lines.finish(on_line);
            c.open = false;
          }
          break;
        }
        const std::string_view chunk(buffer.data(), static_cast<std::size_t>(n));
        if (c.sink >= 0) write_all(c.sink, chunk);
        c.lines.feed(chunk, on_line);
        if (c.datagrams) c.lines.finish(on_line);  // a datagram is whole lines
        taken += static_cast<std::size_t>(n);
      }
    }
  }

  const std::int64_t end = monotonic_ns();
  if (const auto sample = probe.sample()) timeline.add_sample(*sample);
  for (Channel& c : channels)
    if (c.open) c.lines.finish(on_line);
  timeline.finish(end, batch);

  outcome.markers = timeline.markers();
  outcome.steps = timeline.steps_written();
  outcome.step_source = outcome.markers > 0 ? "markers" : "time windows";
  if (attached) {
    outcome.ended = forwarded ? "still running (no longer watched)" : "ended";
  } else {
    outcome.exit_code = WIFEXITED(wait_status)     ? WEXITSTATUS(wait_status)
                        : WIFSIGNALED(wait_status) ? 128 + WTERMSIG(wait_status)
                                                   : 1;
    outcome.ended = describe_status(wait_status);
  }
  if (outcome.markers == 0)
    outcome.notes.push_back(
        fmt::format("no step marker ({}) came: {} fixed windows of {} ms stand in for steps",
                    parser.describe(), outcome.steps, o.window_ms));
  if (outcome.malformed_markers > 0)
    outcome.notes.push_back(
        fmt::format("{} malformed step markers were ignored", outcome.malformed_markers));
  std::string failures;
  for (const std::string& failure : probe.failures())
    failures.append(failures.empty() ? "" : "\n").append(failure);
  batch.meta = {{"complete", "true"},
                {"outcome", forwarded && !attached ? "interrupted" : "complete"},
                {"program_outcome", outcome.ended},
                {"exit_code", std::to_string(outcome.exit_code)},
                {"steps_recorded", std::to_string(outcome.steps)},
                {"step_source", outcome.step_source},
                {"step_markers", std::to_string(outcome.markers)},
                {"malformed_markers", std::to_string(outcome.malformed_markers)},
                {"recorder_share", "0"},
                {"failures", failures}};
  writer.submit(std::move(batch));
  writer.close();
  if (const auto error = writer.error()) warn("telemetry.db: " + *error);
  return outcome;
}

}  // namespace nrmlab::telemetry
