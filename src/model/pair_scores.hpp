// Resonance scores for all pairs (i, j > i) of a population, one row at a time, from phase
// vectors laid out as columns (structure of arrays) so the inner loop vectorizes. Results
// are bit-identical to resonance() for every pair.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "model/phase_space.hpp"

namespace nrmlab::model {

class PairScores {
 public:
  // Loads the population's phases (in list order).
  void load(std::span<const PhaseState> phases);
  // Scores agent i against every j > i; read the results with alignment(j) and friends.
  void score_row(std::size_t i);

  std::size_t size() const { return m_p.size(); }
  double alignment(std::size_t j) const { return m_alignment[j]; }
  double ratio(std::size_t j) const { return m_ratio[j]; }
  double similarity(std::size_t j) const { return m_similarity[j]; }

 private:
  std::vector<double> m_p, m_q, m_r, m_magnitude;
  std::vector<double> m_alignment, m_ratio, m_similarity;
  std::vector<std::uint32_t> m_zero;  // positions with a zero phase vector
};

}  // namespace nrmlab::model
