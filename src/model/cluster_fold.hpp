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
  // Folds (row, j) for every bit j % 64 of word j / 64 set in `bits[first .. words)`, in
  // ascending j: the same as fold() pair by pair, but pairs whose partner is already in the
  // row's group (nearly all, once a component has formed) are dropped 64 at a time.
  void fold_row(std::uint32_t row, const std::uint64_t* bits, std::size_t first, std::size_t words);
  // Puts every group's members in ascending position order (they are kept in arrival order
  // while folding). Linear in the positions: one pass, no sort.
  void order_members();
  // The step's groups in creation order; a group merged into another is empty.
  std::span<std::vector<std::uint32_t>> groups() { return {m_groups.data(), m_groups_used}; }

 private:
  void join(std::uint32_t i, std::uint32_t j);
  void fold_bits(std::uint32_t row, std::size_t word, std::uint64_t bits);
  // Bit k set when position word * 64 + k belongs to `group`.
  std::uint64_t members_in_word(std::int32_t group, std::size_t word) const;

  std::size_t m_size = 0;
  // By list position, padded with -1 to a multiple of 64 so a word's 64 entries can be
  // compared at once; -1 when ungrouped.
  std::vector<std::int32_t> m_group_of;
  std::vector<std::vector<std::uint32_t>> m_groups;  // list positions; empty once merged
  std::size_t m_groups_used = 0;
};

}  // namespace nrmlab::model
