// The wall-clock stack sampler (issue 18): perf_event_open ring buffers on every thread of a
// target process (and, on request, of its descendants), on and off the CPU, turned into
// RawSamples for the unwinder.
//
// Per thread, two software events share one ring buffer (PERF_EVENT_IOC_SET_OUTPUT), so the
// thread's records arrive in time order and cost one mmap:
//  * a CPU-clock event every 1/frequency of the thread's CPU time: an on-CPU sample worth
//    that period;
//  * a context-switch event with sample_period 1 and context_switch records. At a
//    switch-out the kernel writes first the event's sample (it carries the user registers,
//    the user stack and the callchain: where the thread stopped) and then a
//    PERF_RECORD_SWITCH (no stack; its misc says whether the thread was preempted); at the
//    switch-in only a PERF_RECORD_SWITCH. OffCpuTracker joins the three into one RawSample
//    per off-CPU interval, emitted once the thread has run again.
// Samples carry PERF_SAMPLE_IDENTIFIER (first in the record) besides the brief's
// TID|TIME|CALLCHAIN|REGS_USER|STACK_USER, to tell the two events apart in the shared buffer.
//
// Nothing here throws because sampling is unavailable (no perf_event_open, a strict
// perf_event_paranoid, seccomp): the sampler reports why and the setting that would enable
// it, and then samples nothing.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "telemetry/profile/sample.hpp"

namespace nrmlab::telemetry::profile {

// The user registers sampled: all of perf's x86-64 registers but DS, ES, FS and GS, which
// the kernel refuses for 64-bit tasks (EINVAL). Their slots in UserRegs::values stay 0.
inline constexpr std::uint64_t k_user_regs_mask =
    ((std::uint64_t{1} << k_user_regs) - 1) & ~(std::uint64_t{0xF} << 12);

struct SamplerOptions {
  unsigned frequency_hz = 99;             // on-CPU samples per second of a thread's CPU time
  std::uint32_t stack_bytes = 16 * 1024;  // user stack copied per sample (multiple of 8)
  bool children = false;                  // also the descendant processes' threads
  bool off_cpu = true;                    // context-switch samples (off-CPU intervals)
  bool kernel_stacks = true;              // kernel callchains, where permitted
  std::uint32_t ring_pages = 64;          // data pages per thread's ring (a power of two)
  bool assume_unprivileged = false;       // tests: behave as if kernel samples were refused
  // Threads never sampled: when a process samples itself, the thread that drains (its own
  // wake-ups would be sampled as the program's waits).
  std::set<pid_t> ignored_tids;
};

// Whether sampling works here, and if not, why and what would enable it.
struct Availability {
  bool available = false;
  // Kernel-mode samples are permitted (root, CAP_PERFMON or perf_event_paranoid <= 1).
  // Without, on-CPU samples that land in a system call are dropped by the kernel.
  bool kernel_mode = false;
  bool kernel_stacks = false;  // kernel callchains are recorded
  bool off_cpu = false;        // off-CPU intervals are measured
  // Off-CPU intervals carry the stack at the switch-out. Without kernel sampling they are
  // still measured (from the switch records) but stackless: the context-switch event's
  // samples happen in kernel mode, which exclude_kernel drops.
  bool off_cpu_stacks = false;
  std::string reason;       // why not: the errno's text and what it means here
  std::string enable_hint;  // the exact setting that would enable it
  std::string note;         // what is limited though available (user stacks only, ...)
};

// Tries perf_event_open on the calling thread with the sampler's settings. The environment
// variable NRMLAB_PROFILE_UNAVAILABLE=<reason> forces "unavailable" with that reason.
Availability probe_sampling(const SamplerOptions& options = {});

// One thread's off-CPU intervals from its context-switch sample and records, in ring order.
// Exactly one RawSample per interval whose switch-out and switch-in were both seen; an
// interval whose switch-in never came (a lost record, the thread's exit) is dropped and
// counted. The sample carries the stack when the switch-out's sample was seen, else none.
class OffCpuTracker {
 public:
  // The context-switch event's sample, written just before the switch-out record.
  void on_switch_sample(RawSample sample);
  void on_switch_out(std::int32_t pid, std::int32_t tid, std::uint64_t time_ns, bool preempted);
  // The finished interval, if its switch-out was seen.
  std::optional<RawSample> on_switch_in(std::uint64_t time_ns);
  std::uint64_t unpaired() const { return m_unpaired; }

 private:
  std::optional<RawSample> m_pending;
  bool m_switched_out = false;
  std::uint64_t m_out_ns = 0;
  std::uint64_t m_unpaired = 0;
};

class StackSampler {
 public:
  // Probes, then opens events on the target's threads (refresh_threads). Throws
  // nrmlab::Error only for invalid options; unavailability is in status().
  StackSampler(pid_t pid, SamplerOptions options = {});
  ~StackSampler();
  StackSampler(StackSampler&&) noexcept;
  StackSampler& operator=(StackSampler&&) noexcept;
  StackSampler(const StackSampler&) = delete;
  StackSampler& operator=(const StackSampler&) = delete;

  const Availability& status() const { return m_status; }
  // Opens events for the threads (and with `children`, descendant processes' threads) that
  // appeared since the last call, from /proc/<pid>/task. Returns how many.
  std::size_t refresh_threads();
  // Reads every ring buffer and appends the complete samples, in time order per thread
  // (not across threads). An off-CPU sample is appended once its thread has run again; its
  // time_ns is the switch-out. A thread whose events report its exit is read to the end and
  // closed. Returns how many samples were appended. Call it often enough that a ring does
  // not fill: a 64-page ring holds about 14 samples with 16 KiB stacks.
  std::size_t drain(std::vector<RawSample>& out);

  std::uint64_t lost() const { return m_lost; }             // records the kernel dropped
  std::uint64_t unpaired() const;                           // off-CPU intervals without an end
  std::uint64_t throttled() const { return m_throttled; }   // PERF_RECORD_THROTTLE seen
  std::size_t threads() const { return m_threads.size(); }  // threads sampled now
  std::uint64_t period_ns() const { return m_period_ns; }

  struct Thread;  // one thread's events and ring (sampler.cpp)

 private:
  bool open_thread(pid_t pid, pid_t tid);
  void note_open_failure(pid_t tid, const std::string& what, int error);
  void handle_record(Thread& thread, std::span<const std::byte> record,
                     std::vector<RawSample>& out);

  pid_t m_pid = -1;
  SamplerOptions m_options;
  Availability m_status;
  std::uint64_t m_period_ns = 0;
  std::map<pid_t, std::unique_ptr<Thread>> m_threads;
  std::set<pid_t> m_finished;  // exited threads, never reopened (a zombie keeps its task)
  std::uint64_t m_lost = 0;
  std::uint64_t m_throttled = 0;
  std::uint64_t m_unpaired_closed = 0;  // from threads already closed
  int m_first_error = 0;                // the first failure to open a thread's events (0: none)
  std::string m_first_failure;
};

// The parts below are exposed for the tests (they run without a kernel event).

// Splits PERF_SAMPLE_CALLCHAIN's entries at perf's context markers (PERF_CONTEXT_KERNEL,
// PERF_CONTEXT_USER) into kernel and user return addresses; other markers are skipped.
void split_callchain(std::span<const std::uint64_t> chain, std::vector<std::uint64_t>& kernel,
                     std::vector<std::uint64_t>& user);

// Decodes a PERF_RECORD_SAMPLE (header included) of the sampler's sample_type into `out`
// (wait on_cpu, weight 0). Returns the event's id, nullopt when the record is truncated.
std::optional<std::uint64_t> decode_sample(std::span<const std::byte> record, RawSample& out);

// Calls on_record for every complete record (header included) between tail and head of a
// perf ring's data area (its size a power of two); a record that runs past the end of the
// area is passed from `scratch`, a contiguous copy. A corrupt header (smaller than itself,
// longer than what is left) ends the reading. Returns how many records were passed; the
// caller's new tail is head either way.
std::size_t read_ring_records(std::span<const std::byte> data, std::uint64_t tail,
                              std::uint64_t head, std::vector<std::byte>& scratch,
                              const std::function<void(std::span<const std::byte>)>& on_record);

}  // namespace nrmlab::telemetry::profile
