// The perf_event_open stack sampler (issue 18): the record decoding, ring wrap-around and
// off-CPU pairing on synthetic input, then real children sampled by the kernel: one that
// spins (on-CPU samples against the CPU time it used), one that sleeps (off-CPU weights
// against its sleeping time), one with two threads, one that exits mid-sampling, and the
// forced-unavailable path. Bounds are generous and measured against what the child actually
// used, so a loaded machine does not fail them.
#include <linux/perf_event.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <set>
#include <span>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "telemetry/profile/sampler.hpp"
#include "util/error.hpp"

namespace nrmlab::telemetry::profile {
namespace {

// ---- synthetic records ----------------------------------------------------------------

class PerfRecordBuilder {
 public:
  explicit PerfRecordBuilder(std::uint32_t type, std::uint16_t misc = 0) {
    put(type);
    put(misc);
    put(std::uint16_t{0});  // size, set by bytes()
  }
  template <typename T>
  PerfRecordBuilder& put(T value) {
    const auto* raw = reinterpret_cast<const std::byte*>(&value);
    m_bytes.insert(m_bytes.end(), raw, raw + sizeof value);
    return *this;
  }
  std::vector<std::byte> bytes() const {
    std::vector<std::byte> out = m_bytes;
    const auto size = static_cast<std::uint16_t>(out.size());
    std::memcpy(out.data() + 6, &size, sizeof size);
    return out;
  }

 private:
  std::vector<std::byte> m_bytes;
};

std::vector<std::byte> sample_record(std::uint64_t id, std::uint64_t time_ns,
                                     const std::vector<std::uint64_t>& chain,
                                     const std::vector<std::uint8_t>& stack) {
  PerfRecordBuilder record(PERF_RECORD_SAMPLE);
  record.put(id).put(std::uint32_t{41}).put(std::uint32_t{42}).put(time_ns);
  record.put(std::uint64_t{chain.size()});
  for (const std::uint64_t entry : chain)
    record.put(entry);
  record.put(std::uint64_t{PERF_SAMPLE_REGS_ABI_64});
  for (std::size_t reg = 0; reg < k_user_regs; ++reg) {
    if ((k_user_regs_mask >> reg & 1U) != 0) record.put(std::uint64_t{1000 + reg});
  }
  const std::uint64_t reserved = 32;  // the requested size; the kernel pads to it
  record.put(reserved);
  for (std::uint64_t i = 0; i < reserved; ++i)
    record.put(i < stack.size() ? stack[i] : std::uint8_t{0xEE});
  record.put(std::uint64_t{stack.size()});
  return record.bytes();
}

TEST(ProfileSampler, SplitsTheCallchainAtTheContextMarkers) {
  const std::vector<std::uint64_t> chain = {PERF_CONTEXT_KERNEL,
                                            0xffffffff81000010,
                                            0xffffffff81000020,
                                            PERF_CONTEXT_USER,
                                            0x401000,
                                            0x401100,
                                            PERF_CONTEXT_GUEST,
                                            0x1234};
  std::vector<std::uint64_t> kernel;
  std::vector<std::uint64_t> user;
  split_callchain(chain, kernel, user);
  EXPECT_EQ(kernel, (std::vector<std::uint64_t>{0xffffffff81000010, 0xffffffff81000020}));
  EXPECT_EQ(user, (std::vector<std::uint64_t>{0x401000, 0x401100}));
}

TEST(ProfileSampler, DecodesASampleRecord) {
  const std::vector<std::uint8_t> stack = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  const auto record = sample_record(
      77, 123456789, {PERF_CONTEXT_KERNEL, 0xffff0001, PERF_CONTEXT_USER, 0x4010}, stack);
  RawSample sample;
  const auto id = decode_sample(record, sample);
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(*id, 77U);
  EXPECT_EQ(sample.pid, 41);
  EXPECT_EQ(sample.tid, 42);
  EXPECT_EQ(sample.time_ns, 123456789U);
  EXPECT_EQ(sample.kernel_chain, std::vector<std::uint64_t>{0xffff0001});
  EXPECT_EQ(sample.user_chain, std::vector<std::uint64_t>{0x4010});
  EXPECT_EQ(sample.regs.abi, std::uint64_t{PERF_SAMPLE_REGS_ABI_64});
  EXPECT_EQ(sample.regs.ip(), 1008U);  // registers land at their perf index
  EXPECT_EQ(sample.regs.sp(), 1007U);
  EXPECT_EQ(sample.regs.values[12], 0U);  // DS is not sampled
  EXPECT_EQ(sample.regs.values[23], 1023U);
  EXPECT_EQ(sample.stack, stack);  // dyn_size bytes, not the padded request
  EXPECT_EQ(sample.stack_address, 1007U);

  auto truncated = record;
  truncated.resize(truncated.size() - 16);
  EXPECT_FALSE(decode_sample(truncated, sample).has_value());
}

TEST(ProfileSampler, ReadsRecordsThatWrapAroundTheRing) {
  // A 64-byte ring: a 24-byte record, then a 32-byte one that starts at 56 and wraps.
  std::vector<std::byte> ring(64, std::byte{0});
  auto place = [&](std::uint64_t at, const std::vector<std::byte>& record) {
    for (std::size_t i = 0; i < record.size(); ++i)
      ring[(at + i) % ring.size()] = record[i];
  };
  const auto first =
      PerfRecordBuilder(PERF_RECORD_LOST).put(std::uint64_t{5}).put(std::uint64_t{6});
  const auto second = PerfRecordBuilder(PERF_RECORD_LOST)
                          .put(std::uint64_t{7})
                          .put(std::uint64_t{8})
                          .put(std::uint64_t{9});
  const std::uint64_t tail = 64 + 32;  // positions grow without bound; offsets are modulo
  place(tail, first.bytes());
  place(tail + 24, second.bytes());
  std::vector<std::vector<std::byte>> seen;
  std::vector<std::byte> scratch;
  const std::size_t count = read_ring_records(
      ring, tail, tail + 56, scratch,
      [&](std::span<const std::byte> record) { seen.emplace_back(record.begin(), record.end()); });
  ASSERT_EQ(count, 2U);
  EXPECT_EQ(seen[0], first.bytes());
  EXPECT_EQ(seen[1], second.bytes());

  // A header claiming more than what is there ends the reading.
  seen.clear();
  EXPECT_EQ(read_ring_records(ring, tail, tail + 40, scratch, [&](auto) { seen.emplace_back(); }),
            1U);
}

RawSample switch_sample(std::uint64_t time_ns) {
  RawSample sample;
  sample.pid = 10;
  sample.tid = 11;
  sample.time_ns = time_ns;
  sample.stack = {1, 2, 3};
  return sample;
}

TEST(ProfileSampler, PairsEachOffCpuIntervalOnce) {
  OffCpuTracker tracker;
  EXPECT_FALSE(tracker.on_switch_in(50).has_value());  // began before we attached

  tracker.on_switch_sample(switch_sample(100));
  tracker.on_switch_out(10, 11, 101, false);
  auto slept = tracker.on_switch_in(1101);
  ASSERT_TRUE(slept.has_value());
  EXPECT_EQ(slept->wait, WaitClass::other);
  EXPECT_EQ(slept->weight_ns, 1000U);
  EXPECT_EQ(slept->time_ns, 100U);
  EXPECT_EQ(slept->stack.size(), 3U);
  EXPECT_FALSE(tracker.on_switch_in(1200).has_value());  // one sample per interval

  tracker.on_switch_sample(switch_sample(2000));
  tracker.on_switch_out(10, 11, 2001, true);
  auto preempted = tracker.on_switch_in(2501);
  ASSERT_TRUE(preempted.has_value());
  EXPECT_EQ(preempted->wait, WaitClass::run_queue);
  EXPECT_EQ(preempted->weight_ns, 500U);

  // The switch-in record lost: that interval is dropped and counted, the next one stands.
  tracker.on_switch_sample(switch_sample(3000));
  tracker.on_switch_out(10, 11, 3000, false);
  tracker.on_switch_sample(switch_sample(5000));
  tracker.on_switch_out(10, 11, 5000, false);
  auto next = tracker.on_switch_in(5300);
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->weight_ns, 300U);
  EXPECT_EQ(tracker.unpaired(), 1U);

  // Without the sample (kernel-mode samples refused): measured, stackless.
  tracker.on_switch_out(10, 11, 6000, false);
  auto stackless = tracker.on_switch_in(6400);
  ASSERT_TRUE(stackless.has_value());
  EXPECT_EQ(stackless->tid, 11);
  EXPECT_EQ(stackless->weight_ns, 400U);
  EXPECT_TRUE(stackless->stack.empty());
}

// ---- real children --------------------------------------------------------------------

std::uint64_t sampler_test_clock_ns(clockid_t clock) {
  timespec now{};
  clock_gettime(clock, &now);
  return static_cast<std::uint64_t>(now.tv_sec) * 1'000'000'000ULL +
         static_cast<std::uint64_t>(now.tv_nsec);
}

[[gnu::noinline]] void spin_thread_cpu(std::uint64_t cpu_ns) {
  const std::uint64_t until = sampler_test_clock_ns(CLOCK_THREAD_CPUTIME_ID) + cpu_ns;
  volatile std::uint64_t sink = 0;
  while (sampler_test_clock_ns(CLOCK_THREAD_CPUTIME_ID) < until) {
    for (int i = 0; i < 10'000; ++i)
      sink = sink + static_cast<std::uint64_t>(i);
  }
}

// What a child reports when its body is done: its own clock readings.
struct ChildReport {
  std::uint64_t start_ns = 0;  // CLOCK_MONOTONIC after the release
  std::uint64_t end_ns = 0;
  std::uint64_t cpu_ns = 0;  // its process CPU time between the two
};

// A forked child that waits on a pipe until released, runs `body`, reports and exits. The
// gate keeps the child's start from racing the sampler's attachment.
class SampledChild {
 public:
  explicit SampledChild(const std::function<void()>& body) {
    std::array<int, 2> gate{};
    std::array<int, 2> report{};
    if (pipe(gate.data()) != 0 || pipe(report.data()) != 0) return;
    m_pid = fork();
    if (m_pid == 0) {
      close(gate[1]);
      close(report[0]);
      char byte = 0;
      if (read(gate[0], &byte, 1) != 1) _exit(2);
      ChildReport out;
      out.start_ns = sampler_test_clock_ns(CLOCK_MONOTONIC);
      const std::uint64_t cpu0 = sampler_test_clock_ns(CLOCK_PROCESS_CPUTIME_ID);
      body();
      out.cpu_ns = sampler_test_clock_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
      out.end_ns = sampler_test_clock_ns(CLOCK_MONOTONIC);
      _exit(write(report[1], &out, sizeof out) == sizeof out ? 0 : 3);
    }
    close(gate[0]);
    close(report[1]);
    m_gate = gate[1];
    m_report = report[0];
  }
  ~SampledChild() {
    if (m_pid > 0 && !m_reaped) {
      kill(m_pid, SIGKILL);
      waitpid(m_pid, nullptr, 0);
    }
    if (m_gate >= 0) close(m_gate);
    if (m_report >= 0) close(m_report);
  }
  SampledChild(const SampledChild&) = delete;
  SampledChild& operator=(const SampledChild&) = delete;

  pid_t pid() const { return m_pid; }
  void release() { ASSERT_EQ(write(m_gate, "g", 1), 1); }
  // Reaps the child if it has exited.
  bool reaped() {
    if (m_reaped) return true;
    int status = 0;
    if (wait4(m_pid, &status, WNOHANG, &m_usage) != m_pid) return false;
    m_reaped = true;
    m_exit_ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (read(m_report, &m_out, sizeof m_out) != sizeof m_out) m_exit_ok = false;
    return true;
  }
  bool exit_ok() const { return m_exit_ok; }
  const ChildReport& report() const { return m_out; }
  std::uint64_t rusage_cpu_ns() const {
    auto ns = [](const timeval& t) {
      return static_cast<std::uint64_t>(t.tv_sec) * 1'000'000'000ULL +
             static_cast<std::uint64_t>(t.tv_usec) * 1000ULL;
    };
    return ns(m_usage.ru_utime) + ns(m_usage.ru_stime);
  }

 private:
  pid_t m_pid = -1;
  int m_gate = -1;
  int m_report = -1;
  bool m_reaped = false;
  bool m_exit_ok = false;
  rusage m_usage{};
  ChildReport m_out;
};

SamplerOptions sampler_test_options() {
  SamplerOptions options;
  options.ring_pages = 256;  // 1 MiB: about 60 samples between two drains on a loaded machine
  return options;
}

// Drains (and refreshes the thread list) every 10 ms until the child exits, then once more.
std::vector<RawSample> sample_until_exit(StackSampler& sampler, SampledChild& child) {
  std::vector<RawSample> samples;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!child.reaped() && std::chrono::steady_clock::now() < give_up) {
    sampler.refresh_threads();
    sampler.drain(samples);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  sampler.drain(samples);
  return samples;
}

#define SKIP_UNLESS_SAMPLING_WORKS()                                                   \
  do {                                                                                 \
    const Availability probe = probe_sampling(sampler_test_options());                 \
    if (!probe.available) GTEST_SKIP() << probe.reason << " -- " << probe.enable_hint; \
  } while (false)

TEST(ProfileSampler, OnCpuSamplesMatchTheCpuTimeASpinningChildUsed) {
  SKIP_UNLESS_SAMPLING_WORKS();
  SampledChild child([] { spin_thread_cpu(400'000'000); });
  ASSERT_GT(child.pid(), 0);
  StackSampler sampler(child.pid(), sampler_test_options());
  ASSERT_TRUE(sampler.status().available) << sampler.status().reason;
  EXPECT_EQ(sampler.threads(), 1U);
  child.release();
  const std::vector<RawSample> samples = sample_until_exit(sampler, child);
  ASSERT_TRUE(child.exit_ok());

  std::uint64_t on_cpu_ns = 0;
  std::size_t on_cpu = 0;
  std::size_t with_stack = 0;
  for (const RawSample& sample : samples) {
    if (sample.wait != WaitClass::on_cpu) continue;
    ++on_cpu;
    on_cpu_ns += sample.weight_ns;
    EXPECT_EQ(sample.tid, child.pid());
    EXPECT_EQ(sample.weight_ns, sampler.period_ns());
    if (!sample.user_chain.empty() && !sample.stack.empty() && sample.regs.abi != 0) ++with_stack;
  }
  const double used = static_cast<double>(child.rusage_cpu_ns());
  EXPECT_GT(static_cast<double>(on_cpu_ns), 0.5 * used)
      << on_cpu << " samples, lost " << sampler.lost();
  EXPECT_LT(static_cast<double>(on_cpu_ns), 2.0 * used) << on_cpu << " samples";
  EXPECT_GE(with_stack, on_cpu * 9 / 10) << "user stacks missing";
  EXPECT_EQ(sampler.threads(), 0U) << "the exited thread's events stay open";
}

[[gnu::noinline]] void sleep_in_a_loop(int times, long nanoseconds) {
  for (int i = 0; i < times; ++i) {
    timespec pause{0, nanoseconds};
    while (nanosleep(&pause, &pause) != 0) {
    }
  }
}

struct OffCpuTotals {
  std::uint64_t weight_ns = 0;
  std::size_t count = 0;
  std::size_t with_stack = 0;
  std::size_t with_kernel_chain = 0;
  std::uint64_t other_ns = 0;  // not preempted: the sleeps themselves
};

OffCpuTotals off_cpu_within(const std::vector<RawSample>& samples, const ChildReport& report) {
  OffCpuTotals totals;
  for (const RawSample& sample : samples) {
    if (sample.wait == WaitClass::on_cpu) continue;
    if (sample.time_ns < report.start_ns || sample.time_ns > report.end_ns) continue;
    totals.weight_ns += sample.weight_ns;
    ++totals.count;
    if (!sample.stack.empty() && !sample.user_chain.empty()) ++totals.with_stack;
    if (!sample.kernel_chain.empty()) ++totals.with_kernel_chain;
    if (sample.wait == WaitClass::other) totals.other_ns += sample.weight_ns;
  }
  return totals;
}

// The off-CPU samples of a child that slept 30 times: at least one each, their weights
// adding up to about the time it spent off the CPU (0.5-1.5x: a loaded machine).
OffCpuTotals expect_the_sleeps_measured(const std::vector<RawSample>& samples,
                                        const ChildReport& report) {
  const double sleeping = static_cast<double>(report.end_ns - report.start_ns - report.cpu_ns);
  const OffCpuTotals totals = off_cpu_within(samples, report);
  EXPECT_GE(totals.count, 30U);
  EXPECT_GT(static_cast<double>(totals.weight_ns), 0.5 * sleeping);
  EXPECT_LT(static_cast<double>(totals.weight_ns), 1.5 * sleeping);
  EXPECT_GT(static_cast<double>(totals.other_ns), 0.5 * sleeping) << "sleeps read as preemption";
  return totals;
}

TEST(ProfileSampler, OffCpuWeightsAddUpToASleepingChildsSleep) {
  SKIP_UNLESS_SAMPLING_WORKS();
  SampledChild child([] { sleep_in_a_loop(30, 10'000'000); });
  StackSampler sampler(child.pid(), sampler_test_options());
  ASSERT_TRUE(sampler.status().available) << sampler.status().reason;
  if (!sampler.status().off_cpu_stacks) GTEST_SKIP() << sampler.status().note;
  child.release();
  const std::vector<RawSample> samples = sample_until_exit(sampler, child);
  ASSERT_TRUE(child.exit_ok());

  const OffCpuTotals totals = expect_the_sleeps_measured(samples, child.report());
  EXPECT_GE(totals.with_stack, totals.count * 9 / 10) << "off-CPU samples without user stack";
  if (sampler.status().kernel_stacks) {
    EXPECT_GE(totals.with_kernel_chain, totals.count / 2) << "no schedule() path";
  }
}

TEST(ProfileSampler, WithoutKernelSamplesOffCpuIntervalsAreStillMeasured) {
  SKIP_UNLESS_SAMPLING_WORKS();
  SampledChild child([] { sleep_in_a_loop(30, 10'000'000); });
  SamplerOptions options = sampler_test_options();
  options.assume_unprivileged = true;
  StackSampler sampler(child.pid(), options);
  ASSERT_TRUE(sampler.status().available) << sampler.status().reason;
  EXPECT_FALSE(sampler.status().kernel_mode);
  EXPECT_FALSE(sampler.status().off_cpu_stacks);
  EXPECT_NE(sampler.status().note.find("kernel.perf_event_paranoid=1"), std::string::npos)
      << sampler.status().note;
  child.release();
  const std::vector<RawSample> samples = sample_until_exit(sampler, child);
  ASSERT_TRUE(child.exit_ok());

  const OffCpuTotals totals = expect_the_sleeps_measured(samples, child.report());
  EXPECT_EQ(totals.with_kernel_chain, 0U);
}

TEST(ProfileSampler, SamplesEveryThreadIncludingOnesStartedLater) {
  SKIP_UNLESS_SAMPLING_WORKS();
  SampledChild child([] {
    pthread_t second{};
    auto spin = [](void*) -> void* {
      spin_thread_cpu(250'000'000);
      return nullptr;
    };
    if (pthread_create(&second, nullptr, spin, nullptr) != 0) _exit(4);
    spin_thread_cpu(250'000'000);
    pthread_join(second, nullptr);
  });
  StackSampler sampler(child.pid(), sampler_test_options());
  ASSERT_TRUE(sampler.status().available) << sampler.status().reason;
  child.release();
  const std::vector<RawSample> samples = sample_until_exit(sampler, child);
  ASSERT_TRUE(child.exit_ok());

  std::set<std::int32_t> tids;
  for (const RawSample& sample : samples) {
    if (sample.wait != WaitClass::on_cpu) continue;
    EXPECT_EQ(sample.pid, child.pid());
    tids.insert(sample.tid);
  }
  EXPECT_EQ(tids.size(), 2U);
  EXPECT_TRUE(tids.contains(child.pid()));
}

TEST(ProfileSampler, WithChildrenSamplesDescendantProcesses) {
  SKIP_UNLESS_SAMPLING_WORKS();
  SampledChild child([] {
    const pid_t grandchild = fork();
    if (grandchild == 0) {
      spin_thread_cpu(250'000'000);
      _exit(0);
    }
    if (grandchild < 0) _exit(5);
    waitpid(grandchild, nullptr, 0);
  });
  SamplerOptions options = sampler_test_options();
  options.children = true;
  StackSampler sampler(child.pid(), options);
  ASSERT_TRUE(sampler.status().available) << sampler.status().reason;
  child.release();
  const std::vector<RawSample> samples = sample_until_exit(sampler, child);
  ASSERT_TRUE(child.exit_ok());

  // The child itself runs briefly (fork, waitpid; a sanitized fork can take a CPU-clock
  // period), so it may hold a sample or two: the grandchild's 250 ms must hold nearly all.
  std::map<std::int32_t, int> on_cpu_by_pid;
  int on_cpu = 0;
  for (const RawSample& sample : samples) {
    if (sample.wait != WaitClass::on_cpu) continue;
    ++on_cpu_by_pid[sample.pid];
    ++on_cpu;
  }
  ASSERT_GT(on_cpu, 0);
  const auto busiest =
      std::max_element(on_cpu_by_pid.begin(), on_cpu_by_pid.end(),
                       [](const auto& a, const auto& b) { return a.second < b.second; });
  EXPECT_NE(busiest->first, child.pid()) << "the grandchild, not the child, should be sampled";
  EXPECT_GE(busiest->second * 10, on_cpu * 9) << busiest->second << " of " << on_cpu;
}

TEST(ProfileSampler, ATargetThatExitsKeepsItsSamples) {
  SKIP_UNLESS_SAMPLING_WORKS();
  SampledChild child([] { spin_thread_cpu(150'000'000); });
  StackSampler sampler(child.pid(), sampler_test_options());
  ASSERT_TRUE(sampler.status().available) << sampler.status().reason;
  child.release();
  std::vector<RawSample> samples;
  // Nothing is drained until well after the exit: the ring outlives the process.
  while (!child.reaped())
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(sampler.refresh_threads(), 0U);
  EXPECT_GT(sampler.drain(samples), 0U);
  EXPECT_EQ(sampler.threads(), 0U);
  EXPECT_EQ(sampler.drain(samples), 0U);
  EXPECT_FALSE(samples.empty());
  EXPECT_TRUE(sampler.status().available);

  // A process that is gone before sampling starts: unavailable, with its pid named.
  StackSampler gone(child.pid(), sampler_test_options());
  EXPECT_FALSE(gone.status().available);
  EXPECT_NE(gone.status().reason.find(std::to_string(child.pid())), std::string::npos)
      << gone.status().reason;
}

TEST(ProfileSampler, ASmallRingWrapsAndCountsWhatItLost) {
  SKIP_UNLESS_SAMPLING_WORKS();
  SampledChild child([] { spin_thread_cpu(300'000'000); });
  SamplerOptions options = sampler_test_options();
  options.ring_pages = 8;  // 32 KiB: about two 16 KiB samples, so records wrap and are lost
  StackSampler sampler(child.pid(), options);
  ASSERT_TRUE(sampler.status().available) << sampler.status().reason;
  child.release();
  std::vector<RawSample> samples;
  while (!child.reaped()) {
    sampler.drain(samples);
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
  }
  sampler.drain(samples);
  EXPECT_GT(sampler.lost(), 0U);
  ASSERT_FALSE(samples.empty());
  std::size_t on_cpu = 0;
  for (const RawSample& sample : samples) {
    EXPECT_EQ(sample.tid, child.pid());
    // An off-CPU interval whose switch sample was lost is measured without a stack.
    if (sample.wait != WaitClass::on_cpu) continue;
    ++on_cpu;
    EXPECT_FALSE(sample.stack.empty()) << static_cast<int>(sample.wait);  // wrapped, whole
    EXPECT_FALSE(sample.user_chain.empty());
  }
  EXPECT_GT(on_cpu, 0U);
}

TEST(ProfileSampler, SamplesItsOwnProcessButNotTheIgnoredThread) {
  SKIP_UNLESS_SAMPLING_WORKS();
  std::atomic<bool> stop{false};
  std::thread worker([&] {
    while (!stop.load())
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  });
  const pid_t self = static_cast<pid_t>(::gettid());
  SamplerOptions options = sampler_test_options();
  options.ignored_tids = {self};
  StackSampler sampler(getpid(), options);
  ASSERT_TRUE(sampler.status().available) << sampler.status().reason;
  EXPECT_GE(sampler.threads(), 1U);  // the worker, and whatever else the runtime started
  std::vector<RawSample> samples;
  for (int i = 0; i < 10; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    sampler.drain(samples);
  }
  stop = true;
  worker.join();
  sampler.drain(samples);
  bool worker_seen = false;
  for (const RawSample& sample : samples) {
    EXPECT_NE(sample.tid, self);
    worker_seen = worker_seen || sample.wait != WaitClass::on_cpu;
  }
  EXPECT_TRUE(worker_seen) << "the sleeping worker's off-CPU intervals are missing";
}

// Sets an environment variable for the scope of a test.
class SamplerTestEnv {
 public:
  SamplerTestEnv(const char* name, const char* value) : m_name(name) { ::setenv(name, value, 1); }
  ~SamplerTestEnv() { ::unsetenv(m_name); }
  SamplerTestEnv(const SamplerTestEnv&) = delete;
  SamplerTestEnv& operator=(const SamplerTestEnv&) = delete;

 private:
  const char* m_name;
};

TEST(ProfileSampler, ForcedUnavailableSamplesNothing) {
  const SamplerTestEnv forced("NRMLAB_PROFILE_UNAVAILABLE", "the test says so");
  const Availability probe = probe_sampling();
  EXPECT_FALSE(probe.available);
  EXPECT_EQ(probe.reason, "the test says so");
  EXPECT_FALSE(probe.enable_hint.empty());

  StackSampler sampler(getpid(), sampler_test_options());
  EXPECT_FALSE(sampler.status().available);
  EXPECT_EQ(sampler.status().reason, "the test says so");
  EXPECT_EQ(sampler.refresh_threads(), 0U);
  std::vector<RawSample> samples;
  EXPECT_EQ(sampler.drain(samples), 0U);
  EXPECT_TRUE(samples.empty());
  EXPECT_EQ(sampler.threads(), 0U);
}

TEST(ProfileSampler, InvalidOptionsNameTheOption) {
  SamplerOptions options;
  options.stack_bytes = 1001;
  try {
    StackSampler sampler(getpid(), options);
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("stack_bytes 1001"), std::string::npos);
  }
}

TEST(ProfileSampler, WaitClassesHaveDistinctNames) {
  std::set<std::string_view> names;
  for (const WaitClass c :
       {WaitClass::on_cpu, WaitClass::run_queue, WaitClass::sleep, WaitClass::disk, WaitClass::lock,
        WaitClass::network, WaitClass::page_fault, WaitClass::other})
    names.insert(to_string(c));
  EXPECT_EQ(names.size(), 8U);
  EXPECT_EQ(to_string(WaitClass::run_queue), "run_queue");
}

}  // namespace
}  // namespace nrmlab::telemetry::profile
