// The sampler between the model and its source: which requests become sample events, and
// what a held sample is under replay.
#include "model/sampler.hpp"

#include <gtest/gtest.h>

namespace nrmlab::model {
namespace {

// Encodes the key in the sample: cpu = step, memory = call.
class KeyEcho final : public MetricSource {
 public:
  explicit KeyEcho(bool replays) : m_replays(replays) {}
  void begin_condition(int) override {}
  MetricSample sample(const SampleKey& key, std::chrono::milliseconds) override {
    ++calls;
    MetricSample s;
    s.cpu_percent = static_cast<double>(key.step);
    s.memory_percent = static_cast<double>(key.call);
    return s;
  }
  bool fixes_inputs_per_step() const override { return m_replays; }
  int calls = 0;

 private:
  bool m_replays;
};

TEST(Sampler, PerCallNumbersEveryRequestWithinItsStep) {
  KeyEcho source(false);
  Sampler sampler(source, {SamplingPolicy::Kind::per_call, 1}, {}, nullptr, nullptr);
  sampler.begin_condition(0);
  sampler.begin_step(0);
  EXPECT_EQ(sampler.sample(SampleSite::setup).memory_percent, 0.0);
  EXPECT_EQ(sampler.sample(SampleSite::evolve).memory_percent, 1.0);
  sampler.begin_step(0);  // idempotent within a step
  EXPECT_EQ(sampler.sample(SampleSite::spawn).memory_percent, 2.0);
  sampler.begin_step(1);
  const MetricSample s = sampler.sample(SampleSite::evolve);
  EXPECT_EQ(s.cpu_percent, 1.0);
  EXPECT_EQ(s.memory_percent, 0.0);
  EXPECT_EQ(sampler.events(), 4u);
}

TEST(Sampler, SpawnSharedGivesSpawnsTheStepSampleAndEverythingElseAFreshOne) {
  KeyEcho source(false);
  Sampler sampler(source, {SamplingPolicy::Kind::spawn_shared, 1}, {}, nullptr, nullptr);
  sampler.begin_condition(0);
  sampler.begin_step(3);  // event: call 0, shared
  EXPECT_EQ(sampler.sample(SampleSite::evolve).memory_percent, 1.0);
  EXPECT_EQ(sampler.sample(SampleSite::spawn).memory_percent, 0.0);
  EXPECT_EQ(sampler.sample(SampleSite::spawn).memory_percent, 0.0);
  EXPECT_EQ(sampler.events(), 2u);
}

TEST(Sampler, SpawnSharedTakesTheStepSampleAfterTheRootsAsTheOptimizedScriptDid) {
  KeyEcho source(false);
  Sampler sampler(source, {SamplingPolicy::Kind::spawn_shared, 1}, {}, nullptr, nullptr);
  sampler.begin_condition(0);
  sampler.begin_setup();
  EXPECT_EQ(sampler.sample(SampleSite::setup).memory_percent, 0.0);  // the root: call 0
  sampler.begin_step(0);                                             // shared: call 1
  EXPECT_EQ(sampler.sample(SampleSite::evolve).memory_percent, 2.0);
  EXPECT_EQ(sampler.sample(SampleSite::spawn).memory_percent, 1.0);
  sampler.begin_step(0);  // still idempotent
  sampler.begin_step(1);  // shared: step 1's call 0
  EXPECT_EQ(sampler.sample(SampleSite::spawn).cpu_percent, 1.0);
  EXPECT_EQ(sampler.sample(SampleSite::spawn).memory_percent, 0.0);
  EXPECT_EQ(sampler.events(), 4u);
}

TEST(Sampler, PerStepRootUsesStepZerosSample) {
  // The other policies keep their order: the step's sample first, and the root shares it.
  KeyEcho source(false);
  Sampler sampler(source, {SamplingPolicy::Kind::per_step, 1}, {}, nullptr, nullptr);
  sampler.begin_condition(0);
  sampler.begin_setup();
  EXPECT_EQ(sampler.sample(SampleSite::setup).memory_percent, 0.0);
  sampler.begin_step(0);
  EXPECT_EQ(sampler.sample(SampleSite::evolve).memory_percent, 0.0);
  EXPECT_EQ(sampler.events(), 1u);
}

TEST(Sampler, EveryKHoldsMeasuredSamplesButNotReplayedOnes) {
  for (const bool replays : {false, true}) {
    KeyEcho source(replays);
    Sampler sampler(source, {SamplingPolicy::Kind::every_k, 4}, {}, nullptr, nullptr);
    sampler.begin_condition(0);
    for (std::int64_t t = 0; t < 10; ++t) {
      sampler.begin_step(t);
      const double seen = sampler.sample(SampleSite::evolve).cpu_percent;
      // A measuring source is read every 4th step and held; a replayed recording defines
      // every step's inputs, so the policy may not change what the model sees.
      EXPECT_EQ(seen, replays ? static_cast<double>(t) : static_cast<double>(t / 4 * 4))
          << "step " << t << (replays ? " (replay)" : "");
    }
    EXPECT_EQ(sampler.events(), 3u);  // steps 0, 4, 8: only these are sample events
  }
}

TEST(Sampler, ANewConditionRestartsTheStepClock) {
  KeyEcho source(false);
  Sampler sampler(source, {SamplingPolicy::Kind::every_k, 5}, {}, nullptr, nullptr);
  sampler.begin_condition(0);
  sampler.begin_step(0);
  sampler.begin_step(1);
  sampler.begin_condition(1);
  sampler.begin_step(0);  // a new condition's step 0 is a fresh event
  EXPECT_EQ(sampler.events(), 2u);
}

}  // namespace
}  // namespace nrmlab::model
