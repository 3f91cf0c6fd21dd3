// The fold of resonant pairs into groups: the components of the resonance graph.
#include "model/cluster_fold.hpp"

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace nrmlab::model {
namespace {

// The non-empty groups, each sorted, in creation order.
std::vector<std::vector<std::uint32_t>> components(ClusterFold& fold) {
  std::vector<std::vector<std::uint32_t>> out;
  for (const auto& group : fold.groups()) {
    if (group.empty()) continue;
    out.push_back(group);
    std::sort(out.back().begin(), out.back().end());
  }
  return out;
}

TEST(ClusterFold, PairsFormGroupsJoinAndMerge) {
  ClusterFold fold;
  fold.reset(8);
  fold.fold(0, 1);  // new group {0, 1}
  fold.fold(4, 5);  // new group {4, 5}
  fold.fold(1, 2);  // 2 joins {0, 1}
  fold.fold(6, 4);  // 6 joins {4, 5}
  EXPECT_EQ(fold.group_of(3), -1);
  EXPECT_EQ(fold.group_of(2), fold.group_of(0));
  EXPECT_NE(fold.group_of(4), fold.group_of(0));
  fold.fold(2, 5);  // the second group merges into the first and is left empty
  fold.fold(0, 6);  // already together: nothing changes
  ASSERT_EQ(fold.groups().size(), 2u);
  EXPECT_TRUE(fold.groups()[1].empty());
  EXPECT_EQ(fold.group_of(6), fold.group_of(0));
  EXPECT_EQ(components(fold), (std::vector<std::vector<std::uint32_t>>{{0, 1, 2, 4, 5, 6}}));
}

TEST(ClusterFold, ResetStartsAStepWithEveryPositionUngrouped) {
  ClusterFold fold;
  fold.reset(4);
  fold.fold(0, 1);
  fold.fold(2, 3);
  fold.reset(3);
  EXPECT_TRUE(fold.groups().empty());
  for (std::uint32_t p = 0; p < 3; ++p)
    EXPECT_EQ(fold.group_of(p), -1);
  fold.fold(2, 0);
  EXPECT_EQ(components(fold), (std::vector<std::vector<std::uint32_t>>{{0, 2}}));
}

// Any order of any pairs ends in the connected components (checked against a union-find).
TEST(ClusterFold, RandomPairsEndInTheConnectedComponents) {
  std::mt19937 rng(5);
  for (int trial = 0; trial < 50; ++trial) {
    const std::uint32_t n = 2 + rng() % 60;
    std::vector<std::uint32_t> parent(n);
    for (std::uint32_t p = 0; p < n; ++p)
      parent[p] = p;
    const auto root = [&](std::uint32_t p) {
      while (parent[p] != p)
        p = parent[p];
      return p;
    };
    ClusterFold fold;
    fold.reset(n);
    std::vector<bool> paired(n, false);
    const std::uint32_t pairs = rng() % (2 * n);
    for (std::uint32_t k = 0; k < pairs; ++k) {
      const std::uint32_t i = rng() % n;
      const std::uint32_t j = rng() % n;
      if (i == j) continue;
      fold.fold(i, j);
      parent[root(i)] = root(j);
      paired[i] = paired[j] = true;
    }
    for (std::uint32_t a = 0; a < n; ++a) {
      EXPECT_EQ(fold.group_of(a) >= 0, paired[a]);
      for (std::uint32_t b = 0; b < n; ++b) {
        if (paired[a] && paired[b]) {
          EXPECT_EQ(fold.group_of(a) == fold.group_of(b), root(a) == root(b));
        }
      }
    }
    std::size_t members = 0;
    for (const auto& group : components(fold))
      members += group.size();
    EXPECT_EQ(members, static_cast<std::size_t>(std::count(paired.begin(), paired.end(), true)));
  }
}

// Row by row from bit words, as the engine folds: the same groups, in the same creation
// order, with the same members in the same order as folding the same pairs one by one, at
// densities from sparse (many groups, many merges) to dense (one component early), and
// sizes that are and are not multiples of 64.
TEST(ClusterFold, FoldingWholeRowsEqualsFoldingPairByPair) {
  std::mt19937_64 rng(64);
  for (const std::size_t n : {2u, 63u, 64u, 65u, 130u, 700u}) {
    for (const double density : {0.002, 0.01, 0.05, 0.3}) {
      const std::size_t words = (n + 63) / 64;
      std::bernoulli_distribution resonant(density);
      ClusterFold by_pair, by_row;
      by_pair.reset(n);
      by_row.reset(n);
      std::vector<std::uint64_t> bits(words);
      for (std::size_t i = 0; i + 1 < n; ++i) {
        std::fill(bits.begin(), bits.end(), 0);
        for (std::size_t j = i + 1; j < n; ++j) {
          if (!resonant(rng)) continue;
          bits[j / 64] |= std::uint64_t{1} << (j % 64);
          by_pair.fold(static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(j));
        }
        by_row.fold_row(static_cast<std::uint32_t>(i), bits.data(), (i + 1) / 64, words);
      }
      const auto pair_groups = by_pair.groups();
      const auto row_groups = by_row.groups();
      ASSERT_EQ(row_groups.size(), pair_groups.size()) << n << " at " << density;
      for (std::size_t g = 0; g < pair_groups.size(); ++g)
        EXPECT_EQ(row_groups[g], pair_groups[g]) << "group " << g << ", " << n << " at " << density;
      // Ordered members: each group sorted, nothing else moved.
      const auto sorted = components(by_pair);
      by_row.order_members();
      std::vector<std::vector<std::uint32_t>> ordered;
      for (const auto& group : by_row.groups())
        if (!group.empty()) ordered.push_back(group);
      EXPECT_EQ(ordered, sorted) << n << " at " << density;
    }
  }
}

}  // namespace
}  // namespace nrmlab::model
