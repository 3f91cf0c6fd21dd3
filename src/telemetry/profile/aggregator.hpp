// Symbolized samples turned into what telemetry.db keeps of them (issue 18): frames and
// stacks interned once each, and time counted per window of the run's clock, per stack and
// wait class (rows.hpp: ProfileFrameRow, ProfileStackRow, ProfileCountRow). A long run thus
// grows by the distinct call paths it takes and by a few rows a window, not by its samples.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "telemetry/profile/sample.hpp"
#include "telemetry/rows.hpp"

namespace nrmlab::telemetry::profile {

class ProfileAggregator {
 public:
  // Windows are [origin_ns + k * window_ns, +window_ns) of CLOCK_MONOTONIC: origin_ns is
  // the instant the run's telemetry counts t_ns from, so windows line up with its steps.
  // Ids continue after `stored`: the frames and stacks a database already holds (a run
  // resumed in another process appends to it; profile_data.hpp's stored_profile_ids).
  ProfileAggregator(std::int64_t origin_ns, std::int64_t window_ns,
                    std::pair<std::int64_t, std::int64_t> stored = {0, 0});

  // Counts one sample: `user` and `kernel` are its frames, innermost first (either may be
  // empty: a stackless sample is counted on stack 0). It stands for `weight_ns` of wall
  // time from `time_ns`, split across the windows that span covers; its one sample is
  // counted in the window it starts in.
  void add(std::span<const Frame> user, std::span<const Frame> kernel, WaitClass wait,
           std::int64_t time_ns, std::int64_t weight_ns);

  // Moves the frames and stacks interned and the counts added since the last call into
  // `batch` (frames and stacks before the counts that use them: one batch is one
  // transaction, so a reader never sees a count without its stack).
  void take(Batch& batch);

  std::int64_t samples() const { return m_samples; }

  std::int64_t window_of(std::int64_t time_ns) const;

 private:
  std::int64_t intern_frame(const Frame& frame, bool innermost);
  std::int64_t intern_stack(std::int64_t parent, std::int64_t frame);

  std::int64_t m_origin_ns;
  std::int64_t m_window_ns;
  std::int64_t m_frames_before = 0;
  std::int64_t m_stacks_before = 0;
  std::int64_t m_samples = 0;
  std::map<std::tuple<std::string, std::string, std::int64_t>, std::int64_t> m_frames;
  std::map<std::pair<std::int64_t, std::int64_t>, std::int64_t> m_stacks;
  // (window, stack, wait) -> (samples, weight_ns) since the last take.
  std::map<std::tuple<std::int64_t, std::int64_t, WaitClass>, std::pair<std::int64_t, std::int64_t>>
      m_counts;
  std::vector<ProfileFrameRow> m_new_frames;
  std::vector<ProfileStackRow> m_new_stacks;
};

}  // namespace nrmlab::telemetry::profile
