#include "telemetry/profile/aggregator.hpp"

#include <algorithm>
#include <cassert>

#include "util/error.hpp"

namespace nrmlab::telemetry::profile {

ProfileAggregator::ProfileAggregator(std::int64_t origin_ns, std::int64_t window_ns,
                                     std::pair<std::int64_t, std::int64_t> stored)
    : m_origin_ns(origin_ns),
      m_window_ns(window_ns),
      m_frames_before(stored.first),
      m_stacks_before(stored.second) {
  if (window_ns <= 0) throw Error("profile: the window must be longer than 0 ns");
}

std::int64_t ProfileAggregator::window_of(std::int64_t time_ns) const {
  // A sample taken before the origin (the sampler may start a moment before the run's clock)
  // belongs to the first window.
  return std::max<std::int64_t>(0, (time_ns - m_origin_ns) / m_window_ns);
}

// A caller is kept per call site (its return address), so a function called from two
// places shows both. The innermost frame of a known function is kept per function: its
// sampled addresses differ from sample to sample and would make every stack distinct.
// Kernel frames are kept per function for the same reason.
std::int64_t ProfileAggregator::intern_frame(const Frame& frame, bool innermost) {
  const bool per_function = innermost || frame.module == "[kernel]";
  const auto address = per_function ? std::int64_t{0} : static_cast<std::int64_t>(frame.address);
  auto [it, added] =
      m_frames.try_emplace({frame.function, frame.module, address},
                           m_frames_before + static_cast<std::int64_t>(m_frames.size()) + 1);
  if (added) m_new_frames.push_back({it->second, frame.function, frame.module, address});
  return it->second;
}

std::int64_t ProfileAggregator::intern_stack(std::int64_t parent, std::int64_t frame) {
  auto [it, added] = m_stacks.try_emplace(
      {parent, frame}, m_stacks_before + static_cast<std::int64_t>(m_stacks.size()) + 1);
  if (added) m_new_stacks.push_back({it->second, parent, frame});
  return it->second;
}

void ProfileAggregator::add(std::span<const Frame> user, std::span<const Frame> kernel,
                            WaitClass wait, std::int64_t time_ns, std::int64_t weight_ns) {
  // Outermost first: the user frames from main down, then the kernel's on top of them.
  std::int64_t stack = 0;
  const std::size_t depth = user.size() + kernel.size();
  std::size_t placed = 0;
  for (auto it = user.rbegin(); it != user.rend(); ++it)
    stack = intern_stack(stack, intern_frame(*it, ++placed == depth));
  for (auto it = kernel.rbegin(); it != kernel.rend(); ++it)
    stack = intern_stack(stack, intern_frame(*it, ++placed == depth));
  assert(placed == depth);

  ++m_samples;
  std::int64_t at = time_ns;
  std::int64_t left = std::max<std::int64_t>(0, weight_ns);
  std::int64_t window = window_of(at);
  auto& first = m_counts[{window, stack, wait}];
  ++first.first;
  // Split the span at window ends (it lies in one window unless it is an off-CPU wait).
  for (;;) {
    const std::int64_t window_end = m_origin_ns + (window + 1) * m_window_ns;
    const std::int64_t part = std::min(left, std::max<std::int64_t>(window_end - at, 1));
    m_counts[{window, stack, wait}].second += part;
    left -= part;
    if (left <= 0) break;
    at = window_end;
    ++window;
  }
}

void ProfileAggregator::take(Batch& batch) {
  batch.profile_frames.insert(batch.profile_frames.end(), m_new_frames.begin(), m_new_frames.end());
  batch.profile_stacks.insert(batch.profile_stacks.end(), m_new_stacks.begin(), m_new_stacks.end());
  m_new_frames.clear();
  m_new_stacks.clear();
  for (const auto& [key, value] : m_counts) {
    const auto& [window, stack, wait] = key;
    batch.profile_counts.push_back(
        {window, stack, std::string(to_string(wait)), value.first, value.second});
  }
  m_counts.clear();
}

}  // namespace nrmlab::telemetry::profile
