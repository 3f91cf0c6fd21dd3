#include "telemetry/watcher.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
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
constexpr std::int64_t k_pss_period_ns = 1'000 * k_ms;  // PSS makes the kernel walk page tables
constexpr std::size_t k_max_read_per_turn = 1 << 20;    // keep readings on time under a flood

// False when the reader has gone (EPIPE): a closed `| head` must not stop the watch.
bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

UniqueFd open_sink(const fs::path& file, int fallback) {
  if (file.empty()) return UniqueFd(::fcntl(fallback, F_DUPFD_CLOEXEC, 3));
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

// The reaped program's own account (its waited-for children included): the last reading,
// since /proc has nothing once it is gone.
ProcessSample final_reading(const rusage& usage, std::int64_t t_ns, const ProcessSample* last) {
  ProcessSample sample = last != nullptr ? *last : ProcessSample{};
  const auto ns = [](const timeval& tv) {
    return static_cast<std::int64_t>(tv.tv_sec) * 1'000'000'000 + tv.tv_usec * 1000;
  };
  sample.t_ns = t_ns;
  sample.user_ns = std::max(sample.user_ns, ns(usage.ru_utime));
  sample.system_ns = std::max(sample.system_ns, ns(usage.ru_stime));
  sample.minor_faults = std::max<std::int64_t>(sample.minor_faults, usage.ru_minflt);
  sample.major_faults = std::max<std::int64_t>(sample.major_faults, usage.ru_majflt);
  if (sample.voluntary_switches)
    sample.voluntary_switches = std::max<std::int64_t>(*sample.voluntary_switches, usage.ru_nvcsw);
  if (sample.involuntary_switches)
    sample.involuntary_switches =
        std::max<std::int64_t>(*sample.involuntary_switches, usage.ru_nivcsw);
  return sample;
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

// One source of bytes: a pipe of the program's output or one of its step channels.
struct Channel {
  int fd = -1;
  int sink = -1;  // where the bytes are passed on (-1: nowhere, a step channel)
  bool datagrams = false;
  LineSplitter lines;
  bool open = true;
};

}  // namespace

WatchOutcome watch(const WatchOptions& o) {
  // Everything that can be refused is refused before an earlier run here is replaced.
  const MarkerParser parser(o.step_regex);
  const bool attached = o.pid != 0;
  if (attached && ::kill(o.pid, 0) != 0 && errno == ESRCH)
    throw Error(fmt::format("--pid {}: no such process", o.pid));
  fs::create_directories(o.out_dir);
  const fs::path db_path = o.out_dir / "telemetry.db";
  std::error_code ignored;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"})
    fs::remove(db_path.string() + suffix, ignored);
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
  const std::int64_t origin = monotonic_ns();
  StartedProgram program;
  pid_t pid = o.pid;
  // A program that may read nrmlab's terminal stays in its foreground process group.
  const bool own_group = ::isatty(STDIN_FILENO) != 1;
  const fs::path socket = fs::absolute(o.out_dir) / "step.sock";
  if (!attached) {
    // A Unix socket path has at most 107 bytes; deep run directories go without one.
    const bool offer_socket = socket.string().size() < 100;
    if (!offer_socket)
      outcome.notes.push_back(
          "NRMLAB_STEP_SOCKET is not offered: the run directory's path is too long for a Unix "
          "socket");
    try {
      program = start_program(o.argv, offer_socket ? socket : fs::path(), own_group);
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
  }
  writer.submit(std::move(first));

  ::signal(SIGPIPE, SIG_IGN);  // a reader of our output that goes away must not end the watch
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
  StepTimeline timeline(origin, o.window_ms * k_ms, o.grace_ms * k_ms);
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
  std::vector<char> buffer(65536);
  // Reads what every channel has now, passing output on and markers to the timeline.
  const auto drain = [&] {
    for (Channel& c : channels) {
      std::size_t taken = 0;
      while (c.open && taken < k_max_read_per_turn) {
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
        if (c.sink >= 0 && !write_all(c.sink, chunk)) {
          // Our reader is gone; so is the program's, as it would be unwatched (SIGPIPE).
          c.lines.feed(chunk, on_line);
          c.lines.finish(on_line);
          c.open = false;
          for (UniqueFd* fd : {&program.stdout_fd, &program.stderr_fd})
            if (fd->get() == c.fd) fd->reset();
          break;
        }
        c.lines.feed(chunk, on_line);
        if (c.datagrams) c.lines.finish(on_line);  // a datagram is whole lines
        taken += static_cast<std::size_t>(n);
      }
    }
  };

  Batch batch;
  std::int64_t next_probe = origin;
  std::int64_t next_side = origin;
  std::int64_t last_flush = origin;
  std::int64_t last_pss = origin - k_pss_period_ns;
  std::optional<std::int64_t> ended_at;
  std::optional<ProcessSample> last_sample;
  int wait_status = 0;
  rusage usage{};
  bool reaped = false;
  int stops_seen = 0;
  for (;;) {
    const std::int64_t now = monotonic_ns();
    if (now >= next_probe) {
      const bool with_pss = now - last_pss >= k_pss_period_ns;
      if (const auto sample = probe.sample(with_pss)) {
        if (with_pss) last_pss = now;
        timeline.add_sample(*sample);
        batch.process.push_back(
            {0, timeline.step_at(sample->t_ns), sample->t_ns - origin, *sample});
        last_sample = sample;
      } else if (attached && !ended_at) {
        ended_at = now;  // the process we attached to is gone
      }
      next_probe = std::max(next_probe + o.period_ms * k_ms, now);
    }
    if (now >= next_side) {
      SystemRow row;
      row.t_ns = now - origin;
      row.step = timeline.step_at(now);
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
    if (!attached && !reaped && ::wait4(pid, &wait_status, WNOHANG, &usage) == pid) {
      reaped = true;
      ended_at = now;
    }
    const int stops = o.stop_count ? o.stop_count() : 0;
    if (stops > stops_seen) {
      stops_seen = stops;
      if (attached) {
        ended_at = ended_at.value_or(now);  // stop watching; the process is not ours to signal
        outcome.notes.push_back(fmt::format("stopped watching process {}; it goes on", pid));
      } else if (stops == 1) {
        // In nrmlab's own group the terminal's signal reached the program already.
        if (own_group || o.stop_signal() != SIGINT) ::kill(own_group ? -pid : pid, o.stop_signal());
        if (o.keep_handling_stops) o.keep_handling_stops();
      } else if (!reaped) {
        ::kill(own_group ? -pid : pid, SIGKILL);
        outcome.notes.push_back("a second stop: the program was killed");
      }
    }
    const bool output_open = std::any_of(channels.begin(), channels.end(),
                                         [](const Channel& c) { return c.open && !c.datagrams; });
    if (ended_at && (!output_open || now - *ended_at > k_drain_ns)) {
      if (output_open)
        outcome.notes.push_back(
            "the program exited, but processes it started still hold its output; they are not "
            "watched");
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
    drain();
  }
  drain();  // a last datagram or line sent just before the end

  const std::int64_t end = ended_at.value_or(monotonic_ns());
  if (reaped) timeline.add_sample(final_reading(usage, end, last_sample ? &*last_sample : nullptr));
  for (Channel& c : channels)
    if (c.open) c.lines.finish(on_line);
  timeline.finish(end, batch);
  if (!attached) fs::remove(socket, ignored);

  outcome.markers = timeline.markers();
  outcome.steps = timeline.steps_written();
  outcome.step_source = timeline.windows() ? "time windows" : "markers";
  if (attached) {
    outcome.ended = stops_seen > 0 ? "still running (no longer watched)" : "ended";
  } else {
    outcome.exit_code = WIFEXITED(wait_status)     ? WEXITSTATUS(wait_status)
                        : WIFSIGNALED(wait_status) ? 128 + WTERMSIG(wait_status)
                                                   : 1;
    outcome.ended = describe_status(wait_status);
    // Without --children, a wrapper (`sh -c ...`, a launcher script) shows none of the work.
    const double own =
        last_sample ? static_cast<double>(last_sample->user_ns + last_sample->system_ns) : 0.0;
    const double all = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1e9 +
                       static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e3;
    if (!o.include_children && all > 0.2e9 && own < 0.5 * all)
      outcome.notes.push_back(fmt::format(
          "most of the CPU time ({:.1f} of {:.1f} s) was in processes the program started: "
          "watch again with --children to count them",
          (all - own) / 1e9, all / 1e9));
  }
  if (timeline.windows())
    outcome.notes.push_back(fmt::format(
        "no step marker ({}) {}: {} fixed windows of {} ms stand in for steps", parser.describe(),
        outcome.markers > 0 ? "came in time" : "came", outcome.steps, o.window_ms));
  if (timeline.markers_ignored() > 0)
    outcome.notes.push_back(fmt::format(
        "{} step markers came after the first {} s and were not used: the steps were already "
        "time windows",
        timeline.markers_ignored(), o.grace_ms / 1000));
  if (outcome.malformed_markers > 0)
    outcome.notes.push_back(
        fmt::format("{} malformed step markers were ignored", outcome.malformed_markers));
  std::string failures;
  for (const std::string& failure : probe.failures())
    failures.append(failures.empty() ? "" : "\n").append(failure);
  batch.meta = {{"complete", "true"},
                {"outcome", stops_seen > 0 && !attached ? "interrupted" : "complete"},
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
