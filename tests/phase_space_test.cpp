#include "model/phase_space.hpp"

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "model/cluster_table.hpp"
#include "model/pair_scores.hpp"
#include "model/synergy.hpp"

namespace nrmlab::model {
namespace {

TEST(PhaseSpace, ToPhaseFollowsTheFormulaWithOffsetsAtZero) {
  PhaseSpace bridge;
  MetricSample sample;
  sample.cpu_percent = 25.0;
  sample.memory_percent = 40.0;
  sample.disk_percent = 50.0;
  const PhaseState phase = bridge.to_phase(sample);
  EXPECT_DOUBLE_EQ(phase.p, std::fmod(0.25 * std::numbers::pi * 2.0, k_two_pi));
  EXPECT_DOUBLE_EQ(phase.q, std::fmod(0.40 * std::numbers::e * 2.0, k_two_pi));
  EXPECT_DOUBLE_EQ(phase.r, std::fmod(0.50 * std::numbers::phi * 2.0, k_two_pi));
  EXPECT_DOUBLE_EQ(phase.magnitude,
                   std::sqrt(phase.p * phase.p + phase.q * phase.q + phase.r * phase.r));
}

TEST(PhaseSpace, OscillateAdvancesEachOffsetIncrementallyModuloTwoPi) {
  PhaseSpace bridge;
  double pi_off = 0.0;
  for (int call = 0; call < 25; ++call) {  // 25 * 0.1 pi wraps past 2 pi
    pi_off = std::fmod(pi_off + 0.1 * std::numbers::pi, k_two_pi);
    const PhaseState state = bridge.oscillate();
    EXPECT_EQ(state.p, pi_off) << "call " << call;  // bit-exact: same add-then-fmod sequence
  }
  EXPECT_LT(pi_off, 2.0);  // it wrapped
  // to_phase uses the moved offsets but does not move them.
  MetricSample zero;
  zero.cpu_percent = zero.memory_percent = zero.disk_percent = 0.0;
  const PhaseState a = bridge.to_phase(zero);
  const PhaseState b = bridge.to_phase(zero);
  EXPECT_EQ(a.p, pi_off);
  EXPECT_EQ(a.p, b.p);
}

std::uint64_t bits_of_double(double x) {
  return std::bit_cast<std::uint64_t>(x);
}

// The bridge's fmod without the library call: bit for bit std::fmod's, at the edges of its
// shortcut (0, 2 pi, 4 pi and their neighbours), across [0, 4 pi) and outside it.
TEST(PhaseSpace, WrapTwoPiIsFmodBitForBit) {
  std::vector<double> values = {0.0,
                                -0.0,
                                k_two_pi,
                                2.0 * k_two_pi,
                                std::nextafter(k_two_pi, 0.0),
                                std::nextafter(k_two_pi, 10.0),
                                std::nextafter(2.0 * k_two_pi, 0.0),
                                std::nextafter(2.0 * k_two_pi, 100.0),
                                std::numeric_limits<double>::denorm_min(),
                                -1.0,
                                -k_two_pi,
                                1e300,
                                std::numeric_limits<double>::infinity(),
                                std::numeric_limits<double>::quiet_NaN()};
  std::mt19937_64 rng(21);
  std::uniform_real_distribution<double> inside(0.0, 2.0 * k_two_pi);
  std::uniform_real_distribution<double> anywhere(-100.0, 100.0);
  for (int k = 0; k < 200'000; ++k)
    values.push_back(inside(rng));
  for (int k = 0; k < 20'000; ++k)
    values.push_back(anywhere(rng));
  for (const double x : values)
    EXPECT_EQ(bits_of_double(wrap_two_pi(x)), bits_of_double(std::fmod(x, k_two_pi))) << x;
}

TEST(PhaseSpace, ResonanceWeighsAlignmentAndMagnitudeRatio) {
  const PhaseState a = make_phase(1.0, 0.0, 0.0);
  EXPECT_DOUBLE_EQ(resonance(a, a).similarity, 1.0);
  const PhaseState orthogonal = make_phase(0.0, 2.0, 0.0);
  const Resonance r = resonance(a, orthogonal);
  EXPECT_DOUBLE_EQ(r.alignment, 0.0);
  EXPECT_DOUBLE_EQ(r.ratio, 0.5);
  EXPECT_DOUBLE_EQ(r.similarity, 0.15);
  // Same direction, half the length: 0.7 * 1 + 0.3 * 0.5 = 0.85, exactly the threshold.
  EXPECT_DOUBLE_EQ(resonance(a, make_phase(0.5, 0.0, 0.0)).similarity, 0.85);
  // A zero vector resonates with nothing.
  const Resonance zero = resonance(a, make_phase(0.0, 0.0, 0.0));
  EXPECT_EQ(zero.alignment, 0.0);
  EXPECT_EQ(zero.ratio, 0.0);
  EXPECT_EQ(zero.similarity, 0.0);
}

TEST(ClusterTable, PoolingSkipsEntriesWithNoLivingMemberAndCreatesEnergy) {
  ClusterTable table;
  const std::uint32_t dead_pair[] = {1, 2};
  const std::uint32_t live_pair[] = {0, 3};
  const std::uint32_t mixed[] = {0, 2, 3};
  table.append(dead_pair);
  table.append(live_pair);
  table.append(mixed);
  std::vector<double> energy = {10.0, 50.0, 60.0, 30.0};
  const std::vector<std::int32_t> position = {0, -1, -1, 1};  // agents 1 and 2 are dead
  const PoolingOutcome outcome =
      table.pool([&](std::uint32_t s) -> double& { return energy[s]; }, position, 0.10, 200.0);
  EXPECT_EQ(outcome.entries_skipped, 1u);
  EXPECT_EQ(outcome.entries_applied, 2u);
  // Entry {0,3}: share = 0.1 * 40 / 2 = 2 each -> 12, 32. Entry {0,2,3}: living 0 and 3,
  // share = 0.1 * 44 / 2 = 2.2 -> 14.2, 34.2. Dead agents are untouched.
  EXPECT_DOUBLE_EQ(energy[0], 14.2);
  EXPECT_DOUBLE_EQ(energy[3], 34.2);
  EXPECT_EQ(energy[1], 50.0);
  EXPECT_EQ(energy[2], 60.0);
}

TEST(ClusterTable, PoolingCapsEnergy) {
  ClusterTable table;
  const std::uint32_t pair[] = {0, 1};
  table.append(pair);
  std::vector<double> energy = {199.0, 150.0};
  const std::vector<std::int32_t> position = {0, 1};
  table.pool([&](std::uint32_t s) -> double& { return energy[s]; }, position, 0.10, 200.0);
  EXPECT_EQ(energy[0], 200.0);
  EXPECT_DOUBLE_EQ(energy[1], 150.0 + 0.1 * 349.0 / 2.0);
}

TEST(Synergy, ClassifiesAndGuardsTheFoldChange) {
  const Synergy additive = compute_synergy(99.842, 99.842, 94.670, 94.670);
  EXPECT_EQ(additive.classification, "ADDITIVE");
  EXPECT_NEAR(additive.synergy, 0.0, 1e-12);
  EXPECT_EQ(compute_synergy(10, 12, 11, 20).classification, "SYNERGISTIC");  // 20 - 13 = 7
  EXPECT_EQ(compute_synergy(10, 12, 11, 5).classification, "ANTAGONISTIC");
  EXPECT_EQ(compute_synergy(10, 10, 10, 10.05).classification, "ADDITIVE");
  EXPECT_FALSE(compute_synergy(0, 1, 1, 1).fold_change.has_value());
  EXPECT_DOUBLE_EQ(*compute_synergy(10, 1, 1, 5).fold_change, 0.5);
}

}  // namespace
}  // namespace nrmlab::model

namespace nrmlab::model {
namespace {

TEST(PairScores, MatchResonanceBitForBitIncludingZeroVectors) {
  std::mt19937_64 random(7);
  std::uniform_real_distribution<double> angle(0.0, k_two_pi);
  std::vector<PhaseState> phases;
  for (int k = 0; k < 37; ++k)
    phases.push_back(make_phase(angle(random), angle(random), angle(random)));
  phases[0] = make_phase(0.0, 0.0, 0.0);   // a zero vector first (a whole row of zeros)
  phases[20] = make_phase(0.0, 0.0, 0.0);  // and one in the middle (a column of zeros)
  phases[21] = phases[22];                 // identical vectors: similarity exactly 1
  PairScores scores;
  scores.load(phases);
  for (std::size_t i = 0; i + 1 < phases.size(); ++i) {
    scores.score_row(i);
    for (std::size_t j = i + 1; j < phases.size(); ++j) {
      const Resonance expected = resonance(phases[i], phases[j]);
      ASSERT_EQ(scores.alignment(j), expected.alignment) << i << "," << j;
      ASSERT_EQ(scores.ratio(j), expected.ratio) << i << "," << j;
      ASSERT_EQ(scores.similarity(j), expected.similarity) << i << "," << j;
    }
  }
  scores.score_row(21);
  EXPECT_DOUBLE_EQ(scores.similarity(22), 1.0);
  scores.score_row(3);
  EXPECT_EQ(scores.similarity(20), 0.0);
}

}  // namespace
}  // namespace nrmlab::model
