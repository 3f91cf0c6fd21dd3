#include "model/pair_scores.hpp"

namespace nrmlab::model {
namespace {

// The row kernel: no branches or selects, so GCC vectorizes it. The operation order is
// resonance()'s. A zero magnitude yields NaN here; score_row patches those entries.
void row_kernel(std::size_t i, std::size_t n, const double* __restrict p,
                const double* __restrict q, const double* __restrict r,
                const double* __restrict magnitude, double* __restrict alignment_out,
                double* __restrict ratio_out, double* __restrict similarity_out) {
  const double pi = p[i], qi = q[i], ri = r[i], mi = magnitude[i];
  for (std::size_t j = i + 1; j < n; ++j) {
    const double mj = magnitude[j];
    const double dot = pi * p[j] + qi * q[j] + ri * r[j];
    const double alignment = dot / (mi * mj);
    const double smaller = mi < mj ? mi : mj;
    const double larger = mi < mj ? mj : mi;
    const double ratio = smaller / larger;
    alignment_out[j] = alignment;
    ratio_out[j] = ratio;
    similarity_out[j] = 0.7 * alignment + 0.3 * ratio;
  }
}

}  // namespace

void PairScores::load(std::span<const PhaseState> phases) {
  const std::size_t n = phases.size();
  m_p.resize(n);
  m_q.resize(n);
  m_r.resize(n);
  m_magnitude.resize(n);
  m_alignment.resize(n);
  m_ratio.resize(n);
  m_similarity.resize(n);
  m_zero.clear();
  for (std::size_t i = 0; i < n; ++i) {
    m_p[i] = phases[i].p;
    m_q[i] = phases[i].q;
    m_r[i] = phases[i].r;
    m_magnitude[i] = phases[i].magnitude;
    if (phases[i].magnitude == 0.0) m_zero.push_back(static_cast<std::uint32_t>(i));
  }
}

void PairScores::score_row(std::size_t i) {
  const std::size_t n = m_p.size();
  row_kernel(i, n, m_p.data(), m_q.data(), m_r.data(), m_magnitude.data(), m_alignment.data(),
             m_ratio.data(), m_similarity.data());
  // A zero vector resonates with nothing: all three scores 0, as resonance() defines. Such
  // vectors need p = q = r = 0 exactly, so this patch almost never runs.
  if (m_zero.empty()) return;
  const auto clear = [&](std::size_t j) { m_alignment[j] = m_ratio[j] = m_similarity[j] = 0.0; };
  if (m_magnitude[i] == 0.0) {
    for (std::size_t j = i + 1; j < n; ++j)
      clear(j);
  } else {
    for (const std::uint32_t j : m_zero)
      if (j > i) clear(j);
  }
}

}  // namespace nrmlab::model
