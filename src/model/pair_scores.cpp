#include "model/pair_scores.hpp"

#include <bit>

namespace nrmlab::model {
namespace {

// A comparison chain, so NaN (and zero, infinity, negatives) is not decidable either.
bool decidable_magnitude(double magnitude) {
  return magnitude >= k_decidable_low && magnitude <= k_decidable_high;
}

}  // namespace

PairScores::PairScores(Isa isa) : m_isa(resolve_isa(isa)), m_kernels(pair_kernels(m_isa)) {}

void PairScores::load(std::span<const PhaseState> phases) {
  const std::size_t n = phases.size();
  m_p.resize(n);
  m_q.resize(n);
  m_r.resize(n);
  m_magnitude.resize(n);
  m_zero.clear();
  m_special.clear();
  for (std::size_t i = 0; i < n; ++i) {
    const double magnitude = phases[i].magnitude;
    m_p[i] = phases[i].p;
    m_q[i] = phases[i].q;
    m_r[i] = phases[i].r;
    m_magnitude[i] = magnitude;
    if (magnitude == 0.0) m_zero.push_back(static_cast<std::uint32_t>(i));
    if (!decidable_magnitude(magnitude)) m_special.push_back(static_cast<std::uint32_t>(i));
  }
}

PhaseColumns PairScores::columns() const {
  return {m_p.data(), m_q.data(), m_r.data(), m_magnitude.data(), m_p.size()};
}

void PairScores::score_row(std::size_t i, RowScores& out) const {
  const std::size_t n = m_p.size();
  out.alignment.resize(n);
  out.ratio.resize(n);
  out.similarity.resize(n);
  m_kernels.score(columns(), i, out.alignment.data(), out.ratio.data(), out.similarity.data());
  // A zero vector resonates with nothing: all three scores 0, as resonance() defines. Such
  // vectors need p = q = r = 0 exactly, so this patch almost never runs.
  if (m_zero.empty()) return;
  const auto clear = [&](std::size_t j) {
    out.alignment[j] = out.ratio[j] = out.similarity[j] = 0.0;
  };
  if (m_magnitude[i] == 0.0) {
    for (std::size_t j = i + 1; j < n; ++j)
      clear(j);
  } else {
    for (const std::uint32_t j : m_zero)
      if (j > i) clear(j);
  }
}

std::size_t PairScores::decide_row(std::size_t i, double threshold, std::uint64_t* resonant,
                                   std::uint64_t* unsure) const {
  const std::size_t n = m_p.size();
  const std::size_t words = this->words();
  if (i + 1 >= n) return 0;
  std::size_t count = 0;
  // Sets bit j to the exact decision, keeping the count.
  const auto set_exact = [&](std::size_t j) {
    const std::uint64_t bit = std::uint64_t{1} << (j % 64);
    const bool was = (resonant[j / 64] & bit) != 0;
    const bool yes = resonance(phase(i), phase(j)).similarity >= threshold;
    resonant[j / 64] = yes ? resonant[j / 64] | bit : resonant[j / 64] & ~bit;
    count = count + (yes ? 1 : 0) - (was ? 1 : 0);
  };
  // Pairs the bound does not cover are decided as resonance() decides them, dividing.
  if (!decidable_magnitude(m_magnitude[i])) {
    for (std::size_t w = (i + 1) / 64; w < words; ++w)
      resonant[w] = 0;
    for (std::size_t j = i + 1; j < n; ++j)
      set_exact(j);
    return count;
  }
  count = m_kernels.decide(columns(), i, threshold, resonant, unsure);
  for (std::size_t w = (i + 1) / 64; w < words; ++w)
    for (std::uint64_t bits = unsure[w]; bits != 0; bits &= bits - 1)
      set_exact(w * 64 + static_cast<std::size_t>(std::countr_zero(bits)));
  for (const std::uint32_t j : m_special)
    if (j > i) set_exact(j);
  return count;
}

}  // namespace nrmlab::model
