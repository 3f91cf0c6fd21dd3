// The workloads of the differential profile's cases (issue 19): a step of two functions, as
// a real program's is, so that the stack samples must tell which one changed.
//
// Every item of a step goes through `update_item` (a fixed computation, about 100 us) and
// `scan_history` (a dependent pass over a history of doubles, about 1.3 ns an entry).
// * hotspot: 64 items every step (the only work counter); the history grows linearly
//   tenfold over the run, from 6,000 entries to 60,000 (0.5 ms a step to 5 ms), so only
//   scan_history gets dearer, at constant work: it must be named first, with at least 80%
//   of the change, and "dearer".
// * hotspot-growth: the items grow fourfold along a line (32 to 128, varying up to 30% step
//   to step, as the growth workload's units do, so that their price can be estimated) and
//   neither function's cost per item changes (a history of 12,000 entries): both take more
//   time per step, and neither may be called "dearer".
// Steps of 7 to 13 ms keep a quarter of the short validation's 300 steps over 0.5 s: ten of
// the validator's 50 ms profile windows a side.
#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "validate/workloads_internal.hpp"

namespace nrmlab::validate {
namespace {

constexpr int k_update_rounds = 8'000;  // about 100 us: ten dependent multiply-adds a round
constexpr std::size_t k_scan_first = 6'000;
constexpr std::size_t k_scan_last = 60'000;
constexpr std::size_t k_scan_fixed = 12'000;
constexpr std::int64_t k_hotspot_items = 64;
constexpr std::int64_t k_growth_items_first = 32;
constexpr std::int64_t k_growth_items_last = 128;

// Not inlined: the validator looks for these two by name in the stack samples.
[[gnu::noinline]] double update_item(double x) {
  for (int round = 0; round < k_update_rounds; ++round)
    for (int k = 0; k < 10; ++k)
      x = x * 0.999 + 0.0005;
  return x;
}

[[gnu::noinline]] double scan_history(const std::vector<double>& history, std::size_t length,
                                      double x) {
  for (std::size_t j = 0; j < length; ++j)
    x = x * 0.999 + history[j];
  return x;
}

// The steps' items; the history a step's items scan; the rest is the same for both kinds.
class Hotspot final : public Workload {
 public:
  Hotspot(const WorkloadOptions& options, bool growth)
      : m_rng(options.seed), m_steps(std::max<std::int64_t>(options.steps, 2)), m_growth(growth) {}

  void prepare() override {
    std::uniform_real_distribution<double> value(0.5, 1.5);
    m_history.resize(k_scan_last);
    for (double& x : m_history)
      x = value(m_rng);
    // A heap of realistic size, as the dearer workload's (compute_workloads.cpp): in a tiny
    // heap the recorder's own buffers move the allocator's ratios enough to read as H2.
    m_records.assign(8'192, std::string(1'024, 'r'));
  }

  void step(std::int64_t index, StepReport& report) override {
    const double along = static_cast<double>(index) / static_cast<double>(m_steps - 1);
    std::int64_t items = k_hotspot_items;
    std::size_t length = k_scan_fixed;
    if (m_growth) {
      const double line = static_cast<double>(k_growth_items_first) +
                          static_cast<double>(k_growth_items_last - k_growth_items_first) * along;
      const double jitter = std::uniform_real_distribution<double>(-0.3, 0.3)(m_rng);
      items = std::max<std::int64_t>(1, std::llround(line * (1 + jitter)));
    } else {
      length = k_scan_first + static_cast<std::size_t>(std::llround(
                                  static_cast<double>(k_scan_last - k_scan_first) * along));
    }
    for (std::int64_t item = 0; item < items; ++item) {
      const double x = static_cast<double>(m_rng() % 1024) / 1024.0;
      m_carry += 1e-9 * (update_item(x) + scan_history(m_history, length, x));
    }
    report.work.emplace_back("items", static_cast<double>(items));
  }

  double checksum() const override { return m_carry; }

 private:
  std::mt19937_64 m_rng;
  std::int64_t m_steps;
  bool m_growth;
  std::vector<double> m_history;
  std::vector<std::string> m_records;
  double m_carry = 0.0;
};

}  // namespace

std::unique_ptr<Workload> make_hotspot(const WorkloadOptions& options) {
  return std::make_unique<Hotspot>(options, false);
}
std::unique_ptr<Workload> make_hotspot_growth(const WorkloadOptions& options) {
  return std::make_unique<Hotspot>(options, true);
}

}  // namespace nrmlab::validate
