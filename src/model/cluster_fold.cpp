#include "model/cluster_fold.hpp"

namespace nrmlab::model {

void ClusterFold::reset(std::size_t n) {
  m_group_of.assign(n, -1);
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

}  // namespace nrmlab::model
