// The cluster table (model.md section 4): the components found by each step's cluster
// detection, appended in order. Faithfully it is never cleared, so it remembers every
// composition event -- its size is the model's `pattern_count`. Energy pooling walks it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "util/compensated_sum.hpp"

namespace nrmlab::model {

struct PoolingOutcome {
  std::size_t entries_applied = 0;
  std::size_t entries_skipped = 0;  // entries none of whose agents is alive any more
};

class ClusterTable {
 public:
  void clear() {
    m_members.clear();
    m_offsets.clear();
  }
  // Appends one entry; `serials` must be ascending (list order).
  void append(std::span<const std::uint32_t> serials) {
    m_offsets.push_back(m_members.size());
    m_members.insert(m_members.end(), serials.begin(), serials.end());
  }
  std::size_t size() const { return m_offsets.size(); }
  // The table's two arrays (every entry's serials back to back, and where each begins),
  // to save it and build it again with the constructor below.
  const std::vector<std::uint32_t>& members() const { return m_members; }
  const std::vector<std::size_t>& offsets() const { return m_offsets; }

  ClusterTable() = default;
  ClusterTable(std::vector<std::uint32_t> members, std::vector<std::size_t> offsets)
      : m_members(std::move(members)), m_offsets(std::move(offsets)) {}
  std::span<const std::uint32_t> entry(std::size_t k) const {
    const std::size_t begin = m_offsets[k];
    const std::size_t end = k + 1 < m_offsets.size() ? m_offsets[k + 1] : m_members.size();
    return {m_members.data() + begin, end - begin};
  }

  // H1 energy pooling over every entry with >= 2 ids: the living members (list position
  // >= 0) each receive share * (sum of their energies) / (their number), capped. Energy is
  // created, not moved. An entry with no living member is skipped (the original divided by
  // zero there). `energy_of(serial)` returns a reference to that agent's energy. `Sum`
  // (PlainSum or CompensatedSum) is how the original's sum() of the energies adds up; a
  // template parameter so that the plain fold stays as cheap as before.
  template <typename Sum = PlainSum, typename EnergyOf>
  PoolingOutcome pool(EnergyOf&& energy_of, std::span<const std::int32_t> list_position,
                      double share_rate, double cap) const {
    PoolingOutcome outcome;
    for (std::size_t k = 0; k < size(); ++k) {
      const auto members = entry(k);
      if (members.size() < 2) continue;
      Sum sum;
      std::size_t alive = 0;
      for (const std::uint32_t serial : members) {
        if (list_position[serial] < 0) continue;
        sum.add(energy_of(serial));
        ++alive;
      }
      const double total = sum.value();
      if (alive == 0) {
        ++outcome.entries_skipped;
        continue;
      }
      const double share = share_rate * total / static_cast<double>(alive);
      for (const std::uint32_t serial : members) {
        if (list_position[serial] < 0) continue;
        double& energy = energy_of(serial);
        energy = std::min(energy + share, cap);
      }
      ++outcome.entries_applied;
    }
    return outcome;
  }

 private:
  std::vector<std::uint32_t> m_members;
  std::vector<std::size_t> m_offsets;
};

}  // namespace nrmlab::model
