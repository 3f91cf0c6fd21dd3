// The pair kernels: every instruction-set variant this CPU runs (scalar and SSE2 always)
// scores bit-identically to resonance(), and the division-free decisions equal resonance()'s
// on adversarial pairs whose similarity lies within a few ulps of the threshold, on both sides,
// at ordinary and extreme magnitudes; whole runs keep their state digest.
#include <bit>
#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "model/experiment_runner.hpp"
#include "model/pair_scores.hpp"
#include "model/parallel_rows.hpp"
#include "test_support.hpp"
#include "util/error.hpp"

namespace nrmlab::model {
namespace {

const Isa k_variants[] = {Isa::scalar, Isa::sse2, Isa::avx2, Isa::avx512};

#define SKIP_UNLESS_SUPPORTED(isa)                                                \
  if (!isa_supported(isa))                                                        \
  GTEST_SKIP() << "this CPU lacks " << isa_name(isa) << " (" << *isa_problem(isa) \
               << "); scalar and sse2 run everywhere"

class PairKernel : public ::testing::TestWithParam<Isa> {};

std::string variant_name(const ::testing::TestParamInfo<Isa>& info) {
  return std::string(isa_name(info.param));
}

// A vector of magnitude `magnitude` whose similarity with `a` is `target` in exact arithmetic
// (up to the rounding of its construction): alignment and ratio chosen on 0.7 a + 0.3 r = t.
PhaseState near_threshold(const PhaseState& a, double target, double magnitude_scale,
                          std::mt19937_64& random) {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  double ratio = 0.0;
  double alignment = 2.0;
  while (alignment < -1.0 || alignment > 1.0) {
    ratio = 0.02 + 0.98 * unit(random);
    alignment = (target - 0.3 * ratio) / 0.7;
  }
  const double magnitude = (unit(random) < 0.5 ? ratio : 1.0 / ratio) * a.magnitude;
  // A unit vector orthogonal to a.
  const double ap = a.p / a.magnitude, aq = a.q / a.magnitude, ar = a.r / a.magnitude;
  double vp = unit(random) - 0.5, vq = unit(random) - 0.5, vr = unit(random) - 0.5;
  const double along = vp * ap + vq * aq + vr * ar;
  vp -= along * ap;
  vq -= along * aq;
  vr -= along * ar;
  const double length = std::sqrt(vp * vp + vq * vq + vr * vr);
  const double across = std::sqrt(1.0 - alignment * alignment);
  double p = magnitude * (alignment * ap + across * vp / length);
  double q = magnitude * (alignment * aq + across * vq / length);
  double r = magnitude * (alignment * ar + across * vr / length);
  // A few ulps either way, so the exact similarity falls on both sides of the threshold.
  std::uniform_int_distribution<int> ulps(-3, 3);
  const auto nudge = [&](double x) {
    for (int k = ulps(random); k != 0; k += k > 0 ? -1 : 1)
      x = std::nextafter(x, k > 0 ? INFINITY : -INFINITY);
    return x * magnitude_scale;
  };
  p = nudge(p);
  q = nudge(q);
  r = nudge(r);
  return make_phase(p, q, r);
}

PhaseState random_phase(std::mt19937_64& random, double scale) {
  std::uniform_real_distribution<double> coordinate(-1.0, 1.0);
  return make_phase(scale * coordinate(random), scale * coordinate(random),
                    scale * coordinate(random));
}

TEST_P(PairKernel, ScoresAreResonancesBitForBit) {
  SKIP_UNLESS_SUPPORTED(GetParam());
  std::mt19937_64 random(11);
  std::vector<PhaseState> phases;
  for (int k = 0; k < 203; ++k)  // not a multiple of any width: heads and tails
    phases.push_back(random_phase(random, k % 7 == 0 ? 0x1p-300 : 1.0 + k));
  phases[0] = phases[50] = make_phase(0.0, 0.0, 0.0);
  phases[60] = phases[61];
  PairScores scores(GetParam());
  scores.load(phases);
  RowScores row;
  for (std::size_t i = 0; i + 1 < phases.size(); ++i) {
    scores.score_row(i, row);
    for (std::size_t j = i + 1; j < phases.size(); ++j) {
      const Resonance expected = resonance(phases[i], phases[j]);
      ASSERT_EQ(std::bit_cast<std::uint64_t>(row.alignment[j]),
                std::bit_cast<std::uint64_t>(expected.alignment))
          << i << "," << j;
      ASSERT_EQ(std::bit_cast<std::uint64_t>(row.ratio[j]),
                std::bit_cast<std::uint64_t>(expected.ratio));
      ASSERT_EQ(std::bit_cast<std::uint64_t>(row.similarity[j]),
                std::bit_cast<std::uint64_t>(expected.similarity));
    }
  }
}

// Row 0 of each population: an anchor against 4,095 partners built within a few ulps of the
// threshold (500 anchors: about half a million adversarial pairs per variant, two million in all).
TEST_P(PairKernel, DecisionsEqualResonanceOnPairsAtTheThreshold) {
  SKIP_UNLESS_SUPPORTED(GetParam());
  std::mt19937_64 random(23);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  PairScores scores(GetParam());
  RowDecisions decisions;
  std::vector<PhaseState> phases(1024);
  std::uint64_t pairs = 0, resonant = 0, tied_or_adjacent = 0;
  for (int anchor = 0; anchor < 500; ++anchor) {
    // Mostly the model's range; some anchors at the decidable extremes and beyond them.
    const double scale = anchor % 10 == 0   ? std::ldexp(1.0, anchor % 20 == 0 ? -98 : 97)
                         : anchor % 10 == 1 ? std::ldexp(1.0, anchor % 20 == 1 ? -500 : 500)
                                            : 1.0 + 6.0 * unit(random);
    const double threshold = anchor % 4 == 0 ? 0.85 : 0.05 + 0.94 * unit(random);
    phases[0] = random_phase(random, scale);
    for (std::size_t j = 1; j < phases.size(); ++j)
      phases[j] = near_threshold(phases[0], threshold, 1.0, random);
    scores.load(phases);
    const std::size_t count = scores.decide_row(0, threshold, decisions);
    std::size_t expected_count = 0;
    for (std::size_t j = 1; j < phases.size(); ++j) {
      const double similarity = resonance(phases[0], phases[j]).similarity;
      const bool expected = similarity >= threshold;
      ASSERT_EQ(decisions.test(j), expected)
          << "anchor " << anchor << " j " << j << " similarity " << similarity << " threshold "
          << threshold << " distance " << (similarity - threshold);
      expected_count += expected ? 1 : 0;
      tied_or_adjacent += std::abs(similarity - threshold) <= 2.3e-16 ? 1 : 0;
    }
    ASSERT_EQ(count, expected_count);
    pairs += phases.size() - 1;
    resonant += count;
  }
  // The pairs really straddle the threshold: both decisions common, ties and neighbours too.
  EXPECT_GT(resonant, pairs / 10);
  EXPECT_LT(resonant, pairs - pairs / 10);
  EXPECT_GT(tied_or_adjacent, pairs / 10);
}

// Every row of populations mixing ordinary, tiny, huge, zero and identical vectors, with
// thresholds that make zero vectors resonate (similarity 0 >= 0) or nothing resonate.
TEST_P(PairKernel, DecisionsEqualResonanceOnEveryRowWithExtremeMagnitudes) {
  SKIP_UNLESS_SUPPORTED(GetParam());
  std::mt19937_64 random(5);
  std::vector<PhaseState> phases;
  const double scales[] = {1.0, 0x1p-99, 0x1p99, 0x1p-101, 0x1p101, 0x1p-540, 0x1p511, 3.0};
  for (int k = 0; k < 157; ++k)
    phases.push_back(random_phase(random, scales[k % 8]));
  phases[3] = phases[90] = make_phase(0.0, 0.0, 0.0);
  phases[7] = make_phase(1e-200, 0.0, 0.0);  // magnitude underflows to zero, p does not
  phases[40] = phases[41];
  phases[42] = near_threshold(phases[41], 0.85, 1.0, random);
  PairScores scores(GetParam());
  scores.load(phases);
  RowDecisions decisions;
  for (const double threshold : {0.85, 0.0, -0.5, 1.0, 2.0}) {
    for (std::size_t i = 0; i + 1 < phases.size(); ++i) {
      scores.decide_row(i, threshold, decisions);
      for (std::size_t j = i + 1; j < phases.size(); ++j)
        ASSERT_EQ(decisions.test(j), resonance(phases[i], phases[j]).similarity >= threshold)
            << "threshold " << threshold << " pair " << i << "," << j;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(EveryVariant, PairKernel, ::testing::ValuesIn(k_variants), variant_name);

TEST(PairKernels, ForcingAVariantTheCpuLacksNamesTheFlag) {
  for (const Isa isa : k_variants) {
    if (isa_supported(isa)) {
      EXPECT_EQ(resolve_isa(isa), isa);
      continue;
    }
    try {
      resolve_isa(isa);
      ADD_FAILURE() << isa_name(isa) << " resolved on a CPU that lacks it";
    } catch (const Error& error) {
      EXPECT_NE(std::string(error.what()).find("--isa"), std::string::npos) << error.what();
    }
  }
  EXPECT_NE(resolve_isa(Isa::automatic), Isa::automatic);
}

// Whole runs (all four conditions, pooling populations of up to 60): the division-free
// decisions, in every variant, leave the state digest and every counter as the exact scores do.
TEST(PairKernels, WholeRunsKeepTheirDigestsWithDivisionFreeDecisions) {
  testing::ScratchDir scratch;
  RunConfig config = testing::quick_config(scratch.path(), 150);
  config.source = parse_source_spec("synthetic:3", ReplayGranularity::step, 3);
  config.params.max_agents = 60;
  config.compute.exact_decisions = true;
  config.compute.isa = Isa::scalar;
  const ExperimentResult reference = run_experiment(config);
  std::uint64_t resonant = 0;
  for (const ConditionResult& condition : reference.conditions)
    resonant += condition.totals.resonant_pairs;
  ASSERT_GT(resonant, 1000u);
  config.compute.exact_decisions = false;
  for (const Isa isa : k_variants) {
    if (!isa_supported(isa)) continue;
    config.compute.isa = isa;
    const ExperimentResult result = run_experiment(config);
    for (std::size_t c = 0; c < reference.conditions.size(); ++c) {
      const ConditionResult& expected = reference.conditions[c];
      const ConditionResult& actual = result.conditions[c];
      EXPECT_EQ(actual.state_digest, expected.state_digest) << isa_name(isa) << " " << c;
      EXPECT_EQ(actual.totals.resonant_pairs, expected.totals.resonant_pairs);
      EXPECT_EQ(actual.totals.clusters_found, expected.totals.clusters_found);
      EXPECT_EQ(actual.pattern_count_history, expected.pattern_count_history);
    }
  }
}

}  // namespace
}  // namespace nrmlab::model

namespace nrmlab::model {
namespace {

// ParallelRows hands every row to the caller in order with the bits the serial loop computes,
// for any thread count, also when a step takes several passes through a small ring.
TEST(ParallelRows, RowsArriveInOrderWithTheSerialBits) {
  std::mt19937_64 random(9);
  std::vector<PhaseState> phases;
  for (int k = 0; k < 333; ++k)
    phases.push_back(random_phase(random, 1.0 + k % 5));
  PairScores scores;
  scores.load(phases);
  RowDecisions serial;
  for (const std::size_t threads : {2u, 3u, 7u}) {
    for (const std::size_t ring_bytes : {std::size_t{1}, std::size_t{4} << 20}) {
      ParallelRows parallel(threads, ring_bytes);
      std::size_t expected_row = 0;
      parallel.decide(scores, 0.85,
                      [&](std::size_t i, const std::uint64_t* bits, std::size_t resonant) {
                        ASSERT_EQ(i, expected_row++);
                        ASSERT_EQ(resonant, scores.decide_row(i, 0.85, serial));
                        for (std::size_t w = (i + 1) / 64; w < scores.words(); ++w)
                          ASSERT_EQ(bits[w], serial.resonant[w]) << i << " word " << w;
                      });
      EXPECT_EQ(expected_row, phases.size() - 1) << threads << " threads";
    }
  }
}

// Whole runs on 1, 2, 3 and 7 threads: identical digests, counters and histories.
TEST(ParallelRows, WholeRunsAreBitIdenticalForEveryThreadCount) {
  testing::ScratchDir scratch;
  RunConfig config = testing::quick_config(scratch.path(), 120);
  config.source = parse_source_spec("synthetic:5", ReplayGranularity::step, 5);
  config.params.max_agents = 70;
  config.compute.parallel_from = 2;
  config.compute.threads = 1;
  const ExperimentResult reference = run_experiment(config);
  for (const std::size_t threads : {2u, 3u, 7u}) {
    config.compute.threads = threads;
    const ExperimentResult result = run_experiment(config);
    for (std::size_t c = 0; c < reference.conditions.size(); ++c) {
      const ConditionResult& expected = reference.conditions[c];
      const ConditionResult& actual = result.conditions[c];
      EXPECT_EQ(actual.state_digest, expected.state_digest) << threads << " threads, " << c;
      EXPECT_EQ(actual.totals.resonant_pairs, expected.totals.resonant_pairs);
      EXPECT_EQ(actual.totals.resonance_pairs, expected.totals.resonance_pairs);
      EXPECT_EQ(actual.totals.clusters_found, expected.totals.clusters_found);
      EXPECT_EQ(actual.population_history, expected.population_history);
      EXPECT_EQ(actual.pattern_count_history, expected.pattern_count_history);
    }
  }
}

}  // namespace
}  // namespace nrmlab::model
