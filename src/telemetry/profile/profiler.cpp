#include "telemetry/profile/profiler.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <ctime>
#include <map>
#include <optional>

#include "telemetry/profile/aggregator.hpp"
#include "telemetry/profile/profile_data.hpp"
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

std::string off_cpu_text(const Availability& status) {
  if (!status.off_cpu) return "not measured";
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
        fmt::format("--profile '{}': expected off or a rate in Hz from 1 to 10000 "
                    "(default {})",
                    text, k_default_profile_hz));
  return static_cast<unsigned>(*rate);
}

std::vector<MetaRow> profile_off_meta() {
  return {meta_row(meta_key::k_status, "off"),
          meta_row(meta_key::k_enable_hint, "--profile HZ (e.g. --profile 99)")};
}

// The thread's state: the sampler, one unwinder per sampled process (made while it lives:
// its maps are read then), and the aggregate since the last batch.
struct Profiler::Work {
  Work(pid_t pid, const ProfilerOptions& options, std::set<pid_t> ignored)
      : target(pid),
        sampler(pid, sampler_options(options, std::move(ignored))),
        aggregate(options.origin_ns, options.window_ns, options.stored_ids),
        kernel(std::make_shared<KernelSymbols>()) {}

  static SamplerOptions sampler_options(const ProfilerOptions& options, std::set<pid_t> ignored) {
    SamplerOptions s;
    s.frequency_hz = options.hz;
    s.children = options.children;
    s.ring_pages = k_ring_pages;
    s.ignored_tids = std::move(ignored);
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

  void add(const RawSample& sample, std::int64_t period_ns) {
    std::vector<Frame> user;
    std::vector<Frame> kernel_frames;
    if (Unwinder* unwinder = unwinder_for(sample.pid)) {
      try {
        user = unwinder->unwind(sample);
        kernel_frames = unwinder->symbolize_kernel(sample.kernel_chain);
      } catch (const Error&) {
        ++unwind_failures;  // counted; the sample keeps its wait class
      }
    }
    const WaitClass wait = classify_wait(user, kernel_frames, sample.wait);
    for (Frame& frame : user)
      strip_symbol_version(frame.function);
    const std::uint64_t weight =
        sample.wait == WaitClass::on_cpu ? static_cast<std::uint64_t>(period_ns) : sample.weight_ns;
    aggregate.add(user, kernel_frames, wait, static_cast<std::int64_t>(sample.time_ns),
                  static_cast<std::int64_t>(weight));
  }

  pid_t target;
  StackSampler sampler;
  ProfileAggregator aggregate;
  std::shared_ptr<const KernelSymbols> kernel;
  std::map<std::int32_t, std::unique_ptr<Unwinder>> unwinders;
  std::vector<RawSample> drained;
  std::int64_t unwinders_missed = 0;
  std::int64_t unwind_failures = 0;
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
    work.emplace(pid, m_options, std::move(ignored));
    m_status = work->sampler.status();
    if (m_status.available) work->unwinder_for(pid);  // while it surely lives
  } catch (const std::exception& error) {
    m_status = Availability{};
    m_status.reason = error.what();
  }
  Batch first;
  first.meta = {
      meta_row(meta_key::k_status, status_text(m_status)),
      meta_row(meta_key::k_enable_hint, m_status.enable_hint),
      meta_row(meta_key::k_note, m_status.note),
      meta_row(meta_key::k_hz, std::to_string(m_options.hz)),
      meta_row(meta_key::k_period_ns, std::to_string(work ? work->sampler.period_ns() : 0)),
      meta_row(meta_key::k_window_ns, std::to_string(m_options.window_ns)),
      meta_row(meta_key::k_off_cpu, off_cpu_text(m_status))};
  m_submit(std::move(first));
  {
    const std::lock_guard lock(m_mutex);
    m_ready = true;
  }
  m_wake.notify_all();
  if (!m_status.available) return;

  auto last_submit = std::chrono::steady_clock::now();
  for (bool stopping = false; !stopping;) {
    {
      std::unique_lock lock(m_mutex);
      stopping = m_wake.wait_for(lock, m_options.drain_every, [this] { return m_stopping; });
    }
    work->sampler.refresh_threads();
    work->drained.clear();
    work->sampler.drain(work->drained);
    for (const RawSample& sample : work->drained)
      work->add(sample, static_cast<std::int64_t>(work->sampler.period_ns()));
    const auto now = std::chrono::steady_clock::now();
    if (stopping || now - last_submit >= m_options.submit_every) {
      Batch batch;
      work->aggregate.take(batch);
      if (stopping) {
        std::string note = m_status.note;
        if (work->unwinders_missed > 0)
          note += fmt::format("{}{} processes ended before their stacks could be read",
                              note.empty() ? "" : "; ", work->unwinders_missed);
        batch.meta = {meta_row(meta_key::k_samples, std::to_string(work->aggregate.samples())),
                      meta_row(meta_key::k_lost, std::to_string(work->sampler.lost())),
                      meta_row(meta_key::k_cpu_ns, std::to_string(profiler_thread_cpu_ns())),
                      meta_row(meta_key::k_note, note)};
      }
      if (!batch.empty()) m_submit(std::move(batch));
      last_submit = now;
    }
  }
}

}  // namespace nrmlab::telemetry::profile
