#include "telemetry/profile/profiler.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <map>
#include <optional>

#include "telemetry/profile/aggregator.hpp"
#include "telemetry/profile/profile_data.hpp"
#include "telemetry/profile/syscall_poller.hpp"
#include "telemetry/profile/unwinder.hpp"
#include "telemetry/profile/wait_class.hpp"
#include "util/error.hpp"
#include "util/parse.hpp"

namespace nrmlab::telemetry::profile {
namespace {

std::int64_t profiler_thread_cpu_ns() {
  timespec used{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &used);
  return static_cast<std::int64_t>(used.tv_sec) * 1'000'000'000 + used.tv_nsec;
}

std::string status_text(const Availability& status) {
  return status.available ? "sampled" : "unavailable: " + status.reason;
}

std::string off_cpu_text(const Availability& status, bool polled) {
  if (!status.off_cpu) return "not measured";
  if (polled) return "blocked threads' system calls and stacks (/proc/<tid>/syscall), once a drain";
  return status.off_cpu_stacks ? "context switches (perf), with the stack at each switch-out"
                               : "context switches (perf), without stacks";
}

// "clock_nanosleep@GLIBC_2.2.5" -> "clock_nanosleep": which version of a symbol a library
// exports is noise in a profile, and would split one function in two.
void strip_symbol_version(std::string& function) {
  if (const auto at = function.find('@'); at != std::string::npos && at > 0) function.resize(at);
}

MetaRow meta_row(std::string_view key, std::string value) {
  return {std::string(key), std::move(value)};
}

}  // namespace

unsigned parse_profile_rate(std::string_view text) {
  if (text == "off" || text == "0") return 0;
  const auto rate = parse_number<std::int64_t>(text);
  if (!rate || *rate < 1 || *rate > 10'000)
    throw Error(
        fmt::format("'{}': expected off or a rate in Hz from 1 to 10000 "
                    "(default {})",
                    text, k_default_profile_hz));
  return static_cast<unsigned>(*rate);
}

std::string python_frames_note(std::string_view argv0) {
  const auto slash = argv0.rfind('/');
  const std::string_view name = slash == std::string_view::npos ? argv0 : argv0.substr(slash + 1);
  if (name.substr(0, 6) != "python" ||
      name.find_first_not_of("0123456789.", 6) != std::string_view::npos)
    return {};
  return "a Python program: its frames are the interpreter's C functions (time_sleep, "
         "_PyEval_EvalFrameDefault), not the script's -- Python 3.11 and older have no perf "
         "support, and 3.12's PYTHONPERFSUPPORT map is not read yet";
}

std::vector<MetaRow> profile_off_meta() {
  return {meta_row(meta_key::k_status, "off"),
          meta_row(meta_key::k_enable_hint, "--profile HZ (e.g. --profile 99)")};
}

// The thread's state: the sampler, the /proc poller where perf gives no off-CPU stacks, one
// unwinder per sampled process (made while it lives: its maps are read then), and the
// aggregate since the last batch.
struct Profiler::Work {
  Work(pid_t pid, const ProfilerOptions& options, const std::set<pid_t>& ignored)
      : aggregate(options.origin_ns, options.window_ns, options.stored_ids),
        kernel(std::make_shared<KernelSymbols>()) {
    if (options.use_perf) {
      sampler.emplace(pid, sampler_options(options, ignored));
      status = sampler->status();
    } else {
      status.reason = "perf sampling was turned off";
    }
    // Without kernel sampling, perf measures off-CPU intervals but not where they wait:
    // /proc/<tid>/syscall does (syscall_poller.hpp). A forced "unavailable" holds for both.
    const bool forced = std::getenv("NRMLAB_PROFILE_UNAVAILABLE") != nullptr;
    if (forced || (status.available && status.off_cpu_stacks)) return;
    poller.emplace(pid, options.children, ignored);
    if (!poller->status().available) {
      poller.reset();
      return;
    }
    if (!status.available) {
      // Off-CPU stacks alone are still worth having: say what is missing.
      status.note = fmt::format("on-CPU time not sampled: {}{}", status.reason,
                                status.enable_hint.empty() ? "" : " (" + status.enable_hint + ")");
      status.available = true;
      status.reason.clear();
    }
    status.off_cpu = true;
    status.off_cpu_stacks = true;
    if (!poller->status().note.empty())
      status.note += (status.note.empty() ? "" : "; ") + poller->status().note;
  }

  // Joins `more` to the status's note.
  void add_note(const std::string& more) {
    if (!more.empty()) status.note += (status.note.empty() ? "" : "; ") + more;
  }

  static SamplerOptions sampler_options(const ProfilerOptions& options,
                                        const std::set<pid_t>& ignored) {
    SamplerOptions s;
    s.frequency_hz = options.hz;
    s.children = options.children;
    s.ring_pages = k_ring_pages;
    s.ignored_tids = ignored;
    s.assume_unprivileged = options.assume_unprivileged;
    return s;
  }

  Unwinder* unwinder_for(std::int32_t pid) {
    auto it = unwinders.find(pid);
    if (it == unwinders.end()) {
      std::unique_ptr<Unwinder> made;
      try {
        made = std::make_unique<Unwinder>(pid, kernel);
      } catch (const Error&) {
        ++unwinders_missed;  // gone before its first sample was read: its frames are unknown
      }
      it = unwinders.emplace(pid, std::move(made)).first;
    }
    return it->second.get();
  }

  void add(const RawSample& sample, std::int64_t weight_ns) {
    std::vector<Frame> user;
    std::vector<Frame> kernel_frames;
    if (Unwinder* unwinder = unwinder_for(sample.pid)) {
      try {
        user = unwinder->unwind(sample);
        kernel_frames = unwinder->symbolize_kernel(sample.kernel_chain);
      } catch (const Error&) {
        // Kept without frames: its time still counts, under "[no stack]", with its wait.
      }
    }
    const WaitClass wait = classify_wait(user, kernel_frames, sample.wait);
    for (Frame& frame : user)
      strip_symbol_version(frame.function);
    aggregate.add(user, kernel_frames, wait, static_cast<std::int64_t>(sample.time_ns), weight_ns);
  }

  // One turn: what the rings hold, and a look at the blocked threads.
  void read(std::int64_t polled_ns) {
    drained.clear();
    if (sampler && sampler->status().available) {
      sampler->refresh_threads();
      sampler->drain(drained);
    }
    const std::int64_t period = period_ns();
    for (const RawSample& sample : drained) {
      if (sample.wait == WaitClass::on_cpu) {
        add(sample, period);
      } else if (!poller || sample.wait == WaitClass::run_queue) {
        // With the poller, perf's stackless waits would count the same time twice; its
        // preemptions (waits for a CPU) the poller cannot see.
        add(sample, static_cast<std::int64_t>(sample.weight_ns));
      }
    }
    if (!poller) return;
    drained.clear();
    poller->poll(static_cast<std::uint64_t>(polled_ns), drained);
    for (const RawSample& sample : drained)
      add(sample, polled_ns);
  }

  std::string final_note() const {
    std::string note = status.note;
    if (unwinders_missed > 0)
      note += fmt::format("{}{} processes ended before their stacks could be read",
                          note.empty() ? "" : "; ", unwinders_missed);
    if (lost() > 0)
      note += fmt::format(
          "{}the kernel dropped {} records (full ring buffers): the times are "
          "estimates",
          note.empty() ? "" : "; ", lost());
    return note;
  }

  std::int64_t period_ns() const {
    return sampler ? static_cast<std::int64_t>(sampler->period_ns()) : 0;
  }
  std::uint64_t lost() const { return sampler ? sampler->lost() : 0; }

  Availability status;
  std::optional<StackSampler> sampler;  // none when perf is not to be used
  std::optional<SyscallPoller> poller;
  ProfileAggregator aggregate;
  std::shared_ptr<const KernelSymbols> kernel;
  std::map<std::int32_t, std::unique_ptr<Unwinder>> unwinders;
  std::vector<RawSample> drained;
  std::int64_t unwinders_missed = 0;
};

Profiler::Profiler(pid_t pid, ProfilerOptions options, Submit submit)
    : m_options(std::move(options)), m_submit(std::move(submit)) {
  if (m_options.hz == 0) throw Error("profile: the sampling rate must be at least 1 Hz");
  m_thread = std::thread([this, pid] { run(pid); });
  std::unique_lock lock(m_mutex);
  m_wake.wait(lock, [this] { return m_ready; });
}

Profiler::~Profiler() {
  stop();
}

void Profiler::stop() {
  {
    const std::lock_guard lock(m_mutex);
    m_stopping = true;
  }
  m_wake.notify_all();
  if (m_thread.joinable()) m_thread.join();
}

// The thread: open the sampler here, so that this thread can be left out of it, then drain
// until stopped. Symbolizing needs the target alive only for its maps, read when its
// unwinder is made (at its first sample): the files themselves stay on disk.
void Profiler::run(pid_t pid) {
  std::set<pid_t> ignored = m_options.ignored_tids;
  ignored.insert(static_cast<pid_t>(::gettid()));
  std::optional<Work> work;
  try {
    work.emplace(pid, m_options, ignored);
    if (work->status.available) work->add_note(m_options.program_note);
    m_status = work->status;
    if (m_status.available) work->unwinder_for(pid);  // while it surely lives
  } catch (const std::exception& error) {
    m_status = Availability{};
    m_status.reason = error.what();
  }
  Batch first;
  first.meta = {meta_row(meta_key::k_status, status_text(m_status)),
                meta_row(meta_key::k_enable_hint, m_status.enable_hint),
                meta_row(meta_key::k_note, m_status.note),
                meta_row(meta_key::k_hz, std::to_string(m_options.hz)),
                meta_row(meta_key::k_period_ns, std::to_string(work ? work->period_ns() : 0)),
                meta_row(meta_key::k_window_ns, std::to_string(m_options.window_ns)),
                meta_row(meta_key::k_off_cpu, off_cpu_text(m_status, work && work->poller))};
  m_submit(std::move(first));
  {
    const std::lock_guard lock(m_mutex);
    m_ready = true;
  }
  m_wake.notify_all();
  if (!m_status.available) return;
  // Nothing the profiler meets may end the run it observes (an exception escaping a thread
  // would): it stops sampling and says why.
  try {
    drain_until_stopped(*work);
  } catch (const std::exception& error) {
    try {
      Batch last;
      last.meta = {meta_row(meta_key::k_note,
                            work->final_note() + "; sampling stopped early: " + error.what())};
      m_submit(std::move(last));
    } catch (const std::exception&) {
      // The writer is gone too: nothing left to tell.
    }
  }
}

void Profiler::drain_until_stopped(Work& work) {
  using Clock = std::chrono::steady_clock;
  auto last_submit = Clock::now();
  auto last_read = Clock::now();
  for (bool stopping = false; !stopping;) {
    {
      std::unique_lock lock(m_mutex);
      stopping = m_wake.wait_for(lock, m_options.drain_every, [this] { return m_stopping; });
    }
    const auto now = Clock::now();
    work.read(std::chrono::duration_cast<std::chrono::nanoseconds>(now - last_read).count());
    last_read = now;
    if (!stopping && now - last_submit < m_options.submit_every) continue;
    Batch batch;
    work.aggregate.take(batch);
    if (stopping)
      batch.meta = {meta_row(meta_key::k_samples, std::to_string(work.aggregate.samples())),
                    meta_row(meta_key::k_lost, std::to_string(work.lost())),
                    meta_row(meta_key::k_cpu_ns, std::to_string(profiler_thread_cpu_ns())),
                    meta_row(meta_key::k_note, work.final_note())};
    if (!batch.empty()) m_submit(std::move(batch));
    last_submit = now;
  }
}

}  // namespace nrmlab::telemetry::profile
