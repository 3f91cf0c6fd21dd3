// The compute-bound workloads: stable, growth (H5), dearer (same work, dearer) and
// contention (H1). Their unit of work
// is a chain of dependent floating-point operations on data that stays in the L1 cache, so
// a unit costs the same at every step and only the number of units (or the CPU the
// process gets) can change a step's time.
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "util/process.hpp"
#include "validate/workload.hpp"
#include "validate/workloads_internal.hpp"

namespace nrmlab::validate {
namespace {

// About 10 ns per unit: eight dependent multiply-adds and a halving (which keeps the
// value bounded), all in one chain, so the unit's latency is its cost.
class UnitKernel {
 public:
  explicit UnitKernel(std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> value(0.5, 1.5);
    for (double& x : m_state)
      x = value(rng);
  }
  void run(std::int64_t units) {
    std::size_t i = m_next;
    double x = m_carry;  // one dependency chain through every unit: nothing overlaps
    for (std::int64_t u = 0; u < units; ++u) {
      for (int k = 0; k < 8; ++k)
        x = x * 0.999 + m_state[i];
      x *= 0.5;
      i = (i + 1) % m_state.size();
    }
    m_next = i;
    m_carry = x;
  }
  double checksum() const { return m_carry; }

 private:
  std::array<double, 256> m_state{};
  std::size_t m_next = 0;
  double m_carry = 1.0;
};

constexpr std::int64_t k_stable_units = 100'000;  // about 1 ms a step

class Stable final : public Workload {
 public:
  explicit Stable(const WorkloadOptions& options)
      : m_kernel(options.seed), m_units(k_stable_units * options.work_scale) {}
  void step(std::int64_t, StepReport& report) override {
    m_kernel.run(m_units);
    report.work.emplace_back("units", static_cast<double>(m_units));
  }
  double checksum() const override { return m_kernel.checksum(); }

 private:
  UnitKernel m_kernel;
  std::int64_t m_units;
};

// Work grows linearly over the run, from a tenth of the stable step to the stable step, and
// varies by up to 30% from one step to the next around that line, as real work does: the
// analysis prices work from its step-to-step variation, and work that only follows a line
// cannot be told from a unit cost that rises along it (it would be "not identifiable").
class Growth final : public Workload {
 public:
  explicit Growth(const WorkloadOptions& options)
      : m_kernel(options.seed),
        m_steps(std::max<std::int64_t>(options.steps, 2)),
        m_scale(options.work_scale),
        m_jitter(options.seed ^ 0x9e3779b97f4a7c15ULL) {}
  void step(std::int64_t index, StepReport& report) override {
    const std::int64_t first = k_stable_units / 10;
    const double line =
        static_cast<double>(first + (k_stable_units - first) * index / (m_steps - 1));
    const double jitter = std::uniform_real_distribution<double>(-0.3, 0.3)(m_jitter);
    const auto units = m_scale * static_cast<std::int64_t>(std::llround(line * (1 + jitter)));
    m_kernel.run(units);
    report.work.emplace_back("units", static_cast<double>(units));
  }
  double checksum() const override { return m_kernel.checksum(); }

 private:
  UnitKernel m_kernel;
  std::int64_t m_steps;
  std::int64_t m_scale;
  std::mt19937_64 m_jitter;
};

// Same work, dearer: every step handles the same number of items, and each item is
// checked against a history that the work counters do not show and that grows threefold
// over the run (a linear scan, as a lookup without an index would be). Only the per-item
// cost grows, so growing work (H5) must not explain the slowdown. The history is
// allocated and written before the first step: no step allocates or faults in memory
// (H2 reads allocator ratios and RSS), and 6,000 doubles (48 KB) stay in the L2 cache, so
// the cost per history entry is the same at every length and grows linearly with it.
// The items' records (8 MB in 1 KB blocks, allocated before the first step and kept) give
// the heap a realistic size: in a heap of half a megabyte, the recorder's own buffers
// moved glibc's active/allocated ratio by 19% in mid-run, which with the dearer steps
// read as fragmentation (H2) in 4 of 6 runs.
constexpr std::int64_t k_dearer_items = 64;
constexpr std::size_t k_record_blocks = 8'192;
constexpr std::size_t k_record_block_bytes = 1'024;
constexpr std::size_t k_history_first = 2'000;
constexpr std::size_t k_history_last = 6'000;

}  // namespace

std::size_t dearer_history(std::int64_t index, std::int64_t steps) {
  steps = std::max<std::int64_t>(steps, 2);
  index = std::clamp<std::int64_t>(index, 0, steps - 1);
  const auto added = static_cast<std::int64_t>(k_history_last - k_history_first);
  return k_history_first + static_cast<std::size_t>(added * index / (steps - 1));
}

namespace {

class Dearer final : public Workload {
 public:
  explicit Dearer(const WorkloadOptions& options) : m_rng(options.seed), m_steps(options.steps) {}
  void prepare() override {
    std::uniform_real_distribution<double> value(0.5, 1.5);
    m_history.resize(dearer_history(m_steps, m_steps));
    for (double& x : m_history)
      x = value(m_rng);
    m_records.reserve(k_record_blocks);
    for (std::size_t b = 0; b < k_record_blocks; ++b)
      m_records.emplace_back(k_record_block_bytes, static_cast<char>('a' + b % 26));
  }
  void step(std::int64_t index, StepReport& report) override {
    const std::size_t length = dearer_history(index, m_steps);
    for (std::int64_t item = 0; item < k_dearer_items; ++item) {
      // One dependency chain per item through the whole history: its latency is its cost.
      double x = static_cast<double>(m_rng() % 1024) / 1024.0;
      for (std::size_t j = 0; j < length; ++j)
        x = x * 0.999 + m_history[j];
      m_carry += x * 1e-9;
    }
    report.work.emplace_back("items", static_cast<double>(k_dearer_items));
  }
  double checksum() const override { return m_carry; }

 private:
  std::mt19937_64 m_rng;
  std::int64_t m_steps;
  std::vector<double> m_history;
  std::vector<std::string> m_records;
  double m_carry = 0.0;
};

// The cores this process may run on (its affinity, which a batch system may restrict).
unsigned usable_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
    return static_cast<unsigned>(CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

// CPU-bound processes that compete for the cores. Each is a fork that spins until it is
// killed; it dies with this thread's process (PR_SET_PDEATHSIG), so none outlives a crash.
class Competitors {
 public:
  Competitors() = default;
  Competitors(const Competitors&) = delete;
  Competitors& operator=(const Competitors&) = delete;
  ~Competitors() { stop(); }

  void start(unsigned count) {
    LaunchOptions options;
    options.parent_death_signal = SIGKILL;
    for (unsigned i = 0; i < count; ++i) {
      // Only async-signal-safe work in the child: the parent has other threads.
      const Spawned spinner = fork_child(
          "a competing process",
          [] {
            volatile std::uint64_t spin = 0;
            for (;;)
              spin = spin + 1;
            return 0;
          },
          options);
      m_pids.push_back(spinner.pid);
    }
  }
  void stop() {
    for (const pid_t pid : m_pids)
      ::kill(pid, SIGKILL);
    for (const pid_t pid : m_pids)
      while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
      }
    m_pids.clear();
  }

 private:
  std::vector<pid_t> m_pids;
};

// The stable step, with two competitors per core during the middle half of the run: the
// run's process then gets about two fifths of a core (one competitor per core left it 70%
// to 80% of one on the development VM, the scheduler favouring the older process).
class Contention final : public Workload {
 public:
  explicit Contention(const WorkloadOptions& options)
      : m_kernel(options.seed), m_begin(options.steps / 4), m_end(3 * options.steps / 4) {}
  void step(std::int64_t index, StepReport& report) override {
    if (index == m_begin) m_competitors.start(2 * usable_cores());
    if (index == m_end) m_competitors.stop();
    m_kernel.run(k_stable_units);
    report.work.emplace_back("units", static_cast<double>(k_stable_units));
  }
  double checksum() const override { return m_kernel.checksum(); }

 private:
  UnitKernel m_kernel;
  std::int64_t m_begin, m_end;
  Competitors m_competitors;
};

}  // namespace

std::unique_ptr<Workload> make_stable(const WorkloadOptions& options) {
  return std::make_unique<Stable>(options);
}
std::unique_ptr<Workload> make_growth(const WorkloadOptions& options) {
  return std::make_unique<Growth>(options);
}
std::unique_ptr<Workload> make_dearer(const WorkloadOptions& options) {
  return std::make_unique<Dearer>(options);
}
std::unique_ptr<Workload> make_contention(const WorkloadOptions& options) {
  return std::make_unique<Contention>(options);
}

}  // namespace nrmlab::validate
