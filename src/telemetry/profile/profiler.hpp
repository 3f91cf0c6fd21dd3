// The stack sampler running alongside a run or a watched program (issue 18): a thread that
// every `drain_every` reads the sampler's ring buffers (sampler.hpp) -- and, where perf
// gives no off-CPU stacks (no kernel sampling), looks at the blocked threads' system calls
// (syscall_poller.hpp) --, unwinds and symbolizes
// each sample while the target still lives (unwinder.hpp), classifies its wait
// (wait_class.hpp), aggregates it (aggregator.hpp), and hands a Batch of frames, stacks and
// counts to the run's telemetry writer every `submit_every`. The thread is the profiler's
// own: it is never sampled, and its CPU time is reported apart (meta profile.cpu_ns).
//
// Sampling that is unavailable never fails the run: the meta says why (profile.status
// "unavailable: ...") and what would enable it (profile.enable_hint).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "telemetry/profile/sampler.hpp"
#include "telemetry/rows.hpp"

namespace nrmlab::telemetry::profile {

inline constexpr unsigned k_default_profile_hz = 99;  // off the beat of 100 Hz timers
inline constexpr std::uint32_t k_ring_pages = 128;    // per sampled thread (512 KiB)
// The profile's unit of time (profile_counts.window): a second suits runs of minutes to days.
inline constexpr std::int64_t k_default_window_ns = 1'000'000'000;

struct ProfilerOptions {
  unsigned hz = k_default_profile_hz;  // on-CPU samples per second of a thread's CPU time
  bool children = false;               // also the target's descendant processes
  std::int64_t origin_ns = 0;          // CLOCK_MONOTONIC instant of the telemetry's t_ns = 0
  std::int64_t window_ns = k_default_window_ns;
  std::pair<std::int64_t, std::int64_t> stored_ids{0, 0};  // frames, stacks already stored
  std::set<pid_t> ignored_tids;  // threads never sampled (a recorder's own, in `nrmlab run`)
  // A ring of k_ring_pages holds about 28 samples with their 16 KiB stacks: a thread that
  // blocks 1000 times a second fills it in 28 ms.
  std::chrono::milliseconds drain_every{20};
  std::chrono::milliseconds submit_every{1000};
  // What the user should know about this program's frames (profile.note): a Python
  // program's are the interpreter's (python_frames_note).
  std::string program_note;
  // Tests: behave as without kernel sampling, or without perf at all (the /proc poller's
  // off-CPU stacks are then all there is).
  bool assume_unprivileged = false;
  bool use_perf = true;
};

// `--profile`'s value: "off" (0) or a rate in Hz, 1 to 10000 (the kernel's limit for
// software timers). Throws nrmlab::Error saying what was expected.
unsigned parse_profile_rate(std::string_view text);
inline constexpr std::string_view k_profile_syntax = "off|HZ";

// The note for a program run by `argv0` when it is a Python interpreter ("python3",
// "python3.11", a path to one), else empty: perf sees the interpreter's C functions, not the
// script's (Python < 3.12 has no perf support; 3.12's PYTHONPERFSUPPORT writes a perf map
// that nrmlab does not read yet).
std::string python_frames_note(std::string_view argv0);

// The meta of a run that was not sampled because the user said so.
std::vector<MetaRow> profile_off_meta();

class Profiler {
 public:
  using Submit = std::function<void(Batch&&)>;
  // Starts sampling `pid` and returns once the sampler is open (or known unavailable),
  // having submitted the profile.* meta. `submit` is called from the profiler's thread.
  Profiler(pid_t pid, ProfilerOptions options, Submit submit);
  ~Profiler();
  Profiler(const Profiler&) = delete;
  Profiler& operator=(const Profiler&) = delete;

  // Reads what is left, submits it with the final meta (samples, lost records, the
  // profiler's CPU time) and stops the thread. Idempotent; call it before the writer closes.
  void stop();
  const Availability& status() const { return m_status; }

 private:
  struct Work;  // the thread's state (profiler.cpp)
  void run(pid_t pid);
  void drain_until_stopped(Work& work);

  ProfilerOptions m_options;
  Submit m_submit;
  Availability m_status;
  std::mutex m_mutex;
  std::condition_variable m_wake;
  bool m_ready = false;
  bool m_stopping = false;
  std::thread m_thread;
};

}  // namespace nrmlab::telemetry::profile
