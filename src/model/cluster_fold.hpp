// Folds one step's resonant pairs into groups of list positions (the connected components
// of the resonance graph), the second half of cluster detection after the pair checks.
// Storage is kept between steps so a step allocates nothing once the groups have grown.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace nrmlab::model {

class ClusterFold {
 public:
  // Starts a step of n list positions, every one ungrouped.
  void reset(std::size_t n);
  // The group of a position, or -1 while it is ungrouped.
  std::int32_t group_of(std::size_t position) const { return m_group_of[position]; }
  // Folds one resonant pair: neither grouped -> a new group; one grouped -> the other joins
  // it; both in different groups -> the second group merges into the first. Inline for the
  // common case once a component has formed: both already in the same group.
  void fold(std::uint32_t i, std::uint32_t j) {
    const std::int32_t gi = m_group_of[i];
    if (gi >= 0 && gi == m_group_of[j]) return;
    join(i, j);
  }
  // The step's groups in creation order; a group merged into another is empty.
  std::span<std::vector<std::uint32_t>> groups() { return {m_groups.data(), m_groups_used}; }

 private:
  void join(std::uint32_t i, std::uint32_t j);

  std::vector<std::int32_t> m_group_of;              // by list position; -1 when ungrouped
  std::vector<std::vector<std::uint32_t>> m_groups;  // list positions; empty once merged
  std::size_t m_groups_used = 0;
};

}  // namespace nrmlab::model
