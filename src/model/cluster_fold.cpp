#include "model/cluster_fold.hpp"

#include <bit>
#include <cassert>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace nrmlab::model {

void ClusterFold::reset(std::size_t n) {
  m_size = n;
  m_group_of.assign((n + 63) / 64 * 64, -1);
  m_groups_used = 0;
}

void ClusterFold::join(std::uint32_t i, std::uint32_t j) {
  const std::int32_t gi = m_group_of[i];
  const std::int32_t gj = m_group_of[j];
  if (gi < 0 && gj < 0) {
    if (m_groups_used == m_groups.size()) m_groups.emplace_back();
    std::vector<std::uint32_t>& group = m_groups[m_groups_used];
    group.clear();
    group.push_back(i);
    group.push_back(j);
    m_group_of[i] = m_group_of[j] = static_cast<std::int32_t>(m_groups_used++);
  } else if (gi < 0) {
    m_groups[static_cast<std::size_t>(gj)].push_back(i);
    m_group_of[i] = gj;
  } else if (gj < 0) {
    m_groups[static_cast<std::size_t>(gi)].push_back(j);
    m_group_of[j] = gi;
  } else if (gi != gj) {
    std::vector<std::uint32_t>& first = m_groups[static_cast<std::size_t>(gi)];
    std::vector<std::uint32_t>& second = m_groups[static_cast<std::size_t>(gj)];
    for (const std::uint32_t member : second) {
      m_group_of[member] = gi;
      first.push_back(member);
    }
    second.clear();
  }
}

void ClusterFold::fold_bits(std::uint32_t row, std::size_t word, std::uint64_t bits) {
  for (; bits != 0; bits &= bits - 1)
    fold(row, static_cast<std::uint32_t>(word * 64 + std::countr_zero(bits)));
}

void ClusterFold::fold_row(std::uint32_t row, const std::uint64_t* bits, std::size_t first,
                           std::size_t words) {
  assert(words * 64 <= m_group_of.size());
  std::size_t w = first;
  // Until the row has a group, a pair may create one or join the partner's: pair by pair.
  for (; w < words && m_group_of[row] < 0; ++w)
    fold_bits(row, w, bits[w]);
  if (w == words) return;
  // From here the row's group never changes: join() only ever moves a partner, or the
  // partner's whole group, into it. So a partner found in it at the start of a word is
  // still in it when its pair comes, and fold() would return at once: those pairs are
  // dropped. The groups and their member order are exactly the pair-by-pair fold's.
  const std::int32_t group = m_group_of[row];
  for (; w < words; ++w) {
    const std::uint64_t pending = bits[w] & ~members_in_word(group, w);
    if (pending != 0) fold_bits(row, w, pending);
  }
}

std::uint64_t ClusterFold::members_in_word(std::int32_t group, std::size_t word) const {
  const std::int32_t* entries = m_group_of.data() + word * 64;
  std::uint64_t bits = 0;
#if defined(__SSE2__)
  // x86-64's baseline: 16 entries per round, compared 4 at a time and packed to 16 bits.
  const __m128i wanted = _mm_set1_epi32(group);
  for (unsigned round = 0; round < 4; ++round) {
    const auto* chunk = reinterpret_cast<const __m128i*>(entries + round * 16);
    const __m128i a = _mm_cmpeq_epi32(_mm_loadu_si128(chunk + 0), wanted);
    const __m128i b = _mm_cmpeq_epi32(_mm_loadu_si128(chunk + 1), wanted);
    const __m128i c = _mm_cmpeq_epi32(_mm_loadu_si128(chunk + 2), wanted);
    const __m128i d = _mm_cmpeq_epi32(_mm_loadu_si128(chunk + 3), wanted);
    const __m128i bytes = _mm_packs_epi16(_mm_packs_epi32(a, b), _mm_packs_epi32(c, d));
    bits |= static_cast<std::uint64_t>(static_cast<std::uint16_t>(_mm_movemask_epi8(bytes)))
            << (round * 16);
  }
#else
  for (unsigned k = 0; k < 64; ++k)
    bits |= static_cast<std::uint64_t>(entries[k] == group) << k;
#endif
  return bits;
}

void ClusterFold::order_members() {
  for (std::size_t g = 0; g < m_groups_used; ++g)
    m_groups[g].clear();
  for (std::size_t position = 0; position < m_size; ++position) {
    const std::int32_t group = m_group_of[position];
    if (group >= 0)
      m_groups[static_cast<std::size_t>(group)].push_back(static_cast<std::uint32_t>(position));
  }
}

}  // namespace nrmlab::model
