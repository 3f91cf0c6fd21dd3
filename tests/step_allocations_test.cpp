// The engine's step loop allocates nothing once the population is full (issue 8's
// performance target): the pair checks, the cluster fold and pooling work in arrays sized
// up front. Its own binary, because it replaces the global operator new to count calls.
#include <cstdlib>
#include <new>

#include <gtest/gtest.h>

#include "model/sampler.hpp"
#include "model/simulation.hpp"
#include "model/synthetic_source.hpp"

namespace {
// Counted only between begin and end of a measured stretch, on this (the only) thread.
long s_allocations = 0;
bool s_counting = false;
}  // namespace

void* operator new(std::size_t size) {
  if (s_counting) ++s_allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}

namespace nrmlab {
namespace {

struct Counted {
  long allocations = 0;
  long steps_that_allocated = 0;
  std::size_t table_before = 0, table_after = 0;
};

// `steps` steps of the pooling condition at a full population of `agents`, after warm-up.
Counted count_allocations(std::int64_t agents, bool accumulating, int steps) {
  model::ModelParams params;
  params.max_agents = agents;
  params.accumulating_clusters = accumulating;
  model::SyntheticSource source({1, 25.0, 40.0, 50.0, 10.0});
  model::Sampler sampler(source, {model::SamplingPolicy::Kind::per_step, 1},
                         std::chrono::milliseconds(0), nullptr, nullptr);
  sampler.begin_condition(1);
  model::MechanismSet mechanisms;
  mechanisms.energy_pooling = true;
  model::Simulation simulation(params, mechanisms, sampler, nullptr);
  for (int warmup = 0; warmup < 200; ++warmup)
    simulation.step();
  EXPECT_EQ(simulation.population(), static_cast<std::size_t>(agents)) << "not full yet";
  Counted counted;
  counted.table_before = simulation.pattern_count();
  for (int step = 0; step < steps; ++step) {
    const long before = s_allocations;
    s_counting = true;
    simulation.step();
    s_counting = false;
    counted.steps_that_allocated += s_allocations > before ? 1 : 0;
  }
  counted.allocations = s_allocations;
  counted.table_after = simulation.pattern_count();
  s_allocations = 0;
  return counted;
}

TEST(StepAllocations, AFullPopulationStepAllocatesNothing) {
  for (const std::int64_t agents : {100, 1000}) {
    const Counted counted = count_allocations(agents, false, 200);
    EXPECT_EQ(counted.allocations, 0) << agents << " agents";
  }
}

TEST(StepAllocations, TheAccumulatingTableOnlyGrowsItsArraysGeometrically) {
  // The defect appends to the cluster table every step (model.md): its arrays grow by
  // doubling, so 400 appends may reallocate a few times, never once a step.
  const Counted counted = count_allocations(100, true, 400);
  EXPECT_GT(counted.table_after, counted.table_before) << "the table must grow for this test";
  EXPECT_LE(counted.steps_that_allocated, 8);
}

}  // namespace
}  // namespace nrmlab
