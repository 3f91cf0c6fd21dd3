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
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "telemetry/allocator.hpp"
#include "telemetry/child_accounting.hpp"
#include "telemetry/probes.hpp"
#include "telemetry/process_probe.hpp"
#include "telemetry/profile/profiler.hpp"
#include "telemetry/provenance.hpp"
#include "telemetry/step_markers.hpp"
#include "telemetry/step_timeline.hpp"
#include "telemetry/telemetry_store.hpp"
#include "telemetry/watch_orphans.hpp"
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

// A warning when the steps cover under half of the program's wall time (a step regex that
// rarely matches, a last marker long before the end): the analysis sees only the steps.
std::optional<std::string> coverage_note(const StepTimeline& timeline) {
  const double duration = static_cast<double>(timeline.duration_ns());
  const double covered = static_cast<double>(timeline.covered_ns());
  if (duration <= 0 || covered >= 0.5 * duration) return std::nullopt;
  return fmt::format(
      "steps cover only {:.0f}% of the program's {:.3g} s (after the last: {:.3g} s): the "
      "analysis sees only that part",
      100.0 * covered / duration, duration / 1e9, static_cast<double>(timeline.tail_ns()) / 1e9);
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) return fmt::format("exited with status {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return fmt::format("killed by signal {} ({}){}", WTERMSIG(status), strsignal(WTERMSIG(status)),
                       WCOREDUMP(status) ? ", core dumped" : "");
  return "ended";
}

// nrmlab's own CPU time so far, every thread (the writer, the stack sampler); RUSAGE_SELF
// leaves the children out.
std::int64_t self_cpu_ns() {
  rusage self{};
  ::getrusage(RUSAGE_SELF, &self);
  return timeval_ns(self.ru_utime) + timeval_ns(self.ru_stime);
}

// Whether the program has exited (it stays a zombie, readable in /proc, until reaped).
bool exited_unreaped(pid_t pid) {
  siginfo_t info{};
  return ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
         info.si_pid == pid;
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

// Refuses a --pid that names no process, then clears an earlier run's telemetry.db here.
fs::path prepare_run_directory(const WatchOptions& o) {
  if (o.pid != 0 && ::kill(o.pid, 0) != 0 && errno == ESRCH)
    throw Error(fmt::format("--pid {}: no such process", o.pid));
  fs::create_directories(o.out_dir);
  const fs::path db_path = o.out_dir / "telemetry.db";
  std::error_code ignored;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"})
    fs::remove(db_path.string() + suffix, ignored);
  return db_path;
}

// What the phases of one watch share. The members are declared in the order the phases
// create them, so they are destroyed in reverse: the channels before the program's
// descriptors they read, the writer after everything that feeds it.
class Session {
 public:
  Session(const WatchOptions& options, const MarkerParser& parser, const fs::path& db_path);

  // Starts the program (or attaches to it) and submits the run's first meta.
  void start();
  // The program's output and step channels, the /proc probe and the step timeline.
  void open_channels();
  // Reads, samples and forwards until the program has ended and its output is closed.
  void poll_until_ended();
  // Closes the last steps and writes the outcome into the meta.
  WatchOutcome close_run();

 private:
  void warn(const std::string& what) const;
  Batch first_batch() const;
  void handle_line(std::string_view line, bool truncated);
  void drain();
  void take_readings(std::int64_t now);
  std::optional<ProcessSample> read_program(std::int64_t now, bool with_pss);
  void check_program(std::int64_t now);
  std::int64_t take_final_reading();
  void handle_stops(std::int64_t now);
  bool ended_and_drained(std::int64_t now);
  void wait_for_input(std::int64_t now);
  void finish_steps();
  void start_profiler();
  void describe_outcome();
  std::string run_outcome() const;
  void write_outcome_meta();

  const WatchOptions& m_options;
  const MarkerParser& m_parser;
  const bool m_attached;
  BatchWriter m_writer;
  SystemSampler m_system;
  const std::unique_ptr<AllocatorProbe> m_allocator;
  WatchOutcome m_outcome;
  ChildAccounting m_children;  // a cgroup, with --children where possible
  std::int64_t m_origin = 0;
  std::int64_t m_self_cpu_at_origin = 0;  // nrmlab's own CPU time when the watch began
  StartedProgram m_program;
  std::optional<Orphans> m_orphans;  // what the program leaves running (not when attached)
  pid_t m_pid;
  bool m_own_group = false;
  fs::path m_socket;
  UniqueFd m_out_sink;
  UniqueFd m_err_sink;
  std::vector<Channel> m_channels;
  std::optional<ProcessProbe> m_probe;
  std::optional<profile::Profiler> m_profiler;
  std::optional<StepTimeline> m_timeline;
  StepMarker m_marker;  // reused: parsing a marker then allocates nothing
  std::vector<char> m_buffer = std::vector<char>(65536);
  // The poll loop's state.
  Batch m_batch;
  std::int64_t m_next_probe = 0;
  std::int64_t m_next_side = 0;
  std::int64_t m_last_flush = 0;
  std::int64_t m_last_pss = 0;
  std::optional<std::int64_t> m_ended_at;
  std::optional<std::int64_t> m_exited_at;  // the program's own end (m_ended_at: the watch's)
  ProcessSample m_exit_reading;             // its final account, once reaped
  std::optional<ProcessSample> m_last_sample;
  int m_wait_status = 0;
  rusage m_usage{};
  bool m_reaped = false;
  int m_stops_seen = 0;
};

Session::Session(const WatchOptions& options, const MarkerParser& parser, const fs::path& db_path)
    : m_options(options),
      m_parser(parser),
      m_attached(options.pid != 0),
      m_writer(db_path),
      m_allocator(detect_allocator()),
      m_pid(options.pid) {}

void Session::warn(const std::string& what) const {
  if (m_options.warn) m_options.warn(what);
}

Batch Session::first_batch() const {
  Batch first;
  first.meta = collect_provenance(*m_allocator, m_system);
  first.meta.emplace_back("schema", k_telemetry_schema_version);
  for (auto& entry : watch_meta(m_options, m_parser))
    first.meta.push_back(std::move(entry));
  first.conditions.emplace_back(0, "program");
  return first;
}

void Session::start() {
  Batch first = first_batch();
  m_origin = monotonic_ns();
  m_self_cpu_at_origin = self_cpu_ns();
  for (auto& entry : start_time_meta(m_origin))
    first.meta.push_back(std::move(entry));
  // A program that may read nrmlab's terminal stays in its foreground process group.
  m_own_group = ::isatty(STDIN_FILENO) != 1;
  m_socket = fs::absolute(m_options.out_dir) / "step.sock";
  if (!m_attached) {
    // A Unix socket path has at most 107 bytes; deep run directories go without one.
    const bool offer_socket = m_socket.string().size() < 100;
    if (!offer_socket)
      m_outcome.notes.push_back(
          "NRMLAB_STEP_SOCKET is not offered: the run directory's path is too long for a Unix "
          "socket");
    m_orphans.emplace(m_options.include_children);
    if (m_options.include_children) m_children = ChildAccounting::for_program();
    try {
      m_program = start_program(m_options.argv, offer_socket ? m_socket : fs::path(), m_own_group,
                                m_children.join_fd());
    } catch (const ProgramNotStarted& error) {
      first.meta.emplace_back("complete", "true");
      first.meta.emplace_back("outcome", std::string("not started: ") + error.what());
      first.meta.emplace_back("exit_code", std::to_string(error.exit_code()));
      m_writer.submit(std::move(first));
      m_writer.close();
      throw;
    }
    m_pid = m_program.pid;
    m_orphans->set_program(m_pid);
    m_children.confirm(m_pid);
    first.meta.emplace_back("process.program", std::to_string(m_pid));
  } else if (m_options.include_children) {
    m_children = ChildAccounting::reaped_only("attached by --pid: the process stays where it is");
  }
  m_writer.submit(std::move(first));
}

void Session::open_channels() {
  ::signal(SIGPIPE, SIG_IGN);  // a reader of our output that goes away must not end the watch
  m_out_sink = m_attached ? UniqueFd() : open_sink(m_options.stdout_file, STDOUT_FILENO);
  m_err_sink = m_attached ? UniqueFd() : open_sink(m_options.stderr_file, STDERR_FILENO);
  if (!m_attached) {
    m_channels.push_back({m_program.stdout_fd.get(), m_out_sink.get(), false, {}, true});
    m_channels.push_back({m_program.stderr_fd.get(), m_err_sink.get(), false, {}, true});
    m_channels.push_back({m_program.step_fd.get(), -1, false, {}, true});
    if (m_program.step_socket.valid())
      m_channels.push_back({m_program.step_socket.get(), -1, true, {}, true});
  }
  m_probe.emplace(m_pid, m_options.include_children);
  start_profiler();
  m_timeline.emplace(m_origin, m_options.window_ms * k_ms, m_options.grace_ms * k_ms, !m_attached);
}

void Session::handle_line(std::string_view line, bool truncated) {
  MarkerResult result = m_parser.parse(line, m_marker);
  // A line cut at 64 KiB may end inside a number: a marker there cannot be trusted.
  if (truncated && result.kind == MarkerKind::marker) {
    result.kind = MarkerKind::malformed;
    result.problem = "the line is longer than 64 KiB";
  }
  if (result.kind == MarkerKind::marker) {
    m_timeline->add_marker(monotonic_ns(), std::move(m_marker));
  } else if (result.kind == MarkerKind::malformed) {
    if (++m_outcome.malformed_markers <= 3)
      warn(fmt::format("malformed step marker ignored: {} (line: {:.120})", result.problem, line));
  }
}

// Reads what every channel has now, passing output on and markers to the timeline.
void Session::drain() {
  const auto on_line = [this](std::string_view line, bool truncated) {
    handle_line(line, truncated);
  };
  for (Channel& c : m_channels) {
    std::size_t taken = 0;
    while (c.open && taken < k_max_read_per_turn) {
      const ssize_t n = c.datagrams ? ::recv(c.fd, m_buffer.data(), m_buffer.size(), 0)
                                    : ::read(c.fd, m_buffer.data(), m_buffer.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) break;  // EAGAIN: nothing more now
      if (n == 0) {
        if (!c.datagrams) {
          c.lines.finish(on_line);
          c.open = false;
        }
        break;
      }
      const std::string_view chunk(m_buffer.data(), static_cast<std::size_t>(n));
      if (c.sink >= 0 && !write_all(c.sink, chunk)) {
        // Our reader is gone; so is the program's, as it would be unwatched (SIGPIPE).
        c.lines.feed(chunk, on_line);
        c.lines.finish(on_line);
        c.open = false;
        for (UniqueFd* fd : {&m_program.stdout_fd, &m_program.stderr_fd})
          if (fd->get() == c.fd) fd->reset();
        break;
      }
      c.lines.feed(chunk, on_line);
      if (c.datagrams) c.lines.finish(on_line);  // a datagram is whole lines
      taken += static_cast<std::size_t>(n);
    }
  }
}

void Session::poll_until_ended() {
  m_next_probe = m_origin;
  m_next_side = m_origin;
  m_last_flush = m_origin;
  m_last_pss = m_origin - k_pss_period_ns;
  for (;;) {
    const std::int64_t now = monotonic_ns();
    take_readings(now);
    check_program(now);
    handle_stops(now);
    if (ended_and_drained(now)) break;
    wait_for_input(now);
    drain();
  }
  drain();  // a last datagram or line sent just before the end
}

// The program's reading; with --children, plus what the processes it left running did (and
// after its end, its final account plus theirs).
std::optional<ProcessSample> Session::read_program(std::int64_t now, bool with_pss) {
  std::optional<ProcessSample> sample = m_probe->sample(with_pss);
  if (m_orphans && m_options.include_children) {
    if (!sample && m_reaped) sample = m_exit_reading;
    if (sample && (m_reaped || m_orphans->followed() > 0))
      sample = m_orphans->add_to(*sample, now, with_pss);
  }
  // With a cgroup, the CPU of the whole tree (orphans and unwaited children included).
  if (sample) m_children.apply(*sample);
  return sample;
}

// Reaps the program and any orphan it leaves. The watch ends with the program or, with
// --children, once the processes it left running (reparented to nrmlab) have ended too.
void Session::check_program(std::int64_t now) {
  if (m_attached || m_ended_at) return;
  if (!m_reaped && exited_unreaped(m_pid)) {
    // Read the zombie first: once reaped, what it did since the last reading is gone from
    // /proc (wait4's account has its CPU and storage bytes, not its I/O calls).
    now = std::max(now, take_final_reading());
    while (::wait4(m_pid, &m_wait_status, 0, &m_usage) < 0 && errno == EINTR) {
    }
    m_reaped = true;
    m_exited_at = now;
    // The base of any later reading: the program is gone and holds nothing.
    m_exit_reading = reaped_reading(m_usage, now, m_last_sample ? &*m_last_sample : nullptr);
    m_exit_reading.processes = 0;
    m_exit_reading.threads = 0;
    m_exit_reading.rss_bytes = m_exit_reading.pss_bytes = m_exit_reading.open_fds = 0;
    m_orphans->discover(now, true);
  }
  m_orphans->reap(now);
  m_orphans->discover(now, false);
  if (!m_reaped) return;
  if (Orphans::any_child() && !m_options.include_children) {
    m_outcome.notes.push_back(
        fmt::format("the program exited{}, leaving processes it started running (a daemon?): "
                    "watch again with --children to follow them",
                    now - m_origin < 2'000 * k_ms ? " at once" : ""));
  } else if (Orphans::any_child() && m_stops_seen == 0) {
    return;  // followed until they end (a stop ends the watch with the program)
  }
  m_ended_at = now;
}

// The program's and the machine's readings when due, the steps they complete, and a batch
// to telemetry.db once a second.
void Session::take_readings(std::int64_t now) {
  if (now >= m_next_probe) {
    const bool with_pss = now - m_last_pss >= k_pss_period_ns;
    if (const auto sample = read_program(now, with_pss)) {
      if (with_pss) m_last_pss = now;
      m_timeline->add_sample(*sample);
      m_batch.process.push_back(
          {0, m_timeline->step_at(sample->t_ns), sample->t_ns - m_origin, *sample});
      m_last_sample = sample;
      ++m_outcome.readings;
    } else if (m_attached && !m_ended_at) {
      m_ended_at = now;  // the process we attached to is gone
    }
    m_next_probe = std::max(m_next_probe + m_options.period_ms * k_ms, now);
  }
  if (now >= m_next_side) {
    SystemRow row;
    row.t_ns = now - m_origin;
    row.step = m_timeline->step_at(now);
    row.sample = m_system.sample_system();
    m_batch.system.push_back(row);
    m_next_side = std::max(m_next_side + m_options.side_period_ms * k_ms, now);
  }
  m_timeline->take_ready(m_batch);
  if (now - m_last_flush >= 1'000 * k_ms) {
    m_writer.submit(std::move(m_batch));
    m_batch = Batch{};
    m_last_flush = now;
  }
}

// The exited program's last /proc reading (before it is reaped); returns its time.
std::int64_t Session::take_final_reading() {
  auto sample = m_probe->final_sample();
  if (!sample) return 0;
  m_children.apply(*sample);
  m_timeline->add_sample(*sample);
  m_batch.process.push_back(
      {0, m_timeline->step_at(sample->t_ns), sample->t_ns - m_origin, *sample});
  m_last_sample = sample;
  return sample->t_ns;
}

void Session::handle_stops(std::int64_t now) {
  const int stops = m_options.stop_count ? m_options.stop_count() : 0;
  if (stops <= m_stops_seen) return;
  m_stops_seen = stops;
  const pid_t target = m_own_group ? -m_pid : m_pid;
  if (m_reaped && !m_ended_at) {
    m_ended_at = now;  // stop following what the program left running
    m_outcome.notes.push_back(
        "stopped following the processes the program left running; they go on");
  } else if (m_attached) {
    m_ended_at = m_ended_at.value_or(now);  // stop watching; the process is not ours to signal
    m_outcome.notes.push_back(fmt::format("stopped watching process {}; it goes on", m_pid));
  } else if (stops == 1) {
    // In nrmlab's own group the terminal's signal reached the program already.
    if (m_own_group || m_options.stop_signal() != SIGINT) ::kill(target, m_options.stop_signal());
    if (m_options.keep_handling_stops) m_options.keep_handling_stops();
  } else if (!m_reaped) {
    ::kill(target, SIGKILL);
    m_outcome.notes.push_back("a second stop: the program was killed");
  }
}

// True once the program has ended and its output is closed, or has stayed open too long.
bool Session::ended_and_drained(std::int64_t now) {
  const bool output_open = std::any_of(m_channels.begin(), m_channels.end(),
                                       [](const Channel& c) { return c.open && !c.datagrams; });
  const bool done = m_ended_at && (!output_open || now - *m_ended_at > k_drain_ns);
  if (done && output_open)
    m_outcome.notes.push_back(
        "the program exited, but processes it started still hold its output; they are not "
        "watched");
  return done;
}

void Session::wait_for_input(std::int64_t now) {
  std::vector<pollfd> polled;
  for (const Channel& c : m_channels)
    if (c.open) polled.push_back({c.fd, POLLIN, 0});
  const std::int64_t wake = std::min(m_next_probe, m_next_side);
  const int timeout = static_cast<int>(std::clamp<std::int64_t>((wake - now) / k_ms, 0, 100));
  if (::poll(polled.data(), polled.size(), m_ended_at ? std::min(timeout, 20) : timeout) < 0 &&
      errno != EINTR)
    throw Error(fmt::format("watch: poll: {}", std::strerror(errno)));
}

// Stack sampling of the program's threads (and with --children its descendants'), on the
// watch's clock so that its windows line up with the steps.
void Session::start_profiler() {
  if (m_options.profile_hz == 0) {
    Batch off;
    off.meta = profile::profile_off_meta();
    m_writer.submit(std::move(off));
    return;
  }
  profile::ProfilerOptions options;
  options.hz = m_options.profile_hz;
  options.window_ns = m_options.profile_window_ms * 1'000'000;
  options.children = m_options.include_children;
  options.origin_ns = m_origin;
  if (!m_attached) options.program_note = profile::python_frames_note(m_options.argv.front());
  m_profiler.emplace(m_pid, options, [this](Batch&& batch) { m_writer.submit(std::move(batch)); });
  if (!m_profiler->status().available)
    m_outcome.notes.push_back(fmt::format("no stack samples: {}{}", m_profiler->status().reason,
                                          m_profiler->status().enable_hint.empty()
                                              ? ""
                                              : " (" + m_profiler->status().enable_hint + ")"));
}

WatchOutcome Session::close_run() {
  if (m_profiler) m_profiler->stop();  // its last batch goes before the outcome's
  finish_steps();
  describe_outcome();
  write_outcome_meta();
  return std::move(m_outcome);
}

void Session::finish_steps() {
  const std::int64_t end = m_ended_at.value_or(monotonic_ns());
  if (m_reaped && m_options.include_children && m_orphans->followed() > 0) {
    // The followed orphans' final accounts (wait4) too: one last reading, kept in the table.
    ProcessSample last = m_orphans->add_to(m_exit_reading, end, false);
    m_children.apply(last);
    m_timeline->add_sample(last);
    m_batch.process.push_back({0, m_timeline->step_at(last.t_ns), last.t_ns - m_origin, last});
  } else if (m_reaped) {
    ProcessSample last = reaped_reading(m_usage, end, m_last_sample ? &*m_last_sample : nullptr);
    m_children.apply(last);
    m_timeline->add_sample(last);
  }
  const auto on_line = [this](std::string_view line, bool truncated) {
    handle_line(line, truncated);
  };
  for (Channel& c : m_channels)
    if (c.open) c.lines.finish(on_line);
  m_timeline->finish(end, m_batch);
}

void Session::describe_outcome() {
  const StepTimeline& timeline = *m_timeline;
  m_outcome.markers = timeline.markers();
  m_outcome.steps = timeline.steps_written();
  m_outcome.step_source = timeline.windows() ? "time windows" : "markers";
  if (m_attached) {
    m_outcome.ended = m_stops_seen > 0 ? "still running (no longer watched)" : "ended";
  } else {
    m_outcome.exit_code = WIFEXITED(m_wait_status)     ? WEXITSTATUS(m_wait_status)
                          : WIFSIGNALED(m_wait_status) ? 128 + WTERMSIG(m_wait_status)
                                                       : 1;
    m_outcome.ended = describe_status(m_wait_status);
    if (m_orphans->followed() > 0 && m_exited_at && m_ended_at)
      m_outcome.notes.push_back(fmt::format(
          "the program exited after {:.1f} s, leaving {} processes running: they were followed "
          "(--children) until they ended {:.1f} s later",
          static_cast<double>(*m_exited_at - m_origin) / 1e9, m_orphans->followed(),
          static_cast<double>(*m_ended_at - *m_exited_at) / 1e9));
    // Without --children, a wrapper (`sh -c ...`, a launcher script) shows none of the work.
    const double own = m_last_sample
                           ? static_cast<double>(m_last_sample->user_ns + m_last_sample->system_ns)
                           : 0.0;
    const auto all =
        static_cast<double>(timeval_ns(m_usage.ru_utime) + timeval_ns(m_usage.ru_stime));
    if (!m_options.include_children && all > 0.2e9 && own < 0.5 * all)
      m_outcome.notes.push_back(fmt::format(
          "most of the CPU time ({:.1f} of {:.1f} s) was in processes the program started: "
          "watch again with --children to count them",
          (all - own) / 1e9, all / 1e9));
  }
  if (timeline.windows())
    m_outcome.notes.push_back(fmt::format(
        "no step marker ({}) {}: {} fixed windows of {} ms stand in for steps", m_parser.describe(),
        m_outcome.markers > 0 ? "came in time" : "came", m_outcome.steps, m_options.window_ms));
  if (timeline.markers_ignored() > 0)
    m_outcome.notes.push_back(fmt::format(
        "{} step markers came after the first {} s and were not used: the steps were already "
        "time windows",
        timeline.markers_ignored(), m_options.grace_ms / 1000));
  if (m_outcome.malformed_markers > 0)
    m_outcome.notes.push_back(
        fmt::format("{} malformed step markers were ignored", m_outcome.malformed_markers));
  if (auto note = coverage_note(timeline)) m_outcome.notes.push_back(std::move(*note));
}

// The run's outcome as the analysis shows it: "complete" only for a program that exited
// with status 0 (or a process attached to that ended), "interrupted" for a stopped watch,
// else how the program ended ("exited with status 1", "killed by signal 9 (Killed)").
std::string Session::run_outcome() const {
  if (m_attached) return "complete";
  if (m_stops_seen > 0) return "interrupted";
  return WIFEXITED(m_wait_status) && WEXITSTATUS(m_wait_status) == 0 ? "complete" : m_outcome.ended;
}

void Session::write_outcome_meta() {
  std::string failures;
  for (const std::string& failure : m_probe->failures())
    failures.append(failures.empty() ? "" : "\n").append(failure);
  // nrmlab's own cost: its CPU time over the watch as a share of one core.
  const std::int64_t self_ns = self_cpu_ns() - m_self_cpu_at_origin;
  const std::int64_t wall_ns = monotonic_ns() - m_origin;
  m_outcome.seconds = static_cast<double>(wall_ns) / 1e9;
  m_outcome.self_share =
      wall_ns > 0 ? static_cast<double>(self_ns) / static_cast<double>(wall_ns) : 0.0;
  m_batch.meta = {{"complete", "true"},
                  {"outcome", run_outcome()},
                  {"program_outcome", m_outcome.ended},
                  {"exit_code", std::to_string(m_outcome.exit_code)},
                  {"steps_recorded", std::to_string(m_outcome.steps)},
                  {"step_source", m_outcome.step_source},
                  {"step_markers", std::to_string(m_outcome.markers)},
                  {"malformed_markers", std::to_string(m_outcome.malformed_markers)},
                  {"watch.self_cpu_ns", std::to_string(self_ns)},
                  {"watch.wall_ns", std::to_string(wall_ns)},
                  {"recorder_share", fmt::format("{:.6f}", m_outcome.self_share)},
                  {"probe.runq", m_probe->runq_source()},
                  {"probe.children", m_children.describe()},
                  {"steps.covered_ns", std::to_string(m_timeline->covered_ns())},
                  {"steps.tail_ns", std::to_string(m_timeline->tail_ns())},
                  {"watch.duration_ns", std::to_string(m_timeline->duration_ns())},
                  {"failures", failures}};
  m_writer.submit(std::move(m_batch));
  m_writer.close();
  if (const auto error = m_writer.error()) warn("telemetry.db: " + *error);
}

}  // namespace

WatchOutcome watch(const WatchOptions& o) {
  // Everything that can be refused is refused before an earlier run here is replaced.
  const MarkerParser parser(o.step_regex);
  const fs::path db_path = prepare_run_directory(o);
  Session session(o, parser, db_path);
  session.start();
  session.open_channels();
  session.poll_until_ended();
  return session.close_run();
}

}  // namespace nrmlab::telemetry
