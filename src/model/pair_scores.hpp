// Resonance for all pairs (i, j > i) of a population, one row at a time, from phase vectors
// laid out as columns (structure of arrays) so the row kernels run as vector code. Two
// products: the three scores, bit-identical to resonance() for every pair (when a store
// records them), and the decision alone (similarity >= threshold), bit-identical to
// resonance()'s but mostly without dividing (pair_kernels.cpp proves the bound it relies on).
// The row functions taking scratch are const, so several threads may score rows at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "model/isa.hpp"
#include "model/pair_kernels.hpp"
#include "model/phase_space.hpp"

namespace nrmlab::model {

// One row's scores, by j (entries <= i untouched).
struct RowScores {
  std::vector<double> alignment, ratio, similarity;
};

// One row's decisions: bit j % 64 of word j / 64 is set when j > i resonates with i.
struct RowDecisions {
  std::vector<std::uint64_t> resonant;
  std::vector<std::uint64_t> unsure;  // scratch
  bool test(std::size_t j) const { return ((resonant[j / 64] >> (j % 64)) & 1) != 0; }
};

class PairScores {
 public:
  // `isa` chooses the kernels' variant (resolve_isa: throws when the CPU lacks it).
  explicit PairScores(Isa isa = Isa::automatic);
  Isa isa() const { return m_isa; }

  // Loads the population's phases (in list order).
  void load(std::span<const PhaseState> phases);
  std::size_t size() const { return m_p.size(); }

  // Scores agent i against every j > i into `out` (sized by the call).
  void score_row(std::size_t i, RowScores& out) const;
  // Decides agent i against every j > i into `out` (sized by the call); returns how many
  // pairs resonate.
  std::size_t decide_row(std::size_t i, double threshold, RowDecisions& out) const {
    out.resonant.resize(words());
    out.unsure.resize(words());
    return decide_row(i, threshold, out.resonant.data(), out.unsure.data());
  }
  // The same into words() words of `resonant` bits, with as many words of `unsure` scratch.
  std::size_t decide_row(std::size_t i, double threshold, std::uint64_t* resonant,
                         std::uint64_t* unsure) const;
  std::size_t words() const { return (m_p.size() + 63) / 64; }

  // Single-threaded convenience: scores into the object's own row.
  void score_row(std::size_t i) { score_row(i, m_row); }
  double alignment(std::size_t j) const { return m_row.alignment[j]; }
  double ratio(std::size_t j) const { return m_row.ratio[j]; }
  double similarity(std::size_t j) const { return m_row.similarity[j]; }

 private:
  PhaseState phase(std::size_t k) const { return {m_p[k], m_q[k], m_r[k], m_magnitude[k]}; }
  PhaseColumns columns() const;

  Isa m_isa;
  PairKernels m_kernels;
  std::vector<double> m_p, m_q, m_r, m_magnitude;
  std::vector<std::uint32_t> m_zero;     // positions with a zero phase vector
  std::vector<std::uint32_t> m_special;  // magnitudes the decision kernel cannot decide
  RowScores m_row;
};

}  // namespace nrmlab::model
